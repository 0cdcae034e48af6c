/*
 * policy_nodes.h
 *     What the planner nodes of protected tables share (policy_nodes.c).
 */
#ifndef ZENML_RBAC_POLICY_NODES_H
#define ZENML_RBAC_POLICY_NODES_H

#include "nodes/extensible.h"
#include "nodes/pathnodes.h"

/* Recognizing a policy: its InitPlans' Params, the OR of its arms. */
extern bool IsPolicyParam(PlannerInfo *root, Param *param);
extern RestrictInfo *PolicyOr(PlannerInfo *root, RelOptInfo *rel);

/* The parts of a node returning its children's rows. */
extern CustomScan *ChildrenScan(RelOptInfo *rel, CustomPath *best_path, List *tlist,
								List *custom_plans, const CustomScanMethods *methods);
extern TupleTableSlot *ProjectChildRow(CustomScanState *node, TupleTableSlot *slot);
extern void ReturnChildSlots(CustomScanState *node);

#endif							/* ZENML_RBAC_POLICY_NODES_H */
