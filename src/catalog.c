/*
 * catalog.c
 *     Reads the zenml_rbac catalog tables into backend-local caches: the
 *     resource-type vocabulary, role permission sets, principals with their
 *     memberships, resource instances with their owner and shares, the
 *     instances a principal reaches that way, and names.
 *
 * Everything is loaded lazily, one principal / role chain / resource at a
 * time, into memory contexts under TopMemoryContext.  Each entry records the
 * invalidation keys of every catalog row it was computed from and the
 * invalidation sequence number as of its snapshot (invalidation.c explains
 * the keys); a lookup that finds its entry stale drops and reloads just
 * that entry.  A change therefore costs the entries that depend on one of
 * its keys, nothing else.  Full resets remain for the vocabulary, TRUNCATE,
 * a shared-queue overflow, bulk changes, loads that could not use a fresh
 * snapshot, and the capacity settings.
 *
 * Statements: at the first call of each top-level statement we accept pending
 * invalidations and then take one snapshot, which every load of the
 * statement uses (with the command id advanced, so the transaction's own
 * changes are seen at once).  A statement therefore answers from one catalog
 * state: the one committed when it began.  Taking the snapshot after
 * accepting the invalidations means no cache entry is older than an
 * invalidation already consumed; an entry loaded in the middle of a
 * statement after a later invalidation arrived carries the older sequence
 * number, so it is dropped at the next call.  Hits are published only at
 * the start of an engine call (CatalogEnsureFresh), so entries handed out
 * during a call stay valid until it returns.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/parallel.h"
#include "access/table.h"
#include "access/transam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/fmgroids.h"
#include "utils/syscache.h"
#include "utils/resowner.h"

#include "catalog.h"
#include "compat.h"
#include "invalidation.h"
#include "statement_snapshot.h"

/* Predefined tenant roles have fixed ids (see src/sql/catalog.sql). */
#define PREDEFINED_ADMIN  1
#define PREDEFINED_EDITOR 2
#define PREDEFINED_VIEWER 3

/* Longest name the name cache keeps; longer names are looked up each time. */
#define NAME_KEY_LEN 520

typedef struct ScopeKey
{
	pg_uuid_t	principal;
	pg_uuid_t	scope;
} ScopeKey;

/* Memberships and org roles are loaded and dropped with their principal's entry. */
typedef struct MembershipEntry
{
	ScopeKey	key;
	uint8	   *permissions;	/* one byte of action bits per type */
} MembershipEntry;

typedef struct OrgRoleEntry
{
	ScopeKey	key;
	OrgRoleLevel level;
} OrgRoleEntry;

typedef struct RoleEntry
{
	pg_uuid_t	id;
	bool		exists;
	uint8	   *permissions;
	EntryValidity validity;		/* the roles of its chain */
} RoleEntry;

typedef struct InstanceKey
{
	pg_uuid_t	principal;
	int32		type_index;
	int32		action;
} InstanceKey;

typedef struct InstanceEntry
{
	InstanceKey key;
	InstanceSet set;
	EntryValidity validity;		/* the principal's, and its and its teams' holdings */
} InstanceEntry;

typedef struct NameEntry
{
	char		key[NAME_KEY_LEN];
	bool		found;
	pg_uuid_t	id;
	EntryValidity validity;		/* the name (for a tenant: its two parts) */
} NameEntry;

/*
 * Full resets wanted (invalidation.c's, plus this backend's own), and the
 * count the caches were last built for.
 */
static uint64 local_resets = 0;
static uint64 built_resets = 0;

#define RESETS_WANTED() (InvalFullResets() + local_resets)

/* The same for the resource caches alone (a bulk change of resources). */
static uint64 local_resource_resets = 0;
static uint64 built_resource_resets = 0;

#define RESOURCE_RESETS_WANTED() (InvalResourceResets() + local_resource_resets)

/*
 * Set when entries may be older than an invalidation already consumed (a
 * reset in the middle of a statement, or a load in parallel mode, which
 * cannot take a new snapshot): everything is dropped at the next statement.
 */
static bool loaded_with_old_snapshot = false;
static bool resources_loaded_with_old_snapshot = false;

/* Counts top-level statements (CatalogStatementStart, CatalogUtilityStatement). */
static uint64 statement_counter = 0;

/* zenml_rbac.resource_cache_entries and zenml_rbac.principal_cache_entries */
static int	resource_cache_entries = 100000;
static int	principal_cache_entries = 20000;
static uint64 seen_statement = 0;
static LocalTransactionId seen_lxid = InvalidLocalTransactionId;

/* Loads begun and not finished: one interrupted by an error left partial entries. */
static int	loads_in_progress = 0;

/* Entries were stored from a snapshot older than an invalidation received. */
static bool recheck_next_statement = false;

/* Entries loaded since the backend started: what tests and benchmarks watch. */
static uint64 loads = 0;

/* Set when a cache holds more entries than its setting allows. */
static bool principals_over_capacity = false;
static bool resources_over_capacity = false;

static void NoteGrowth(void);
static int	PredefinedRole(const pg_uuid_t *id);
static void LoadPredefined(void);
static void ApplyInvalidations(void);

/*
 * Bumped at every reset and every publication of invalidations: pointers
 * into the caches are valid within an epoch, and an entry checked in this
 * epoch need not be checked again.
 */
static uint64 cache_epoch = 1;

static MemoryContext CacheContext = NULL;
static MemoryContext ResourceContext = NULL;

static HTAB *type_hash = NULL;
static TypeEntry **types_by_index = NULL;
static int	type_count = -1;		/* -1: vocabulary not loaded */

/*
 * The predefined roles' actions on data and administration types
 * (predefined_role_permission), loaded with the vocabulary; indexed by
 * PREDEFINED_* and by whether the type is an administration type.
 */
static uint8 predefined_actions[PREDEFINED_VIEWER + 1][2];
static HTAB *principal_hash = NULL;
static HTAB *membership_hash = NULL;
static HTAB *org_role_hash = NULL;
static HTAB *role_hash = NULL;
static HTAB *name_hash = NULL;
static HTAB *resource_hash = NULL;
static HTAB *instance_hash = NULL;

/* ------------------------------------------------------------------------
 * Invalidation
 * ------------------------------------------------------------------------
 */

uint64
CatalogEpoch(void)
{
	return cache_epoch;
}

/*
 * Keys of uuids (and an int): mix them 8 bytes at a time.  Much cheaper than
 * the generic hash_bytes on the hot path, and still spreads sequential ids.
 */
static uint32
UuidKeyHash(const void *key, Size keysize)
{
	const unsigned char *bytes = key;
	uint64		h = keysize;

	for (Size i = 0; i + 8 <= keysize; i += 8)
	{
		uint64		word;

		memcpy(&word, bytes + i, 8);
		h = (h ^ word) * UINT64CONST(0x9E3779B97F4A7C15);
		h ^= h >> 29;
	}
	for (Size i = keysize & ~((Size) 7); i < keysize; i++)
		h = (h ^ bytes[i]) * UINT64CONST(0x9E3779B97F4A7C15);
	return (uint32) (h ^ (h >> 32));
}

static HTAB *
CreateHash(const char *name, Size keysize, Size entrysize, MemoryContext cxt, bool strings)
{
	HASHCTL		ctl;
	int			flags = HASH_ELEM | HASH_CONTEXT;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = keysize;
	ctl.entrysize = entrysize;
	ctl.hcxt = cxt;
	if (strings)
		flags |= HASH_STRINGS;
	else
	{
		ctl.hash = UuidKeyHash;
		flags |= HASH_FUNCTION;
	}
	return hash_create(name, 64, &ctl, flags);
}

static void
ResetResourceCache(void)
{
	cache_epoch++;
	resources_over_capacity = false;
	built_resource_resets = RESOURCE_RESETS_WANTED();
	MemoryContextReset(ResourceContext);
	resource_hash = CreateHash("zenml_rbac resources", sizeof(ResourceKey),
							   sizeof(ResourceEntry), ResourceContext, false);
	instance_hash = CreateHash("zenml_rbac instance sets", sizeof(InstanceKey),
							   sizeof(InstanceEntry), ResourceContext, false);
}

static void
ResetAllCaches(void)
{
	cache_epoch++;
	principals_over_capacity = false;
	MemoryContextReset(CacheContext);
	InvalForgetAll(StatementSnapshotSequence());
	type_hash = CreateHash("zenml_rbac types", NAMEDATALEN, sizeof(TypeEntry),
						   CacheContext, true);
	types_by_index = NULL;
	type_count = -1;
	principal_hash = CreateHash("zenml_rbac principals", sizeof(pg_uuid_t),
								sizeof(PrincipalEntry), CacheContext, false);
	membership_hash = CreateHash("zenml_rbac memberships", sizeof(ScopeKey),
								 sizeof(MembershipEntry), CacheContext, false);
	org_role_hash = CreateHash("zenml_rbac org roles", sizeof(ScopeKey),
							   sizeof(OrgRoleEntry), CacheContext, false);
	role_hash = CreateHash("zenml_rbac roles", sizeof(pg_uuid_t),
						   sizeof(RoleEntry), CacheContext, false);
	name_hash = CreateHash("zenml_rbac names", NAME_KEY_LEN, sizeof(NameEntry),
						   CacheContext, true);
	built_resets = RESETS_WANTED();
	ResetResourceCache();
}

/* At transaction end: release the snapshot, forget an interrupted load. */
void
CatalogAtTransactionEnd(void)
{
	StatementSnapshotRelease();
	CatalogAccessReset();
}

/* The statement's snapshot (statement_snapshot.c); a reset if it cannot be trusted. */
static void
BeginStatement(void)
{
	if (!StatementSnapshotTake(statement_counter))
		local_resets++;
}

void
CatalogInit(void)
{
	DefineCustomIntVariable("zenml_rbac.resource_cache_entries",
							"Resource instances kept in a backend's decision cache before it is emptied.",
							"0 means no limit.",
							&resource_cache_entries,
							100000, 0, INT_MAX,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("zenml_rbac.principal_cache_entries",
							"Principals and names kept in a backend's decision cache before it is emptied.",
							"About 2 kB each; 0 means no limit.",
							&principal_cache_entries,
							20000, 0, INT_MAX,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
}

uint64
CatalogStatementNumber(void)
{
	return statement_counter;
}

void
CatalogUtilityStatement(void)
{
	statement_counter++;
}

/*
 * Called by the ExecutorStart hook at each top-level statement.  Only
 * sessions that use the cache pay for the snapshot; nothing is freed here,
 * since a caller may hold cache entries (resets happen in CatalogEnsureFresh).
 */
void
CatalogStatementStart(void)
{
	statement_counter++;
	if (CacheContext != NULL && CatalogAccessDepth() == 0)
		BeginStatement();
}

void
CatalogEnsureFresh(void)
{
	if (CacheContext == NULL)
	{
		CacheContext = AllocSetContextCreate(TopMemoryContext, "zenml_rbac cache",
											 ALLOCSET_DEFAULT_SIZES);
		/* a sibling, not a child: resetting CacheContext would delete it */
		ResourceContext = AllocSetContextCreate(TopMemoryContext,
												"zenml_rbac resource cache",
												ALLOCSET_DEFAULT_SIZES);
	}

	/*
	 * A new statement (or transaction) the hook did not see start: look at
	 * the invalidation queue ourselves -- inside a transaction block a
	 * statement may take no new lock and so never look -- so a change
	 * committed elsewhere is seen from our next statement on.
	 */
	if (RbacMyLocalXid() != seen_lxid || statement_counter != seen_statement)
	{
		bool		fallback;

		if (!StatementSnapshotIsFor(statement_counter))
			BeginStatement();
		seen_lxid = RbacMyLocalXid();
		seen_statement = statement_counter;
		fallback = StatementSnapshotFallbackUsed();
		if (loaded_with_old_snapshot || fallback)
		{
			local_resets++;
			loaded_with_old_snapshot = false;
		}
		if (resources_loaded_with_old_snapshot)
		{
			local_resource_resets++;
			resources_loaded_with_old_snapshot = false;
		}
		if (recheck_next_statement)
		{
			cache_epoch++;
			recheck_next_statement = false;
		}
	}
	if (loads_in_progress != 0)
	{
		/* an error interrupted a load: its partial entries must go */
		loads_in_progress = 0;
		local_resets++;
	}
	ApplyInvalidations();
}

/*
 * Hits received after the statement's snapshot concern commits it does not
 * see: they count from the next statement on.  Without a snapshot (parallel
 * mode), everything received counts.
 */
static uint64
PublishUpTo(void)
{
	return StatementSnapshotExists() ? StatementSnapshotSequence() : InvalSequence();
}

/*
 * Makes the invalidations received so far count: a full reset if one was
 * asked for, else the keys hit are published and every entry is checked
 * again at its next lookup.  Only at the start of an engine call, which
 * holds no pointer into the caches yet.
 */
static void
ApplyInvalidations(void)
{
	if (built_resets != RESETS_WANTED())
	{
		/*
		 * Invalidations that arrived after the statement's snapshot (our own
		 * commands', or others' read while taking a lock) are not in it: what
		 * is reloaded now is dropped again at the next statement.
		 */
		if (!StatementSnapshotExists() || InvalFullResets() != StatementSnapshotFullResets())
			loaded_with_old_snapshot = true;
		(void) InvalPublish(PublishUpTo());
		ResetAllCaches();
	}
	else if (principals_over_capacity)
	{
		(void) InvalPublish(PublishUpTo());
		ResetAllCaches();
	}
	else
	{
		if (InvalPublish(PublishUpTo()))
			cache_epoch++;
		if (built_resource_resets != RESOURCE_RESETS_WANTED())
		{
			/* as above, for the resource caches */
			if (!StatementSnapshotExists() || InvalResourceResets() != StatementSnapshotResourceResets())
				resources_loaded_with_old_snapshot = true;
			ResetResourceCache();
		}
		else if (resources_over_capacity)
			ResetResourceCache();
	}
}

/*
 * An entry is stale once a key it depends on was hit after the snapshot
 * it was loaded from; checked once per epoch.
 */
static bool
Stale(EntryValidity *v)
{
	if (v->checked_epoch == cache_epoch)
		return false;
	if (InvalStale(&v->watch, v->loaded_seq, v->loaded_at))
		return true;
	v->checked_epoch = cache_epoch;
	return false;
}

/* What a load records: the statement's snapshot; none in parallel mode (reset next time). */
static uint64
LoadSequence(void)
{
	return StatementSnapshotExists() ? StatementSnapshotSequence() : 0;
}

/*
 * Called when a loaded entry is stored: valid for the rest of this epoch.
 * If invalidations of the statement's snapshot's successors had already
 * arrived, the entry is checked again from the next statement on.
 */
static void
MarkLoaded(uint64 *loaded_seq, uint64 *loaded_at, uint64 *checked_epoch)
{
	*loaded_seq = LoadSequence();
	*loaded_at = InvalSequence();
	*checked_epoch = cache_epoch;
	if (*loaded_seq < InvalSequence())
		recheck_next_statement = true;
	loads++;
}

static void
StoreValidity(EntryValidity *v, const InvalDeps *deps, MemoryContext cxt)
{
	MarkLoaded(&v->loaded_seq, &v->loaded_at, &v->checked_epoch);
	InvalWatchKeys(&v->watch, deps, v->loaded_seq, cxt);
}

static void
FreeValidity(EntryValidity *v)
{
	if (v->watch.records != NULL)
		pfree(v->watch.records);
	v->watch.records = NULL;
	v->watch.n = 0;
}

/* Checked where entries are added, so the hot path only reads a flag. */
static void
NoteGrowth(void)
{
	/*
	 * Invalidation keeps a record per key watched, until a full reset: bounded
	 * by twice what the entries themselves may hold, so that dropping and
	 * reloading entries of ever new keys cannot grow it without end.
	 */
	principals_over_capacity = (principal_cache_entries > 0 &&
								hash_get_num_entries(principal_hash) + hash_get_num_entries(name_hash) +
								hash_get_num_entries(role_hash) >= principal_cache_entries) ||
		(principal_cache_entries > 0 && resource_cache_entries > 0 &&
		 InvalRecordCount() >= 2 * ((long) principal_cache_entries + resource_cache_entries));
	resources_over_capacity = resource_cache_entries > 0 &&
		hash_get_num_entries(resource_hash) + hash_get_num_entries(instance_hash)
		>= resource_cache_entries;
}

/*
 * For management calls, after they waited for their organization's lock:
 * answer from what is committed now, not from when the statement began, so
 * a permission revoked while we waited is not used.
 */
void
CatalogRefreshAfterLock(void)
{
	/*
	 * Whoever held the lock sent its invalidations before releasing it
	 * (PostgreSQL sends them at commit, then releases locks): accepting
	 * invalidations and taking a new snapshot now covers every change made
	 * under the lock, and entries older than those changes are dropped.
	 */
	BeginStatement();
	cache_epoch++;				/* entries loaded from the old snapshot are checked again */
	ApplyInvalidations();
}

/* ------------------------------------------------------------------------
 * Reading the catalog: as the schema owner, with a pinned search_path and
 * the latest snapshot.
 * ------------------------------------------------------------------------
 */

/* The catalog queries, prepared once per backend and kept. */
typedef enum CatalogQuery
{
	Q_TYPES,
	Q_PREDEFINED,
	Q_PRINCIPAL,
	Q_TEAMS,
	Q_TENANT_ROLES,
	Q_ORG_ROLES,
	Q_ROLE_CHAIN,
	Q_RESOURCE,
	Q_GRANTS,
	Q_NAME_USER,
	Q_NAME_ORG,
	Q_NAME_TENANT,
	Q_NAME_PG_ROLE,
	Q_OWNED,
	Q_SHARED,
	Q_PRINCIPAL_GRANTS,
	Q_TEAM_MEMBERS,
	Q_OWNED_BY,
	NUM_QUERIES
} CatalogQuery;

typedef struct QueryDef
{
	const char *sql;
	int			nargs;
	Oid			argtypes[4];
} QueryDef;

StaticAssertDecl(MAX_ROLE_CHAIN_COMPUTED == 2 * MAX_ROLE_CHAIN,
				 "the role chain query computes twice the chains the trigger admits");

static const QueryDef query_defs[NUM_QUERIES] = {
	[Q_TYPES] = {
		"SELECT name, kind = 'administration' FROM zenml_rbac.resource_type ORDER BY name",
		0, {0}
	},
	[Q_PREDEFINED] = {
		"SELECT role_id, kind = 'administration', actions FROM zenml_rbac.predefined_role_permission",
		0, {0}
	},
	[Q_PRINCIPAL] = {
		"SELECT kind, active FROM zenml_rbac.principal WHERE id = $1",
		1, {UUIDOID}
	},
	[Q_TEAMS] = {
		"SELECT team_id FROM zenml_rbac.team_member WHERE member_id = $1",
		1, {UUIDOID}
	},
	[Q_TENANT_ROLES] = {
		"SELECT a.tenant_id, a.role_id FROM zenml_rbac.tenant_role_assignment a"
		" WHERE a.principal_id = $1"
		" UNION ALL "
		"SELECT a.tenant_id, a.role_id FROM zenml_rbac.team_member m"
		" JOIN zenml_rbac.tenant_role_assignment a ON a.principal_id = m.team_id"
		" WHERE m.member_id = $1",
		1, {UUIDOID}
	},
	[Q_ORG_ROLES] = {
		"SELECT o.org_id, o.role FROM zenml_rbac.org_role_assignment o"
		" WHERE o.principal_id = $1"
		" UNION ALL "
		"SELECT o.org_id, o.role FROM zenml_rbac.team_member m"
		" JOIN zenml_rbac.org_role_assignment o ON o.principal_id = m.team_id"
		" WHERE m.member_id = $1",
		1, {UUIDOID}
	},
	[Q_ROLE_CHAIN] = {
		/* the role and its bases, deepest base first, with their edits */
		"WITH RECURSIVE chain(id, base_role_id, depth) AS ("
		"  SELECT id, base_role_id, 0 FROM zenml_rbac.role WHERE id = $1"
		"  UNION ALL"
		"  SELECT r.id, r.base_role_id, c.depth + 1 FROM zenml_rbac.role r"
		"  JOIN chain c ON r.id = c.base_role_id WHERE c.depth < " CppAsString2(MAX_ROLE_CHAIN_COMPUTED) ")"
		" SELECT c.id, c.base_role_id, p.resource_type, p.action, p.allowed"
		" FROM chain c LEFT JOIN zenml_rbac.role_permission p ON p.role_id = c.id"
		" ORDER BY c.depth DESC",
		1, {UUIDOID}
	},
	[Q_RESOURCE] = {
		"SELECT owner_id FROM zenml_rbac.resource"
		" WHERE tenant_id = $1 AND resource_type = $2 AND resource_id = $3",
		3, {UUIDOID, TEXTOID, UUIDOID}
	},
	[Q_GRANTS] = {
		"SELECT g.principal_id, g.actions FROM zenml_rbac.resource_grant g"
		" WHERE g.tenant_id = $1 AND g.resource_type = $2 AND g.resource_id = $3",
		3, {UUIDOID, TEXTOID, UUIDOID}
	},
	[Q_NAME_USER] = {
		"SELECT id FROM zenml_rbac.principal WHERE kind = 'user' AND name = $1",
		1, {TEXTOID}
	},
	[Q_NAME_ORG] = {
		"SELECT id FROM zenml_rbac.organization WHERE name = $1",
		1, {TEXTOID}
	},
	[Q_NAME_TENANT] = {
		"SELECT t.id FROM zenml_rbac.tenant t"
		" JOIN zenml_rbac.organization o ON o.id = t.org_id"
		" WHERE o.name = $1 AND t.name = $2",
		2, {TEXTOID, TEXTOID}
	},
	[Q_NAME_PG_ROLE] = {
		"SELECT id FROM zenml_rbac.principal WHERE pg_role = $1::name",
		1, {TEXTOID}
	},
	[Q_OWNED] = {
		/* owned instances in the given tenants (where the owner is a member) */
		"SELECT resource_id, tenant_id FROM zenml_rbac.resource"
		" WHERE owner_id = $1 AND resource_type = $2 AND tenant_id = ANY ($3)",
		3, {UUIDOID, TEXTOID, UUIDARRAYOID}
	},
	[Q_SHARED] = {
		/* instances shared with the principal or its teams, outside the given tenants */
		"SELECT resource_id, tenant_id FROM zenml_rbac.resource_grant"
		" WHERE principal_id = ANY ($1) AND resource_type = $2"
		" AND $3 = ANY (actions) AND tenant_id <> ALL ($4)",
		4, {UUIDARRAYOID, TEXTOID, TEXTOID, UUIDARRAYOID}
	},
	[Q_PRINCIPAL_GRANTS] = {
		/* every share held by the principals */
		"SELECT g.tenant_id, g.resource_type, g.resource_id, g.actions"
		" FROM zenml_rbac.resource_grant g WHERE g.principal_id = ANY ($1)"
		" ORDER BY g.tenant_id, g.resource_type, g.resource_id",
		1, {UUIDARRAYOID}
	},
	[Q_TEAM_MEMBERS] = {
		"SELECT DISTINCT member_id FROM zenml_rbac.team_member WHERE team_id = ANY ($1)",
		1, {UUIDARRAYOID}
	},
	[Q_OWNED_BY] = {
		/* as Q_PRINCIPAL_GRANTS with every action: ownership gives them all */
		"SELECT tenant_id, resource_type, resource_id, NULL::text[] FROM zenml_rbac.resource"
		" WHERE owner_id = $1 ORDER BY tenant_id, resource_type, resource_id",
		1, {UUIDOID}
	},
};

static SPIPlanPtr saved_plans[NUM_QUERIES];

/* Runs one of the cache's catalog queries; the result is in SPI_tuptable until the next one. */
static uint64
RunQuery(CatalogQuery q, Datum *args)
{
	const QueryDef *def = &query_defs[q];

	return CatalogExecute(&saved_plans[q], def->sql, def->nargs, def->argtypes, args, NULL);
}

static Datum
ResultValue(uint64 row, int col, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, isnull);
}

static char *
ResultText(uint64 row, int col)
{
	return SPI_getvalue(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col);
}

static void
ResultUuid(uint64 row, int col, pg_uuid_t *out, bool *isnull)
{
	bool		null;
	Datum		d = ResultValue(row, col, &null);

	if (isnull)
		*isnull = null;
	if (!null)
		memcpy(out, DatumGetUUIDP(d), sizeof(pg_uuid_t));
}

/* Actions (a text[] column) as bits; unknown names count for nothing. */
static uint8
ResultActions(uint64 row, int col)
{
	bool		isnull;
	Datum		value = ResultValue(row, col, &isnull);
	Datum	   *names;
	bool	   *nulls;
	int			n;
	uint8		bits = 0;

	if (isnull)
		return 0;
	deconstruct_array(DatumGetArrayTypeP(value), TEXTOID, -1, false, TYPALIGN_INT,
					  &names, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		int			a;

		if (nulls[i])
			continue;
		a = ParseAction(VARDATA_ANY(names[i]), VARSIZE_ANY_EXHDR(names[i]));
		if (a >= 0)
			bits |= RBAC_BIT(a);
	}
	return bits;
}

/* A share's actions: those it may not carry (create) count for nothing. */
static uint8
ResultShareActions(uint64 row, int col)
{
	return ResultActions(row, col) & RBAC_SHAREABLE;
}

/* ------------------------------------------------------------------------
 * Vocabulary
 * ------------------------------------------------------------------------
 */

static void
LoadTypes(void)
{
	CatalogAccess access;
	uint64		n;
	TypeEntry **by_index;
	int			kept = 0;

	BeginCatalogAccess(&access);
	n = RunQuery(Q_TYPES, NULL);
	by_index = MemoryContextAllocZero(CacheContext, sizeof(TypeEntry *) * Max(n, 1));
	for (uint64 i = 0; i < n; i++)
	{
		char	   *name = ResultText(i, 1);
		bool		isnull;
		bool		found;
		TypeEntry  *entry;

		/* the table's CHECK limits names; one longer (DML without it) is skipped */
		if (strlen(name) >= NAMEDATALEN)
			continue;
		entry = hash_search(type_hash, name, HASH_ENTER, &found);
		entry->index = kept;
		entry->administration = DatumGetBool(ResultValue(i, 2, &isnull));
		by_index[kept++] = entry;
	}
	LoadPredefined();
	EndCatalogAccess(&access);
	types_by_index = by_index;
	type_count = kept;
}

/*
 * The predefined roles' actions, inside LoadTypes' catalog access.  A
 * database still at 0.1.0 or 0.2.0 has no table for them (this library
 * serves it until ALTER EXTENSION UPDATE): it gets the rules those releases
 * compiled in, which 0.3.0's rows repeat.
 */
static void
LoadPredefined(void)
{
	uint64		n;

	memset(predefined_actions, 0, sizeof(predefined_actions));
	if (!OidIsValid(get_relname_relid("predefined_role_permission",
									  get_namespace_oid("zenml_rbac", false))))
	{
		for (int kind = 0; kind < 2; kind++)
		{
			predefined_actions[PREDEFINED_ADMIN][kind] = RBAC_ALL_ACTIONS;
			predefined_actions[PREDEFINED_VIEWER][kind] = RBAC_BIT(RBAC_READ);
		}
		predefined_actions[PREDEFINED_EDITOR][0] =
			RBAC_BIT(RBAC_CREATE) | RBAC_BIT(RBAC_READ) | RBAC_BIT(RBAC_SHARE);
		predefined_actions[PREDEFINED_EDITOR][1] = RBAC_BIT(RBAC_READ);
		return;
	}
	n = RunQuery(Q_PREDEFINED, NULL);
	for (uint64 i = 0; i < n; i++)
	{
		pg_uuid_t	role_id;
		bool		isnull;
		int			which;

		ResultUuid(i, 1, &role_id, NULL);
		which = PredefinedRole(&role_id);
		if (which != 0)
			predefined_actions[which][DatumGetBool(ResultValue(i, 2, &isnull)) ? 1 : 0] =
				ResultActions(i, 3);
	}
}

int
CatalogTypeCount(void)
{
	if (type_count < 0)
		LoadTypes();
	return type_count;
}

const TypeEntry *
CatalogLookupType(const char *name, size_t len)
{
	char		key[NAMEDATALEN];

	if (type_count < 0)
		LoadTypes();
	if (len >= NAMEDATALEN)
		return NULL;
	memcpy(key, name, len);
	key[len] = '\0';
	return hash_search(type_hash, key, HASH_FIND, NULL);
}

const char *
CatalogTypeName(int index)
{
	Assert(index >= 0 && index < CatalogTypeCount());
	return types_by_index[index]->name;
}

char *
CatalogTypeNameList(void)
{
	StringInfoData buf;
	int			n = CatalogTypeCount();

	initStringInfo(&buf);
	for (int i = 0; i < n; i++)
		appendStringInfo(&buf, "%s%s", i > 0 ? ", " : "", types_by_index[i]->name);
	return buf.data;
}

/* ------------------------------------------------------------------------
 * Roles
 * ------------------------------------------------------------------------
 */

static int
PredefinedRole(const pg_uuid_t *id)
{
	static const unsigned char prefix[15] = {
		0, 0, 0, 0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0
	};

	if (memcmp(id->data, prefix, sizeof(prefix)) != 0)
		return 0;
	if (id->data[15] >= PREDEFINED_ADMIN && id->data[15] <= PREDEFINED_VIEWER)
		return id->data[15];
	return 0;
}

/* A predefined role's permission set: its actions on each type's kind. */
static void
FillPredefined(uint8 *perms, int which)
{
	int			n = CatalogTypeCount();

	for (int i = 0; i < n; i++)
		perms[i] = predefined_actions[which][types_by_index[i]->administration ? 1 : 0];
}

static void
DropRole(RoleEntry *entry)
{
	if (entry->permissions != NULL)
		pfree(entry->permissions);
	FreeValidity(&entry->validity);
	hash_search(role_hash, &entry->id, HASH_REMOVE, NULL);
}

/* Keeps an entry still valid (a caller may hold it); replaces a stale one. */
static RoleEntry *
StoreRole(const pg_uuid_t *id, bool exists, uint8 *permissions, const InvalDeps *deps)
{
	bool		found;
	RoleEntry  *entry = hash_search(role_hash, id, HASH_ENTER, &found);

	if (found)
	{
		if (!Stale(&entry->validity))
		{
			if (permissions != NULL)
				pfree(permissions);
			return entry;
		}
		if (entry->permissions != NULL)
			pfree(entry->permissions);
		FreeValidity(&entry->validity);
	}
	entry->exists = exists;
	entry->permissions = permissions;
	StoreValidity(&entry->validity, deps, CacheContext);
	NoteGrowth();
	return entry;
}

/*
 * Loads a custom role's chain in one query and computes the effective set of
 * each role in it, base first: effective = (effective(base) + allowed) - disallowed.
 * Each depends on every role of the chain.
 */
static void
LoadRoleChain(const pg_uuid_t *id)
{
	CatalogAccess access;
	Datum		arg = UUIDPGetDatum((pg_uuid_t *) id);
	uint64		n;
	int			ntypes = CatalogTypeCount();
	uint8	   *current = NULL;
	pg_uuid_t	current_id;
	bool		have_current = false;
	InvalDeps	deps;
	InvalDeps	none;

	InvalDepsInit(&deps);
	InvalDepsInit(&none);
	InvalDepsAdd(&deps, InvalKeyOfUuid(INVAL_ROLE, id));
	BeginCatalogAccess(&access);
	n = RunQuery(Q_ROLE_CHAIN, &arg);
	for (uint64 i = 0; i < n; i++)
	{
		pg_uuid_t	role_id;

		ResultUuid(i, 1, &role_id, NULL);
		InvalDepsAdd(&deps, InvalKeyOfUuid(INVAL_ROLE, &role_id));
	}

	/*
	 * The deepest row must be a predefined role.  Otherwise the chain was
	 * cut at MAX_ROLE_CHAIN_COMPUTED (direct DML can build one; the role trigger
	 * refuses it): its roles cannot be computed from here, so none is kept
	 * but the one asked for, and that one grants nothing.
	 */
	if (n > 0)
	{
		bool		base_null;

		(void) ResultValue(0, 2, &base_null);
		if (!base_null)
		{
			StoreRole(id, true, MemoryContextAllocZero(CacheContext, Max(ntypes, 1)), &deps);
			EndCatalogAccess(&access);
			return;
		}
	}
	for (uint64 i = 0; i < n; i++)
	{
		pg_uuid_t	role_id;
		pg_uuid_t	base_id;
		bool		base_null;
		bool		edit_null;
		bool		isnull;

		ResultUuid(i, 1, &role_id, NULL);
		if (!have_current || !UuidEquals(&role_id, &current_id))
		{
			/* a new role in the chain: start from its base's effective set */
			if (have_current)
				StoreRole(&current_id, true, current,
						  PredefinedRole(&current_id) ? &none : &deps);
			ResultUuid(i, 2, &base_id, &base_null);
			current = MemoryContextAllocZero(CacheContext, Max(ntypes, 1));
			if (!base_null)
			{
				/* the base was computed on the previous row */
				RoleEntry  *base = hash_search(role_hash, &base_id, HASH_FIND, NULL);

				if (base != NULL && base->exists)
					memcpy(current, base->permissions, ntypes);
			}
			else if (PredefinedRole(&role_id))
				FillPredefined(current, PredefinedRole(&role_id));
			current_id = role_id;
			have_current = true;
		}

		/* a predefined role's permissions are fixed: edit rows (DML) do not count */
		(void) ResultValue(i, 3, &edit_null);
		if (!edit_null && !PredefinedRole(&role_id))
		{
			char	   *type_name = ResultText(i, 3);
			char	   *action_name = ResultText(i, 4);
			bool		allowed = DatumGetBool(ResultValue(i, 5, &isnull));
			const TypeEntry *type = CatalogLookupType(type_name, strlen(type_name));
			int			action = ParseAction(action_name, strlen(action_name));

			if (type != NULL && action >= 0)
			{
				if (allowed)
					current[type->index] |= RBAC_BIT(action);
				else
					current[type->index] &= ~RBAC_BIT(action);
			}
		}
	}
	if (have_current)
		StoreRole(&current_id, true, current, PredefinedRole(&current_id) ? &none : &deps);
	EndCatalogAccess(&access);
	if (hash_search(role_hash, id, HASH_FIND, NULL) == NULL)
		StoreRole(id, false, NULL, &deps);	/* no such role */
}

/* A role's entry, loaded if missing or stale: never NULL. */
static RoleEntry *
GetRole(const pg_uuid_t *id)
{
	RoleEntry  *entry = hash_search(role_hash, id, HASH_FIND, NULL);
	int			predefined;

	if (entry != NULL)
	{
		if (!Stale(&entry->validity))
			return entry;
		DropRole(entry);
	}

	loads_in_progress++;
	predefined = PredefinedRole(id);
	if (predefined)
	{
		uint8	   *perms = MemoryContextAllocZero(CacheContext, Max(CatalogTypeCount(), 1));
		InvalDeps	none;

		InvalDepsInit(&none);
		FillPredefined(perms, predefined);
		StoreRole(id, true, perms, &none);	/* fixed in C: never stale */
	}
	else
		LoadRoleChain(id);
	loads_in_progress--;
	return hash_search(role_hash, id, HASH_FIND, NULL);
}

const uint8 *
CatalogRolePermissions(const pg_uuid_t *id)
{
	RoleEntry  *entry = GetRole(id);

	return entry->exists ? entry->permissions : NULL;
}

/* ------------------------------------------------------------------------
 * Principals
 * ------------------------------------------------------------------------
 */

typedef struct Assignment
{
	pg_uuid_t	scope;
	pg_uuid_t	role;
	OrgRoleLevel level;
} Assignment;

/*
 * Loads one principal: its row, its teams, and its org and tenant roles
 * (own and teams'); deps gets the keys of all of them and of the roles'
 * chains.
 */
static void
LoadPrincipal(const pg_uuid_t *id, PrincipalEntry *out, InvalDeps *deps)
{
	CatalogAccess access;
	Datum		arg = UUIDPGetDatum((pg_uuid_t *) id);
	int			ntypes = CatalogTypeCount();
	uint64		n;
	Assignment *assignments;
	uint64		nassign;

	out->exists = false;
	out->active = false;
	out->kind = 0;
	out->nteams = 0;
	out->teams = NULL;
	out->ntenants = 0;
	out->tenants = NULL;
	out->norgs = 0;
	out->orgs = NULL;
	InvalDepsAdd(deps, InvalKeyOfUuid(INVAL_PRINCIPAL, id));

	BeginCatalogAccess(&access);
	if (RunQuery(Q_PRINCIPAL, &arg) == 0)
	{
		EndCatalogAccess(&access);
		return;
	}
	{
		char	   *kind = ResultText(0, 1);
		bool		isnull;

		out->exists = true;
		out->active = DatumGetBool(ResultValue(0, 2, &isnull));
		out->kind = strcmp(kind, "team") == 0 ? PRINCIPAL_TEAM
			: strcmp(kind, "service_account") == 0 ? PRINCIPAL_SERVICE_ACCOUNT
			: PRINCIPAL_USER;
	}

	n = RunQuery(Q_TEAMS, &arg);
	if (n > 0)
	{
		out->teams = MemoryContextAlloc(CacheContext, sizeof(pg_uuid_t) * n);
		for (uint64 i = 0; i < n; i++)
		{
			ResultUuid(i, 1, &out->teams[i], NULL);
			InvalDepsAdd(deps, InvalKeyOfUuid(INVAL_PRINCIPAL, &out->teams[i]));
		}
		out->nteams = (int) n;
	}

	n = RunQuery(Q_ORG_ROLES, &arg);
	if (n > 0)
		out->orgs = MemoryContextAlloc(CacheContext, sizeof(pg_uuid_t) * n);
	for (uint64 i = 0; i < n; i++)
	{
		ScopeKey	key;
		OrgRoleEntry *entry;
		bool		found;
		OrgRoleLevel level = ParseOrgRole(ResultText(i, 2));

		memcpy(&key.principal, id, sizeof(pg_uuid_t));
		ResultUuid(i, 1, &key.scope, NULL);
		entry = hash_search(org_role_hash, &key, HASH_ENTER, &found);
		if (!found)
		{
			entry->level = level;
			out->orgs[out->norgs++] = key.scope;
		}
		else if (entry->level < level)
			entry->level = level;
	}

	/* copy the rows out: computing role sets runs further queries */
	nassign = RunQuery(Q_TENANT_ROLES, &arg);
	assignments = palloc(sizeof(Assignment) * Max(nassign, 1));
	if (nassign > 0)
		out->tenants = MemoryContextAlloc(CacheContext, sizeof(pg_uuid_t) * nassign);
	for (uint64 i = 0; i < nassign; i++)
	{
		ResultUuid(i, 1, &assignments[i].scope, NULL);
		ResultUuid(i, 2, &assignments[i].role, NULL);
	}
	for (uint64 i = 0; i < nassign; i++)
	{
		ScopeKey	key;
		MembershipEntry *entry;
		bool		found;
		RoleEntry  *role = GetRole(&assignments[i].role);

		memcpy(&key.principal, id, sizeof(pg_uuid_t));
		memcpy(&key.scope, &assignments[i].scope, sizeof(pg_uuid_t));
		entry = hash_search(membership_hash, &key, HASH_ENTER, &found);
		if (!found)
		{
			entry->permissions = MemoryContextAllocZero(CacheContext, Max(ntypes, 1));
			out->tenants[out->ntenants++] = key.scope;
		}
		InvalDepsAddWatched(deps, &role->validity.watch);
		if (role->exists)
			for (int t = 0; t < ntypes; t++)
				entry->permissions[t] |= role->permissions[t];
	}
	EndCatalogAccess(&access);
}

/* Drops a principal's entry with its memberships and org roles. */
static void
DropPrincipal(PrincipalEntry *entry)
{
	ScopeKey	key;

	memcpy(&key.principal, &entry->id, sizeof(pg_uuid_t));
	for (int t = 0; t < entry->ntenants; t++)
	{
		MembershipEntry *m;

		key.scope = entry->tenants[t];
		m = hash_search(membership_hash, &key, HASH_FIND, NULL);
		if (m != NULL)
		{
			pfree(m->permissions);
			hash_search(membership_hash, &key, HASH_REMOVE, NULL);
		}
	}
	for (int o = 0; o < entry->norgs; o++)
	{
		key.scope = entry->orgs[o];
		hash_search(org_role_hash, &key, HASH_REMOVE, NULL);
	}
	if (entry->teams != NULL)
		pfree(entry->teams);
	if (entry->tenants != NULL)
		pfree(entry->tenants);
	if (entry->orgs != NULL)
		pfree(entry->orgs);
	FreeValidity(&entry->validity);
	hash_search(principal_hash, &key.principal, HASH_REMOVE, NULL);
}

PrincipalEntry *
CatalogGetPrincipal(const pg_uuid_t *id)
{
	PrincipalEntry *entry = hash_search(principal_hash, id, HASH_FIND, NULL);
	PrincipalEntry loaded;
	InvalDeps	deps;
	bool		found;

	if (entry != NULL)
	{
		if (!Stale(&entry->validity))
			return entry;
		DropPrincipal(entry);
	}
	memset(&loaded, 0, sizeof(loaded));
	InvalDepsInit(&deps);
	loads_in_progress++;
	LoadPrincipal(id, &loaded, &deps);
	entry = hash_search(principal_hash, id, HASH_ENTER, &found);
	entry->exists = loaded.exists;
	entry->active = loaded.active;
	entry->kind = loaded.kind;
	entry->nteams = loaded.nteams;
	entry->teams = loaded.teams;
	entry->ntenants = loaded.ntenants;
	entry->tenants = loaded.tenants;
	entry->norgs = loaded.norgs;
	entry->orgs = loaded.orgs;
	StoreValidity(&entry->validity, &deps, CacheContext);
	loads_in_progress--;
	NoteGrowth();
	return entry;
}

const uint8 *
CatalogTenantPermissions(const pg_uuid_t *principal, const pg_uuid_t *tenant)
{
	ScopeKey	key;
	MembershipEntry *entry;

	memcpy(&key.principal, principal, sizeof(pg_uuid_t));
	memcpy(&key.scope, tenant, sizeof(pg_uuid_t));
	entry = hash_search(membership_hash, &key, HASH_FIND, NULL);
	return entry ? entry->permissions : NULL;
}

OrgRoleLevel
CatalogOrgRole(const pg_uuid_t *principal, const pg_uuid_t *org)
{
	ScopeKey	key;
	OrgRoleEntry *entry;

	memcpy(&key.principal, principal, sizeof(pg_uuid_t));
	memcpy(&key.scope, org, sizeof(pg_uuid_t));
	entry = hash_search(org_role_hash, &key, HASH_FIND, NULL);
	return entry ? entry->level : ORG_NONE;
}

/* ------------------------------------------------------------------------
 * Resources
 * ------------------------------------------------------------------------
 */

ResourceEntry *
CatalogGetResource(const pg_uuid_t *tenant, int type_index, const pg_uuid_t *id)
{
	ResourceKey key;
	ResourceEntry *entry;
	CatalogAccess access;
	Datum		args[3];
	bool		found;
	bool		registered = false;
	bool		has_owner = false;
	pg_uuid_t	owner;
	GrantItem  *grants = NULL;
	int			ngrants = 0;

	memset(&key, 0, sizeof(key));
	memcpy(&key.tenant, tenant, sizeof(pg_uuid_t));
	memcpy(&key.id, id, sizeof(pg_uuid_t));
	key.type_index = type_index;
	entry = hash_search(resource_hash, &key, HASH_FIND, NULL);
	if (entry != NULL)
	{
		if (entry->checked_epoch == cache_epoch)
			return entry;
		if (!InvalRecordStale(entry->record, entry->loaded_seq, entry->loaded_at))
		{
			entry->checked_epoch = cache_epoch;
			return entry;
		}
		if (entry->grants != NULL)
			pfree(entry->grants);
		hash_search(resource_hash, &key, HASH_REMOVE, NULL);
	}

	loads_in_progress++;
	args[0] = UUIDPGetDatum((pg_uuid_t *) tenant);
	args[1] = CStringGetTextDatum(CatalogTypeName(type_index));
	args[2] = UUIDPGetDatum((pg_uuid_t *) id);

	BeginCatalogAccess(&access);
	if (RunQuery(Q_RESOURCE, args) > 0)
	{
		bool		owner_null;
		uint64		n;

		registered = true;
		ResultUuid(0, 1, &owner, &owner_null);
		has_owner = !owner_null;
		n = RunQuery(Q_GRANTS, args);
		if (n > 0)
		{
			grants = MemoryContextAlloc(ResourceContext, sizeof(GrantItem) * n);
			for (uint64 i = 0; i < n; i++)
			{
				ResultUuid(i, 1, &grants[i].principal, NULL);
				grants[i].actions = ResultShareActions(i, 2);
			}
			ngrants = (int) n;
		}
	}
	EndCatalogAccess(&access);

	entry = hash_search(resource_hash, &key, HASH_ENTER, &found);
	entry->registered = registered;
	entry->has_owner = has_owner;
	if (has_owner)
		memcpy(&entry->owner, &owner, sizeof(pg_uuid_t));
	entry->ngrants = ngrants;
	entry->grants = grants;
	MarkLoaded(&entry->loaded_seq, &entry->loaded_at, &entry->checked_epoch);
	entry->record = InvalWatchKey(InvalKeyOfResource(tenant, CatalogTypeName(type_index), id),
								  entry->loaded_seq);
	loads_in_progress--;
	NoteGrowth();
	return entry;
}

int
InstancePairCompare(const void *a, const void *b)
{
	const InstancePair *x = a;
	const InstancePair *y = b;
	int			c = memcmp(x->id.data, y->id.data, UUID_LEN);

	return c != 0 ? c : memcmp(x->tenant.data, y->tenant.data, UUID_LEN);
}

/* Appends the (id, tenant) rows of the last query. */
static void
CollectPairs(uint64 n, InstancePair **pairs, int *npairs, int *capacity)
{
	for (uint64 i = 0; i < n; i++)
	{
		if (*npairs == *capacity)
		{
			*capacity = *capacity * 2;
			*pairs = repalloc(*pairs, sizeof(InstancePair) * *capacity);
		}
		ResultUuid(i, 1, &(*pairs)[*npairs].id, NULL);
		ResultUuid(i, 2, &(*pairs)[*npairs].tenant, NULL);
		(*npairs)++;
	}
}

pg_uuid_t *
CatalogGrantees(const PrincipalEntry *p)
{
	pg_uuid_t  *grantees = palloc(sizeof(pg_uuid_t) * (p->nteams + 1));

	grantees[0] = p->id;
	memcpy(grantees + 1, p->teams, sizeof(pg_uuid_t) * p->nteams);
	return grantees;
}

bool
CatalogSharedWith(const ResourceEntry *r, const PrincipalEntry *p, uint8 wanted)
{
	for (int g = 0; g < r->ngrants; g++)
	{
		const GrantItem *grant = &r->grants[g];

		if (wanted != 0 && !(grant->actions & wanted))
			continue;
		if (UuidEquals(&grant->principal, &p->id))
			return true;
		for (int t = 0; t < p->nteams; t++)
			if (UuidEquals(&grant->principal, &p->teams[t]))
				return true;
	}
	return false;
}

/*
 * What the row-level security policies add to the tenant arm: instances the
 * principal owns in tenants where it is a member without the type-level
 * action, and instances shared with it (or its teams) with the action in
 * tenants where it lacks that action: the rules of Decide() (decision.c)
 * for an instance, from the same PermitsOnType.
 */
const InstanceSet *
CatalogInstances(const pg_uuid_t *principal, int type_index, int action)
{
	InstanceKey key;
	InstanceEntry *entry;
	PrincipalEntry *p;
	InstancePair *pairs;
	int			npairs = 0;
	int			capacity = 16;
	bool		found;
	InvalDeps	deps;

	memset(&key, 0, sizeof(key));
	memcpy(&key.principal, principal, sizeof(pg_uuid_t));
	key.type_index = type_index;
	key.action = action;
	entry = hash_search(instance_hash, &key, HASH_FIND, NULL);
	if (entry != NULL)
	{
		if (!Stale(&entry->validity))
			return &entry->set;
		if (entry->set.pairs != NULL)
			pfree(entry->set.pairs);
		FreeValidity(&entry->validity);
		hash_search(instance_hash, &key, HASH_REMOVE, NULL);
	}

	pairs = palloc(sizeof(InstancePair) * capacity);
	p = CatalogGetPrincipal(principal);
	loads_in_progress++;
	InvalDepsInit(&deps);
	InvalDepsAddWatched(&deps, &p->validity.watch);
	InvalDepsAdd(&deps, InvalKeyOfUuid(INVAL_HOLDINGS, principal));
	for (int t = 0; t < p->nteams; t++)
		InvalDepsAdd(&deps, InvalKeyOfUuid(INVAL_HOLDINGS, &p->teams[t]));
	if (p->exists && p->active)
	{
		pg_uuid_t  *with = palloc(sizeof(pg_uuid_t) * Max(p->ntenants, 1));
		pg_uuid_t  *lacking = palloc(sizeof(pg_uuid_t) * Max(p->ntenants, 1));
		pg_uuid_t  *grantees = CatalogGrantees(p);
		int			nwith = 0;
		int			nlacking = 0;
		CatalogAccess access;
		Datum		args[4];

		for (int t = 0; t < p->ntenants; t++)
		{
			const uint8 *perms = CatalogTenantPermissions(principal, &p->tenants[t]);

			if (PermitsOnType(perms, type_index, RBAC_BIT(action)))
				with[nwith++] = p->tenants[t];
			else if (perms != NULL)
				lacking[nlacking++] = p->tenants[t];	/* owned rows count where a member */
		}

		BeginCatalogAccess(&access);
		if (nlacking > 0)
		{
			args[0] = UUIDPGetDatum((pg_uuid_t *) principal);
			args[1] = CStringGetTextDatum(CatalogTypeName(type_index));
			args[2] = PointerGetDatum(UuidArray(lacking, nlacking));
			CollectPairs(RunQuery(Q_OWNED, args), &pairs, &npairs, &capacity);
		}
		if (action != RBAC_CREATE)
		{
			args[0] = PointerGetDatum(UuidArray(grantees, p->nteams + 1));
			args[1] = CStringGetTextDatum(CatalogTypeName(type_index));
			args[2] = CStringGetTextDatum(RbacActionNames[action]);
			args[3] = PointerGetDatum(UuidArray(with, nwith));
			CollectPairs(RunQuery(Q_SHARED, args), &pairs, &npairs, &capacity);
		}
		EndCatalogAccess(&access);
	}

	/* sorted and without duplicates, for binary search */
	if (npairs > 1)
	{
		int			kept = 1;

		qsort(pairs, npairs, sizeof(InstancePair), InstancePairCompare);
		for (int i = 1; i < npairs; i++)
			if (InstancePairCompare(&pairs[i], &pairs[kept - 1]) != 0)
				pairs[kept++] = pairs[i];
		npairs = kept;
	}

	entry = hash_search(instance_hash, &key, HASH_ENTER, &found);
	entry->set.npairs = npairs;
	entry->set.pairs = NULL;
	if (npairs > 0)
	{
		entry->set.pairs = MemoryContextAlloc(ResourceContext, sizeof(InstancePair) * npairs);
		memcpy(entry->set.pairs, pairs, sizeof(InstancePair) * npairs);
	}
	StoreValidity(&entry->validity, &deps, ResourceContext);
	loads_in_progress--;
	pfree(pairs);
	NoteGrowth();
	return &entry->set;
}

/*
 * Every share the principals hold (a principal and its teams), read for a
 * management call, not cached: what handing out that principal's rights
 * would hand out.  Rows of a type the vocabulary lacks are skipped.
 */
static int
HeldRows(CatalogQuery q, Datum arg, HeldGrant **out)
{
	CatalogAccess access;
	uint64		rows;
	int			kept = 0;
	HeldGrant  *grants;

	BeginCatalogAccess(&access);
	rows = RunQuery(q, &arg);
	grants = palloc(sizeof(HeldGrant) * Max(rows, 1));
	for (uint64 i = 0; i < rows; i++)
	{
		char	   *type_name = ResultText(i, 2);
		const TypeEntry *type = CatalogLookupType(type_name, strlen(type_name));

		if (type == NULL)
			continue;
		ResultUuid(i, 1, &grants[kept].tenant, NULL);
		grants[kept].type_index = type->index;
		ResultUuid(i, 3, &grants[kept].id, NULL);
		grants[kept].actions = q == Q_OWNED_BY ? RBAC_ALL_ACTIONS : ResultShareActions(i, 4);
		kept++;
	}
	EndCatalogAccess(&access);
	*out = grants;
	return kept;
}

int
CatalogPrincipalGrants(const pg_uuid_t *principals, int n, HeldGrant **out)
{
	return HeldRows(Q_PRINCIPAL_GRANTS, PointerGetDatum(UuidArray(principals, n)), out);
}

/* The resources the principal owns, each with every action (ownership gives them all). */
int
CatalogOwnedResources(const pg_uuid_t *owner, HeldGrant **out)
{
	return HeldRows(Q_OWNED_BY, UUIDPGetDatum((pg_uuid_t *) owner), out);
}

/* The members of the teams among the principals, read for a management call. */
int
CatalogTeamMembers(const pg_uuid_t *teams, int n, pg_uuid_t **out)
{
	CatalogAccess access;
	Datum		arg;
	uint64		rows;
	pg_uuid_t  *members;

	BeginCatalogAccess(&access);
	arg = PointerGetDatum(UuidArray(teams, n));
	rows = RunQuery(Q_TEAM_MEMBERS, &arg);
	members = palloc(sizeof(pg_uuid_t) * Max(rows, 1));
	for (uint64 i = 0; i < rows; i++)
		ResultUuid(i, 1, &members[i], NULL);
	EndCatalogAccess(&access);
	*out = members;
	return (int) rows;
}

/* ------------------------------------------------------------------------
 * Names
 * ------------------------------------------------------------------------
 */

static bool
LookupName(char kind, const char *name, pg_uuid_t *out)
{
	CatalogAccess access;
	Datum		args[2];
	CatalogQuery q;
	bool		found = false;

	switch (kind)
	{
		case 'u':
			q = Q_NAME_USER;
			break;
		case 'o':
			q = Q_NAME_ORG;
			break;
		case 'l':
			q = Q_NAME_PG_ROLE;
			break;
		case 't':
			{
				const char *slash = strchr(name, '/');

				if (slash == NULL)
					return false;
				q = Q_NAME_TENANT;
				args[0] = PointerGetDatum(cstring_to_text_with_len(name, slash - name));
				args[1] = CStringGetTextDatum(slash + 1);
			}
			break;
		default:
			elog(ERROR, "zenml_rbac: unknown name kind '%c'", kind);
	}
	if (kind != 't')
		args[0] = CStringGetTextDatum(name);

	BeginCatalogAccess(&access);
	if (RunQuery(q, args) > 0)
	{
		ResultUuid(0, 1, out, NULL);
		found = true;
	}
	EndCatalogAccess(&access);
	return found;
}

/* The keys a change to the rows behind a name names (see invalidation.c). */
static void
NameDeps(char kind, const char *name, InvalDeps *deps)
{
	InvalDepsInit(deps);
	switch (kind)
	{
		case 'u':
			InvalDepsAdd(deps, InvalKeyOfName(INVAL_NAME_USER, name, strlen(name)));
			break;
		case 'o':
			InvalDepsAdd(deps, InvalKeyOfName(INVAL_NAME_ORG, name, strlen(name)));
			break;
		case 'l':
			/* stored as type name: compared, and so hashed, clipped */
			InvalDepsAdd(deps, InvalKeyOfName(INVAL_NAME_PG_ROLE, name,
												 pg_mbcliplen(name, strlen(name), NAMEDATALEN - 1)));
			break;
		case 't':
			{
				const char *slash = strchr(name, '/');

				/* LookupName() finds nothing without a slash: depend on the name */
				if (slash == NULL)
					slash = name + strlen(name);
				InvalDepsAdd(deps, InvalKeyOfName(INVAL_NAME_ORG, name, slash - name));
				if (*slash == '/')
					slash++;
				InvalDepsAdd(deps, InvalKeyOfName(INVAL_NAME_TENANT, slash, strlen(slash)));
			}
			break;
	}
}

bool
CatalogResolveName(char kind, const char *name, pg_uuid_t *out)
{
	char		key[NAME_KEY_LEN];
	NameEntry  *entry;

	if (strlen(name) + 3 > NAME_KEY_LEN)
		return LookupName(kind, name, out);

	snprintf(key, sizeof(key), "%c:%s", kind, name);
	entry = hash_search(name_hash, key, HASH_FIND, NULL);
	if (entry != NULL && Stale(&entry->validity))
	{
		FreeValidity(&entry->validity);
		hash_search(name_hash, key, HASH_REMOVE, NULL);
		entry = NULL;
	}
	if (entry == NULL)
	{
		pg_uuid_t	id;
		bool		found;
		bool		exists = LookupName(kind, name, &id);
		InvalDeps	deps;

		NameDeps(kind, name, &deps);
		loads_in_progress++;	/* an error storing it leaves a partial entry */
		entry = hash_search(name_hash, key, HASH_ENTER, &found);
		entry->found = exists;
		if (exists)
			memcpy(&entry->id, &id, sizeof(pg_uuid_t));
		StoreValidity(&entry->validity, &deps, CacheContext);
		loads_in_progress--;
		NoteGrowth();
	}
	if (entry->found)
		memcpy(out, &entry->id, sizeof(pg_uuid_t));
	return entry->found;
}

/* ------------------------------------------------------------------------
 * Introspection
 * ------------------------------------------------------------------------
 */

void
CatalogStats(int64 *principals, int64 *resources, int64 *roles, int64 *bytes,
			 int64 *loaded)
{
	*loaded = (int64) loads;
	*principals = principal_hash ? hash_get_num_entries(principal_hash) : 0;
	*resources = resource_hash ? hash_get_num_entries(resource_hash) +
		hash_get_num_entries(instance_hash) : 0;
	*roles = role_hash ? hash_get_num_entries(role_hash) : 0;
	*bytes = CacheContext ? MemoryContextMemAllocated(CacheContext, true) +
		MemoryContextMemAllocated(ResourceContext, true) + InvalMemoryBytes() : 0;
}
