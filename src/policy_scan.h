/*
 * policy_scan.h
 *     The planner path of protected tables' reads: one scan per policy arm
 *     (policy_scan.c), and with it the page (policy_page.h).
 */
#ifndef POLICY_SCAN_H
#define POLICY_SCAN_H

/* From _PG_init: the setting, the nodes' methods, the planner hook. */
extern void PolicyScanInit(void);

#endif							/* POLICY_SCAN_H */
