/*
 * zenml_rbac.c
 *     Module entry: each module's settings, and the hooks that keep the decision cache
 *     (relcache invalidation, statement boundaries) and the acting principal
 *     (transaction end) correct.  Needs no shared_preload_libraries: hooks
 *     installed on first use see every later statement.
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "nodes/parsenodes.h"
#include "tcop/utility.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/syscache.h"

#include "audit.h"
#include "denial_log.h"
#include "catalog.h"
#include "compat.h"
#include "identity.h"
#include "invalidation.h"
#include "jwt.h"
#include "policy_scan.h"

PG_MODULE_MAGIC;

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
		CatalogStatementStart();
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
		CatalogStatementStart();
	else if (executor_depth == 0 && context == PROCESS_UTILITY_TOPLEVEL)
		CatalogUtilityStatement();
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
	CatalogInit();
	DenialLogInit();
	JwtInit();
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
