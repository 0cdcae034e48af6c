/*
 * catalog_access.h
 *     Code that reads or writes the catalog runs between BeginCatalogAccess
 *     and EndCatalogAccess (catalog_access.c).
 */
#ifndef ZENML_RBAC_CATALOG_ACCESS_H
#define ZENML_RBAC_CATALOG_ACCESS_H

#include "executor/spi.h"

/*
 * Runs code as the extension owner with a pinned search_path and an open
 * SPI connection: catalog reads, and the writes of protected tables' triggers.
 */
typedef struct CatalogAccess
{
	Oid			save_userid;
	int			save_sec_context;
	int			save_nestlevel;
} CatalogAccess;

extern void BeginCatalogAccess(CatalogAccess *access);
extern void EndCatalogAccess(CatalogAccess *access);

/* A read-only query with the statement's (latest) snapshot, inside catalog access. */
extern uint64 CatalogExecute(SPIPlanPtr *plan, const char *sql, int nargs,
							 const Oid *argtypes, Datum *args, const char *nulls);
/* A write found with that snapshot, crosschecked with the transaction's. */
extern uint64 CatalogExecuteWrite(SPIPlanPtr *plan, const char *sql, int nargs,
								  const Oid *argtypes, Datum *args, int expected);
extern uint64 CatalogExecuteWriteNulls(SPIPlanPtr *plan, const char *sql, int nargs,
									   const Oid *argtypes, Datum *args, const char *nulls,
									   int expected);

/* The extension's owner: the identity catalog reads run as. */
extern Oid	CatalogExtensionOwner(void);

/* Catalog accesses open now (0 outside any); reset at transaction end. */
extern int	CatalogAccessDepth(void);
extern void CatalogAccessReset(void);

#endif							/* ZENML_RBAC_CATALOG_ACCESS_H */
