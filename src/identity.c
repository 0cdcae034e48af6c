/*
 * identity.c
 *     The acting principal: set for one transaction by set_principal() (a
 *     privilege the DBA grants to the application's pool role), else the
 *     user linked to session_user's PostgreSQL role.  Kept in backend memory,
 *     never in a setting, so no SET can change it; cleared at commit/abort.
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "catalog.h"
#include "identity.h"

static bool principal_set = false;
static pg_uuid_t principal_id;

/* An API key used in this transaction, its use recorded at commit (below). */
static bool key_use_pending = false;
static pg_uuid_t key_use_id;
static SubTransactionId key_use_subid;	/* undone if this one rolls back */

/*
 * The last principal set in this transaction, kept when set_principal(NULL)
 * clears it: a cursor opened under it must not pass to another principal
 * by way of none.
 */
static bool principal_was_set = false;
static pg_uuid_t last_principal_id;

/* A WITH HOLD cursor was declared in this transaction (see below). */
static bool holdable_cursor_declared = false;

/*
 * The module was loaded during this transaction, so the hook that notices
 * DECLARE ... WITH HOLD may have missed one: look at pg_cursors instead.
 */
static bool loaded_in_this_transaction = true;

/* Whether a cursor (a named portal: DECLARE or protocol level) is open. */
static bool
CursorOpen(bool holdable_only)
{
	bool		open;
	bool		isnull;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "zenml_rbac: SPI_connect failed");
	if (SPI_execute(holdable_only
					? "SELECT EXISTS (SELECT FROM pg_catalog.pg_cursors WHERE is_holdable)"
					: "SELECT EXISTS (SELECT FROM pg_catalog.pg_cursors WHERE name <> '')",
					true, 1) != SPI_OK_SELECT)
		elog(ERROR, "zenml_rbac: could not look for cursors");
	open = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	return open;
}

/*
 * The principal as each open subtransaction found it, so rolling one back
 * (ROLLBACK TO SAVEPOINT, an EXCEPTION block) undoes a set_principal in it.
 */
typedef struct SavedPrincipal
{
	SubTransactionId subxid;
	bool		set;
	pg_uuid_t	id;
	struct SavedPrincipal *next;
} SavedPrincipal;

static SavedPrincipal *saved_principals = NULL;

void
IdentitySubXactCallback(SubXactEvent event, SubTransactionId mySubid,
						SubTransactionId parentSubid, void *arg)
{
	SavedPrincipal *top = saved_principals;

	/* a key use noted in a subtransaction goes with it, or to its parent */
	if (key_use_pending && key_use_subid == mySubid)
	{
		if (event == SUBXACT_EVENT_ABORT_SUB)
			key_use_pending = false;
		else if (event == SUBXACT_EVENT_COMMIT_SUB)
			key_use_subid = parentSubid;
	}
	switch (event)
	{
		case SUBXACT_EVENT_START_SUB:
			top = MemoryContextAlloc(TopTransactionContext, sizeof(SavedPrincipal));
			top->subxid = mySubid;
			top->set = principal_set;
			top->id = principal_id;
			top->next = saved_principals;
			saved_principals = top;
			break;
		case SUBXACT_EVENT_COMMIT_SUB:
		case SUBXACT_EVENT_ABORT_SUB:
			if (top == NULL || top->subxid != mySubid)
				break;
			if (event == SUBXACT_EVENT_ABORT_SUB)
			{
				principal_set = top->set;
				principal_id = top->id;
			}
			saved_principals = top->next;
			/* millions of savepoints in one transaction must not pile up */
			pfree(top);
			break;
		default:
			break;
	}
}

void
IdentityXactCallback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			principal_set = false;
			principal_was_set = false;
			key_use_pending = false;
			holdable_cursor_declared = false;
			loaded_in_this_transaction = false;
			saved_principals = NULL;	/* freed with TopTransactionContext */
			break;
		default:
			break;
	}
}

/*
 * The acting principal.  The caller has called CatalogEnsureFresh() in this
 * statement (entry points do, before taking anything from the cache): this
 * does not, so no cache reset happens between an entry point's first look
 * at the cache and its use of what it found.
 */
bool
CurrentPrincipal(pg_uuid_t *out)
{
	char	   *role_name;

	/* the principal lives in the leader; a worker would answer for another */
	if (IsParallelWorker())
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TRANSACTION_STATE),
				 errmsg("the acting principal is not available in a parallel worker"),
				 errhint("Do not mark functions that use it PARALLEL SAFE.")));

	if (principal_set)
	{
		memcpy(out, &principal_id, sizeof(pg_uuid_t));
		return true;
	}
	role_name = GetUserNameFromId(GetSessionUserId(), true);
	if (role_name == NULL)
		return false;
	return CatalogResolveName('l', role_name, out);
}

/*
 * A cursor's policies were evaluated for the principal of its first fetch:
 * switching to another (directly, through NULL, or away from the user
 * linked to session_user) while one is open would leave its rows in the
 * new one's hands.  Only a change away from a principal looks for open
 * cursors: one opened with no principal saw no protected row.  to is the
 * new principal, NULL for none.
 */
static void
RequireNoCursorSwitch(const pg_uuid_t *to)
{
	pg_uuid_t	before;
	bool		had;

	if (principal_set)
	{
		had = true;
		before = principal_id;
	}
	else if (principal_was_set)
	{
		had = true;
		before = last_principal_id;
	}
	else
		had = CurrentPrincipal(&before);
	/* no principal's rows can be in a cursor opened with none */
	if (!had || (to != NULL && UuidEquals(&before, to)))
		return;
	if (CursorOpen(false))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_CURSOR_STATE),
				 errmsg("cannot change the principal while cursors are open"),
				 errdetail("An open cursor keeps returning the rows of the principal it started with."),
				 errhint("Close the cursors first, or use one transaction per principal.")));
}

PG_FUNCTION_INFO_V1(set_principal);

Datum
set_principal(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *id;
	PrincipalEntry *entry;

	CatalogEnsureFresh();
	if (PG_ARGISNULL(0))
	{
		RequireNoCursorSwitch(NULL);
		principal_set = false;
		PG_RETURN_VOID();
	}
	id = PG_GETARG_UUID_P(0);
	entry = CatalogGetPrincipal(id);
	if (!entry->exists || !entry->active || entry->kind == PRINCIPAL_TEAM)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("principal %s cannot act", UuidText(id)),
				 errdetail("Only an existing, active user or service account can be the acting principal.")));
	if (holdable_cursor_declared || (loaded_in_this_transaction && CursorOpen(true)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_CURSOR_STATE),
				 errmsg("cannot set a principal in a transaction that declared a WITH HOLD cursor"),
				 errdetail("The cursor would be materialized at commit with the principal's rows and outlive it.")));
	RequireNoCursorSwitch(id);
	if (!IsTransactionBlock())
		ereport(WARNING,
				(errcode(ERRCODE_NO_ACTIVE_SQL_TRANSACTION),
				 errmsg("set_principal() outside a transaction block lasts for this statement only"),
				 errhint("Call it after BEGIN; the principal is cleared at commit or rollback.")));
	memcpy(&principal_id, id, sizeof(pg_uuid_t));
	principal_set = true;
	last_principal_id = *id;
	principal_was_set = true;
	PG_RETURN_VOID();
}

/*
 * A WITH HOLD cursor is run to completion at commit and stays readable after
 * it, by whoever uses the connection next: through a transaction pooler,
 * another client.  So none may be declared while a principal is set for the
 * transaction, and none before one is set (ProcessUtility hook).
 */
void
IdentityNoteHoldableCursor(void)
{
	if (principal_set)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("WITH HOLD cursors cannot be declared while a principal is set"),
				 errdetail("The cursor would keep the principal's rows readable after the transaction ends."),
				 errhint("Declare the cursor WITHOUT HOLD, or fetch its rows before COMMIT.")));
	holdable_cursor_declared = true;
}

PG_FUNCTION_INFO_V1(current_principal);

Datum
current_principal(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *out = palloc(sizeof(pg_uuid_t));

	CatalogEnsureFresh();
	if (!CurrentPrincipal(out))
		PG_RETURN_NULL();
	PG_RETURN_UUID_P(out);
}

/*
 * The system is a superuser or the extension's owner acting with no
 * principal.  The outer user is the role the caller runs as (SET ROLE
 * included), unaffected by the SECURITY DEFINER management functions.
 * Inside a security-restricted operation (ANALYZE, VACUUM, CREATE INDEX,
 * REFRESH MATERIALIZED VIEW, autovacuum) the outer user is whoever started
 * the maintenance while the code running is the table owner's: never the
 * system there.
 */
static bool
CallerIsSystem(void)
{
	Oid			outer = GetOuterUserId();

	if (InSecurityRestrictedOperation())
		return false;
	return superuser_arg(outer) || outer == CatalogExtensionOwner();
}

PG_FUNCTION_INFO_V1(acting_principal);

/*
 * For the management functions: the principal to authorize, or NULL when the
 * caller is the system; anyone else without a principal is refused.
 */
Datum
acting_principal(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *out = palloc(sizeof(pg_uuid_t));

	CatalogEnsureFresh();
	if (CurrentPrincipal(out))
		PG_RETURN_UUID_P(out);
	if (CallerIsSystem())
		PG_RETURN_NULL();
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied: no principal is acting"),
			 errdetail("Role \"%s\" is neither a superuser nor the extension owner, and no principal is set for the transaction or linked to the session user.",
					   GetUserNameFromId(GetOuterUserId(), false)),
			 errhint("Call zenml_rbac.set_principal() after BEGIN.")));
	PG_RETURN_NULL();
}

PG_FUNCTION_INFO_V1(refresh_after_lock);

/* For the management functions, once they hold their organization's lock. */
Datum
refresh_after_lock(PG_FUNCTION_ARGS)
{
	CatalogEnsureFresh();
	CatalogRefreshAfterLock();
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(new_api_key);

/*
 * A new API key: "zrk_" and 256 random bits in hex.  Only its SHA-256 is
 * stored (src/sql/api_keys.sql); the key itself is shown once.
 */
Datum
new_api_key(PG_FUNCTION_ARGS)
{
	uint8		random[32];
	char		key[4 + 2 * sizeof(random) + 1];

	if (!pg_strong_random(random, sizeof(random)))
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not generate a random API key")));
	memcpy(key, "zrk_", 4);
	hex_encode((const char *) random, sizeof(random), key + 4);
	key[sizeof(key) - 1] = '\0';
	explicit_bzero(random, sizeof(random));
	PG_RETURN_TEXT_P(cstring_to_text(key));
}

PG_FUNCTION_INFO_V1(require_system);

/*
 * For operations that are the DBA's alone (protect, identity providers,
 * ...): a superuser or the extension owner with no principal acting, outside
 * maintenance code.
 */
Datum
require_system(PG_FUNCTION_ARGS)
{
	/* not STRICT: a NULL description must not skip the check */
	RequireSystem(PG_ARGISNULL(0) ? "do this" : text_to_cstring(PG_GETARG_TEXT_PP(0)));
	PG_RETURN_VOID();
}

void
RequireSystem(const char *what)
{
	pg_uuid_t	principal;

	if (!CallerIsSystem())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to %s", what),
				 errdetail("Only the system (a superuser or the extension owner) may do this.")));
	/* a superuser acting as a principal is that principal, not the system */
	CatalogEnsureFresh();
	if (CurrentPrincipal(&principal))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to %s", what),
				 errdetail("Only the system may do this, and a principal is acting in this transaction."),
				 errhint("Do it in a transaction without set_principal(), as a role not linked to a principal.")));
}

PG_FUNCTION_INFO_V1(api_key_lookup);

/*
 * _api_key_lookup(api_key text) returns (key_id uuid, principal_id uuid,
 * last_used_at timestamptz), no row when the key does not authenticate: a
 * wrong, revoked, expired or retired key, or an inactive service account.
 * Read from the latest committed catalog, not the transaction's snapshot
 * (a key revoked after a REPEATABLE READ transaction began is refused in
 * it), and expiry and retirement compared with the clock now, not with
 * the transaction's start.
 */
Datum
api_key_lookup(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	CatalogAccess access;
	Oid			types[2] = {TEXTOID, TIMESTAMPTZOID};
	Datum		args[2];

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0))
		PG_RETURN_VOID();
	CatalogEnsureFresh();
	args[0] = PG_GETARG_DATUM(0);
	args[1] = TimestampTzGetDatum(GetCurrentTimestamp());
	BeginCatalogAccess(&access);
	if (CatalogExecute(&plan,
					   "SELECT k.id, k.principal_id, k.last_used_at FROM zenml_rbac.api_key k"
					   " JOIN zenml_rbac.principal p ON p.id = k.principal_id"
					   " WHERE k.key_hash = pg_catalog.sha256(pg_catalog.convert_to($1, 'UTF8'))"
					   " AND k.revoked_at IS NULL"
					   " AND (k.expires_at IS NULL OR k.expires_at > $2)"
					   " AND (k.retired_at IS NULL OR k.retired_at > $2)"
					   " AND p.active AND p.kind = 'service_account'",
					   2, types, args, NULL) > 0)
	{
		Datum		values[3];
		bool		nulls[3];

		/* the tuplestore copies the values out of SPI's memory */
		for (int i = 0; i < 3; i++)
			values[i] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1, &nulls[i]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	EndCatalogAccess(&access);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(principal_active);

/* _principal_active(principal uuid): an existing, active user or service account, from the latest committed catalog. */
Datum
principal_active(PG_FUNCTION_ARGS)
{
	PrincipalEntry *p;

	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(false);
	CatalogEnsureFresh();
	p = CatalogGetPrincipal(PG_GETARG_UUID_P(0));
	PG_RETURN_BOOL(p->exists && p->active && p->kind != PRINCIPAL_TEAM);
}

/*
 * API-key bookkeeping (last_used_at) waits for commit: updating the key's
 * row in authenticate() would hold its lock for the rest of the
 * transaction, and a key holder idling in it would hold up revoke_api_key
 * (and, behind that call's organization lock, the whole organization's
 * management).  At commit the update takes the row only if nobody holds it
 * and at most once a minute; a failure there is bookkeeping, never the
 * transaction's.
 */
PG_FUNCTION_INFO_V1(note_key_use);

/* _note_key_use(key uuid): record the key's use when the transaction commits. */
Datum
note_key_use(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0) || RecoveryInProgress() || XactReadOnly)
		PG_RETURN_VOID();
	key_use_id = *PG_GETARG_UUID_P(0);
	key_use_subid = GetCurrentSubTransactionId();
	key_use_pending = true;
	PG_RETURN_VOID();
}

void
IdentityPreCommit(void)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	Datum		arg;
	Oid			type = UUIDOID;

	if (!key_use_pending)
		return;
	key_use_pending = false;
	arg = UUIDPGetDatum(&key_use_id);
	BeginInternalSubTransaction(NULL);
	PG_TRY();
	{
		CatalogAccess access;

		/* past the last statement: the update needs a snapshot of its own */
		PushActiveSnapshot(GetTransactionSnapshot());
		BeginCatalogAccess(&access);
		if (SPI_execute_with_args("UPDATE zenml_rbac.api_key SET last_used_at = pg_catalog.clock_timestamp()"
								  " WHERE id = (SELECT k.id FROM zenml_rbac.api_key k WHERE k.id = $1"
								  "  AND (k.last_used_at IS NULL OR k.last_used_at"
								  "       < pg_catalog.clock_timestamp() - interval '1 minute')"
								  "  FOR NO KEY UPDATE SKIP LOCKED)",
								  1, &type, &arg, NULL, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "zenml_rbac: recording an API key's use failed");
		EndCatalogAccess(&access);
		PopActiveSnapshot();
		ReleaseCurrentSubTransaction();
	}
	PG_CATCH();
	{
		/* e.g. the row changed under REPEATABLE READ: skip the bookkeeping */
		MemoryContextSwitchTo(cxt);
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		CatalogAtTransactionEnd();
	}
	PG_END_TRY();
	MemoryContextSwitchTo(cxt);
	CurrentResourceOwner = owner;
}
