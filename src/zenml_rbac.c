/*
 * zenml_rbac.c
 *     Module entry: settings, and the callbacks that keep the decision
 *     cache (relcache invalidation) and the acting principal (transaction
 *     end) correct.  Needs no shared_preload_libraries.
 */
#include "postgres.h"

#include <limits.h>

#include "access/xact.h"
#include "fmgr.h"
#include "utils/guc.h"
#include "utils/inval.h"

#include "catalog.h"
#include "identity.h"

PG_MODULE_MAGIC;

const char *const RbacActionNames[RBAC_NUM_ACTIONS] = {
	"create", "read", "update", "delete", "share"
};

int			rbac_resource_cache_entries = 100000;

void		_PG_init(void);

void
_PG_init(void)
{
	DefineCustomIntVariable("zenml_rbac.resource_cache_entries",
							"Resource instances kept in a backend's decision cache before it is emptied.",
							"0 means no limit.",
							&rbac_resource_cache_entries,
							100000, 0, INT_MAX,
							PGC_SUSET, 0,
							NULL, NULL, NULL);
	MarkGUCPrefixReserved("zenml_rbac");

	CacheRegisterRelcacheCallback(CatalogRelcacheCallback, (Datum) 0);
	RegisterXactCallback(IdentityXactCallback, NULL);
}
