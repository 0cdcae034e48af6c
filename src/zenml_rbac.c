/*
 * zenml_rbac.c
 *     Module entry: settings, and the hooks that keep the decision cache
 *     (relcache invalidation, statement boundaries) and the acting principal
 *     (transaction end) correct.  Needs no shared_preload_libraries: hooks
 *     installed on first use see every later statement.
 */
#include "postgres.h"

#include <limits.h>

#include "access/xact.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/syscache.h"

#include "audit.h"
#include "catalog.h"
#include "identity.h"
#include "invalidation.h"
#include "jwt.h"
#include "policy_scan.h"

PG_MODULE_MAGIC;

const char *const RbacActionNames[RBAC_NUM_ACTIONS] = {
	"create", "read", "update", "delete", "share"
};

int			rbac_resource_cache_entries = 100000;
int			rbac_principal_cache_entries = 20000;

void		_PG_init(void);

static ExecutorStart_hook_type prev_ExecutorStart = NULL;
static ExecutorRun_hook_type prev_ExecutorRun = NULL;
static ExecutorFinish_hook_type prev_ExecutorFinish = NULL;
static ProcessUtility_hook_type prev_ProcessUtility = NULL;

/* Executor nesting: 0 outside any ExecutorRun/Finish we wrapped. */
static int	executor_depth = 0;

/* A top-level statement starts: the cache looks at invalidations again. */
static void
RbacExecutorStart(QueryDesc *queryDesc, int eflags)
{
	if (executor_depth == 0)
	{
		rbac_statement_counter++;
		CatalogStatementStart();
	}
	if (prev_ExecutorStart)
		prev_ExecutorStart(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
}

static void
RbacExecutorRun(RBAC_EXECUTOR_RUN_PARAMS)
{
	executor_depth++;
	PG_TRY();
	{
		if (prev_ExecutorRun)
			prev_ExecutorRun(RBAC_EXECUTOR_RUN_ARGS);
		else
			standard_ExecutorRun(RBAC_EXECUTOR_RUN_ARGS);
	}
	PG_FINALLY();
	{
		executor_depth--;
	}
	PG_END_TRY();
}

static void
RbacExecutorFinish(QueryDesc *queryDesc)
{
	executor_depth++;
	PG_TRY();
	{
		if (prev_ExecutorFinish)
			prev_ExecutorFinish(queryDesc);
		else
			standard_ExecutorFinish(queryDesc);
	}
	PG_FINALLY();
	{
		executor_depth--;
	}
	PG_END_TRY();
}

/*
 * DECLARE ... WITH HOLD: the acting principal must not outlive its
 * transaction in it.  A top-level utility statement or a FETCH: a new
 * statement for the cache.
 */
static void
RbacProcessUtility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
				   ProcessUtilityContext context, ParamListInfo params,
				   QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *stmt = pstmt->utilityStmt;

	if (IsA(stmt, DeclareCursorStmt) &&
		(((DeclareCursorStmt *) stmt)->options & CURSOR_OPT_HOLD))
		IdentityNoteHoldableCursor();

	/*
	 * A top-level utility statement is a statement for the cache too: a
	 * CALL or DO evaluates checks in PL/pgSQL expressions without the
	 * executor, a COMMIT fires deferred triggers.  A FETCH runs the cursor's
	 * query further (its policies' arrays are computed at the first one):
	 * like a statement, it decides from what is committed when it starts,
	 * not when the cursor was declared.
	 */
	if (executor_depth == 0 && IsA(stmt, FetchStmt))
	{
		rbac_statement_counter++;
		CatalogStatementStart();
	}
	else if (executor_depth == 0 && context == PROCESS_UTILITY_TOPLEVEL)
		rbac_statement_counter++;	/* its first check takes the snapshot (a
									 * ROLLBACK may run in an aborted transaction) */
	if (prev_ProcessUtility)
		prev_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
							queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params,
								queryEnv, dest, qc);
}

static void
RbacXactCallback(XactEvent event, void *arg)
{
	/* first: API-key bookkeeping, a write whose audit capture must be appended too */
	if (event == XACT_EVENT_PRE_COMMIT)
		IdentityPreCommit();
	/* then: appending queued audit events runs statements of its own */
	AuditXactCallback(event, arg);
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PARALLEL_PRE_COMMIT:
		case XACT_EVENT_PRE_PREPARE:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			/* before the top transaction's resource owner lets go of it */
			CatalogAtTransactionEnd();
			break;
		default:
			break;
	}
	IdentityXactCallback(event, arg);
}

void
_PG_init(void)
{
	DefineCustomIntVariable("zenml_rbac.resource_cache_entries",
							"Resource instances kept in a backend's decision cache before it is emptied.",
							"0 means no limit.",
							&rbac_resource_cache_entries,
							100000, 0, INT_MAX,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("zenml_rbac.principal_cache_entries",
							"Principals and names kept in a backend's decision cache before it is emptied.",
							"About 2 kB each; 0 means no limit.",
							&rbac_principal_cache_entries,
							20000, 0, INT_MAX,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomBoolVariable("zenml_rbac.log_denials",
							 "Writes a server log line for every denied check.",
							 "rbac_can(), rbac_org_can() and refused writes to protected tables; see the README's Format section.",
							 &rbac_log_denials,
							 false,
							 PGC_SUSET, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("zenml_rbac.log_denials_per_statement",
							"Denial lines one top-level statement writes at most; then one line says the rest are not logged.",
							"0 means no limit.",
							&rbac_log_denials_per_statement,
							100, 0, INT_MAX,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("zenml_rbac.jwt_leeway",
							"Seconds of clock skew allowed when checking a token's exp, nbf and iat.",
							NULL,
							&rbac_jwt_leeway,
							60, 0, 3600,
							PGC_SUSET, GUC_UNIT_S,
							NULL, NULL, NULL);
	PolicyScanInit();
	MarkGUCPrefixReserved("zenml_rbac");

	CacheRegisterRelcacheCallback(InvalRelcacheCallback, (Datum) 0);
	CacheRegisterSyscacheCallback(NAMESPACEOID, InvalNamespaceCallback, (Datum) 0);
	RegisterXactCallback(RbacXactCallback, NULL);
	RegisterSubXactCallback(IdentitySubXactCallback, NULL);
	RegisterSubXactCallback(AuditSubXactCallback, NULL);

	prev_ExecutorStart = ExecutorStart_hook;
	ExecutorStart_hook = RbacExecutorStart;
	prev_ExecutorRun = ExecutorRun_hook;
	ExecutorRun_hook = RbacExecutorRun;
	prev_ExecutorFinish = ExecutorFinish_hook;
	ExecutorFinish_hook = RbacExecutorFinish;
	prev_ProcessUtility = ProcessUtility_hook;
	ProcessUtility_hook = RbacProcessUtility;
}
