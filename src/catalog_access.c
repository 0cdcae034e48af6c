/*
 * catalog_access.c
 *     Running code as the extension owner, with a pinned search_path and an
 *     open SPI connection, and the catalog queries run that way: reads with
 *     the statement's snapshot, writes crosschecked with the transaction's.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_namespace.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "catalog_access.h"
#include "statement_snapshot.h"

#define RBAC_SCHEMA "zenml_rbac"

/* Inside a catalog load: its own queries are not statements. */
static int	catalog_access_depth = 0;

/*
 * The extension's owner: the identity catalog reads run as, and (with
 * superusers) the system.  The schema must be owned by it too: a schema
 * someone created before CREATE EXTENSION would otherwise lend its owner
 * both.
 */
Oid
CatalogExtensionOwner(void)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			owner = InvalidOid;
	Oid			nsp = get_namespace_oid(RBAC_SCHEMA, false);
	HeapTuple	nsptup;
	Oid			nspowner;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber, F_NAMEEQ,
				CStringGetDatum("zenml_rbac"));
	scan = systable_beginscan(rel, ExtensionNameIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		owner = ((Form_pg_extension) GETSTRUCT(tup))->extowner;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	if (!OidIsValid(owner))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("extension \"zenml_rbac\" is not installed in this database")));

	nsptup = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nsp));
	if (!HeapTupleIsValid(nsptup))
		elog(ERROR, "cache lookup failed for namespace %u", nsp);
	nspowner = ((Form_pg_namespace) GETSTRUCT(nsptup))->nspowner;
	ReleaseSysCache(nsptup);
	if (nspowner != owner)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("schema \"%s\" is not owned by the owner of extension \"zenml_rbac\"", RBAC_SCHEMA),
				 errdetail("Its owner would be trusted as the system."),
				 errhint("Make the extension owner own the schema, or reinstall the extension into a schema it creates.")));
	return owner;
}

void
BeginCatalogAccess(CatalogAccess *access)
{
	Oid			owner = CatalogExtensionOwner();

	catalog_access_depth++;
	GetUserIdAndSecContext(&access->save_userid, &access->save_sec_context);
	SetUserIdAndSecContext(owner, access->save_sec_context |
						   SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	access->save_nestlevel = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "zenml_rbac: SPI_connect failed");
}

void
EndCatalogAccess(CatalogAccess *access)
{
	SPI_finish();
	AtEOXact_GUC(true, access->save_nestlevel);
	SetUserIdAndSecContext(access->save_userid, access->save_sec_context);
	catalog_access_depth--;
}

int
CatalogAccessDepth(void)
{
	return catalog_access_depth;
}

/* At transaction end: an error may have left a load unfinished. */
void
CatalogAccessReset(void)
{
	catalog_access_depth = 0;
}

/* Prepares a catalog statement on its first use, kept for the backend's life. */
static void
PrepareOnce(SPIPlanPtr *plan, const char *sql, int nargs, const Oid *argtypes)
{
	SPIPlanPtr	p;

	if (*plan != NULL)
		return;
	p = SPI_prepare(sql, nargs, (Oid *) argtypes);
	if (p == NULL)
		elog(ERROR, "zenml_rbac: could not prepare catalog statement: %s",
			 SPI_result_code_string(SPI_result));
	if (SPI_keepplan(p) != 0)
		elog(ERROR, "zenml_rbac: could not keep catalog statement plan");
	*plan = p;
}

/*
 * Runs a read-only query inside BeginCatalogAccess with the statement's
 * snapshot: the latest committed when the statement began (or when a
 * management call got its lock), plus this transaction's own changes.  Not
 * the transaction's snapshot: a REPEATABLE READ transaction that began
 * before a revocation must not decide from what it saw then.  The plan is
 * prepared on first use and kept in *plan.  The result is in SPI_tuptable.
 */
uint64
CatalogExecute(SPIPlanPtr *plan, const char *sql, int nargs, const Oid *argtypes,
			   Datum *args, const char *nulls)
{
	int			rc;

	Assert(catalog_access_depth > 0);
	PrepareOnce(plan, sql, nargs, argtypes);
	rc = SPI_execute_snapshot(*plan, args, nulls, StatementSnapshotForRead(),
							  InvalidSnapshot, true, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "zenml_rbac: catalog query failed: %s", SPI_result_code_string(rc));
	return SPI_processed;
}

/*
 * Runs a write inside BeginCatalogAccess against the statement's (latest)
 * snapshot, as CatalogExecute reads: it finds rows committed after a
 * REPEATABLE READ transaction began.  Those it would change are checked
 * against the transaction's snapshot too (as PostgreSQL's foreign-key checks
 * do), so changing a row that transaction cannot see fails with 40001
 * rather than acting on what it never saw.
 */
uint64
CatalogExecuteWrite(SPIPlanPtr *plan, const char *sql, int nargs, const Oid *argtypes,
					Datum *args, int expected)
{
	return CatalogExecuteWriteNulls(plan, sql, nargs, argtypes, args, NULL, expected);
}

uint64
CatalogExecuteWriteNulls(SPIPlanPtr *plan, const char *sql, int nargs, const Oid *argtypes,
						 Datum *args, const char *nulls, int expected)
{
	Snapshot	crosscheck = InvalidSnapshot;
	int			rc;

	Assert(catalog_access_depth > 0);
	PrepareOnce(plan, sql, nargs, argtypes);
	if (IsolationUsesXactSnapshot())
		crosscheck = GetTransactionSnapshot();
	rc = SPI_execute_snapshot(*plan, args, nulls, StatementSnapshotForWrite(), crosscheck,
							  false, true, 0);
	if (rc != expected)
		elog(ERROR, "zenml_rbac: catalog change failed: %s", SPI_result_code_string(rc));
	return SPI_processed;
}
