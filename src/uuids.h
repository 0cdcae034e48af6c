/*
 * uuids.h
 *     Comparing, printing and collecting the uuids every cache is keyed by.
 */
#ifndef ZENML_RBAC_UUIDS_H
#define ZENML_RBAC_UUIDS_H

#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
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

/* A uuid[] of n items, palloc'd. */
static inline ArrayType *
UuidArray(const pg_uuid_t *items, int n)
{
	Datum	   *datums = palloc(sizeof(Datum) * Max(n, 1));

	for (int i = 0; i < n; i++)
		datums[i] = PointerGetDatum(&items[i]);
	return construct_array(datums, n, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR);
}

#endif							/* ZENML_RBAC_UUIDS_H */
