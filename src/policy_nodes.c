/*
 * policy_nodes.c
 *     What the two planner nodes of protected tables share (policy_scan.c's
 *     arms, policy_page.c's page): recognizing a policy's OR and its
 *     InitPlans, and a CustomScan that hands on its children's rows.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "optimizer/restrictinfo.h"
#include "optimizer/subselect.h"
#include "utils/lsyscache.h"

#include "policy_nodes.h"

/* More arms than the policies have: not worth a scan each. */
#define MAX_ARMS 8

/* ------------------------------------------------------------------------
 * Recognizing a policy
 * ------------------------------------------------------------------------
 */

/* A function the policies call for their arrays: zenml_rbac.rls_*. */
static bool
IsPolicyFunction(Oid funcid)
{
	Oid			schema = get_namespace_oid("zenml_rbac", true);
	char	   *name;

	if (!OidIsValid(schema) || get_func_namespace(funcid) != schema)
		return false;
	name = get_func_name(funcid);
	return name != NULL && strncmp(name, "rls_", 4) == 0;
}

/* Whether the Param is set by an InitPlan `SELECT zenml_rbac.rls_*(...)`. */
bool
IsPolicyParam(PlannerInfo *root, Param *param)
{
	ListCell   *lc;

	if (param->paramkind != PARAM_EXEC)
		return false;
	foreach(lc, root->init_plans)
	{
		SubPlan    *subplan = lfirst_node(SubPlan, lc);
		Plan	   *plan;
		TargetEntry *tle;

		if (!list_member_int(subplan->setParam, param->paramid))
			continue;
		plan = planner_subplan_get_plan(root, subplan);
		if (!IsA(plan, Result) || plan->lefttree != NULL || list_length(plan->targetlist) != 1)
			return false;
		tle = linitial_node(TargetEntry, plan->targetlist);
		return IsA(tle->expr, FuncExpr) && IsPolicyFunction(((FuncExpr *) tle->expr)->funcid);
	}
	return false;
}

static bool
ReadsPolicyParam(Node *node, PlannerInfo *root)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param))
		return IsPolicyParam(root, (Param *) node);
	return expression_tree_walker(node, ReadsPolicyParam, root);
}

/*
 * The restriction to split: an OR reading a policy's InitPlans, whose arms
 * may each be evaluated twice (once as an arm, once negated).
 */
RestrictInfo *
PolicyOr(PlannerInfo *root, RelOptInfo *rel)
{
	ListCell   *lc;

	foreach(lc, rel->baserestrictinfo)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);
		int			narms;

		if (!restriction_is_or_clause(rinfo) || rinfo->pseudoconstant)
			continue;
		narms = list_length(((BoolExpr *) rinfo->orclause)->args);
		if (narms < 2 || narms > MAX_ARMS ||
			contain_volatile_functions((Node *) rinfo->clause) ||
			contain_subplans((Node *) rinfo->clause) ||
			!ReadsPolicyParam((Node *) rinfo->clause, root))
			continue;
		return rinfo;
	}
	return NULL;
}

/* ------------------------------------------------------------------------
 * A node returning its children's rows
 * ------------------------------------------------------------------------
 */

/*
 * The CustomScan of a node returning its children's rows, which enforce every restriction: nothing is left to
 * check here.
 */
CustomScan *
ChildrenScan(RelOptInfo *rel, CustomPath *best_path, List *tlist, List *custom_plans,
			 const CustomScanMethods *methods)
{
	CustomScan *cscan = makeNode(CustomScan);
	List	   *scan_tlist = NIL;
	ListCell   *lc;
	int			resno = 1;

	foreach(lc, ((Path *) linitial(best_path->custom_paths))->pathtarget->exprs)
		scan_tlist = lappend(scan_tlist, makeTargetEntry((Expr *) lfirst(lc), resno++, NULL, false));

	cscan->scan.plan.targetlist = tlist;
	cscan->scan.plan.qual = NIL;
	cscan->scan.scanrelid = 0;
	cscan->flags = best_path->flags;
	/*
	 * Not backwards, even where the children could: PostgreSQL 15.20's btree
	 * scans return wrong rows when a cursor turns around inside a
	 * deduplicated posting list, which the tenant index is full of, while
	 * the planner's own plans of the policy (bitmap or sequential scans)
	 * do not.  A SCROLL cursor gets a Materialize.
	 */
	cscan->custom_plans = custom_plans;
	cscan->custom_scan_tlist = scan_tlist;
	cscan->custom_relids = bms_copy(rel->relids);
	cscan->methods = methods;
	return cscan;
}

/*
 * A child's row through the node's projection: the
 * projection was compiled for the node's own (virtual) scan slot, which
 * needs no deforming; a child's slot may be a heap tuple's.
 */
TupleTableSlot *
ProjectChildRow(CustomScanState *node, TupleTableSlot *slot)
{
	ExprContext *econtext = node->ss.ps.ps_ExprContext;

	if (TupIsNull(slot) || node->ss.ps.ps_ProjInfo == NULL)
		return slot;
	ResetExprContext(econtext);
	slot_getallattrs(slot);
	econtext->ecxt_scantuple = slot;
	return ExecProject(node->ss.ps.ps_ProjInfo);
}

/*
 * The rows come in the children's slots, of whatever kind each child's
 * scan uses: tell the node above not to assume one.
 */
void
ReturnChildSlots(CustomScanState *node)
{
	node->ss.ps.resultopsset = true;
	node->ss.ps.resultopsfixed = false;
	node->ss.ps.resultops = NULL;
}
