/*
 * visible_entries.c
 *     The next visible entry of an index-only scan, for a read of no column
 *     (count(*)): only whether a row is there, not its values.
 *
 * An index-only scan stores every entry it returns into its slot, through
 * the executor's scan layer (the per-row memory reset, the qual and
 * projection checks) and one more call each row for the node above.  A
 * node that needs none of the values asks the scan's own index scan for the
 * next entry whose row its snapshot sees, with the scan's rules for that:
 * the visibility map, else the heap; the predicate lock the heap fetch
 * would have taken.  It is used on a child that has returned a row in its
 * current scan, so the child has set the scan up itself (its scan keys,
 * run-time keys and rescans stay its own), and only where nothing of the
 * row is read at all: no qual, no projection, no recheck (a B-tree's
 * entries are exact), no instrumentation, no EvalPlanQual.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relscan.h"
#include "access/visibilitymap.h"
#include "catalog/pg_am.h"
#include "miscadmin.h"
#include "storage/predicate.h"
#include "utils/rel.h"

#include "visible_entries.h"

/*
 * Whether a child can be read with NextVisibleEntry once it has returned a
 * row: a B-tree index-only scan that checks nothing more per row.
 */
bool
VisibleEntriesReadable(PlanState *child)
{
	/*
	 * Checked against IndexOnlyNext of 15 to 18: a later major reads through
	 * the child until this file is checked against its own.
	 */
#if PG_VERSION_NUM >= 190000
	return false;
#else
	IndexOnlyScanState *scan;

	if (!IsA(child, IndexOnlyScanState))
		return false;
	scan = (IndexOnlyScanState *) child;
	return scan->ioss_RelationDesc != NULL &&
		scan->ioss_RelationDesc->rd_rel->relam == BTREE_AM_OID &&
		scan->ss.ps.qual == NULL &&
		scan->ss.ps.ps_ProjInfo == NULL &&
		scan->ss.ps.instrument == NULL &&
		scan->ss.ps.state->es_epq_active == NULL &&
		((IndexOnlyScan *) scan->ss.ps.plan)->indexorderby == NIL;
#endif
}

/* Moves the scan to its next entry whose row is visible; false at the end. */
bool
NextVisibleEntry(IndexOnlyScanState *scan)
{
	IndexScanDesc index = scan->ioss_ScanDesc;
	EState	   *estate = scan->ss.ps.state;
	ScanDirection direction = estate->es_direction;
	ItemPointer tid;

	Assert(index != NULL);
	/* a backward plan turns the executor's direction (15: or has none) */
	if (ScanDirectionIsBackward(((IndexOnlyScan *) scan->ss.ps.plan)->indexorderdir))
		direction = (ScanDirection) -direction;
	while ((tid = index_getnext_tid(index, direction)) != NULL)
	{
		BlockNumber block = ItemPointerGetBlockNumber(tid);

		CHECK_FOR_INTERRUPTS();
		/* an exact index: a lossy entry would need the recheck's values */
		if (index->xs_recheck)
			elog(ERROR, "index \"%s\" returned an entry to recheck",
				 RelationGetRelationName(scan->ioss_RelationDesc));
		if (VM_ALL_VISIBLE(index->heapRelation, block, &scan->ioss_VMBuffer))
		{
			/* as PostgreSQL's index-only scan: the page, for the row a heap fetch would lock */
			PredicateLockPage(index->heapRelation, block, estate->es_snapshot);
			return true;
		}
		if (index_fetch_heap(index, scan->ioss_TableSlot))
		{
			ExecClearTuple(scan->ioss_TableSlot);
			/* an MVCC snapshot sees one version of a HOT chain at most */
			if (index->xs_heap_continue)
				elog(ERROR, "non-MVCC snapshots are not supported in index-only scans");
			return true;
		}
	}
	return false;
}
