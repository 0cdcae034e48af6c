/*
 * decision.h
 *     The decision engine's entry point for C callers (the triggers of
 *     protected tables): the same answer rbac_can() gives.
 */
#ifndef DECISION_H
#define DECISION_H

#include "uuids.h"
#include "vocabulary.h"

/* id NULL asks for the type-level permission. */
extern bool DecisionAllows(const pg_uuid_t *principal, const pg_uuid_t *tenant,
						   int type_index, const pg_uuid_t *id, int action);

/* Index of a known action or resource type; else 22023 naming the valid ones. */
extern int	RequireAction(const char *s, int len);
extern int	RequireType(const char *s, int len);

#endif							/* DECISION_H */
