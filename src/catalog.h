/*
 * catalog.h
 *     Backend-local caches of the zenml_rbac catalog, filled lazily (one
 *     principal, one role chain, one resource at a time); each entry is
 *     dropped when a change it depends on is published (invalidation.h).
 */
#ifndef ZENML_RBAC_CATALOG_H
#define ZENML_RBAC_CATALOG_H

#include "catalog_access.h"
#include "invalidation.h"
#include "uuids.h"
#include "vocabulary.h"

/* What an entry depends on, and what it was checked against. */
typedef struct EntryValidity
{
	InvalWatch	watch;			/* the keys of every row it was computed from */
	uint64		loaded_seq;		/* invalidation sequence as of its snapshot */
	uint64		loaded_at;		/* invalidation sequence when it was loaded */
	uint64		checked_epoch;	/* found valid in this cache epoch */
} EntryValidity;

typedef struct TypeEntry
{
	char		name[NAMEDATALEN];	/* hash key */
	int			index;			/* position in every permission set */
	bool		administration;
} TypeEntry;

typedef enum PrincipalKind
{
	PRINCIPAL_USER = 'u',
	PRINCIPAL_SERVICE_ACCOUNT = 's',
	PRINCIPAL_TEAM = 't'
} PrincipalKind;

typedef struct PrincipalEntry
{
	pg_uuid_t	id;				/* hash key */
	bool		exists;
	bool		active;
	char		kind;			/* PrincipalKind */
	int			nteams;
	pg_uuid_t  *teams;			/* teams this principal belongs to */
	int			ntenants;
	pg_uuid_t  *tenants;		/* tenants it is a member of, teams included */
	int			norgs;
	pg_uuid_t  *orgs;			/* organizations where it holds a role */
	EntryValidity validity;		/* its rows, its teams', its roles' */
} PrincipalEntry;

typedef struct GrantItem
{
	pg_uuid_t	principal;
	uint8		actions;
} GrantItem;

typedef struct ResourceKey
{
	pg_uuid_t	tenant;
	pg_uuid_t	id;
	int32		type_index;
} ResourceKey;

typedef struct ResourceEntry
{
	ResourceKey key;			/* hash key */
	bool		registered;
	bool		has_owner;
	pg_uuid_t	owner;
	int			ngrants;
	GrantItem  *grants;
	InvalRecord *record;		/* its invalidation key */
	uint64		loaded_seq;
	uint64		loaded_at;
	uint64		checked_epoch;
} ResourceEntry;

/*
 * Process pending invalidations once per statement; drop stale caches.
 * Only SQL-callable entry points call it, first thing: every entry and type
 * index they then take from the cache stays valid until they return, since
 * loads may accept invalidations but only this resets (CurrentPrincipal()
 * does not call it).  A trigger fired by an entry point's own writes may
 * call it again: an entry point holds no cache pointer across its writes.
 */
extern void CatalogEnsureFresh(void);

/* Changes whenever cached entries may have been freed. */
extern uint64 CatalogEpoch(void);

/* The ExecutorStart hook and a FETCH: a top-level statement begins. */
extern void CatalogStatementStart(void);
extern void CatalogAtTransactionEnd(void);

/*
 * A top-level statement begins: CatalogStatementStart() also takes its
 * snapshot now; CatalogUtilityStatement() leaves that to its first check
 * (a ROLLBACK may run in an aborted transaction).
 */
extern void CatalogUtilityStatement(void);

/* Counts top-level statements: what is "per statement" (the denial lines). */
extern uint64 CatalogStatementNumber(void);

/* Defines the cache settings (zenml_rbac.*_cache_entries). */
extern void CatalogInit(void);

/* Vocabulary: NULL for an unknown type name. */
extern const TypeEntry *CatalogLookupType(const char *name, size_t len);
extern int	CatalogTypeCount(void);
extern char *CatalogTypeNameList(void);
extern const char *CatalogTypeName(int index);

/* Principals: always returns an entry; exists = false for unknown ids. */
extern PrincipalEntry *CatalogGetPrincipal(const pg_uuid_t *id);

/* The principal and its teams, palloc'd (n: nteams + 1): whom its shares may name. */
extern pg_uuid_t *CatalogGrantees(const PrincipalEntry *p);

/* Permission set of a loaded principal in a tenant; NULL when not a member. */
extern const uint8 *CatalogTenantPermissions(const pg_uuid_t *principal,
											 const pg_uuid_t *tenant);

/* Whether a permission set (NULL: not a member) holds one of the wanted actions on a type. */
static inline bool
PermitsOnType(const uint8 *permissions, int type_index, uint8 wanted)
{
	return permissions != NULL && (permissions[type_index] & wanted) != 0;
}

/* Highest organization role of a loaded principal, teams included. */
extern OrgRoleLevel CatalogOrgRole(const pg_uuid_t *principal, const pg_uuid_t *org);

/* Effective permission set of a role; NULL for an unknown role. */
extern const uint8 *CatalogRolePermissions(const pg_uuid_t *role);

/* Ownership and shares of one resource instance. */
extern ResourceEntry *CatalogGetResource(const pg_uuid_t *tenant, int type_index,
										 const pg_uuid_t *id);

/*
 * Whether one of the resource's shares reaches the principal: held by it or
 * by one of its teams, with one of the wanted actions (0: any share).
 */
extern bool CatalogSharedWith(const ResourceEntry *r, const PrincipalEntry *p, uint8 wanted);

/*
 * The instances of one type a principal reaches by ownership or shares with
 * one action, outside the tenants where its roles already give that action
 * on the whole type: (id, tenant) pairs sorted by id, then tenant.
 */
typedef struct InstancePair
{
	pg_uuid_t	id;
	pg_uuid_t	tenant;
} InstancePair;

typedef struct InstanceSet
{
	int			npairs;
	InstancePair *pairs;
} InstanceSet;

extern const InstanceSet *CatalogInstances(const pg_uuid_t *principal, int type_index,
										   int action);
extern int	InstancePairCompare(const void *a, const void *b);

/* A share held by a principal, as management calls read it. */
typedef struct HeldGrant
{
	pg_uuid_t	tenant;
	int			type_index;
	pg_uuid_t	id;
	uint8		actions;
} HeldGrant;

extern int	CatalogPrincipalGrants(const pg_uuid_t *principals, int n, HeldGrant **out);
extern int	CatalogOwnedResources(const pg_uuid_t *owner, HeldGrant **out);
extern int	CatalogTeamMembers(const pg_uuid_t *teams, int n, pg_uuid_t **out);

/* Name lookups ('u' user, 'o' organization, 't' "org/tenant", 'l' linked pg role). */
extern bool CatalogResolveName(char kind, const char *name, pg_uuid_t *out);

extern void CatalogRefreshAfterLock(void);

extern void CatalogStats(int64 *principals, int64 *resources, int64 *roles, int64 *bytes,
						 int64 *loads);

#endif							/* ZENML_RBAC_CATALOG_H */
