/*
 * policy_page.c
 *     A page of a protected table -- ORDER BY ... LIMIT -- read the way
 *     that suits the principal, chosen when the scan starts.
 *
 * Two plans read such a page: a walk of an index in the page's order that
 * stops once LIMIT rows have passed the policy, and a read of every visible
 * row that sorts them.  The walk reads about LIMIT / (visible fraction)
 * rows, the sort every visible row, so which one is cheaper depends on how
 * many rows the principal sees, which the planner cannot know: it assumes
 * 10 elements in each array a policy's InitPlan returns.  A principal in 1
 * of 1,000 tenants sees a tenth of that, and the walk reads 100,000 rows for
 * a page that a sort of its 1,000 returns in a hundredth of the time; a
 * principal with nothing visible walks the whole table.
 *
 * So this node holds both of the planner's plans and, at its first row,
 * once the policy's InitPlans are computed, scales the planner's cost of
 * each by the arrays' real sizes and runs the cheaper one.  Nothing about
 * the principal is decided when planning: a cached plan chooses again at
 * each execution.  Only for a query of this one table (the LIMIT is on its
 * rows), and only where both plans are enabled.
 */
#include "postgres.h"

#include "executor/executor.h"
#include "executor/nodeSubplan.h"
#include "nodes/extensible.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "utils/array.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#if PG_VERSION_NUM >= 180000
#include "commands/explain_format.h"
#else
#include "commands/explain.h"
#endif

#include "compat.h"
#include "policy_nodes.h"
#include "policy_page.h"

/*
 * How many elements the planner assumes in an array it cannot see
 * (scalararraysel's guess for a Param): the estimates scale from it.
 */
#define PLANNED_ARRAY_LENGTH 10.0

/*
 * The page path's cost is that of the plan the planner would pick, a little
 * less: it must win against that plan, which it contains, in add_path's
 * fuzzy comparison (1%).
 */
#define PAGE_PREFERENCE 0.98

/* Arrays up to this long have their distinct values counted (see ArrayLength). */
#define SHORT_ARRAY 16

static Plan *PlanPage(PlannerInfo *root, RelOptInfo *rel, CustomPath *best_path,
					  List *tlist, List *clauses, List *custom_plans);
static Node *CreatePageState(CustomScan *cscan);
static void BeginPage(CustomScanState *node, EState *estate, int eflags);
static TupleTableSlot *ExecPage(CustomScanState *node);
static void EndPage(CustomScanState *node);
static void ReScanPage(CustomScanState *node);
static void ExplainPage(CustomScanState *node, List *ancestors, ExplainState *es);

static const CustomPathMethods page_path_methods = {
	.CustomName = "ZenmlRbacPolicyPage",
	.PlanCustomPath = PlanPage,
};

static const CustomScanMethods page_scan_methods = {
	.CustomName = "ZenmlRbacPolicyPage",
	.CreateCustomScanState = CreatePageState,
};

static const CustomExecMethods page_exec_methods = {
	.CustomName = "ZenmlRbacPolicyPage",
	.BeginCustomScan = BeginPage,
	.ExecCustomScan = ExecPage,
	.EndCustomScan = EndPage,
	.ReScanCustomScan = ReScanPage,
	.ExplainCustomScan = ExplainPage,
};

/*
 * What the choice needs, planned: the first child is the walk, the second
 * the sort.  Kept in custom_private as a list of Floats and, per arm of the
 * policy's OR, its selectivity and the Params of the arrays it tests.
 */
enum
{
	FACT_LIMIT,					/* rows the page needs (LIMIT + OFFSET) */
	FACT_WALK_STARTUP,
	FACT_WALK_TOTAL,
	FACT_WALK_ROWS,				/* the visible rows the planner expects */
	FACT_SORT_TOTAL,
	FACT_MAX_RATIO,				/* the table's rows / those visible */
	FACT_SORT_BOUND,			/* rows the LIMIT takes for sure, or -1 */
	N_FACTS
};

typedef struct PageState
{
	CustomScanState css;
	double		facts[N_FACTS];
	List	   *arms;			/* per arm: list (Float selectivity, IntList paramids) */
	int			eflags;
	PlanState  *chosen;			/* NULL until the first row */
	bool		chose_walk;
} PageState;

/* ------------------------------------------------------------------------
 * Planning
 * ------------------------------------------------------------------------
 */

static Node *
FloatFact(double value)
{
	return (Node *) makeFloat(psprintf("%.17g", value));
}

/* Collect the paramids of the policy arrays an arm tests with = ANY. */
static bool
ArrayParams(Node *node, void *context)
{
	void	  **args = (void **) context;
	PlannerInfo *root = args[0];
	List	  **paramids = args[1];

	if (node == NULL)
		return false;
	if (IsA(node, ScalarArrayOpExpr) && ((ScalarArrayOpExpr *) node)->useOr)
	{
		Node	   *array = strip_implicit_coercions(lsecond(((ScalarArrayOpExpr *) node)->args));

		if (IsA(array, Param) && IsPolicyParam(root, (Param *) array))
			*paramids = list_append_unique_int(*paramids, ((Param *) array)->paramid);
	}
	return expression_tree_walker(node, ArrayParams, context);
}

static List *
ArmFacts(PlannerInfo *root, RelOptInfo *rel, RestrictInfo *or_rinfo)
{
	List	   *arms = NIL;
	ListCell   *lc;

	/*
	 * The plain clause's arms for the walk (the walker does not enter
	 * RestrictInfos), the RestrictInfos' for the selectivity (computed for
	 * the OR already, and kept).
	 */
	foreach(lc, ((BoolExpr *) or_rinfo->orclause)->args)
	{
		List	   *paramids = NIL;
		void	   *args[2] = {root, &paramids};
		Selectivity selectivity;

		(void) ArrayParams(list_nth(((BoolExpr *) or_rinfo->clause)->args, foreach_current_index(lc)), args);
		selectivity = clause_selectivity(root, lfirst(lc), rel->relid, JOIN_INNER, NULL);
		arms = lappend(arms, lappend(list_make1(FloatFact(selectivity)), paramids));
	}
	return arms;
}

/* The planner's cost of the first `rows` rows of a path (create_limit_path's). */
static Cost
PageCost(Path *path, double rows)
{
	if (path->rows <= rows)
		return path->total_cost;
	return path->startup_cost + (path->total_cost - path->startup_cost) * rows / path->rows;
}

/*
 * A copy of a scan path of the table: add_path frees a path it drops (all
 * but index paths), and the new path would drop the planner's sort input
 * whenever it costs no more.
 */
static Path *
CopyScanPath(Path *path)
{
	Size		size;
	Path	   *copy;

	switch (nodeTag(path))
	{
		case T_Path:
			size = sizeof(Path);
			break;
		case T_IndexPath:
			size = sizeof(IndexPath);
			break;
		case T_BitmapHeapPath:
			size = sizeof(BitmapHeapPath);
			break;
		default:
			return NULL;
	}
	copy = palloc(size);
	memcpy(copy, path, size);
	return copy;
}

/* Whether every sort key is a column the table's scans return. */
static bool
SortKeysInTarget(PlannerInfo *root, RelOptInfo *rel)
{
	ListCell   *lc;

	foreach(lc, root->query_pathkeys)
	{
		EquivalenceClass *ec = ((PathKey *) lfirst(lc))->pk_eclass;
		ListCell   *lm;
		bool		found = false;

		foreach(lm, ec->ec_members)
		{
			EquivalenceMember *em = lfirst(lm);

			if (bms_equal(em->em_relids, rel->relids) &&
				list_member(rel->reltarget->exprs, em->em_expr))
				found = true;
		}
		if (!found)
			return false;
	}
	return true;
}

/*
 * Whether the LIMIT (and OFFSET) are constants and take that many rows:
 * then the sort may keep only those.  limit_tuples is the planner's
 * estimate, from a stable expression's value when planning, or for WITH
 * TIES, which reads past it.
 */
static bool
FixedLimit(Query *parse)
{
	return parse->limitOption == LIMIT_OPTION_COUNT &&
		parse->limitCount != NULL && IsA(parse->limitCount, Const) &&
		(parse->limitOffset == NULL || IsA(parse->limitOffset, Const));
}

void
AddPolicyPagePath(PlannerInfo *root, RelOptInfo *rel, RestrictInfo *or_rinfo)
{
	double		limit = root->limit_tuples;
	Path	   *walk = NULL;
	Path	   *unordered = NULL;
	Path	   *sorted;
	Path	   *preferred;
	CustomPath *page;
	double		facts[N_FACTS];
	List	   *fact_list = NIL;
	ListCell   *lc;

	if (rel->reloptkind != RELOPT_BASEREL || !bms_equal(root->all_baserels, rel->relids) ||
		limit <= 0 || !SortKeysInTarget(root, rel))
		return;
	foreach(lc, rel->pathlist)
	{
		Path	   *path = (Path *) lfirst(lc);

		if (path->param_info != NULL)
			continue;
		if (pathkeys_contained_in(root->query_pathkeys, path->pathkeys))
		{
			if (walk == NULL || PageCost(path, limit) < PageCost(walk, limit))
				walk = path;
		}
		else if (unordered == NULL || path->total_cost < unordered->total_cost)
			unordered = path;
	}
	if (walk == NULL || unordered == NULL)
		return;
	walk = CopyScanPath(walk);
	unordered = CopyScanPath(unordered);
	if (walk == NULL || unordered == NULL)
		return;
	sorted = (Path *) create_sort_path(root, rel, unordered, root->query_pathkeys, limit);
	if (RbacPathDisabled(walk) || RbacPathDisabled(sorted))
		return;
	preferred = PageCost(walk, limit) <= sorted->total_cost ? walk : sorted;

	page = makeNode(CustomPath);
	page->path.pathtype = T_CustomScan;
	page->path.parent = rel;
	page->path.pathtarget = rel->reltarget;
	page->path.rows = rel->rows;
	page->path.pathkeys = root->query_pathkeys;
	page->path.startup_cost = preferred->startup_cost * PAGE_PREFERENCE;
	page->path.total_cost = preferred->total_cost * PAGE_PREFERENCE;
	page->flags = CUSTOMPATH_SUPPORT_PROJECTION;
	page->methods = &page_path_methods;
	page->custom_paths = lappend(list_make1(walk), sorted);
	facts[FACT_LIMIT] = limit;
	facts[FACT_WALK_STARTUP] = walk->startup_cost;
	facts[FACT_WALK_TOTAL] = walk->total_cost;
	facts[FACT_WALK_ROWS] = Max(walk->rows, 1);
	facts[FACT_SORT_TOTAL] = sorted->total_cost;
	facts[FACT_MAX_RATIO] = Max(rel->tuples, 1) / Max(walk->rows, 1);
	facts[FACT_SORT_BOUND] = FixedLimit(root->parse) ? limit : -1;
	for (int i = 0; i < N_FACTS; i++)
		fact_list = lappend(fact_list, FloatFact(facts[i]));
	page->custom_private = lappend(list_make1(fact_list), ArmFacts(root, rel, or_rinfo));
	add_path(rel, &page->path);
}

static Plan *
PlanPage(PlannerInfo *root, RelOptInfo *rel, CustomPath *best_path,
		 List *tlist, List *clauses, List *custom_plans)
{
	CustomScan *cscan = ChildrenScan(rel, best_path, tlist, custom_plans, &page_scan_methods);

	cscan->custom_private = best_path->custom_private;
	return &cscan->scan.plan;
}

/* ------------------------------------------------------------------------
 * Execution: the choice, then the chosen child's rows
 * ------------------------------------------------------------------------
 */

static Node *
CreatePageState(CustomScan *cscan)
{
	PageState  *state = (PageState *) newNode(sizeof(PageState), T_CustomScanState);

	state->css.methods = &page_exec_methods;
	return (Node *) state;
}

static void
BeginPage(CustomScanState *node, EState *estate, int eflags)
{
	PageState  *state = (PageState *) node;
	CustomScan *cscan = (CustomScan *) node->ss.ps.plan;
	ListCell   *lc;

	foreach(lc, (List *) linitial(cscan->custom_private))
		state->facts[foreach_current_index(lc)] = floatVal(lfirst(lc));
	state->arms = lsecond(cscan->custom_private);
	state->eflags = eflags;
	/* a plain EXPLAIN shows both plans; a run starts only the chosen one */
	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		foreach(lc, cscan->custom_plans)
			node->custom_ps = lappend(node->custom_ps, ExecInitNode(lfirst(lc), estate, eflags));
	if (node->ss.ps.ps_ProjInfo == NULL)
		ReturnChildSlots(node);
}

/*
 * The number of values in a policy array, computing its InitPlan now.  The
 * policy functions pad a short array with repeats (protect.c): distinct
 * values are counted in one that short.
 */
static double
ArrayLength(ExprContext *econtext, int paramid)
{
	ParamExecData *prm = &econtext->ecxt_param_exec_vals[paramid];
	ArrayType  *array;
	int			n;
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *items;
	bool	   *nulls;
	int			distinct = 0;

	if (prm->execPlan != NULL)
		ExecSetParamPlan(prm->execPlan, econtext);
	if (prm->isnull)
		return 0;
	array = DatumGetArrayTypeP(prm->value);
	n = ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array));
	if (n > SHORT_ARRAY)
		return n;
	get_typlenbyvalalign(ARR_ELEMTYPE(array), &typlen, &typbyval, &typalign);
	deconstruct_array(array, ARR_ELEMTYPE(array), typlen, typbyval, typalign, &items, &nulls, &n);
	for (int i = 0; i < n; i++)
	{
		bool		seen = nulls[i];

		for (int j = 0; j < i && !seen; j++)
			seen = !nulls[j] && datumIsEqual(items[i], items[j], typbyval, typlen);
		distinct += !seen;
	}
	return distinct;
}

/*
 * The visible rows over the planner's estimate: each arm's selectivity
 * scaled by its smallest array (the arms are nearly disjoint, an arm's
 * conditions are ANDed).
 */
static double
VisibleRatio(PageState *state)
{
	ExprContext *econtext = state->css.ss.ps.ps_ExprContext;
	double		planned = 0;
	double		actual = 0;
	ListCell   *lc;

	foreach(lc, state->arms)
	{
		List	   *arm = lfirst(lc);
		double		selectivity = floatVal(linitial(arm));
		double		scale = -1;
		ListCell   *lp;

		foreach(lp, (List *) lsecond(arm))
		{
			double		length = ArrayLength(econtext, lfirst_int(lp)) / PLANNED_ARRAY_LENGTH;

			scale = scale < 0 ? length : Min(scale, length);
		}
		if (scale < 0)
			scale = 1;
		planned += selectivity;
		actual += selectivity * scale;
	}
	if (planned <= 0)
		return 1;
	return Min(actual / planned, state->facts[FACT_MAX_RATIO]);
}

/*
 * Whether to walk the index.  The walk reads rows until LIMIT have passed,
 * so its cost grows as fewer are visible, up to reading the whole index;
 * the sort's shrinks with them.
 */
static bool
Choose(PageState *state)
{
	double	   *f = state->facts;
	double		ratio = VisibleRatio(state);
	double		walk_rows = Max(f[FACT_WALK_ROWS] * ratio, 1);
	double		walk = f[FACT_WALK_STARTUP] + (f[FACT_WALK_TOTAL] - f[FACT_WALK_STARTUP]) *
		Min(1, f[FACT_LIMIT] / walk_rows);
	double		sort = f[FACT_SORT_TOTAL] * ratio;

	return walk <= sort;
}

/*
 * Starts the chosen plan, in the query's memory (the first row may be asked
 * for in a per-row context, as a subquery's is).
 */
static void
StartChosen(PageState *state)
{
	CustomScan *cscan = (CustomScan *) state->css.ss.ps.plan;
	EState	   *estate = state->css.ss.ps.state;
	MemoryContext old = MemoryContextSwitchTo(estate->es_query_cxt);

	state->chose_walk = Choose(state);
	state->chosen = ExecInitNode(state->chose_walk ? linitial(cscan->custom_plans) :
								 lsecond(cscan->custom_plans), estate, state->eflags);
	state->css.custom_ps = list_make1(state->chosen);
	/* the LIMIT above cannot tell the sort how many rows it needs: tell it here */
	if (!state->chose_walk && state->facts[FACT_SORT_BOUND] >= 0)
		ExecSetTupleBound((int64) state->facts[FACT_SORT_BOUND], state->chosen);
	MemoryContextSwitchTo(old);
}

static TupleTableSlot *
ExecPage(CustomScanState *node)
{
	PageState  *state = (PageState *) node;

	if (state->chosen == NULL)
		StartChosen(state);
	return ProjectChildRow(node, ExecProcNode(state->chosen));
}

static void
EndPage(CustomScanState *node)
{
	ListCell   *lc;

	foreach(lc, node->custom_ps)
		ExecEndNode(lfirst(lc));
}

/* The choice stands: the arrays are the query's InitPlans, computed once. */
static void
ReScanPage(CustomScanState *node)
{
	PlanState  *chosen = ((PageState *) node)->chosen;

	if (chosen == NULL)
		return;
	if (node->ss.ps.chgParam != NULL)
		UpdateChangedParamSet(chosen, node->ss.ps.chgParam);
	if (chosen->chgParam == NULL)
		ExecReScan(chosen);
}

static void
ExplainPage(CustomScanState *node, List *ancestors, ExplainState *es)
{
	PageState  *state = (PageState *) node;

	if (state->chosen != NULL)
		ExplainPropertyText("Page Read", state->chose_walk ? "in index order" : "sorted", es);
}

void
PolicyPageInit(void)
{
	RegisterCustomScanMethods(&page_scan_methods);
}
