/*
 * statement_snapshot.c
 *     The snapshot every catalog read of one top-level statement uses: the
 *     latest committed when the statement began, taken only once every
 *     invalidation of the commits it sees has been read (catalog.c's cache
 *     trusts its entries only so far).
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/transam.h"
#include "access/xact.h"
#include "access/xlog.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"

#include "compat.h"
#include "invalidation.h"
#include "statement_snapshot.h"

/*
 * The snapshot of the current statement's loads, taken when the statement
 * starts, right after accepting invalidations; with the invalidation
 * generations it has seen.  NULL when there is none (parallel mode).
 */
static Snapshot statement_snapshot = NULL;
static uint64 snapshot_statement = 0;
static LocalTransactionId snapshot_lxid = InvalidLocalTransactionId;
static uint64 snapshot_resets = 0;	/* InvalFullResets() at the snapshot */
static uint64 snapshot_resource_resets = 0;	/* InvalResourceResets() at the snapshot */
static uint64 snapshot_sequence = 0;	/* invalidation sequence at the snapshot */

/* A read in parallel mode used the query's own snapshot (see StatementSnapshotForRead). */
static bool fallback_used = false;

/* Registered on the top transaction; released at every statement boundary. */
void
StatementSnapshotRelease(void)
{
	if (statement_snapshot != NULL)
	{
		UnregisterSnapshotFromOwner(statement_snapshot, TopTransactionResourceOwner);
		statement_snapshot = NULL;
	}
}

/*
 * What the previous statement's snapshot saw running: xmax and the running
 * transactions (see WaitForPendingCommits).
 */
static TransactionId seen_xmax = InvalidTransactionId;
static TransactionId *seen_xip = NULL;
static uint32 seen_xcnt = 0;

/* Beyond this many transactions completed since, a full reset is cheaper. */
#define PENDING_CHECK_MAX 100000

/* Waits, if xid completed in snap but still holds its lock (see below). */
static void
WaitIfPending(TransactionId xid, Snapshot snap)
{
	if (!XidInMVCCSnapshot(xid, snap) && !TransactionIdIsCurrentTransactionId(xid) &&
		!RbacConditionalXactLockTableWait(xid))
		XactLockTableWait(xid, NULL, NULL, XLTW_None);
}

/*
 * PostgreSQL makes a commit visible to snapshots before it sends its
 * invalidations, and releases the transaction's lock only after sending
 * them.  A snapshot may thus see a catalog change whose invalidation has not
 * arrived: trusting cached entries then would mix them with rows loaded
 * after the change.  So the transactions the snapshot sees completed that
 * the previous one saw running or not yet begun are waited for, if they
 * still hold their lock: when it is released, their invalidations are in
 * the queue.  There are none on a hot standby, whose replay sends the
 * invalidations of a commit just after making it visible (a gap the
 * README lists).  Returns false, waiting for none, when there are too many
 * to look at.
 */
static bool
WaitForPendingCommits(Snapshot snap)
{
	if (!TransactionIdIsValid(seen_xmax) || RecoveryInProgress())
		return true;
	if ((uint32) (snap->xmax - seen_xmax) > PENDING_CHECK_MAX)
		return false;
	for (uint32 i = 0; i < seen_xcnt; i++)
		WaitIfPending(seen_xip[i], snap);
	for (TransactionId xid = seen_xmax; TransactionIdPrecedes(xid, snap->xmax);)
	{
		WaitIfPending(xid, snap);
		TransactionIdAdvance(xid);
	}
	return true;
}

static void
RememberSnapshot(Snapshot snap)
{
	if (seen_xip == NULL)
		seen_xip = MemoryContextAlloc(TopMemoryContext,
									  sizeof(TransactionId) * GetMaxSnapshotXidCount());
	seen_xmax = snap->xmax;
	seen_xcnt = snap->xcnt;
	memcpy(seen_xip, snap->xip, sizeof(TransactionId) * snap->xcnt);
}

/*
 * Accept the invalidations committed so far, then take the snapshot every
 * load of this statement will use: no entry can be older than an
 * invalidation already consumed.  The snapshot may also see commits whose
 * invalidations were not read yet (sent after this backend last looked, or
 * not even sent: WaitForPendingCommits): wait for those to be sent, accept again,
 * and take a second snapshot; if no transaction completed in between, every
 * commit it sees has had its invalidations read.  Else start over; after a
 * few tries, or after too many commits to look at, return false: the cache
 * must then trust none of its entries (they are all loaded from the new
 * snapshot).
 */
bool
StatementSnapshotTake(uint64 statement)
{
	Snapshot	snap = NULL;
	bool		trusted = true;

	StatementSnapshotRelease();
	snapshot_statement = statement;
	snapshot_lxid = RbacMyLocalXid();
	AcceptInvalidationMessages();
	if (IsInParallelMode())
		return true;			/* no new snapshot may be taken; see StatementSnapshotForRead */
	for (int attempt = 0;; attempt++)
	{
		uint64		completions;
		bool		waited;

		snap = GetLatestSnapshot();
		completions = snap->snapXactCompletionCount;
		waited = WaitForPendingCommits(snap);
		AcceptInvalidationMessages();
		/* while changes may go unseen (a trigger disabled), keep nothing */
		if (!InvalTracking())
			trusted = false;
		snapshot_resets = InvalFullResets();
		snapshot_resource_resets = InvalResourceResets();
		snapshot_sequence = InvalSequence();
		snap = GetLatestSnapshot();
		if (!waited)
		{
			trusted = false;
			break;
		}
		if (snap->snapXactCompletionCount == completions)
			break;
		if (attempt == 2)
		{
			trusted = false;
			break;
		}
	}
	statement_snapshot = RegisterSnapshotOnOwner(snap, TopTransactionResourceOwner);
	RememberSnapshot(statement_snapshot);
	return trusted;
}

bool
StatementSnapshotIsFor(uint64 statement)
{
	return snapshot_statement == statement && snapshot_lxid == RbacMyLocalXid();
}

bool
StatementSnapshotExists(void)
{
	return statement_snapshot != NULL;
}

uint64
StatementSnapshotSequence(void)
{
	return snapshot_sequence;
}

uint64
StatementSnapshotFullResets(void)
{
	return snapshot_resets;
}

uint64
StatementSnapshotResourceResets(void)
{
	return snapshot_resource_resets;
}

/*
 * The snapshot for a read: the statement's, seeing this transaction's own
 * changes up to now.  Parallel mode took none: the query's is used, and
 * StatementSnapshotFallbackUsed() says so.  A worker of a REPEATABLE READ
 * transaction would have only the transaction's (the checks are PARALLEL
 * RESTRICTED: a function declared PARALLEL SAFE brought them here).
 */
Snapshot
StatementSnapshotForRead(void)
{
	if (statement_snapshot == NULL)
	{
		if (IsParallelWorker() && IsolationUsesXactSnapshot())
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("zenml_rbac cannot read the latest catalog in a parallel worker of a REPEATABLE READ or SERIALIZABLE transaction"),
					 errhint("Its functions are PARALLEL RESTRICTED; declare the functions that call them PARALLEL RESTRICTED too.")));
		fallback_used = true;
		return GetActiveSnapshot();
	}
	statement_snapshot->curcid = GetCurrentCommandId(false);
	return statement_snapshot;
}

/* The snapshot for a write, as for a read; there is always one outside parallel mode. */
Snapshot
StatementSnapshotForWrite(void)
{
	if (statement_snapshot == NULL)
		elog(ERROR, "zenml_rbac: catalog change without a statement snapshot");
	statement_snapshot->curcid = GetCurrentCommandId(false);
	return statement_snapshot;
}

bool
StatementSnapshotFallbackUsed(void)
{
	bool		used = fallback_used;

	fallback_used = false;
	return used;
}
