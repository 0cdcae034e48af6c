/*
 * visible_entries.h
 *     Reading an index-only scan for whether its rows exist, not what they
 *     hold (visible_entries.c).
 */
#ifndef ZENML_RBAC_VISIBLE_ENTRIES_H
#define ZENML_RBAC_VISIBLE_ENTRIES_H

#include "nodes/execnodes.h"

extern bool VisibleEntriesReadable(PlanState *child);
extern bool NextVisibleEntry(IndexOnlyScanState *scan);

#endif							/* ZENML_RBAC_VISIBLE_ENTRIES_H */
