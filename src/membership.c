/*
 * membership.c
 *     Membership transitions of the management API: who is a member of a
 *     tenant, and dropping the shares of whoever stopped being one -- read
 *     from the latest committed catalog, so two changes that each end one
 *     of a principal's paths into a tenant (its own role, a team's) cannot
 *     both miss the end of its membership in REPEATABLE READ.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "catalog.h"

static int
UuidArrayItems(ArrayType *a, pg_uuid_t **out)
{
	Datum	   *items;
	bool	   *nulls;
	int			n;
	int			kept = 0;

	deconstruct_array(a, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR, &items, &nulls, &n);
	*out = palloc(sizeof(pg_uuid_t) * Max(n, 1));
	for (int i = 0; i < n; i++)
		if (!nulls[i])
			(*out)[kept++] = *DatumGetUUIDP(items[i]);
	return kept;
}

/* Keeps the candidates that are members of the tenant (a role, own or a team's). */
static int
KeepMembers(const pg_uuid_t *tenant, pg_uuid_t *ids, int n)
{
	int			kept = 0;

	for (int i = 0; i < n; i++)
	{
		PrincipalEntry *p = CatalogGetPrincipal(&ids[i]);
		bool		member = false;

		for (int t = 0; t < p->ntenants && !member; t++)
			member = UuidEquals(&p->tenants[t], tenant);
		if (member)
			ids[kept++] = ids[i];
	}
	return kept;
}

PG_FUNCTION_INFO_V1(tenant_members);

/* _tenant_members(tenant uuid, candidates uuid[]) returns uuid[]: which are members now. */
Datum
tenant_members(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *ids;
	int			n;

	/* not STRICT: a NULL argument must not skip the EXECUTE check */
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_NULL();
	CatalogEnsureFresh();
	n = UuidArrayItems(PG_GETARG_ARRAYTYPE_P(1), &ids);
	n = KeepMembers(PG_GETARG_UUID_P(0), ids, n);
	PG_RETURN_ARRAYTYPE_P(UuidArray(ids, n));
}

PG_FUNCTION_INFO_V1(with_team_members);

/* _with_team_members(principals uuid[]) returns uuid[]: them and the members of those that are teams. */
Datum
with_team_members(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *ids;
	pg_uuid_t  *members;
	int			n;
	int			m;
	pg_uuid_t  *all;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	CatalogEnsureFresh();
	n = UuidArrayItems(PG_GETARG_ARRAYTYPE_P(0), &ids);
	m = n > 0 ? CatalogTeamMembers(ids, n, &members) : 0;
	all = palloc(sizeof(pg_uuid_t) * Max(n + m, 1));
	memcpy(all, ids, sizeof(pg_uuid_t) * n);
	if (m > 0)
		memcpy(all + n, members, sizeof(pg_uuid_t) * m);
	PG_RETURN_ARRAYTYPE_P(UuidArray(all, n + m));
}

PG_FUNCTION_INFO_V1(drop_departed_grants);

/*
 * _drop_departed_grants(tenant uuid, members_before uuid[]): after a change,
 * whoever of the members from before it is no member now loses every share
 * it holds in the tenant.  The shares are found in the latest committed
 * catalog: one given after a REPEATABLE READ transaction began fails that
 * transaction (40001) rather than outliving the membership.
 */
Datum
drop_departed_grants(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plan = NULL;
	static const Oid types[2] = {UUIDOID, UUIDARRAYOID};
	pg_uuid_t  *tenant;
	pg_uuid_t  *before;
	int			n;
	int			departed = 0;
	CatalogAccess access;
	Datum		args[2];

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		PG_RETURN_VOID();
	tenant = PG_GETARG_UUID_P(0);
	CatalogEnsureFresh();
	n = UuidArrayItems(PG_GETARG_ARRAYTYPE_P(1), &before);
	/* the members before, minus those still members: the departed */
	for (int i = 0; i < n; i++)
	{
		pg_uuid_t	one = before[i];

		if (KeepMembers(tenant, &one, 1) == 0)
			before[departed++] = before[i];
	}
	if (departed == 0)
		PG_RETURN_VOID();
	args[0] = UUIDPGetDatum(tenant);
	args[1] = PointerGetDatum(UuidArray(before, departed));
	BeginCatalogAccess(&access);
	CatalogExecuteWrite(&plan,
						"DELETE FROM zenml_rbac.resource_grant g"
						" WHERE g.tenant_id = $1 AND g.principal_id = ANY ($2)",
						2, types, args, SPI_OK_DELETE);
	EndCatalogAccess(&access);
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(principal_tenants);

/* _principal_tenants(principal uuid) returns uuid[]: the tenants it is a member of now. */
Datum
principal_tenants(PG_FUNCTION_ARGS)
{
	PrincipalEntry *p;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	CatalogEnsureFresh();
	p = CatalogGetPrincipal(PG_GETARG_UUID_P(0));
	PG_RETURN_ARRAYTYPE_P(UuidArray(p->tenants, p->ntenants));
}

/*
 * The removals of the management API, run against the latest committed
 * catalog (CatalogExecuteWrite): in a REPEATABLE READ transaction a row a
 * concurrent commit added (a role granted, a member added, a share given)
 * is found too, and fails the call with 40001 instead of surviving the
 * removal unseen.  Each removal is a fixed list of statements over
 * ($1, $2, $3).
 */
typedef struct Removal
{
	const char *name;
	int			nsql;
	const char *sql[4];
} Removal;

static const Removal removals[] = {
	{"org_member", 4, {
			"DELETE FROM zenml_rbac.team_member m USING zenml_rbac.principal t"
			" WHERE t.id = m.team_id AND t.org_id = $1 AND m.member_id = $2 AND $3 IS NULL",
			"DELETE FROM zenml_rbac.tenant_role_assignment a USING zenml_rbac.tenant t"
			" WHERE t.id = a.tenant_id AND t.org_id = $1 AND a.principal_id = $2 AND $3 IS NULL",
			"DELETE FROM zenml_rbac.resource_grant g USING zenml_rbac.tenant t"
			" WHERE t.id = g.tenant_id AND t.org_id = $1 AND g.principal_id = $2 AND $3 IS NULL",
			"DELETE FROM zenml_rbac.org_role_assignment m"
			" WHERE m.org_id = $1 AND m.principal_id = $2 AND $3 IS NULL"}},
	{"tenant_role", 1, {
			"DELETE FROM zenml_rbac.tenant_role_assignment a"
			" WHERE a.tenant_id = $1 AND a.principal_id = $2 AND a.role_id = $3"}},
	{"team_member", 1, {
			"DELETE FROM zenml_rbac.team_member m"
			" WHERE m.team_id = $1 AND m.member_id = $2 AND $3 IS NULL"}},
};

static int
FindRemoval(const char *what)
{
	for (int r = 0; r < (int) lengthof(removals); r++)
		if (strcmp(removals[r].name, what) == 0)
			return r;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown removal \"%s\"", what)));
	return 0;
}

PG_FUNCTION_INFO_V1(remove_latest);

/* _remove_latest(what text, a uuid, b uuid, c uuid): one of the removals above. */
Datum
remove_latest(PG_FUNCTION_ARGS)
{
	static SPIPlanPtr plans[lengthof(removals)][4];
	static const Oid types[3] = {UUIDOID, UUIDOID, UUIDOID};
	int			r;
	CatalogAccess access;
	Datum		args[3];
	char		nulls[4] = {' ', ' ', ' ', '\0'};

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2))
		PG_RETURN_VOID();
	r = FindRemoval(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	for (int i = 0; i < 3; i++)
	{
		args[i] = PG_ARGISNULL(i + 1) ? (Datum) 0 : PG_GETARG_DATUM(i + 1);
		if (PG_ARGISNULL(i + 1))
			nulls[i] = 'n';
	}
	CatalogEnsureFresh();
	BeginCatalogAccess(&access);
	for (int s = 0; s < removals[r].nsql; s++)
		CatalogExecuteWriteNulls(&plans[r][s], removals[r].sql[s], 3, types, args, nulls,
								 SPI_OK_DELETE);
	EndCatalogAccess(&access);
	PG_RETURN_VOID();
}
