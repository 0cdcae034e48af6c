/*
 * invalidation.c
 *     What a catalog change invalidates, and how that reaches every backend.
 *
 * PostgreSQL lets an extension hear about relcache invalidations, which name
 * one relation OID each and travel like any catalog change: queued by the
 * writing transaction, sent to every backend of the database at commit (in
 * commit order, after the commit became visible), written into the commit
 * record and so replayed on hot standbys; a backend that fell too far
 * behind the shared queue gets a reset instead (InvalidOid).  The OID need
 * not be a relation's.  So a row trigger on every cached catalog table
 * hashes each key the row's change can affect (a principal, a role, a
 * resource instance, a principal's holdings, a name; see catalog_table_defs
 * below) into a 31-bit key and queues a relcache invalidation naming the
 * key as an OID of the upper half; a logical-replication subscriber runs
 * the same trigger (enabled ALWAYS) when it applies the row.  A
 * subtransaction naming more than KIND_LIMIT keys of one kind names the
 * kind instead; the vocabulary and TRUNCATE name zenml_rbac.invalidation_all,
 * an empty composite type.
 *
 * The receiving backend keeps a record per key its cached entries depend on
 * (catalog.c: an entry lists the keys of every row it was computed from and
 * the invalidation sequence number as of the snapshot it was loaded with);
 * the callback stamps the record with the sequence number of the hit.  An
 * entry is stale once one of its records was hit after its snapshot.  Hits
 * are published for that test at the start of an engine call only, so
 * entries handed out during a call stay valid until it returns.  A change
 * costs the entries that depend on one of its keys, and a false drop only
 * when two keys collide in 31 bits; everything else stays warm.
 * invalidation_all, a queue overflow, DDL that replaced the catalog, a
 * disabled trigger, and too many principals or roles in one transaction
 * reset everything; too many resources, the resource caches.
 *
 * The key of a value must be computed alike by the writer and by every
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
#include "catalog/pg_class.h"
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
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
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
	{"predefined_role_permission", .everything = true,
	AUDIT("role_id,kind", "", "", "", "")},
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
 * Keys
 * ------------------------------------------------------------------------
 */

/*
 * Keys are OIDs of the upper half, above the few that name a whole kind
 * (KIND_ALL_OID): PostgreSQL hands out relation OIDs from 16384 upwards, so a
 * real relation rarely has one, and if it does the only cost is an extra
 * invalidation on either side.
 */
#define KIND_ALL_OID(kind) ((Oid) (UINT64CONST(0x80000000) + (uint32) (kind)))
#define KEY_OID_MIN ((Oid) UINT64CONST(0x80000100))

static InvalKey
KeyOfHash(uint64 h)
{
	InvalKey	key = (InvalKey) (h >> 32) | (InvalKey) UINT64CONST(0x80000000);

	return key < KEY_OID_MIN ? key + 0x100 : key;
}

InvalKey
InvalKeyOfUuid(InvalKind kind, const pg_uuid_t *id)
{
	return KeyOfHash(hash_bytes_extended(id->data, UUID_LEN, (uint64) kind));
}

InvalKey
InvalKeyOfName(InvalKind kind, const char *name, int len)
{
	return KeyOfHash(hash_bytes_extended((const unsigned char *) name, len, (uint64) kind));
}

InvalKey
InvalKeyOfResource(const pg_uuid_t *tenant, const char *type, const pg_uuid_t *id)
{
	unsigned char key[2 * UUID_LEN + NAMEDATALEN];
	int			type_len = strnlen(type, NAMEDATALEN - 1);

	memcpy(key, tenant->data, UUID_LEN);
	memcpy(key + UUID_LEN, id->data, UUID_LEN);
	memcpy(key + 2 * UUID_LEN, type, type_len);
	return KeyOfHash(hash_bytes_extended(key, 2 * UUID_LEN + type_len, (uint64) INVAL_RESOURCE));
}

void
InvalDepsInit(InvalDeps *deps)
{
	deps->n = 0;
	deps->capacity = 8;
	deps->keys = palloc(sizeof(InvalKey) * deps->capacity);
}

void
InvalDepsAdd(InvalDeps *deps, InvalKey key)
{
	for (int i = 0; i < deps->n; i++)
		if (deps->keys[i] == key)
			return;
	if (deps->n == deps->capacity)
	{
		deps->capacity *= 2;
		deps->keys = repalloc(deps->keys, sizeof(InvalKey) * deps->capacity);
	}
	deps->keys[deps->n++] = key;
}

void
InvalDepsAddWatched(InvalDeps *deps, const InvalWatch *watch)
{
	for (int i = 0; i < watch->n; i++)
		InvalDepsAdd(deps, watch->records[i]->key);
}

/* ------------------------------------------------------------------------
 * The relations, as this backend last resolved them
 * ------------------------------------------------------------------------
 */

#define NUM_CATALOG_TABLES lengthof(catalog_table_defs)

static Oid	table_oids[NUM_CATALOG_TABLES];	/* the cached ones, sorted */
static int	ntables = 0;
static Oid	all_oid = InvalidOid;
static bool resolved = false;	/* an install with fine-grained invalidation */
static bool legacy = false;		/* an install older than 0.3.0 */
static bool recheck = true;		/* DDL may have changed the catalog */
static bool tracking = false;
static uint32 schema_hash = 0;	/* of the schema's pg_namespace row */

static uint64 full_resets = 1;
static uint64 resource_resets = 0;

static int
OidCompare(const void *a, const void *b)
{
	Oid			x = *(const Oid *) a;
	Oid			y = *(const Oid *) b;

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
 * install older than 0.3.0 has no invalidation_all: its statement triggers
 * invalidate their table, and that resets everything (legacy).
 */
static void
Resolve(void)
{
	Oid			nsp = get_namespace_oid(RBAC_SCHEMA, true);
	Oid			old_all = all_oid;
	bool		fine;
	bool		triggers = true;
	Oid			func;

	recheck = false;
	schema_hash = OidIsValid(nsp) ? GetSysCacheHashValue1(NAMESPACEOID, ObjectIdGetDatum(nsp)) : 0;
	ntables = 0;
	if (!OidIsValid(nsp))
	{
		if (resolved || legacy)
			full_resets++;
		resolved = legacy = tracking = false;
		all_oid = InvalidOid;
		return;
	}
	all_oid = get_relname_relid("invalidation_all", nsp);
	fine = OidIsValid(all_oid);
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
		table_oids[ntables++] = relid;
		if (fine)
			triggers &= TriggerEnabled(relid, ROW_TRIGGER, ROW_TRIGGER_TYPE, func) &&
				TriggerEnabled(relid, TRUNCATE_TRIGGER, TRIGGER_TYPE_TRUNCATE, func);
	}
	qsort(table_oids, ntables, sizeof(Oid), OidCompare);
	if (resolved != fine || all_oid != old_all)
		full_resets++;			/* another install: nothing cached is of it */
	else if (fine && triggers && !tracking)
		full_resets++;			/* changes made while untracked are not in the caches */
	resolved = fine;
	legacy = !fine;
	tracking = fine && triggers;
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

/*
 * The keys cached entries depend on (InvalRecord), found by the callback
 * without allocating.  A hit on a key no entry watches yet is kept in a
 * small ring instead, for an entry whose load is under way: it registers
 * its keys only once loaded, and must still see the hits received since its
 * snapshot.  A record is never freed before InvalForgetAll(), so entries
 * may point at it; catalog.c bounds how many there are.
 */
static MemoryContext RecordContext = NULL;
static HTAB *records = NULL;

static uint64 hit_sequence = 0;

/* Keys hit and not yet published; beyond PENDING_MAX, every record is. */
#define PENDING_MAX 1024
static InvalKey pending[PENDING_MAX];
static int	npending = 0;
static bool pending_overflow = false;

/* Hits on keys no record watched, most recent UNWATCHED_MAX. */
#define UNWATCHED_MAX 256
typedef struct UnwatchedHit
{
	InvalKey	key;
	uint64		seq;
} UnwatchedHit;
static UnwatchedHit unwatched[UNWATCHED_MAX];
static uint64 nunwatched = 0;
static uint64 unwatched_last = 0;	/* sequence of the last one */
static uint64 unwatched_lost = 0;	/* highest sequence overwritten */

static void
QueuePending(InvalKey key)
{
	if (npending < PENDING_MAX)
		pending[npending++] = key;
	else
		pending_overflow = true;
}

static void
NoteUnwatched(InvalKey key, uint64 seq)
{
	UnwatchedHit *slot = &unwatched[nunwatched % UNWATCHED_MAX];

	if (nunwatched >= UNWATCHED_MAX)
		unwatched_lost = Max(unwatched_lost, slot->seq);
	slot->key = key;
	slot->seq = seq;
	nunwatched++;
	unwatched_last = Max(unwatched_last, seq);
}

/*
 * A hit, by this transaction's own writes or possibly by another's: an own
 * hit also counts as anybody's, so a colliding key of another commit is
 * never missed.
 */
static void
NoteHit(InvalKey key, bool own)
{
	InvalRecord *record = records ? hash_search(records, &key, HASH_FIND, NULL) : NULL;

	hit_sequence++;
	if (record != NULL)
	{
		bool		queued = record->unpublished != 0 ||
			record->own_received > record->own_published;

		record->received = hit_sequence;
		if (record->unpublished == 0)
			record->unpublished = hit_sequence;
		if (own)
			record->own_received = hit_sequence;
		if (!queued)
			QueuePending(key);
	}
	else
		NoteUnwatched(key, hit_sequence);
}

/* The latest hit on key after sequence since that no record saw (0: none). */
static uint64
UnwatchedSince(InvalKey key, uint64 since)
{
	uint64		latest = 0;
	uint64		kept = Min(nunwatched, UNWATCHED_MAX);

	if (unwatched_last <= since)
		return 0;
	if (unwatched_lost > since)
		return unwatched_last;	/* some were forgotten: assume the worst */
	for (uint64 i = 0; i < kept; i++)
		if (unwatched[i].key == key && unwatched[i].seq > since)
			latest = Max(latest, unwatched[i].seq);
	return latest;
}

static uint32
KeyHash(const void *key, Size keysize)
{
	return *(const InvalKey *) key;	/* already a hash */
}

InvalRecord *
InvalWatchKey(InvalKey key, uint64 loaded_seq)
{
	InvalRecord *record;
	bool		found;

	if (records == NULL)
	{
		HASHCTL		ctl;

		if (RecordContext == NULL)
			RecordContext = AllocSetContextCreate(TopMemoryContext,
												  "zenml_rbac invalidation keys",
												  ALLOCSET_DEFAULT_SIZES);
		memset(&ctl, 0, sizeof(ctl));
		ctl.keysize = sizeof(InvalKey);
		ctl.entrysize = sizeof(InvalRecord);
		ctl.hash = KeyHash;
		ctl.hcxt = RecordContext;
		records = hash_create("zenml_rbac invalidation keys", 256, &ctl,
							  HASH_ELEM | HASH_FUNCTION | HASH_CONTEXT);
	}
	record = hash_search(records, &key, HASH_ENTER, &found);
	if (!found)
	{
		uint64		hit = UnwatchedSince(key, loaded_seq);

		record->received = hit;
		record->unpublished = hit;
		record->published = 0;
		record->own_received = 0;
		record->own_published = 0;
		if (hit != 0)
			QueuePending(key);
	}
	return record;
}

void
InvalWatchKeys(InvalWatch *watch, const InvalDeps *deps, uint64 loaded_seq, MemoryContext cxt)
{
	watch->n = deps->n;
	watch->records = deps->n > 0 ? MemoryContextAlloc(cxt, sizeof(InvalRecord *) * deps->n) : NULL;
	for (int i = 0; i < deps->n; i++)
		watch->records[i] = InvalWatchKey(deps->keys[i], loaded_seq);
}

bool
InvalStale(const InvalWatch *watch, uint64 loaded_seq, uint64 loaded_at)
{
	for (int i = 0; i < watch->n; i++)
		if (InvalRecordStale(watch->records[i], loaded_seq, loaded_at))
			return true;
	return false;
}

void
InvalForgetAll(uint64 since)
{
	if (records != NULL)
	{
		HASH_SEQ_STATUS status;
		InvalRecord *record;

		/* hits the entries loaded next may be older than are kept unwatched */
		hash_seq_init(&status, records);
		while ((record = hash_seq_search(&status)) != NULL)
			if (record->received > since)
				NoteUnwatched(record->key, record->received);
		MemoryContextReset(RecordContext);
		records = NULL;
	}
	npending = 0;
	pending_overflow = false;
}

long
InvalRecordCount(void)
{
	return records ? hash_get_num_entries(records) : 0;
}

Size
InvalMemoryBytes(void)
{
	return RecordContext ? MemoryContextMemAllocated(RecordContext, true) : 0;
}

static bool SentHere(InvalKey key);

static void
NoteKindAll(InvalKind kind)
{
	if (kind == INVAL_RESOURCE || kind == INVAL_HOLDINGS)
		resource_resets++;
	else
		full_resets++;
}

void
InvalRelcacheCallback(Datum arg, Oid relid)
{
	if (relid == InvalidOid)
	{
		/* the queue overflowed, or a cluster-wide reset: nothing is known */
		full_resets++;
		recheck = true;
		return;
	}
	if (relid == all_oid)
	{
		full_resets++;
		return;
	}
	if (bsearch(&relid, table_oids, ntables, sizeof(Oid), OidCompare) != NULL)
	{
		recheck = true;			/* DDL, VACUUM or ANALYZE: look again */
		if (legacy)
			full_resets++;
		return;
	}
	if (relid >= KEY_OID_MIN)
		NoteHit((InvalKey) relid, SentHere((InvalKey) relid));
	else if (relid > KIND_ALL_OID(0))
		NoteKindAll((InvalKind) (relid - KIND_ALL_OID(0)));
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

uint64
InvalResourceResets(void)
{
	return resource_resets;
}

/*
 * Publishes what a record received up to upto; returns whether hits after
 * it remain.  Of hits before and after upto, only the last is known: upto
 * stands for the earlier ones (an entry loaded from upto's snapshot or later
 * is not dropped for them, an older one is).
 */
static bool
PublishRecord(InvalRecord *record, uint64 upto, bool *published)
{
	if (record->own_received > record->own_published)
	{
		record->own_published = record->own_received;	/* own writes: at once */
		*published = true;
	}
	if (record->unpublished == 0 || record->unpublished > upto)
		return record->unpublished != 0;
	*published = true;
	if (record->received <= upto)
	{
		record->published = record->received;
		record->unpublished = 0;
		return false;
	}
	record->published = Max(record->published, upto);
	record->unpublished = upto + 1;
	return true;
}

bool
InvalPublish(uint64 upto)
{
	bool		published = false;

	if (records != NULL && pending_overflow)
	{
		HASH_SEQ_STATUS status;
		InvalRecord *record;
		bool		left = false;

		hash_seq_init(&status, records);
		while ((record = hash_seq_search(&status)) != NULL)
			left |= PublishRecord(record, upto, &published);
		npending = 0;
		pending_overflow = left;
	}
	else if (records != NULL)
	{
		int			kept = 0;

		for (int i = 0; i < npending; i++)
		{
			InvalRecord *record = hash_search(records, &pending[i], HASH_FIND, NULL);

			if (record != NULL && PublishRecord(record, upto, &published))
				pending[kept++] = pending[i];
		}
		npending = kept;
	}
	else
	{
		npending = 0;
		pending_overflow = false;
	}
	return published;
}

/* ------------------------------------------------------------------------
 * Sending: the trigger
 * ------------------------------------------------------------------------
 */

/*
 * A relcache invalidation of an OID no relation need have.  PostgreSQL's
 * CacheInvalidateRelcacheByTuple() reads only the OID and relisshared of
 * the pg_class tuple it is given (15 to 18), so a minimal one names the
 * key; receivers without such a relation ignore it, and our callback reads
 * the key.  The message is queued like any other: sent at commit, written
 * into the commit record, dropped at abort.
 */
static void
SendOid(Oid oid)
{
	HeapTupleData tuple;
	Form_pg_class form;

	tuple.t_len = MAXALIGN(SizeofHeapTupleHeader) + sizeof(FormData_pg_class);
	tuple.t_data = palloc0(tuple.t_len);
	tuple.t_data->t_hoff = MAXALIGN(SizeofHeapTupleHeader);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = RelationRelationId;
	form = (Form_pg_class) GETSTRUCT(&tuple);
	form->oid = oid;
	form->relisshared = false;
	CacheInvalidateRelcacheByTuple(&tuple);
	pfree(tuple.t_data);
}

/*
 * Keys already queued by this subtransaction: the message is in its list
 * until it commits (then in its parent's) or aborts (then the subtransaction
 * id is never seen again).  PostgreSQL hands this backend its own queued
 * messages at the end of each command (and again when a subtransaction
 * aborts), and skips a repeat within a command; so a key is queued again
 * by a later command, which makes this backend see that command's change
 * when it ends -- a bulk change names each key once, not once per row.  A
 * loop of commands queues a key at most RESEND_LIMIT times more; past that
 * a repeat counts as an own hit at once (a reload before the command ends
 * may then not see its change until the next statement).  Beyond
 * KIND_LIMIT distinct keys of one kind, the subtransaction names the whole
 * kind instead (a bulk load).
 */
#define KIND_LIMIT 256
#define RESEND_LIMIT 8
#define SENT_SLOTS 4096			/* > KIND_LIMIT * number of kinds, a power of 2 */

typedef struct SentSlot
{
	InvalKey	key;
	uint32		stamp;			/* of the subtransaction that sent it */
	CommandId	command;		/* the last command that queued it */
	int			resent;
} SentSlot;

static SentSlot sent[SENT_SLOTS];
static uint32 sent_stamp = 0;
static LocalTransactionId sent_lxid = InvalidLocalTransactionId;
static SubTransactionId sent_subxid = InvalidSubTransactionId;
/* Per kind of key, in this subtransaction. */
typedef struct SentKind
{
	int			keys;			/* distinct keys queued */
	bool		all;			/* the kind was named instead */
	CommandId	command;		/* the last command that named it */
	int			resent;
} SentKind;

static SentKind sent_kinds[256];

/*
 * Has this transaction queued any key?  Then a hit now may be PostgreSQL
 * handing us our own message, at the end of a command or when a
 * subtransaction aborts; it is taken as both an own hit and anybody's.
 */
static bool
SentHere(InvalKey key)
{
	return sent_stamp != 0 && RbacMyLocalXid() == sent_lxid;
}

static void
SendKey(InvalKind kind, InvalKey key)
{
	LocalTransactionId lxid = RbacMyLocalXid();
	SubTransactionId subxid = GetCurrentSubTransactionId();
	CommandId	command = GetCurrentCommandId(false);
	uint32		slot = key & (SENT_SLOTS - 1);

	if (lxid != sent_lxid || subxid != sent_subxid || sent_stamp == 0)
	{
		if (sent_stamp == PG_UINT32_MAX)
		{
			memset(sent, 0, sizeof(sent));	/* stamps wrap: forget them all */
			sent_stamp = 0;
		}
		sent_stamp++;
		memset(sent_kinds, 0, sizeof(sent_kinds));
		sent_lxid = lxid;
		sent_subxid = subxid;
	}
	if (sent_kinds[kind].all)
	{
		if (sent_kinds[kind].command == command)
			return;
		if (sent_kinds[kind].resent >= RESEND_LIMIT)
			NoteKindAll(kind);
		else
		{
			SendOid(KIND_ALL_OID(kind));
			sent_kinds[kind].resent++;
		}
		sent_kinds[kind].command = command;
		return;
	}
	while (sent[slot].stamp == sent_stamp)
	{
		if (sent[slot].key == key)
		{
			if (sent[slot].command == command)
				return;
			if (sent[slot].resent >= RESEND_LIMIT)
				NoteHit(key, true);
			else
			{
				SendOid((Oid) key);
				sent[slot].resent++;
			}
			sent[slot].command = command;
			return;
		}
		slot = (slot + 1) & (SENT_SLOTS - 1);
	}
	if (sent_kinds[kind].keys >= KIND_LIMIT)
	{
		SendOid(KIND_ALL_OID(kind));
		sent_kinds[kind].all = true;
		sent_kinds[kind].command = command;
		sent_kinds[kind].resent = 0;
		return;
	}
	SendOid((Oid) key);
	sent[slot].key = key;
	sent[slot].stamp = sent_stamp;
	sent[slot].command = command;
	sent[slot].resent = 0;
	sent_kinds[kind].keys++;
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
			SendKey(key->kind, InvalKeyOfUuid(key->kind, DatumGetUUIDP(d)));
			break;
		case INVAL_RESOURCE:
			{
				pg_uuid_t	tenant = *DatumGetUUIDP(d);
				bool		type_null;
				bool		id_null;
				Datum		type = Column(rel, tuple, key->columns[1], &type_null);
				Datum		id = Column(rel, tuple, key->columns[2], &id_null);

				if (!type_null && !id_null)
					SendKey(key->kind, InvalKeyOfResource(&tenant, TextDatumGetCString(type),
														  DatumGetUUIDP(id)));
			}
			break;
		case INVAL_NAME_PG_ROLE:
			{
				const char *name = NameStr(*DatumGetName(d));

				SendKey(key->kind, InvalKeyOfName(key->kind, name, strlen(name)));
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

				SendKey(key->kind, InvalKeyOfName(key->kind, VARDATA_ANY(name),
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
 * of the keys the old and the new row name.  It reaches other
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
