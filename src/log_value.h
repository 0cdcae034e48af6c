/*
 * log_value.h
 *     Quoting a value for a denial log line (log_value.c).
 */
#ifndef ZENML_RBAC_LOG_VALUE_H
#define ZENML_RBAC_LOG_VALUE_H

#include "lib/stringinfo.h"

/*
 * Appends ' key="value"' (escaped, cut at max bytes and marked "..."), or
 * ' key=-' for a NULL value.
 */
extern void AppendLogValue(StringInfo buf, const char *key, const char *value, size_t max);

#endif							/* ZENML_RBAC_LOG_VALUE_H */
