/*
 * invalidation.c
 *     What a catalog change invalidates, and how that reaches every backend.
 *
 * PostgreSQL lets an extension hear about relcache invalidations, which name
 * one relation OID each and travel like any catalog change: queued by the
 * writing transaction, sent to every backend of the database at commit (in
 * commit order, after the commit became visible), written into the commit
 * record and so replayed on hot standbys; a backend that fell too far
 * behind the shared queue gets a reset instead (InvalidOid).  So the
 * extension owns a fixed set of INVAL_BUCKETS empty composite types,
 * zenml_rbac.invalidation_bucket_000 .. _767 (a range per kind of key),
 * plus invalidation_all.  A row
 * trigger on every cached catalog table hashes the keys the row's change can
 * affect (a principal, a role, a resource instance, a principal's holdings,
 * a name; see cached_tables below) into buckets and queues a relcache
 * invalidation of each bucket's type; a logical-replication subscriber runs
 * the same trigger (enabled ALWAYS) when it applies the row.
 *
 * The receiving backend's callback only records, per bucket, the sequence
 * number of the last hit.  Cache entries (catalog.c) carry the buckets of
 * every row they were computed from and the sequence number as of the
 * snapshot they were loaded with; an entry is stale once one of its buckets
 * was hit after that.  Hits are published for that test at the start of an
 * engine call only, so entries handed out during a call stay valid until it
 * returns.  A hit costs the entries that share its bucket; everything else
 * stays warm.  invalidation_all (the vocabulary, TRUNCATE), a queue
 * overflow, DDL that replaced the catalog, and a disabled trigger reset
 * everything.
 *
 * The bucket of a key must be computed alike by the writer and by every
 * reader (a hot standby runs the same major and this same code): it uses
 * PostgreSQL's hash_bytes_extended(), stable across releases as hash
 * partitioning requires.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "nodes/makefuncs.h"
#include "nodes/value.h"
#include "parser/parse_func.h"
#include "storage/proc.h"
#include "catalog/pg_type.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "compat.h"
#include "invalidation.h"

#define RBAC_SCHEMA "zenml_rbac"
#define ROW_TRIGGER "zz_invalidate_cache"
#define TRUNCATE_TRIGGER "zz_invalidate_cache_truncate"
#define ROW_TRIGGER_TYPE (TRIGGER_TYPE_ROW | TRIGGER_TYPE_INSERT | TRIGGER_TYPE_DELETE | \
						  TRIGGER_TYPE_UPDATE)

/*
 * Every table of the extension's schema, once: the cached ones with the keys
 * a change to one of their rows names (old and new row alike), the others
 * with why the cache never reads them; and for the audited ones what
 * audit_capture() records (key columns, then the organization, tenant and
 * subject columns, then columns never recorded).  The install script
 * creates the invalidation and audit triggers from this list
 * (zenml_rbac._catalog_tables(), src/sql/catalog_triggers.sql), and the
 * catalog test fails for a table missing from it.
 */
typedef struct RowKey
{
	InvalKind	kind;
	const char *columns[3];		/* uuid; name [, kind]; tenant, type, id */
} RowKey;

typedef struct CatalogTable
{
	const char *name;
	bool		everything;		/* any change resets every cache */
	RowKey		keys[3];
	const char *uncached;		/* not NULL: never cached, and why */
	const char *audit[5];		/* key, organization, tenant, subject, secret columns */
} CatalogTable;

#define AUDIT(key, org, tenant, subject, secret) .audit = {key, org, tenant, subject, secret}

static const CatalogTable catalog_table_defs[] = {
	{"organization", .keys = {{INVAL_NAME_ORG, {"name"}}},
	AUDIT("id", "id", "", "", "")},
	{"tenant", .keys = {{INVAL_NAME_TENANT, {"name"}}},
	AUDIT("id", "org_id", "id", "", "")},
	{"principal", .keys = {{INVAL_PRINCIPAL, {"id"}},
			{INVAL_NAME_USER, {"name", "kind"}},
	{INVAL_NAME_PG_ROLE, {"pg_role"}}},
	AUDIT("id", "org_id", "", "id", "")},
	{"org_role_assignment", .keys = {{INVAL_PRINCIPAL, {"principal_id"}}},
	AUDIT("org_id,principal_id", "org_id", "", "principal_id", "")},
	{"team_member", .keys = {{INVAL_PRINCIPAL, {"member_id"}}},
	AUDIT("team_id,member_id", "", "", "member_id", "")},
	{"resource_type", .everything = true,
	AUDIT("name", "", "", "", "")},
	{"role", .keys = {{INVAL_ROLE, {"id"}}},
	AUDIT("id", "", "tenant_id", "", "")},
	{"role_permission", .keys = {{INVAL_ROLE, {"role_id"}}},
	AUDIT("role_id,resource_type,action", "", "", "", "")},
	{"tenant_role_assignment", .keys = {{INVAL_PRINCIPAL, {"principal_id"}}},
	AUDIT("tenant_id,principal_id,role_id", "", "tenant_id", "principal_id", "")},
	{"resource", .keys = {{INVAL_RESOURCE, {"tenant_id", "resource_type", "resource_id"}},
	{INVAL_HOLDINGS, {"owner_id"}}},
	AUDIT("tenant_id,resource_type,resource_id", "", "tenant_id", "owner_id", "")},
	{"resource_grant", .keys = {{INVAL_RESOURCE, {"tenant_id", "resource_type", "resource_id"}},
	{INVAL_HOLDINGS, {"principal_id"}}},
	AUDIT("tenant_id,resource_type,resource_id,principal_id", "", "tenant_id", "principal_id", "")},
	{"protected_table", .uncached = "read once per statement by the protected tables' triggers",
	AUDIT("relid", "", "", "", "")},
	{"api_key", .uncached = "read by every authenticate()",
	AUDIT("id", "", "", "principal_id", "key_hash")},
	{"identity_provider", .uncached = "read by every authenticate_jwt()",
	AUDIT("id", "provision_org", "", "", "keys")},
	{"external_identity", .uncached = "read by every authenticate_jwt()",
	AUDIT("issuer,subject", "", "", "principal_id", "")},
	{"group_team_map", .uncached = "read by every authenticate_jwt()",
	AUDIT("provider_id,grp,team_id", "", "", "team_id", "")},
	{"audit_log", .uncached = "written, never read by checks"},
	{"audit_chain", .uncached = "written, never read by checks"},
	{"audit_local_chain", .uncached = "written, never read by checks"},
};

/* ------------------------------------------------------------------------
 * Buckets of keys
 * ------------------------------------------------------------------------
 */

/*
 * Each kind of key hashes into a range of its own: kinds never share a
 * bucket, so false sharing only happens between keys of one kind.  The
 * ranges are sized for how many keys of the kind a backend caches.
 */
static int
BucketOfHash(InvalKind kind, uint64 h)
{
	int			base;
	int			size;

	switch (kind)
	{
		case INVAL_PRINCIPAL:
			base = 0, size = 256;
			break;
		case INVAL_ROLE:
			base = 256, size = 64;
			break;
		case INVAL_RESOURCE:
			base = 384, size = 256;
			break;
		case INVAL_HOLDINGS:
			base = 640, size = 128;
			break;
		default:				/* the four kinds of name */
			base = 320, size = 64;
			break;
	}
	return base + (int) ((h >> 32) % size);
}

int
InvalBucketOfUuid(InvalKind kind, const pg_uuid_t *id)
{
	return BucketOfHash(kind, hash_bytes_extended(id->data, UUID_LEN, (uint64) kind));
}

int
InvalBucketOfName(InvalKind kind, const char *name, int len)
{
	return BucketOfHash(kind, hash_bytes_extended((const unsigned char *) name, len, (uint64) kind));
}

int
InvalBucketOfResource(const pg_uuid_t *tenant, const char *type, const pg_uuid_t *id)
{
	unsigned char key[2 * UUID_LEN + NAMEDATALEN];
	int			type_len = strnlen(type, NAMEDATALEN - 1);

	memcpy(key, tenant->data, UUID_LEN);
	memcpy(key + UUID_LEN, id->data, UUID_LEN);
	memcpy(key + 2 * UUID_LEN, type, type_len);
	return BucketOfHash(INVAL_RESOURCE, hash_bytes_extended(key, 2 * UUID_LEN + type_len,
															(uint64) INVAL_RESOURCE));
}

/* ------------------------------------------------------------------------
 * The relations, as this backend last resolved them
 * ------------------------------------------------------------------------
 */

#define CODE_ALL (-1)
#define CODE_TABLE (-2)

typedef struct WatchedOid
{
	Oid			oid;
	int			code;			/* a bucket, CODE_ALL or CODE_TABLE */
} WatchedOid;

#define NUM_CATALOG_TABLES lengthof(catalog_table_defs)
#define NUM_WATCHED (INVAL_BUCKETS + 1 + NUM_CATALOG_TABLES)

static WatchedOid watched[NUM_WATCHED];	/* sorted by oid */
static int	nwatched = 0;
static Oid	bucket_oids[INVAL_BUCKETS];
static Oid	all_oid = InvalidOid;
static bool resolved = false;	/* bucket_oids and all_oid are known */
static bool legacy = false;		/* an install without buckets */
static bool recheck = true;		/* DDL may have changed the catalog */
static bool tracking = false;
static uint32 schema_hash = 0;	/* of the schema's pg_namespace row */

/* Receiving side: sequence of hits, per bucket the last received and published. */
static uint64 hit_sequence = 0;
static uint64 received[INVAL_BUCKETS];
static uint64 published[INVAL_BUCKETS];
static InvalDeps pending;
static bool any_pending = false;
static uint64 full_resets = 1;

static int
WatchedCompare(const void *a, const void *b)
{
	Oid			x = ((const WatchedOid *) a)->oid;
	Oid			y = ((const WatchedOid *) b)->oid;

	return x < y ? -1 : x > y ? 1 : 0;
}

/*
 * Is the invalidation trigger of the table there as the install script made
 * it (the function, the events, no WHEN, no column list) and enabled for
 * every session?
 */
static bool
TriggerEnabled(Oid relid, const char *name, int16 type, Oid func)
{
	Relation	rel = table_open(TriggerRelationId, AccessShareLock);
	ScanKeyData keys[2];
	SysScanDesc scan;
	HeapTuple	tup;
	bool		enabled = false;

	ScanKeyInit(&keys[0], Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	ScanKeyInit(&keys[1], Anum_pg_trigger_tgname, BTEqualStrategyNumber, F_NAMEEQ,
				CStringGetDatum(name));
	scan = systable_beginscan(rel, TriggerRelidNameIndexId, true, NULL, 2, keys);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
	{
		Form_pg_trigger trig = (Form_pg_trigger) GETSTRUCT(tup);

		enabled = trig->tgenabled == TRIGGER_FIRES_ALWAYS && trig->tgtype == type &&
			trig->tgfoid == func && trig->tgnargs == 0 && trig->tgattr.dim1 == 0 &&
			heap_attisnull(tup, Anum_pg_trigger_tgqual, RelationGetDescr(rel));
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return enabled;
}

/*
 * Looks the relations up again (after DDL on the catalog): if any changed
 * (the extension was dropped and created again), everything cached is reset;
 * while a trigger is missing or disabled, hits cannot be trusted.  An
 * install older than 0.3.0 has no buckets: its statement triggers
 * invalidate their table, and that resets everything (legacy).
 */
static void
Resolve(void)
{
	Oid			nsp = get_namespace_oid(RBAC_SCHEMA, true);
	Oid			old_all = all_oid;
	bool		buckets = OidIsValid(nsp);
	bool		triggers = true;
	int			n = 0;
	Oid			func;

	recheck = false;
	schema_hash = OidIsValid(nsp) ? GetSysCacheHashValue1(NAMESPACEOID, ObjectIdGetDatum(nsp)) : 0;
	if (!OidIsValid(nsp))
	{
		nwatched = 0;
		if (resolved || legacy)
			full_resets++;
		resolved = legacy = tracking = false;
		return;
	}
	for (int b = 0; b < INVAL_BUCKETS && buckets; b++)
	{
		char		name[NAMEDATALEN];

		snprintf(name, sizeof(name), "invalidation_bucket_%03d", b);
		bucket_oids[b] = get_relname_relid(name, nsp);
		buckets &= OidIsValid(bucket_oids[b]);
		watched[n].oid = bucket_oids[b];
		watched[n++].code = b;
	}
	all_oid = buckets ? get_relname_relid("invalidation_all", nsp) : InvalidOid;
	buckets &= OidIsValid(all_oid);
	if (!buckets)
		n = 0;
	else
	{
		watched[n].oid = all_oid;
		watched[n++].code = CODE_ALL;
	}
	{
		List	   *fname = list_make1(makeString(RBAC_SCHEMA));

		fname = lappend(fname, makeString("catalog_changed"));
		func = LookupFuncName(fname, 0, NULL, true);
	}
	for (int t = 0; t < (int) NUM_CATALOG_TABLES; t++)
	{
		Oid			relid = get_relname_relid(catalog_table_defs[t].name, nsp);

		if (catalog_table_defs[t].uncached != NULL || !OidIsValid(relid))
			continue;
		watched[n].oid = relid;
		watched[n++].code = CODE_TABLE;
		if (buckets)
			triggers &= TriggerEnabled(relid, ROW_TRIGGER, ROW_TRIGGER_TYPE, func) &&
				TriggerEnabled(relid, TRUNCATE_TRIGGER, TRIGGER_TYPE_TRUNCATE, func);
	}
	qsort(watched, n, sizeof(WatchedOid), WatchedCompare);
	nwatched = n;
	if (resolved != buckets || all_oid != old_all)
		full_resets++;			/* another install: nothing cached is of it */
	else if (buckets && triggers && !tracking)
		full_resets++;			/* changes made while untracked are not in the caches */
	resolved = buckets;
	legacy = !buckets;
	tracking = buckets && triggers;
}

bool
InvalTracking(void)
{
	if (recheck)
		Resolve();
	return tracking || legacy;
}

/* ------------------------------------------------------------------------
 * Receiving
 * ------------------------------------------------------------------------
 */

static void
NoteHit(int bucket)
{
	received[bucket] = ++hit_sequence;
	InvalDepsAdd(&pending, bucket);
	any_pending = true;
}

void
InvalRelcacheCallback(Datum arg, Oid relid)
{
	int			lo = 0;
	int			hi = nwatched - 1;

	if (relid == InvalidOid)
	{
		/* the queue overflowed, or a cluster-wide reset: nothing is known */
		full_resets++;
		recheck = true;
		return;
	}
	while (lo <= hi)
	{
		int			mid = (lo + hi) / 2;

		if (watched[mid].oid < relid)
			lo = mid + 1;
		else if (watched[mid].oid > relid)
			hi = mid - 1;
		else
		{
			int			code = watched[mid].code;

			if (code == CODE_ALL)
				full_resets++;
			else if (code == CODE_TABLE)
			{
				recheck = true; /* DDL, VACUUM or ANALYZE: look again */
				if (legacy)
					full_resets++;
			}
			else
				NoteHit(code);
			return;
		}
	}
}

/*
 * Syscache callback on pg_namespace: a change to the extension's schema (a
 * new owner, say) resets everything, so that the next decision loads again
 * and checks who owns it (catalog.c, CatalogExtensionOwner).
 */
void
InvalNamespaceCallback(Datum arg, int cacheid, uint32 hashvalue)
{
	if (hashvalue == 0 || hashvalue == schema_hash)
	{
		full_resets++;
		recheck = true;
	}
}

uint64
InvalSequence(void)
{
	return hit_sequence;
}

uint64
InvalFullResets(void)
{
	return full_resets;
}

bool
InvalPublish(void)
{
	if (!any_pending)
		return false;
	for (int w = 0; w < INVAL_BUCKETS / 64; w++)
	{
		uint64		bits = pending.bits[w];

		while (bits != 0)
		{
			int			b = w * 64 + pg_rightmost_one_pos64(bits);

			published[b] = received[b];
			bits &= bits - 1;
		}
		pending.bits[w] = 0;
	}
	any_pending = false;
	return true;
}

bool
InvalBucketStale(int bucket, uint64 loaded_seq)
{
	return published[bucket] > loaded_seq;
}

bool
InvalStale(const InvalDeps *deps, uint64 loaded_seq)
{
	for (int w = 0; w < INVAL_BUCKETS / 64; w++)
	{
		uint64		bits = deps->bits[w];

		while (bits != 0)
		{
			if (published[w * 64 + pg_rightmost_one_pos64(bits)] > loaded_seq)
				return true;
			bits &= bits - 1;
		}
	}
	return false;
}

/* ------------------------------------------------------------------------
 * Sending: the trigger
 * ------------------------------------------------------------------------
 */

/*
 * Buckets already queued by this subtransaction: the message is in its list
 * until it commits (then in its parent's) or aborts (then the subtransaction
 * id is never seen again), so queueing it again would only lengthen the
 * commit record -- a bulk change names each bucket once, not once per row.
 * PostgreSQL hands this backend its own queued messages at the end of each
 * command; a repeat not queued is noted here at once instead, so entries
 * loaded since the first are not trusted.
 */
static InvalDeps sent;
static LocalTransactionId sent_lxid = InvalidLocalTransactionId;
static SubTransactionId sent_subxid = InvalidSubTransactionId;

static void
SendOid(Oid oid)
{
	CacheInvalidateRelcacheByRelid(oid);
}

static void
SendBucket(int bucket)
{
	LocalTransactionId lxid = RbacMyLocalXid();
	SubTransactionId subxid = GetCurrentSubTransactionId();

	if (lxid != sent_lxid || subxid != sent_subxid)
	{
		memset(&sent, 0, sizeof(sent));
		sent_lxid = lxid;
		sent_subxid = subxid;
	}
	if (sent.bits[bucket / 64] & (UINT64CONST(1) << (bucket % 64)))
	{
		NoteHit(bucket);
		return;
	}
	SendOid(bucket_oids[bucket]);
	InvalDepsAdd(&sent, bucket);
}

static Datum
Column(Relation rel, HeapTuple tuple, const char *column, bool *isnull)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			att = SPI_fnumber(desc, column);

	if (att <= 0)
		elog(ERROR, "zenml_rbac: catalog table \"%s\" has no column \"%s\"",
			 RelationGetRelationName(rel), column);
	return heap_getattr(tuple, att, desc, isnull);
}

static void
SendRowKey(Relation rel, HeapTuple tuple, const RowKey *key)
{
	bool		isnull;
	Datum		d = Column(rel, tuple, key->columns[0], &isnull);

	if (isnull)
		return;
	switch (key->kind)
	{
		case INVAL_PRINCIPAL:
		case INVAL_ROLE:
		case INVAL_HOLDINGS:
			SendBucket(InvalBucketOfUuid(key->kind, DatumGetUUIDP(d)));
			break;
		case INVAL_RESOURCE:
			{
				pg_uuid_t	tenant = *DatumGetUUIDP(d);
				bool		type_null;
				bool		id_null;
				Datum		type = Column(rel, tuple, key->columns[1], &type_null);
				Datum		id = Column(rel, tuple, key->columns[2], &id_null);

				if (!type_null && !id_null)
					SendBucket(InvalBucketOfResource(&tenant, TextDatumGetCString(type),
													 DatumGetUUIDP(id)));
			}
			break;
		case INVAL_NAME_PG_ROLE:
			{
				const char *name = NameStr(*DatumGetName(d));

				SendBucket(InvalBucketOfName(key->kind, name, strlen(name)));
			}
			break;
		case INVAL_NAME_USER:
			{
				bool		kind_null;
				Datum		kind = Column(rel, tuple, key->columns[1], &kind_null);

				if (kind_null || strcmp(TextDatumGetCString(kind), "user") != 0)
					return;
			}
			/* FALLTHROUGH */
		case INVAL_NAME_ORG:
		case INVAL_NAME_TENANT:
			{
				text	   *name = DatumGetTextPP(d);

				SendBucket(InvalBucketOfName(key->kind, VARDATA_ANY(name),
											 VARSIZE_ANY_EXHDR(name)));
			}
			break;
	}
}

static const CatalogTable *
FindCatalogTable(Relation rel)
{
	if (get_rel_namespace(RelationGetRelid(rel)) == get_namespace_oid(RBAC_SCHEMA, false))
		for (int t = 0; t < (int) NUM_CATALOG_TABLES; t++)
			if (catalog_table_defs[t].uncached == NULL &&
				strcmp(catalog_table_defs[t].name, RelationGetRelationName(rel)) == 0)
				return &catalog_table_defs[t];
	ereport(ERROR,
			(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
			 errmsg("catalog_changed() fired on \"%s\", which is not a cached catalog table",
					RelationGetRelationName(rel))));
	return NULL;
}

PG_FUNCTION_INFO_V1(catalog_changed);

/*
 * Trigger on every cached catalog table, after each row (and each TRUNCATE),
 * enabled ALWAYS so that logical replication's apply worker and
 * session_replication_role = replica fire it too: queues the invalidation
 * of the buckets of the keys the old and the new row name.  It reaches other
 * backends (and hot standbys, through WAL) at commit, and this backend at
 * its next command.
 */
Datum
catalog_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	const CatalogTable *table;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("catalog_changed() must be called as a trigger")));
	/* remembered per trigger call site: a bulk change fires it on every row */
	table = (const CatalogTable *) fcinfo->flinfo->fn_extra;
	if (table == NULL)
	{
		table = FindCatalogTable(trigdata->tg_relation);
		fcinfo->flinfo->fn_extra = (void *) table;
	}
	(void) InvalTracking();
	if (!resolved)
	{
		/* an install older than 0.3.0: invalidate the table, resetting everything */
		CacheInvalidateRelcache(trigdata->tg_relation);
		return PointerGetDatum(NULL);
	}
	if (table->everything || TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
	{
		SendOid(all_oid);
		return PointerGetDatum(NULL);
	}
	for (int k = 0; k < (int) lengthof(table->keys) && table->keys[k].columns[0] != NULL; k++)
	{
		SendRowKey(trigdata->tg_relation, trigdata->tg_trigtuple, &table->keys[k]);
		if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
			SendRowKey(trigdata->tg_relation, trigdata->tg_newtuple, &table->keys[k]);
	}
	return PointerGetDatum(NULL);
}

static const char *
KindName(InvalKind kind)
{
	switch (kind)
	{
		case INVAL_PRINCIPAL:
			return "principal";
		case INVAL_ROLE:
			return "role";
		case INVAL_RESOURCE:
			return "resource";
		case INVAL_HOLDINGS:
			return "holdings";
		case INVAL_NAME_USER:
			return "user name";
		case INVAL_NAME_PG_ROLE:
			return "linked role";
		case INVAL_NAME_ORG:
			return "organization name";
		case INVAL_NAME_TENANT:
			return "tenant name";
	}
	return "?";
}

PG_FUNCTION_INFO_V1(catalog_tables);

/*
 * _catalog_tables() returns (name text, cached boolean, note text, audit
 * text[]): the tables of the schema as invalidation and audit know them;
 * the install script creates their triggers from it.
 */
Datum
catalog_tables(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	InitMaterializedSRF(fcinfo, 0);
	for (int t = 0; t < (int) NUM_CATALOG_TABLES; t++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};
		StringInfoData note;

		initStringInfo(&note);
		if (catalog_table_defs[t].uncached != NULL)
			appendStringInfoString(&note, catalog_table_defs[t].uncached);
		else if (catalog_table_defs[t].everything)
			appendStringInfoString(&note, "a change resets every cache");
		else
			for (int k = 0; k < (int) lengthof(catalog_table_defs[t].keys) &&
				 catalog_table_defs[t].keys[k].columns[0] != NULL; k++)
			{
				const RowKey *key = &catalog_table_defs[t].keys[k];

				appendStringInfo(&note, "%s%s(%s%s%s%s%s)", k > 0 ? ", " : "",
								 KindName(key->kind), key->columns[0],
								 key->columns[1] ? ", " : "", key->columns[1] ? key->columns[1] : "",
								 key->columns[2] ? ", " : "", key->columns[2] ? key->columns[2] : "");
			}
		values[0] = CStringGetTextDatum(catalog_table_defs[t].name);
		values[1] = BoolGetDatum(catalog_table_defs[t].uncached == NULL);
		values[2] = CStringGetTextDatum(note.data);
		if (catalog_table_defs[t].audit[0] == NULL)
			nulls[3] = true;
		else
		{
			Datum		columns[5];

			for (int c = 0; c < 5; c++)
				columns[c] = CStringGetTextDatum(catalog_table_defs[t].audit[c]);
			values[3] = PointerGetDatum(construct_array(columns, 5, TEXTOID, -1, false,
														TYPALIGN_INT));
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}
