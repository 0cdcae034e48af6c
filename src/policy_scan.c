/*
 * policy_scan.c
 *     A planner path for reading protected tables: the OR of a SELECT
 *     policy (a tenant the principal's roles reach, or an owned or shared
 *     instance, or an own row) run as one ordinary scan per arm, so each arm
 *     gets the index its condition can use -- the tenant arm the index-only
 *     scan the table owner's own query gets.
 *
 * PostgreSQL serves an OR of conditions on different columns only with a
 * BitmapOr, which reads the heap for every row, and it gives no index-only
 * scan to a table whose restrictions name a column outside the index.  A
 * policy can only add conditions; the plan shape is the planner's.  So
 * set_rel_pathlist_hook offers, next to the planner's own paths, a
 * CustomScan whose child k reads the rows satisfying arm k and no earlier
 * arm (`(arm j) IS NOT TRUE`), with every other restriction of the table:
 * each row comes from exactly one child, the first arm it satisfies, so the
 * union is the OR, without duplicates and whatever the ids.
 *
 * Nothing about the principal is decided when planning: the arms read the
 * policy's InitPlans, computed at each execution as before, and an arm
 * whose array is NULL (no shares) scans nothing.  So cached plans, cursors
 * and every plan kind behave as with the planner's own paths.  The planner
 * picks the path only when it costs less (not for a point lookup).  It is
 * not offered for anything but plain reads (no result relation, no row
 * marks: those keep EvalPlanQual's usual paths); an ORDER BY ... LIMIT an
 * index returns in order gets policy_page.c's node instead.
 */
#include "postgres.h"

#include "access/table.h"
#include "access/visibilitymap.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/extensible.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "optimizer/restrictinfo.h"
#include "optimizer/tlist.h"
#include "storage/bufmgr.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "compat.h"
#include "policy_nodes.h"
#include "policy_page.h"
#include "policy_scan.h"
#include "visible_entries.h"

/* zenml_rbac.policy_arms: whether the paths are offered. */
static bool policy_arms = true;

/*
 * Fewer rows than this expected: the planner's own plan reads about as much
 * as one child would, and building the children would only cost planning
 * time (a point lookup plans as before).
 */
#define MIN_ROWS 10

/* 16 pages of visibility map at the default block size, 4 GB of heap. */
#define MAX_COUNTED_HEAP_PAGES ((BlockNumber) 524288)

static set_rel_pathlist_hook_type prev_set_rel_pathlist = NULL;

static Plan *PlanArms(PlannerInfo *root, RelOptInfo *rel, CustomPath *best_path,
					  List *tlist, List *clauses, List *custom_plans);
static Node *CreateArmsState(CustomScan *cscan);
static void BeginArms(CustomScanState *node, EState *estate, int eflags);
static TupleTableSlot *ExecArms(CustomScanState *node);
static void EndArms(CustomScanState *node);
static void ReScanArms(CustomScanState *node);

static const CustomPathMethods arms_path_methods = {
	.CustomName = "ZenmlRbacPolicyArms",
	.PlanCustomPath = PlanArms,
};

static const CustomScanMethods arms_scan_methods = {
	.CustomName = "ZenmlRbacPolicyArms",
	.CreateCustomScanState = CreateArmsState,
};

static const CustomExecMethods arms_exec_methods = {
	.CustomName = "ZenmlRbacPolicyArms",
	.BeginCustomScan = BeginArms,
	.ExecCustomScan = ExecArms,
	.EndCustomScan = EndArms,
	.ReScanCustomScan = ReScanArms,
};

typedef struct ArmsState
{
	CustomScanState css;
	int			nchildren;
	int			current;		/* the child being read */
	PlanState **children;
	bool	   *entries_readable;	/* NextVisibleEntry may read the child */
	bool		reading_entries;	/* and is reading the current child */
} ArmsState;

/* ------------------------------------------------------------------------
 * Planning
 * ------------------------------------------------------------------------
 */

/* The restrictions of child `arm`: the arm, no earlier arm, the others. */
static List *
ArmClauses(PlannerInfo *root, RelOptInfo *rel, RestrictInfo *or_rinfo, int arm)
{
	Node	   *arm_node = list_nth(((BoolExpr *) or_rinfo->orclause)->args, arm);
	List	   *clauses;
	List	   *arm_exprs;
	ListCell   *lc;

	if (is_andclause(arm_node))
		clauses = list_copy(((BoolExpr *) arm_node)->args);
	else
		clauses = list_make1(arm_node);
	arm_exprs = get_actual_clauses(clauses);

	for (int j = 0; j < arm; j++)
	{
		BooleanTest *not_true = makeNode(BooleanTest);

		not_true->arg = (Expr *) list_nth(((BoolExpr *) or_rinfo->clause)->args, j);
		not_true->booltesttype = IS_NOT_TRUE;
		not_true->location = -1;
		clauses = lappend(clauses, RbacMakeRestrictInfo(root, (Expr *) not_true,
														or_rinfo->security_level,
														rel->relids));
	}

	/*
	 * Pseudoconstant restrictions stay with the parent: the planner gates the
	 * whole scan on them once.
	 */
	foreach(lc, rel->baserestrictinfo)
	{
		RestrictInfo *other = lfirst_node(RestrictInfo, lc);

		if (other == or_rinfo || other->pseudoconstant)
			continue;
		if (!predicate_implied_by(list_make1(other->clause), arm_exprs, false))
			clauses = lappend(clauses, other);
	}
	return clauses;
}

/*
 * The fraction of the table's heap pages all-visible now.  The planner uses
 * the last VACUUM's (pg_class.relallvisible), which a table written faster
 * than VACUUM runs outdates within seconds, and then picks index-only scans
 * that fetch the heap for most rows.  The arms' children are costed with the
 * visibility map's own count: on such a table they get bitmap scans.  A map
 * of more than MAX_COUNTED_HEAP_PAGES heap pages is not read when planning.
 */
static double
AllVisibleFraction(RelOptInfo *rel, RangeTblEntry *rte)
{
	Relation	relation = table_open(rte->relid, NoLock);
	BlockNumber pages = RelationGetNumberOfBlocks(relation);
	BlockNumber all_visible;
	double		fraction = rel->allvisfrac;

	if (pages > 0 && pages <= MAX_COUNTED_HEAP_PAGES)
	{
		visibilitymap_count(relation, &all_visible, NULL);
		fraction = Min(1.0, (double) all_visible / pages);
	}
	table_close(relation, NoLock);
	return fraction;
}

/*
 * A copy of the table's RelOptInfo restricted to one arm, with the paths the
 * planner finds for it (a sequential scan and every index path).
 */
static RelOptInfo *
ArmRel(PlannerInfo *root, RelOptInfo *rel, List *clauses, double allvisfrac)
{
	RelOptInfo *child = makeNode(RelOptInfo);
	ListCell   *lc;

	memcpy(child, rel, sizeof(RelOptInfo));
	child->baserestrictinfo = clauses;
	child->baserestrict_min_security = UINT_MAX;
	foreach(lc, clauses)
		child->baserestrict_min_security = Min(child->baserestrict_min_security,
											   lfirst_node(RestrictInfo, lc)->security_level);
	child->reltarget = copy_pathtarget(rel->reltarget);
	child->allvisfrac = allvisfrac;
	child->pathlist = NIL;
	child->partial_pathlist = NIL;
	child->cheapest_startup_path = NULL;
	child->cheapest_total_path = NULL;
	child->cheapest_parameterized_paths = NIL;
	child->cheapest_unique_path = NULL;
	child->consider_parallel = false;
	child->indexlist = NIL;
	foreach(lc, rel->indexlist)
	{
		IndexOptInfo *index = makeNode(IndexOptInfo);

		memcpy(index, lfirst(lc), sizeof(IndexOptInfo));
		index->rel = child;
		child->indexlist = lappend(child->indexlist, index);
	}

	check_index_predicates(root, child);
	set_baserel_size_estimates(root, child);
	add_path(child, create_seqscan_path(root, child, NULL, 0));
	create_index_paths(root, child);
	set_cheapest(child);
	return child;
}

/*
 * A page -- ORDER BY ... LIMIT -- that one of the planner's paths already
 * returns in order.  The union is unordered: it would read and sort every
 * visible row, which pays only when few are visible, and then the
 * planner's BitmapOr and a sort read the same rows.  Building the children
 * would only cost planning time (a third of a 100-row page's); such a page
 * gets policy_page.c's choice between the planner's two plans instead.
 */
static bool
OrderedPage(PlannerInfo *root, RelOptInfo *rel)
{
	ListCell   *lc;

	if (root->limit_tuples < 0 || root->query_pathkeys == NIL)
		return false;
	foreach(lc, rel->pathlist)
	{
		Path	   *path = (Path *) lfirst(lc);

		if (path->param_info == NULL && pathkeys_contained_in(root->query_pathkeys, path->pathkeys))
			return true;
	}
	return false;
}

static void
AddArmsPath(PlannerInfo *root, RelOptInfo *rel, Index rti, RangeTblEntry *rte)
{
	RestrictInfo *or_rinfo;
	CustomPath *cpath;
	double		allvisfrac;
	int			narms;

	/* A table read directly or as a UNION ALL member, not as an inheritance parent. */
	if ((rel->reloptkind != RELOPT_BASEREL && rel->reloptkind != RELOPT_OTHER_MEMBER_REL) ||
		rte->rtekind != RTE_RELATION ||
		rte->relkind != RELKIND_RELATION || rte->securityQuals == NIL ||
		rte->inh || rte->tablesample != NULL || rel->lateral_relids != NULL ||
		rel->indexlist == NIL || rel->rows < MIN_ROWS ||
		root->parse->commandType != CMD_SELECT || root->rowMarks != NIL)
		return;
	or_rinfo = PolicyOr(root, rel);
	if (or_rinfo == NULL)
		return;
	if (OrderedPage(root, rel))
	{
		AddPolicyPagePath(root, rel, or_rinfo);
		return;
	}

	cpath = makeNode(CustomPath);
	cpath->path.pathtype = T_CustomScan;
	cpath->path.parent = rel;
	cpath->path.pathtarget = rel->reltarget;
	cpath->path.rows = rel->rows;
	cpath->flags = CUSTOMPATH_SUPPORT_PROJECTION;
	cpath->methods = &arms_path_methods;

	allvisfrac = AllVisibleFraction(rel, rte);
	narms = list_length(((BoolExpr *) or_rinfo->orclause)->args);
	for (int arm = 0; arm < narms; arm++)
	{
		RelOptInfo *child = ArmRel(root, rel, ArmClauses(root, rel, or_rinfo, arm), allvisfrac);
		Path	   *best = child->cheapest_total_path;

		if (best == NULL || best->param_info != NULL)
			return;
		if (arm == 0)
			cpath->path.startup_cost = best->startup_cost;
		cpath->path.total_cost += best->total_cost;
		RbacAddDisabledNodes(&cpath->path, best);
		cpath->custom_paths = lappend(cpath->custom_paths, best);
	}
	add_path(rel, &cpath->path);
}

static void
PolicyScanSetRelPathlist(PlannerInfo *root, RelOptInfo *rel, Index rti, RangeTblEntry *rte)
{
	if (prev_set_rel_pathlist)
		prev_set_rel_pathlist(root, rel, rti, rte);
	if (policy_arms)
		AddArmsPath(root, rel, rti, rte);
}

/*
 * The children return their own target (the table's as it was when they
 * were planned), exactly and in order, all alike; the node's own target list
 * -- which may project, and may be the query's final target the planner gave
 * the rel since -- is computed from it.
 */
static Plan *
PlanArms(PlannerInfo *root, RelOptInfo *rel, CustomPath *best_path,
		 List *tlist, List *clauses, List *custom_plans)
{
	return &ChildrenScan(rel, best_path, tlist, custom_plans, &arms_scan_methods)->scan.plan;
}

/* ------------------------------------------------------------------------
 * Execution: the children one after the other
 * ------------------------------------------------------------------------
 */

static Node *
CreateArmsState(CustomScan *cscan)
{
	ArmsState  *state = (ArmsState *) newNode(sizeof(ArmsState), T_CustomScanState);

	state->css.methods = &arms_exec_methods;
	return (Node *) state;
}

/* Next row of the current child, moving on when it is done. */
static pg_attribute_always_inline TupleTableSlot *
NextChildRow(ArmsState *state)
{
	while (state->current < state->nchildren)
	{
		TupleTableSlot *slot = ExecProcNode(state->children[state->current]);

		if (!TupIsNull(slot))
			return slot;
		state->current++;
	}
	return NULL;
}

/*
 * Without a projection the children's rows are returned as they are: one
 * call per row between the node above and the child, as in the owner's plan.
 */
static TupleTableSlot *
ExecArmsPassThrough(PlanState *pstate)
{
	return NextChildRow((ArmsState *) pstate);
}

/*
 * A read of no column (count(*)): the children skip forming their
 * empty rows, and the node answers each of theirs with its own empty row.
 * An index-only child that checks nothing per row is read, past its first
 * row of each scan, for its visible entries alone (visible_entries.c).
 */
static TupleTableSlot *
ExecArmsNoColumns(PlanState *pstate)
{
	ArmsState  *state = (ArmsState *) pstate;
	TupleTableSlot *result = pstate->ps_ResultTupleSlot;

	while (state->current < state->nchildren)
	{
		PlanState  *child = state->children[state->current];
		bool		found;

		/*
		 * An index-only child's first row of each scan comes through the
		 * child, which sets its scan up; the rest, from its index directly.
		 */
		if (state->reading_entries)
			found = NextVisibleEntry((IndexOnlyScanState *) child);
		else
		{
			TupleTableSlot *slot = ExecProcNode(child);

			found = !TupIsNull(slot);
			state->reading_entries = found && state->entries_readable[state->current];
		}
		if (found)
		{
			/* the same empty row every time: stored once, unless cleared above */
			if (TTS_EMPTY(result))
				ExecStoreVirtualTuple(result);
			return result;
		}
		state->current++;
		state->reading_entries = false;
	}
	return NULL;
}

static TupleTableSlot *
ExecArms(CustomScanState *node)
{
	CHECK_FOR_INTERRUPTS();
	return ProjectChildRow(node, NextChildRow((ArmsState *) node));
}

static void
BeginArms(CustomScanState *node, EState *estate, int eflags)
{
	ArmsState  *state = (ArmsState *) node;
	CustomScan *cscan = (CustomScan *) node->ss.ps.plan;
	ListCell   *lc;

	state->nchildren = list_length(cscan->custom_plans);
	state->children = palloc(sizeof(PlanState *) * state->nchildren);
	state->current = 0;
	foreach(lc, cscan->custom_plans)
	{
		PlanState  *child = ExecInitNode((Plan *) lfirst(lc), estate, eflags);

		node->custom_ps = lappend(node->custom_ps, child);
		state->children[foreach_current_index(lc)] = child;
	}

	if (cscan->custom_scan_tlist == NIL && node->ss.ps.ps_ProjInfo == NULL)
	{
		/*
		 * An index-only scan reads its projection from the state at each
		 * row (ExecScan): without one it returns the index tuple as is.
		 */
		state->entries_readable = palloc(sizeof(bool) * state->nchildren);
		for (int i = 0; i < state->nchildren; i++)
		{
			if (IsA(state->children[i], IndexOnlyScanState))
				state->children[i]->ps_ProjInfo = NULL;
			state->entries_readable[i] = VisibleEntriesReadable(state->children[i]);
		}
		state->reading_entries = false;
		node->ss.ps.ExecProcNode = ExecArmsNoColumns;
	}
	else if (node->ss.ps.ps_ProjInfo == NULL)
	{
		ReturnChildSlots(node);
		node->ss.ps.ExecProcNode = ExecArmsPassThrough;
	}
}

static void
EndArms(CustomScanState *node)
{
	ArmsState  *state = (ArmsState *) node;

	for (int i = 0; i < state->nchildren; i++)
		ExecEndNode(state->children[i]);
}

static void
ReScanArms(CustomScanState *node)
{
	ArmsState  *state = (ArmsState *) node;

	for (int i = 0; i < state->nchildren; i++)
	{
		PlanState  *child = state->children[i];

		if (node->ss.ps.chgParam != NULL)
			UpdateChangedParamSet(child, node->ss.ps.chgParam);
		/* A child with changed parameters is rescanned by its next ExecProcNode. */
		if (child->chgParam == NULL)
			ExecReScan(child);
	}
	state->current = 0;
	state->reading_entries = false;
}

/* ------------------------------------------------------------------------
 * Registration
 * ------------------------------------------------------------------------
 */

void
PolicyScanInit(void)
{
	DefineCustomBoolVariable("zenml_rbac.policy_arms",
							 "Lets the planner read a protected table with one scan per arm of its SELECT policy, and a page of it with the plan chosen when it starts.",
							 "Off leaves the planner its own paths only (a BitmapOr for the policy's OR).",
							 &policy_arms,
							 true,
							 PGC_USERSET, 0,
							 NULL, NULL, NULL);
	RegisterCustomScanMethods(&arms_scan_methods);
	PolicyPageInit();
	prev_set_rel_pathlist = set_rel_pathlist_hook;
	set_rel_pathlist_hook = PolicyScanSetRelPathlist;
}

PG_FUNCTION_INFO_V1(policy_planner_support);

/*
 * _policy_planner_support(internal) returns internal: the planner support
 * function of the policies' array functions.  The planner calls it while it
 * simplifies a policy's InitPlan, before it plans the table: so the library,
 * and with it the path above, is loaded in time for a backend's first query.
 * It answers no request.
 */
Datum
policy_planner_support(PG_FUNCTION_ARGS)
{
	PG_RETURN_POINTER(NULL);
}
