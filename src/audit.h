/*
 * audit.h
 *     The audit log's transaction hooks (audit.c): queued events are
 *     appended to the hash chain at commit.
 */
#ifndef AUDIT_H
#define AUDIT_H

#include "access/xact.h"

extern void AuditXactCallback(XactEvent event, void *arg);
extern void AuditSubXactCallback(SubXactEvent event, SubTransactionId mySubid,
								 SubTransactionId parentSubid, void *arg);

#endif							/* AUDIT_H */
