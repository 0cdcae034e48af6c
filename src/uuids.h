/*
 * uuids.h
 *     Comparing and printing the uuids every cache is keyed by.
 */
#ifndef ZENML_RBAC_UUIDS_H
#define ZENML_RBAC_UUIDS_H

#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/uuid.h"

static inline bool
UuidEquals(const pg_uuid_t *a, const pg_uuid_t *b)
{
	return memcmp(a->data, b->data, UUID_LEN) == 0;
}

/* The canonical text form, palloc'd. */
static inline char *
UuidText(const pg_uuid_t *id)
{
	return DatumGetCString(DirectFunctionCall1(uuid_out, PointerGetDatum(id)));
}

#endif							/* ZENML_RBAC_UUIDS_H */
