/*
 * policy_scan.h
 *     The planner path reading protected tables one scan per policy arm.
 */
#ifndef POLICY_SCAN_H
#define POLICY_SCAN_H

/* zenml_rbac.policy_arms: whether the path is offered. */
extern bool rbac_policy_arms;

/* From _PG_init: the setting, the scan's methods, the planner hook. */
extern void PolicyScanInit(void);

#endif							/* POLICY_SCAN_H */
