/*
 * audit.h
 *     The audit log's transaction hooks and the denial log line.
 */
#ifndef AUDIT_H
#define AUDIT_H

#include "access/xact.h"

/* zenml_rbac.log_denials */
extern bool rbac_log_denials;
extern int	rbac_log_denials_per_statement;

extern void AuditXactCallback(XactEvent event, void *arg);
extern void AuditSubXactCallback(SubXactEvent event, SubTransactionId mySubid,
								 SubTransactionId parentSubid, void *arg);

/* A LOG line for a denied check; strings may be NULL ("-"). */
extern void AuditLogDenial(const char *check, const char *principal, const char *tenant,
						   const char *resource, const char *action);

/* A LOG line for a refused token: why, and whose it claimed to be. */
extern void AuditLogTokenRefusal(const char *reason, const char *issuer, const char *subject);

#endif							/* AUDIT_H */
