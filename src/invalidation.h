/*
 * invalidation.h
 *     Which cache entries a catalog change can affect, named by a fixed set
 *     of bucket relations whose relcache invalidations travel with the
 *     committing transaction (see invalidation.c).
 */
#ifndef ZENML_RBAC_INVALIDATION_H
#define ZENML_RBAC_INVALIDATION_H

#include "utils/uuid.h"

/*
 * Bucket relations zenml_rbac.invalidation_bucket_000 .. _767
 * (src/sql/catalog_triggers.sql), in one range per kind of key, so that a
 * resource's change never drops a principal's entry, nor a principal's a
 * role's (see InvalBucketRange in invalidation.c).
 */
#define INVAL_BUCKETS 768

/*
 * What a cache entry was computed from: the set of buckets a change to any
 * of its rows would name.  An entry is stale once one of them was named
 * after the snapshot it was loaded from.
 */
typedef struct InvalDeps
{
	uint64		bits[INVAL_BUCKETS / 64];
} InvalDeps;

static inline void
InvalDepsAdd(InvalDeps *deps, int bucket)
{
	deps->bits[bucket / 64] |= UINT64CONST(1) << (bucket % 64);
}

static inline void
InvalDepsUnion(InvalDeps *deps, const InvalDeps *other)
{
	for (int w = 0; w < INVAL_BUCKETS / 64; w++)
		deps->bits[w] |= other->bits[w];
}

/* The kinds of key a change names; a bucket is a hash of the kind and the key. */
typedef enum InvalKind
{
	INVAL_PRINCIPAL = 'p',		/* a principal's row, teams, org and tenant roles */
	INVAL_ROLE = 'r',			/* a role's row and permission edits */
	INVAL_RESOURCE = 'o',		/* a resource instance's row and shares */
	INVAL_HOLDINGS = 'h',		/* the instances a principal owns or is shared */
	INVAL_NAME_USER = 'u',		/* a user's name */
	INVAL_NAME_PG_ROLE = 'l',	/* a principal's linked PostgreSQL role */
	INVAL_NAME_ORG = 'g',		/* an organization's name */
	INVAL_NAME_TENANT = 't'		/* a tenant's name */
} InvalKind;

extern int	InvalBucketOfUuid(InvalKind kind, const pg_uuid_t *id);
extern int	InvalBucketOfName(InvalKind kind, const char *name, int len);
extern int	InvalBucketOfResource(const pg_uuid_t *tenant, const char *type,
								  const pg_uuid_t *id);

/* Relcache callback: records bucket hits, full resets and catalog DDL. */
extern void InvalRelcacheCallback(Datum arg, Oid relid);
/* Syscache callback on pg_namespace: the extension's schema changed. */
extern void InvalNamespaceCallback(Datum arg, int cacheid, uint32 hashvalue);

/*
 * The receiving side, for catalog.c.  Hits are counted in a sequence;
 * InvalPublish() makes those received so far count for InvalStale(), and
 * returns true when it published any.
 */
extern uint64 InvalSequence(void);
extern bool InvalPublish(void);
extern bool InvalStale(const InvalDeps *deps, uint64 loaded_seq);
extern bool InvalBucketStale(int bucket, uint64 loaded_seq);

/* Bumped for every full reset asked for (queue overflow, vocabulary, TRUNCATE, ...). */
extern uint64 InvalFullResets(void);

/*
 * Whether bucket hits can be trusted: the bucket relations exist and every
 * cached table's trigger is enabled.  Rechecked after DDL on the catalog.
 */
extern bool InvalTracking(void);

#endif							/* ZENML_RBAC_INVALIDATION_H */
