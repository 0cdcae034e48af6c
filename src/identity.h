/*
 * identity.h
 *     Who is asking: the principal of the current transaction, the PostgreSQL
 *     role link, and whether the caller acts as the system.
 */
#ifndef IDENTITY_H
#define IDENTITY_H

#include "access/xact.h"

#include "uuids.h"

/* false when there is none (neither set for the transaction nor linked) */
extern bool CurrentPrincipal(pg_uuid_t *out);
extern void IdentityNoteHoldableCursor(void);

/* 42501 naming `what` unless the caller is the system (superuser or extension owner). */
extern void RequireSystem(const char *what);
extern void IdentityXactCallback(XactEvent event, void *arg);
extern void IdentityPreCommit(void);
extern void IdentitySubXactCallback(SubXactEvent event, SubTransactionId mySubid,
									SubTransactionId parentSubid, void *arg);

#endif							/* IDENTITY_H */
