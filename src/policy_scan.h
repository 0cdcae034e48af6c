/*
 * policy_scan.h
 *     The planner paths of protected tables: one scan per policy arm
 *     (policy_scan.c) and a page's plan chosen when it starts
 *     (policy_page.c).
 */
#ifndef POLICY_SCAN_H
#define POLICY_SCAN_H

#include "nodes/extensible.h"
#include "nodes/pathnodes.h"

/* zenml_rbac.policy_arms: whether the paths are offered. */
extern bool rbac_policy_arms;

/* From _PG_init: the setting, the scans' methods, the planner hook. */
extern void PolicyScanInit(void);
extern void PolicyPageInit(void);

/* Recognizing a policy: its InitPlans' Params, the OR of its arms. */
extern bool IsPolicyParam(PlannerInfo *root, Param *param);
extern RestrictInfo *PolicyOr(PlannerInfo *root, RelOptInfo *rel);

/* A page (ORDER BY ... LIMIT) of a protected table that an index returns in order. */
extern void AddPolicyPagePath(PlannerInfo *root, RelOptInfo *rel, RestrictInfo *or_rinfo);

/* The parts of a node returning its children's rows. */
extern CustomScan *ChildrenScan(RelOptInfo *rel, CustomPath *best_path, List *tlist,
								List *custom_plans, const CustomScanMethods *methods);
extern TupleTableSlot *ProjectChildRow(CustomScanState *node, TupleTableSlot *slot);
extern void ReturnChildSlots(CustomScanState *node);

#endif							/* POLICY_SCAN_H */
