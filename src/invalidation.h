/*
 * invalidation.h
 *     Which cache entries a catalog change can affect, named by a 31-bit key
 *     per changed principal, role, resource or name, sent as a relcache
 *     invalidation that travels with the committing transaction (see
 *     invalidation.c).
 */
#ifndef ZENML_RBAC_INVALIDATION_H
#define ZENML_RBAC_INVALIDATION_H

#include "utils/uuid.h"

/* The kinds of key a change names; a key is a hash of the kind and the value. */
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

/* A key is also the OID its invalidation message names (>= 2^31). */
typedef uint32 InvalKey;

extern InvalKey InvalKeyOfUuid(InvalKind kind, const pg_uuid_t *id);
extern InvalKey InvalKeyOfName(InvalKind kind, const char *name, int len);
extern InvalKey InvalKeyOfResource(const pg_uuid_t *tenant, const char *type,
								   const pg_uuid_t *id);

/*
 * The keys an entry is computed from, collected while it loads (in the
 * current memory context).
 */
typedef struct InvalDeps
{
	int			n;
	int			capacity;
	InvalKey   *keys;
} InvalDeps;

extern void InvalDepsInit(InvalDeps *deps);
extern void InvalDepsAdd(InvalDeps *deps, InvalKey key);

/*
 * This backend's record of one key some cached entry depends on: the
 * invalidation sequence numbers of the last hit received and of the last
 * one published, for any hit and for hits by this backend's own writes.
 * An entry is stale once a hit published after its snapshot's sequence
 * number (other transactions' commits: loaded_seq), or an own hit published
 * after it was loaded (own writes are visible to loads at once: loaded_at),
 * names one of its keys.  Records stay put until InvalForgetAll().
 */
typedef struct InvalRecord
{
	InvalKey	key;
	uint64		received;		/* the last hit */
	uint64		unpublished;	/* the first hit not published yet, or 0 */
	uint64		published;
	uint64		own_received;	/* the last hit by this transaction's own writes */
	uint64		own_published;
} InvalRecord;

/* What a stored entry watches. */
typedef struct InvalWatch
{
	int			n;
	InvalRecord **records;
} InvalWatch;

/*
 * Records the keys of an entry loaded from the snapshot of sequence
 * loaded_seq (the records array is allocated in cxt); a hit on one of them
 * received since that snapshot counts at the next publication.
 */
extern void InvalWatchKeys(InvalWatch *watch, const InvalDeps *deps, uint64 loaded_seq,
						   MemoryContext cxt);
extern InvalRecord *InvalWatchKey(InvalKey key, uint64 loaded_seq);
extern void InvalDepsAddWatched(InvalDeps *deps, const InvalWatch *watch);

static inline bool
InvalRecordStale(const InvalRecord *record, uint64 loaded_seq, uint64 loaded_at)
{
	return record->published > loaded_seq || record->own_published > loaded_at;
}

extern bool InvalStale(const InvalWatch *watch, uint64 loaded_seq, uint64 loaded_at);

/*
 * Drops every record (at a full reset, with every entry); hits received
 * after the snapshot of sequence since are kept for the entries loaded next.
 */
extern void InvalForgetAll(uint64 since);
extern long InvalRecordCount(void);
extern Size InvalMemoryBytes(void);

/* Relcache callback: records key hits, full resets and catalog DDL. */
extern void InvalRelcacheCallback(Datum arg, Oid relid);
/* Syscache callback on pg_namespace: the extension's schema changed. */
extern void InvalNamespaceCallback(Datum arg, int cacheid, uint32 hashvalue);

/*
 * The receiving side, for catalog.c.  Hits are counted in a sequence;
 * InvalPublish(upto) makes those received up to that sequence number count
 * for InvalStale() (later ones concern commits the current snapshot does not
 * see), and returns true when it published any.
 */
extern uint64 InvalSequence(void);
extern bool InvalPublish(uint64 upto);

/* Bumped for every full reset asked for (queue overflow, vocabulary, TRUNCATE, ...). */
extern uint64 InvalFullResets(void);
/* Bumped when a transaction named too many resources to list them one by one. */
extern uint64 InvalResourceResets(void);

/*
 * Whether key hits can be trusted: the install has fine-grained
 * invalidation and every cached table's trigger is enabled.  Rechecked
 * after DDL on the catalog.
 */
extern bool InvalTracking(void);

#endif							/* ZENML_RBAC_INVALIDATION_H */
