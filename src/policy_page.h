/*
 * policy_page.h
 *     A page (ORDER BY ... LIMIT) of a protected table, its plan chosen
 *     when it starts (policy_page.c).
 */
#ifndef ZENML_RBAC_POLICY_PAGE_H
#define ZENML_RBAC_POLICY_PAGE_H

#include "nodes/pathnodes.h"

/* From PolicyScanInit: the node's methods. */
extern void PolicyPageInit(void);

/* Offers the page path for the policy's OR, where an index returns the order. */
extern void AddPolicyPagePath(PlannerInfo *root, RelOptInfo *rel, RestrictInfo *or_rinfo);

#endif							/* ZENML_RBAC_POLICY_PAGE_H */
