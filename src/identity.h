/*
 * identity.h
 *     Who is asking: the principal of the current transaction, the PostgreSQL
 *     role link, and whether the caller acts as the system.
 */
#ifndef IDENTITY_H
#define IDENTITY_H

#include "access/xact.h"

#include "zenml_rbac.h"

/* false when there is none (neither set for the transaction nor linked) */
extern bool CurrentPrincipal(pg_uuid_t *out);
extern void IdentityNoteHoldableCursor(void);
extern void IdentityXactCallback(XactEvent event, void *arg);
extern void IdentitySubXactCallback(SubXactEvent event, SubTransactionId mySubid,
									SubTransactionId parentSubid, void *arg);

#endif							/* IDENTITY_H */
