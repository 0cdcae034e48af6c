/*
 * audit.c
 *     The tamper-evident audit log (README: Audit).
 *
 * Every row change of a catalog table is captured by an AFTER ROW trigger
 * (audit_capture) into a per-transaction queue.  At pre-commit the queue is
 * appended to this database's chain under one lock held until the commit
 * completes: each event gets the next sequence number and a SHA-256 over
 * its content and the previous event's hash.  Appending at pre-commit keeps
 * the serialized part short (no lock waits inside it, so no deadlocks with
 * the management functions' organization locks) and makes the chain order
 * the commit order.  A rolled-back transaction or subtransaction drops its
 * queued events; a committed one always has them.
 *
 * Chains: each installation of the extension appends to its own chain (an
 * id in audit_local_chain, which pg_dump leaves out).  A restored dump
 * brings the source's chains along unchanged, and the restore's own inserts
 * form the new installation's chain, so both verify.
 *
 * The log tables refuse UPDATE, DELETE and TRUNCATE, and INSERT other than
 * the append here, to everyone but superusers (audit_guard); purging old
 * events leaves an anchor (the last purged event's hash) and a PURGE event
 * recording it.  verify_audit_log() recomputes every hash.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "commands/trigger.h"
#include "common/cryptohash.h"
#include "common/sha2.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgrprotos.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"
#include "utils/xid8.h"

#include "audit.h"
#include "audit_hash.h"
#include "catalog.h"
#include "identity.h"

/* The columns of zenml_rbac.audit_log, in table (and hash) order. */
enum
{
	EV_CHAIN,
	EV_SEQ,
	EV_TIME,
	EV_XID,
	EV_PRINCIPAL,
	EV_SESSION_USER,
	EV_ROLE,
	EV_APPLICATION,
	EV_CLIENT,
	EV_OPERATION,
	EV_KIND,
	EV_OBJECT,
	EV_ORG,
	EV_TENANT,
	EV_SUBJECT,
	EV_BEFORE,
	EV_AFTER,
	EV_PREV_HASH,
	EV_HASH,
	EV_NCOLUMNS
};

static const Oid event_types[EV_NCOLUMNS] = {
	UUIDOID, INT8OID, TIMESTAMPTZOID, XID8OID, UUIDOID, NAMEOID, NAMEOID,
	TEXTOID, INETOID, TEXTOID, TEXTOID, TEXTOID, UUIDOID, UUIDOID, UUIDOID,
	JSONBOID, JSONBOID, BYTEAOID, BYTEAOID
};

#define HASH_LEN PG_SHA256_DIGEST_LENGTH

/* Subid of the lock tag on the extension that serializes appends. */
#define AUDIT_LOCK_SUBID 1

/* One queued event: everything but its place in the chain. */
typedef struct PendingEvent
{
	SubTransactionId subid;
	Datum		values[EV_NCOLUMNS];
	bool		nulls[EV_NCOLUMNS];
} PendingEvent;

static List *pending = NIL;		/* of PendingEvent *, in TopTransactionContext */

/*
 * A transaction that queues this many events (a bulk load) appends them at
 * once rather than keeping them all in memory; it then holds the chain lock
 * until it ends.  Inside a subtransaction the queue just grows.
 */
#define AUDIT_QUEUE_LIMIT 10000

static void FlushPending(void);

/* True only while this file's own statements write the log tables. */
static bool internal_write = false;

/* ------------------------------------------------------------------------
 * Hashing (the encoding: audit_hash.c)
 * ------------------------------------------------------------------------
 */

/*
 * SHA-256 over an event's columns before its hash, each as a presence byte
 * then a length-prefixed canonical form: raw bytes for uuid and bytea,
 * big-endian for 64-bit values, the output function's text for inet and
 * jsonb (jsonb prints its keys in a fixed order), the characters otherwise.
 */
static void
HashEvent(const Datum *values, const bool *nulls, uint8 *out)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);

	if (pg_cryptohash_init(ctx) < 0)
		elog(ERROR, "could not initialize SHA-256 context: %s", pg_cryptohash_error(ctx));
	HashCString(ctx, "zenml_rbac audit event v1");
	for (int c = 0; c < EV_HASH; c++)
	{
		if (nulls[c])
		{
			HashAbsent(ctx);
			continue;
		}
		switch (event_types[c])
		{
			case UUIDOID:
				HashBytes(ctx, DatumGetUUIDP(values[c])->data, UUID_LEN);
				break;
			case INT8OID:
			case TIMESTAMPTZOID:
			case XID8OID:
				HashInt64(ctx, (uint64) DatumGetInt64(values[c]));
				break;
			case NAMEOID:
				HashCString(ctx, NameStr(*DatumGetName(values[c])));
				break;
			case TEXTOID:
				HashCString(ctx, TextDatumGetCString(values[c]));
				break;
			case INETOID:
				HashCString(ctx, DatumGetCString(DirectFunctionCall1(inet_out, values[c])));
				break;
			case JSONBOID:
				HashCString(ctx, DatumGetCString(DirectFunctionCall1(jsonb_out, values[c])));
				break;
			case BYTEAOID:
				{
					bytea	   *b = DatumGetByteaPP(values[c]);

					HashBytes(ctx, VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b));
					break;
				}
			default:
				elog(ERROR, "unexpected audit column type %u", event_types[c]);
		}
	}
	if (pg_cryptohash_final(ctx, out, HASH_LEN) < 0)
		elog(ERROR, "could not finalize SHA-256 context: %s", pg_cryptohash_error(ctx));
	pg_cryptohash_free(ctx);
}

static Datum
ByteaDatum(const uint8 *data, int len)
{
	bytea	   *b = palloc(VARHDRSZ + len);

	SET_VARSIZE(b, VARHDRSZ + len);
	memcpy(VARDATA(b), data, len);
	return PointerGetDatum(b);
}

static bool
ByteaEquals(Datum d, const uint8 *data, int len)
{
	bytea	   *b = DatumGetByteaPP(d);

	return VARSIZE_ANY_EXHDR(b) == len && memcmp(VARDATA_ANY(b), data, len) == 0;
}

/* ------------------------------------------------------------------------
 * Capture
 * ------------------------------------------------------------------------
 */

static Datum
NameDatum(const char *s)
{
	Name		n = palloc0(NAMEDATALEN);

	strlcpy(NameStr(*n), s, NAMEDATALEN);
	return NameGetDatum(n);
}

/* The row as jsonb, without the redacted columns (secrets). */
static Datum
RowJsonb(HeapTuple row, TupleDesc desc, List *redacted)
{
	Datum		composite = heap_copy_tuple_as_datum(row, desc);
	text	   *json = DatumGetTextPP(DirectFunctionCall1(row_to_json, composite));
	Datum		jb = DirectFunctionCall1(jsonb_in, CStringGetDatum(text_to_cstring(json)));
	ListCell   *lc;

	foreach(lc, redacted)
		jb = DirectFunctionCall2(jsonb_delete, jb, CStringGetTextDatum(strVal(lfirst(lc))));
	return jb;
}

/* A uuid column of the row by name, or NULL (absent column or value). */
static Datum
RowUuidColumn(HeapTuple row, TupleDesc desc, const char *column, bool *isnull)
{
	int			att;
	Datum		value;

	*isnull = true;
	if (column == NULL || column[0] == '\0')
		return (Datum) 0;
	att = SPI_fnumber(desc, column);
	if (att <= 0 || TupleDescAttr(desc, att - 1)->atttypid != UUIDOID)
		elog(ERROR, "audit trigger names column \"%s\", which is not a uuid column", column);
	value = heap_getattr(row, att, desc, isnull);
	return *isnull ? (Datum) 0 : value;
}

/* The row's key: its key columns' text joined with '/'. */
static char *
RowKey(HeapTuple row, TupleDesc desc, List *keys)
{
	StringInfoData buf;
	ListCell   *lc;

	initStringInfo(&buf);
	foreach(lc, keys)
	{
		int			att = SPI_fnumber(desc, strVal(lfirst(lc)));
		char	   *value;

		if (att <= 0)
			elog(ERROR, "audit trigger names key column \"%s\", which does not exist",
				 strVal(lfirst(lc)));
		value = SPI_getvalue(row, desc, att);
		if (buf.len > 0)
			appendStringInfoChar(&buf, '/');
		appendStringInfoString(&buf, value ? value : "");
	}
	return buf.data;
}

static List *
SplitNames(const char *s)
{
	List	   *out = NIL;
	char	   *copy = pstrdup(s);
	char	   *tok;
	char	   *save = NULL;

	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
		out = lappend(out, makeString(tok));
	return out;
}

/* The client's address, as inet_client_addr() gives it. */
static Datum
ClientAddress(bool *isnull)
{
	/* cppcheck-suppress unusedStructMember */
	LOCAL_FCINFO(fcinfo, 0);
	Datum		d;

	InitFunctionCallInfoData(*fcinfo, NULL, 0, InvalidOid, NULL, NULL);
	d = inet_client_addr(fcinfo);
	*isnull = fcinfo->isnull;
	return d;
}

/*
 * Trigger arguments: object kind, key columns, then the columns holding the
 * organization, the tenant and the principal the change is about (empty
 * for none), then the columns never to record (comma separated).
 */
typedef struct CaptureSpec
{
	const char *kind;
	List	   *keys;
	const char *org_column;
	const char *tenant_column;
	const char *subject_column;
	List	   *redacted;
} CaptureSpec;

static void
ReadSpec(Trigger *tg, CaptureSpec *spec)
{
	if (tg->tgnargs != 6)
		elog(ERROR, "audit_capture needs 6 trigger arguments, got %d", tg->tgnargs);
	spec->kind = tg->tgargs[0];
	spec->keys = SplitNames(tg->tgargs[1]);
	spec->org_column = tg->tgargs[2];
	spec->tenant_column = tg->tgargs[3];
	spec->subject_column = tg->tgargs[4];
	spec->redacted = SplitNames(tg->tgargs[5]);
}

static bool
RowsEqual(HeapTuple a, HeapTuple b, TupleDesc desc)
{
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		bool		na,
					nb;
		Datum		da,
					db;

		if (att->attisdropped)
			continue;
		da = heap_getattr(a, i + 1, desc, &na);
		db = heap_getattr(b, i + 1, desc, &nb);
		if (na != nb)
			return false;
		if (!na && !datumIsEqual(da, db, att->attbyval, att->attlen))
			return false;
	}
	return true;
}

/*
 * A new event in the transaction's queue, with who, when and from where
 * filled in; the caller adds what changed (in TopTransactionContext).
 */
static PendingEvent *
NewEvent(const char *operation, const char *kind, const char *object)
{
	MemoryContext old;
	PendingEvent *ev;
	pg_uuid_t	principal;
	const char *app = GetConfigOption("application_name", true, false);

	/* a DBA's direct DML may be the first use of the cache in this statement */
	CatalogEnsureFresh();
	old = MemoryContextSwitchTo(TopTransactionContext);
	ev = palloc0(sizeof(PendingEvent));

	ev->subid = GetCurrentSubTransactionId();
	for (int c = 0; c < EV_NCOLUMNS; c++)
		ev->nulls[c] = true;
	ev->values[EV_TIME] = TimestampTzGetDatum(GetCurrentTimestamp());
	ev->nulls[EV_TIME] = false;
	if (CurrentPrincipal(&principal))
	{
		pg_uuid_t  *p = palloc(sizeof(pg_uuid_t));

		*p = principal;
		ev->values[EV_PRINCIPAL] = UUIDPGetDatum(p);
		ev->nulls[EV_PRINCIPAL] = false;
	}
	ev->values[EV_SESSION_USER] = NameDatum(GetUserNameFromId(GetSessionUserId(), false));
	ev->nulls[EV_SESSION_USER] = false;
	ev->values[EV_ROLE] = NameDatum(GetUserNameFromId(GetOuterUserId(), false));
	ev->nulls[EV_ROLE] = false;
	if (app != NULL && app[0] != '\0')
	{
		ev->values[EV_APPLICATION] = CStringGetTextDatum(app);
		ev->nulls[EV_APPLICATION] = false;
	}
	ev->values[EV_CLIENT] = ClientAddress(&ev->nulls[EV_CLIENT]);
	ev->values[EV_OPERATION] = CStringGetTextDatum(operation);
	ev->nulls[EV_OPERATION] = false;
	ev->values[EV_KIND] = CStringGetTextDatum(kind);
	ev->nulls[EV_KIND] = false;
	ev->values[EV_OBJECT] = CStringGetTextDatum(object);
	ev->nulls[EV_OBJECT] = false;
	pending = lappend(pending, ev);
	MemoryContextSwitchTo(old);
	return ev;
}

/*
 * After an event is complete: a long queue is appended early -- only
 * outside subtransactions, whose rollback would take the appended rows of
 * their parent's events with them.
 */
static void
MaybeFlushEarly(void)
{
	if (list_length(pending) >= AUDIT_QUEUE_LIMIT && GetCurrentTransactionNestLevel() == 1)
		FlushPending();
}

/* Queues the change of one catalog row. */
static void
QueueRowEvent(const CaptureSpec *spec, const char *operation, TupleDesc desc,
			  HeapTuple before, HeapTuple after)
{
	HeapTuple	row = after ? after : before;
	PendingEvent *ev;
	Datum		scope[3];
	bool		scope_null[3];
	Datum		image[2];
	char	   *key;
	int			guc_nest = -1;
	MemoryContext old;

	/* built here (the trigger's short-lived memory), kept as copies */
	/*
	 * regclass prints a name only as far as search_path needs: pin it, so a
	 * table is always named with its schema, whoever changes the row.
	 */
	for (int i = 0; i < desc->natts; i++)
		if (TupleDescAttr(desc, i)->atttypid == REGCLASSOID && guc_nest < 0)
		{
			guc_nest = NewGUCNestLevel();
			(void) set_config_option("search_path", "pg_catalog", PGC_USERSET, PGC_S_SESSION,
									 GUC_ACTION_SAVE, true, 0, false);
		}

	/* from the new row, or the old one where the new has none (an owner set NULL) */
	scope[0] = RowUuidColumn(row, desc, spec->org_column, &scope_null[0]);
	scope[1] = RowUuidColumn(row, desc, spec->tenant_column, &scope_null[1]);
	scope[2] = RowUuidColumn(row, desc, spec->subject_column, &scope_null[2]);
	if (before && after)
	{
		const char *columns[3] = {spec->org_column, spec->tenant_column, spec->subject_column};

		for (int i = 0; i < 3; i++)
			if (scope_null[i])
				scope[i] = RowUuidColumn(before, desc, columns[i], &scope_null[i]);
	}
	image[0] = before ? RowJsonb(before, desc, spec->redacted) : (Datum) 0;
	image[1] = after ? RowJsonb(after, desc, spec->redacted) : (Datum) 0;

	key = RowKey(row, desc, spec->keys);
	if (guc_nest >= 0)
		AtEOXact_GUC(true, guc_nest);

	ev = NewEvent(operation, spec->kind, key);
	old = MemoryContextSwitchTo(TopTransactionContext);
	for (int i = 0; i < 3; i++)
	{
		ev->nulls[EV_ORG + i] = scope_null[i];
		if (!scope_null[i])
			ev->values[EV_ORG + i] = datumCopy(scope[i], false, UUID_LEN);
	}
	for (int i = 0; i < 2; i++)
	{
		ev->nulls[EV_BEFORE + i] = image[i] == (Datum) 0;
		if (image[i] != (Datum) 0)
			ev->values[EV_BEFORE + i] = datumCopy(image[i], false, -1);
	}
	MemoryContextSwitchTo(old);
	MaybeFlushEarly();
}

/* Every row of a table about to be truncated, as TRUNCATE events. */
static void
CaptureTruncate(const CaptureSpec *spec, Relation rel)
{
	CatalogAccess access;
	char	   *sql = psprintf("SELECT * FROM %s",
							   quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
														  RelationGetRelationName(rel)));

	BeginCatalogAccess(&access);
	if (SPI_execute(sql, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "zenml_rbac: could not read %s before TRUNCATE", RelationGetRelationName(rel));
	for (uint64 i = 0; i < SPI_processed; i++)
		QueueRowEvent(spec, "TRUNCATE", RelationGetDescr(rel), SPI_tuptable->vals[i], NULL);
	EndCatalogAccess(&access);
}

PG_FUNCTION_INFO_V1(audit_capture);

/*
 * AFTER INSERT OR UPDATE OR DELETE FOR EACH ROW and BEFORE TRUNCATE on each
 * catalog table.  An UPDATE that changes no column is not a change.
 */
Datum
audit_capture(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	CaptureSpec spec;
	TupleDesc	desc;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("audit_capture() must be called as a trigger")));
	ReadSpec(td->tg_trigger, &spec);
	desc = RelationGetDescr(td->tg_relation);
	if (TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
	{
		CaptureTruncate(&spec, td->tg_relation);
		return PointerGetDatum(NULL);
	}
	if (!TRIGGER_FIRED_AFTER(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("audit_capture() must be an AFTER ROW or BEFORE TRUNCATE trigger")));
	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
		QueueRowEvent(&spec, "INSERT", desc, NULL, td->tg_trigtuple);
	else if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
		QueueRowEvent(&spec, "DELETE", desc, td->tg_trigtuple, NULL);
	else if (!RowsEqual(td->tg_trigtuple, td->tg_newtuple, desc))
		QueueRowEvent(&spec, "UPDATE", desc, td->tg_trigtuple, td->tg_newtuple);
	return PointerGetDatum(NULL);
}

/* ------------------------------------------------------------------------
 * Appending
 * ------------------------------------------------------------------------
 */

/* false when the extension is gone (dropped in this transaction) */
static bool
LockChain(void)
{
	Oid			ext = get_extension_oid("zenml_rbac", true);

	if (!OidIsValid(ext))
		return false;
	LockDatabaseObject(ExtensionRelationId, ext, AUDIT_LOCK_SUBID, ExclusiveLock);
	return true;
}

typedef struct ChainHead
{
	Datum		chain;
	int64		seq;
	uint8		hash[HASH_LEN];
} ChainHead;

/*
 * The last event of this database's chain (or its anchor), read with the
 * latest snapshot: under the chain lock, everything appended before is
 * committed and visible, whatever the transaction's isolation level.
 */
static void
ReadHead(ChainHead *head)
{
	static SPIPlanPtr plan = NULL;
	bool		isnull;
	bytea	   *hash;

	if (plan == NULL)
	{
		plan = SPI_prepare("SELECT l.chain, coalesce(e.seq, c.anchor_seq), coalesce(e.hash, c.anchor_hash) "
						   "FROM zenml_rbac.audit_local_chain l "
						   "JOIN zenml_rbac.audit_chain c ON c.id = l.chain "
						   "LEFT JOIN LATERAL (SELECT a.seq, a.hash FROM zenml_rbac.audit_log a "
						   "  WHERE a.chain = l.chain ORDER BY a.seq DESC LIMIT 1) e ON true",
						   0, NULL);
		if (plan == NULL || SPI_keepplan(plan) != 0)
			elog(ERROR, "zenml_rbac: could not prepare the audit head query");
	}
	CommandCounterIncrement();
	if (SPI_execute_snapshot(plan, NULL, NULL, GetLatestSnapshot(), InvalidSnapshot,
							 true, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the audit chain of this database is missing"),
				 errdetail("zenml_rbac.audit_local_chain must name one row of zenml_rbac.audit_chain.")));
	head->chain = SPI_datumTransfer(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull),
									false, UUID_LEN);
	head->seq = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	hash = DatumGetByteaPP(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
	if (VARSIZE_ANY_EXHDR(hash) != HASH_LEN)
		elog(ERROR, "zenml_rbac: the audit chain head has a malformed hash");
	memcpy(head->hash, VARDATA_ANY(hash), HASH_LEN);
}

static void
InsertEvent(Datum *values, bool *nulls)
{
	static SPIPlanPtr plan = NULL;
	char		nullflags[EV_NCOLUMNS];

	if (plan == NULL)
	{
		plan = SPI_prepare("INSERT INTO zenml_rbac.audit_log VALUES "
						   "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
						   EV_NCOLUMNS, (Oid *) event_types);
		if (plan == NULL || SPI_keepplan(plan) != 0)
			elog(ERROR, "zenml_rbac: could not prepare the audit insert");
	}
	for (int c = 0; c < EV_NCOLUMNS; c++)
		nullflags[c] = nulls[c] ? 'n' : ' ';
	if (SPI_execute_plan(plan, values, nullflags, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "zenml_rbac: could not append an audit event");
}

/* Chains one event after the head and inserts it; the head moves on. */
static void
AppendEvent(ChainHead *head, PendingEvent *ev, Datum xid)
{
	uint8		hash[HASH_LEN];

	ev->values[EV_CHAIN] = head->chain;
	ev->nulls[EV_CHAIN] = false;
	ev->values[EV_SEQ] = Int64GetDatum(head->seq + 1);
	ev->nulls[EV_SEQ] = false;
	ev->values[EV_XID] = xid;
	ev->nulls[EV_XID] = false;
	ev->values[EV_PREV_HASH] = ByteaDatum(head->hash, HASH_LEN);
	ev->nulls[EV_PREV_HASH] = false;
	HashEvent(ev->values, ev->nulls, hash);
	ev->values[EV_HASH] = ByteaDatum(hash, HASH_LEN);
	ev->nulls[EV_HASH] = false;
	InsertEvent(ev->values, ev->nulls);
	head->seq++;
	memcpy(head->hash, hash, HASH_LEN);
}

/*
 * Pre-commit (or a long queue): the queued events join the chain, in order.
 * The head is read afresh each time, so events appended early by a
 * subtransaction that later rolled back are not counted on.
 */
static void
FlushPending(void)
{
	CatalogAccess access;
	ChainHead	head;
	Datum		xid;
	volatile bool pushed = false;

	if (pending == NIL)
		return;
	if (!LockChain())
	{
		/* DROP EXTENSION took the log with it: nothing to append to */
		pending = NIL;
		return;
	}
	xid = FullTransactionIdGetDatum(GetTopFullTransactionId());
	if (!ActiveSnapshotSet())
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		pushed = true;
	}
	BeginCatalogAccess(&access);
	internal_write = true;
	PG_TRY();
	{
		ListCell   *lc;

		ReadHead(&head);
		foreach(lc, pending)
			AppendEvent(&head, (PendingEvent *) lfirst(lc), xid);
	}
	PG_FINALLY();
	{
		internal_write = false;
	}
	PG_END_TRY();
	EndCatalogAccess(&access);
	if (pushed)
		PopActiveSnapshot();
	pending = NIL;
}

void
AuditXactCallback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PRE_PREPARE:
			FlushPending();
			break;
		case XACT_EVENT_PARALLEL_PRE_COMMIT:
			break;
		default:
			/* the list lived in TopTransactionContext, gone now */
			pending = NIL;
			internal_write = false;
			break;
	}
}

void
AuditSubXactCallback(SubXactEvent event, SubTransactionId mySubid,
					 SubTransactionId parentSubid, void *arg)
{
	ListCell   *lc;

	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		foreach(lc, pending)
		{
			PendingEvent *ev = (PendingEvent *) lfirst(lc);

			if (ev->subid >= mySubid)
				pending = foreach_delete_current(pending, lc);
		}
	}
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		foreach(lc, pending)
		{
			PendingEvent *ev = (PendingEvent *) lfirst(lc);

			if (ev->subid == mySubid)
				ev->subid = parentSubid;
		}
	}
}

/* ------------------------------------------------------------------------
 * Append-only
 * ------------------------------------------------------------------------
 */

PG_FUNCTION_INFO_V1(audit_guard);

/*
 * BEFORE INSERT OR UPDATE OR DELETE FOR EACH ROW and BEFORE TRUNCATE on the
 * log tables: only this file's statements and superusers (restoring a dump,
 * or editing -- which verification then reports) get through.
 */
Datum
audit_guard(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	const char *what;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("audit_guard() must be called as a trigger")));
	if (TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
		what = "TRUNCATE";
	else if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
		what = "INSERT";
	else if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
		what = "UPDATE";
	else
		what = "DELETE";
	if (!(internal_write && !TRIGGER_FIRED_BY_TRUNCATE(td->tg_event)) && !superuser())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s on %s is not allowed: the audit log is append-only",
						what, RelationGetRelationName(td->tg_relation)),
				 errhint("Events are appended by the catalog's triggers; zenml_rbac.purge_audit_log() removes old ones.")));
	if (!TRIGGER_FIRED_FOR_ROW(td->tg_event))
		return PointerGetDatum(NULL);
	return PointerGetDatum(TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple);
}

/* ------------------------------------------------------------------------
 * Verification
 * ------------------------------------------------------------------------
 */

typedef struct Verdict
{
	int64		checked;
	bool		broken;
	Datum		chain;
	int64		seq;
	char	   *problem;
} Verdict;

static void
Break(Verdict *v, Datum chain, int64 seq, char *problem)
{
	v->broken = true;
	v->chain = chain;
	v->seq = seq;
	v->problem = problem;
}

/*
 * The anchor left by purges must be the one the latest PURGE event recorded
 * for that chain: moving it by hand (to hide deleted events) shows.
 */
static void
CheckAnchor(Verdict *v, Datum chain, int64 anchor_seq, bytea *anchor_hash)
{
	Datum		arg[1] = {chain};
	Oid			argtype[1] = {UUIDOID};
	char	   *recorded_hash;
	char	   *anchor_hex;
	char	   *recorded_seq;

	if (SPI_execute_with_args("SELECT e->>'anchor_seq', e->>'anchor_hash' "
							  "FROM zenml_rbac.audit_log a, "
							  "     jsonb_array_elements(a.after->'chains') e "
							  "WHERE a.operation = 'PURGE' AND (e->>'chain')::uuid = $1 "
							  "ORDER BY a.event_time DESC, a.seq DESC LIMIT 1",
							  1, argtype, arg, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "zenml_rbac: could not read PURGE events");
	anchor_hex = palloc0(2 * VARSIZE_ANY_EXHDR(anchor_hash) + 1);
	hex_encode(VARDATA_ANY(anchor_hash), VARSIZE_ANY_EXHDR(anchor_hash), anchor_hex);
	if (SPI_processed == 0)
	{
		Break(v, chain, anchor_seq,
			  psprintf("the chain starts after event %lld, but no PURGE event records that anchor",
					   (long long) anchor_seq));
		return;
	}
	recorded_seq = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	recorded_hash = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);
	if (recorded_seq == NULL || recorded_hash == NULL ||
		strtoll(recorded_seq, NULL, 10) != anchor_seq || strcmp(recorded_hash, anchor_hex) != 0)
		Break(v, chain, anchor_seq,
			  recorded_seq != NULL && strtoll(recorded_seq, NULL, 10) == anchor_seq
			  ? psprintf("the chain's anchor (event %lld) does not have the hash the last purge recorded for it",
						 (long long) anchor_seq)
			  : psprintf("the chain's anchor (event %lld) is not the one the last purge recorded (event %s)",
						 (long long) anchor_seq, recorded_seq ? recorded_seq : "?"));
}

/* Walks one chain from its anchor; stops at the first broken link. */
static void
VerifyChain(Verdict *v, Datum chain, int64 anchor_seq, bytea *anchor_hash)
{
	Datum		arg[1] = {chain};
	Oid			argtype[1] = {UUIDOID};
	SPIPlanPtr	plan;
	Portal		portal;
	int64		expect = anchor_seq + 1;
	uint8		prev[HASH_LEN];
	char	   *chain_text = UuidText(DatumGetUUIDP(chain));

	if (VARSIZE_ANY_EXHDR(anchor_hash) != HASH_LEN)
	{
		Break(v, chain, anchor_seq, pstrdup("the chain's anchor hash is malformed"));
		return;
	}
	memcpy(prev, VARDATA_ANY(anchor_hash), HASH_LEN);
	if (anchor_seq > 0)
	{
		CheckAnchor(v, chain, anchor_seq, anchor_hash);
		if (v->broken)
			return;
	}

	plan = SPI_prepare("SELECT * FROM zenml_rbac.audit_log WHERE chain = $1 ORDER BY seq", 1, argtype);
	if (plan == NULL)
		elog(ERROR, "zenml_rbac: could not prepare the audit walk");
	portal = SPI_cursor_open(NULL, plan, arg, NULL, true);
	while (!v->broken)
	{
		SPI_cursor_fetch(portal, true, 1000);
		if (SPI_processed == 0)
			break;
		for (uint64 i = 0; i < SPI_processed && !v->broken; i++)
		{
			Datum		values[EV_NCOLUMNS];
			bool		nulls[EV_NCOLUMNS];
			uint8		hash[HASH_LEN];
			int64		seq;

			if (SPI_tuptable->tupdesc->natts != EV_NCOLUMNS)
				elog(ERROR, "zenml_rbac.audit_log does not have the expected columns");
			heap_deform_tuple(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, values, nulls);
			seq = DatumGetInt64(values[EV_SEQ]);
			if (seq != expect)
				Break(v, chain, expect,
					  psprintf("event %lld of chain %s is missing (the next one is %lld)",
							   (long long) expect, chain_text, (long long) seq));
			else if (nulls[EV_PREV_HASH] || !ByteaEquals(values[EV_PREV_HASH], prev, HASH_LEN))
				Break(v, chain, seq,
					  psprintf("event %lld of chain %s does not link to event %lld: the earlier event was replaced or the events reordered",
							   (long long) seq, chain_text, (long long) seq - 1));
			else
			{
				HashEvent(values, nulls, hash);
				if (nulls[EV_HASH] || !ByteaEquals(values[EV_HASH], hash, HASH_LEN))
					Break(v, chain, seq,
						  psprintf("event %lld of chain %s does not match its hash: it was altered",
								   (long long) seq, chain_text));
			}
			if (!v->broken)
			{
				memcpy(prev, hash, HASH_LEN);
				expect++;
				v->checked++;
			}
		}
	}
	SPI_cursor_close(portal);
	SPI_freeplan(plan);
}

PG_FUNCTION_INFO_V1(verify_audit_log);

/*
 * verify_audit_log() returns (valid, events_checked, chain, broken_seq,
 * problem): one row; the last three name the first broken or missing link,
 * NULL when every chain verifies.
 */
Datum
verify_audit_log(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	CatalogAccess access;
	Verdict		v = {0};
	Datum		values[5];
	bool		nulls[5] = {false, false, true, true, true};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	BeginCatalogAccess(&access);
	if (SPI_execute("SELECT id, anchor_seq, anchor_hash FROM zenml_rbac.audit_chain "
					"ORDER BY started_at, id", true, 0) != SPI_OK_SELECT)
		elog(ERROR, "zenml_rbac: could not read the audit chains");
	{
		SPITupleTable *chains = SPI_tuptable;
		uint64		nchains = SPI_processed;
		MemoryContext walk = AllocSetContextCreate(CurrentMemoryContext, "audit verification",
												   ALLOCSET_DEFAULT_SIZES);

		for (uint64 i = 0; i < nchains && !v.broken; i++)
		{
			bool		isnull;
			Datum		chain = SPI_getbinval(chains->vals[i], chains->tupdesc, 1, &isnull);
			int64		anchor_seq = DatumGetInt64(SPI_getbinval(chains->vals[i], chains->tupdesc, 2, &isnull));
			bytea	   *anchor_hash = DatumGetByteaPCopy(SPI_getbinval(chains->vals[i], chains->tupdesc, 3, &isnull));
			MemoryContext old = MemoryContextSwitchTo(walk);

			VerifyChain(&v, chain, anchor_seq, anchor_hash);
			MemoryContextSwitchTo(old);
			if (v.broken)
			{
				/* out of SPI's memory before it goes */
				char	   *problem = v.problem;

				v.chain = SPI_datumTransfer(v.chain, false, UUID_LEN);
				v.problem = SPI_palloc(strlen(problem) + 1);
				strcpy(v.problem, problem);
			}
			else
				MemoryContextReset(walk);
		}
	}
	EndCatalogAccess(&access);
	values[0] = BoolGetDatum(!v.broken);
	values[1] = Int64GetDatum(v.checked);
	if (v.broken)
	{
		values[2] = v.chain;
		values[3] = Int64GetDatum(v.seq);
		values[4] = CStringGetTextDatum(v.problem);
		nulls[2] = nulls[3] = nulls[4] = false;
	}
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

/* ------------------------------------------------------------------------
 * Retention and anchoring outside the database
 * ------------------------------------------------------------------------
 */

/* Queues the PURGE event, which the commit appends like any other. */
static void
QueuePurgeEvent(const char *after_json)
{
	PendingEvent *ev = NewEvent("PURGE", "audit_log", "audit_log");
	MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);

	ev->values[EV_AFTER] = DirectFunctionCall1(jsonb_in, CStringGetDatum(after_json));
	ev->nulls[EV_AFTER] = false;
	MemoryContextSwitchTo(old);
}

PG_FUNCTION_INFO_V1(purge_audit_log);

/*
 * purge_audit_log(before timestamptz) returns bigint: removes, from every
 * chain, the events before the first one at or after `before`; the chain
 * keeps the last removed event's seq and hash as its anchor, and a PURGE
 * event records the anchors.  System only.
 */
Datum
purge_audit_log(PG_FUNCTION_ARGS)
{
	CatalogAccess access;
	volatile int64 removed_total = 0;
	StringInfoData json;
	Datum		arg[1];
	volatile bool any_cut = false;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("before must not be null")));
	RequireSystem("purge the audit log");
	arg[0] = PG_GETARG_DATUM(0);
	(void) LockChain();			/* we are running: the extension exists */

	initStringInfo(&json);
	appendStringInfo(&json, "{\"before\": \"%s\", \"chains\": [",
					 DatumGetCString(DirectFunctionCall1(timestamptz_out, arg[0])));
	BeginCatalogAccess(&access);
	internal_write = true;
	PG_TRY();
	{
		Oid			argtype[1] = {TIMESTAMPTZOID};

		/* per chain: the last event before the first one kept */
		if (SPI_execute_with_args(
								  "WITH cut AS ("
								  "  SELECT c.id, c.anchor_seq, "
								  "         coalesce((SELECT min(a.seq) - 1 FROM zenml_rbac.audit_log a "
								  "                    WHERE a.chain = c.id AND a.event_time >= $1), "
								  "                  (SELECT max(a.seq) FROM zenml_rbac.audit_log a WHERE a.chain = c.id), "
								  "                  c.anchor_seq) AS last "
								  "  FROM zenml_rbac.audit_chain c) "
								  "SELECT cut.id, cut.last, a.hash, cut.last - cut.anchor_seq "
								  "FROM cut JOIN zenml_rbac.audit_log a ON a.chain = cut.id AND a.seq = cut.last "
								  "WHERE cut.last > cut.anchor_seq ORDER BY cut.id",
								  1, argtype, arg, NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "zenml_rbac: could not plan the purge");
		{
			SPITupleTable *cuts = SPI_tuptable;
			uint64		ncuts = SPI_processed;
			char	  **cut_chain = palloc0(sizeof(char *) * (ncuts + 1));
			int64	   *cut_removed = palloc0(sizeof(int64) * (ncuts + 1));

			for (uint64 i = 0; i < ncuts; i++)
			{
				bool		isnull;
				Datum		chain = SPI_getbinval(cuts->vals[i], cuts->tupdesc, 1, &isnull);
				Datum		last = SPI_getbinval(cuts->vals[i], cuts->tupdesc, 2, &isnull);
				Datum		hash = SPI_getbinval(cuts->vals[i], cuts->tupdesc, 3, &isnull);
				Datum		args[3] = {chain, last, hash};
				Oid			types[3] = {UUIDOID, INT8OID, BYTEAOID};

				if (SPI_execute_with_args("DELETE FROM zenml_rbac.audit_log WHERE chain = $1 AND seq <= $2",
										  2, types, args, NULL, false, 0) != SPI_OK_DELETE)
					elog(ERROR, "zenml_rbac: could not purge audit events");
				cut_chain[i] = UuidText(DatumGetUUIDP(chain));
				cut_removed[i] = (int64) SPI_processed;
				removed_total += cut_removed[i];
				if (SPI_execute_with_args("UPDATE zenml_rbac.audit_chain SET anchor_seq = $2, anchor_hash = $3 WHERE id = $1",
										  3, types, args, NULL, false, 0) != SPI_OK_UPDATE)
					elog(ERROR, "zenml_rbac: could not move the audit anchor");
			}

			/*
			 * The PURGE event records every chain's anchor, not only the ones
			 * cut now: it may remove the previous PURGE event, which was the
			 * only record of the others.
			 */
			if (SPI_execute("SELECT id::text, anchor_seq, encode(anchor_hash, 'hex') "
							"FROM zenml_rbac.audit_chain WHERE anchor_seq > 0 ORDER BY id",
							false, 0) != SPI_OK_SELECT)
				elog(ERROR, "zenml_rbac: could not read the audit anchors");
			for (uint64 i = 0; i < SPI_processed; i++)
			{
				char	   *chain = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
				int64		removed = 0;

				for (uint64 c = 0; c < ncuts; c++)
					if (strcmp(cut_chain[c], chain) == 0)
						removed = cut_removed[c];
				appendStringInfo(&json, "%s{\"chain\": \"%s\", \"anchor_seq\": %s, \"anchor_hash\": \"%s\", \"removed\": %lld}",
								 i == 0 ? "" : ", ", chain,
								 SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2),
								 SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3),
								 (long long) removed);
			}
			any_cut = ncuts > 0;
		}
	}
	PG_FINALLY();
	{
		internal_write = false;
	}
	PG_END_TRY();
	EndCatalogAccess(&access);
	appendStringInfoString(&json, "]}");
	if (any_cut)
		QueuePurgeEvent(json.data);
	PG_RETURN_INT64(removed_total);
}

PG_FUNCTION_INFO_V1(audit_head);

/*
 * audit_head() returns (chain, seq, hash): the last committed event of this
 * database's chain.  Kept outside the database (a monitoring job, a ticket),
 * it lets a later check show that the chain was not rewritten wholesale --
 * which someone able to recompute every hash could otherwise do.
 */
Datum
audit_head(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	CatalogAccess access;
	ChainHead	head;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	BeginCatalogAccess(&access);
	ReadHead(&head);
	EndCatalogAccess(&access);
	values[0] = head.chain;
	values[1] = Int64GetDatum(head.seq);
	values[2] = ByteaDatum(head.hash, HASH_LEN);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}
