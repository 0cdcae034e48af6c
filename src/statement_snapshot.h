/*
 * statement_snapshot.h
 *     The snapshot of a top-level statement's catalog reads
 *     (statement_snapshot.c), and the invalidation counts it was taken at.
 */
#ifndef ZENML_RBAC_STATEMENT_SNAPSHOT_H
#define ZENML_RBAC_STATEMENT_SNAPSHOT_H

#include "utils/snapshot.h"

/*
 * Accepts the invalidations committed so far and takes the snapshot of
 * statement number `statement`.  false: some commit it sees may have
 * invalidations not read (too many to wait for, or changes untracked): the
 * caller must trust no cached entry.  In parallel mode takes none.
 */
extern bool StatementSnapshotTake(uint64 statement);

/* At a statement boundary or transaction end. */
extern void StatementSnapshotRelease(void);

/* Taken for this statement number in this transaction. */
extern bool StatementSnapshotIsFor(uint64 statement);
extern bool StatementSnapshotExists(void);

/* What invalidation.c had counted when it was taken. */
extern uint64 StatementSnapshotSequence(void);
extern uint64 StatementSnapshotFullResets(void);
extern uint64 StatementSnapshotResourceResets(void);

/* For catalog_access.c's reads and writes. */
extern Snapshot StatementSnapshotForRead(void);
extern Snapshot StatementSnapshotForWrite(void);

/* A read since the last call used a fallback snapshot (parallel mode); clears it. */
extern bool StatementSnapshotFallbackUsed(void);

#endif							/* ZENML_RBAC_STATEMENT_SNAPSHOT_H */
