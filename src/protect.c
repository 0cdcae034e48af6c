/*
 * protect.c
 *     Row-level security for application tables (zenml_rbac.protect()): the
 *     functions its generated policies call, and the triggers that check
 *     writes with a precise error and keep zenml_rbac.resource in step with
 *     the rows.
 *
 * A policy passes a row when its tenant is one where the principal's roles
 * give the action on the type -- `tenant = ANY ((SELECT rls_tenants(...)))`,
 * evaluated once per query as an InitPlan so an index on the tenant column
 * serves it -- or when its (id, tenant) is among the few instances the
 * principal reaches by ownership or shares (rls_instances), again indexable
 * through the id column and rechecked exactly by rls_instance_match.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/partition.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"

#include "denial_log.h"
#include "catalog.h"
#include "compat.h"
#include "decision.h"
#include "identity.h"
#include "resource_ref.h"

/* ------------------------------------------------------------------------
 * Policy functions
 * ------------------------------------------------------------------------
 */

static void
ResolveTypeAction(text *type_text, text *action_text, int *type_index, int *action)
{
	*type_index = RequireType(VARDATA_ANY(type_text), VARSIZE_ANY_EXHDR(type_text));
	*action = RequireAction(VARDATA_ANY(action_text), VARSIZE_ANY_EXHDR(action_text));
}

/*
 * Arrays the policies compare every row with.  An InitPlan hands them over
 * through a heap tuple, which gives a varlena under 127 bytes a short header
 * -- and then each row would copy it to read it.  So a non-empty array is
 * padded (repeating its last element, or pair) to at least this many uuids,
 * and an empty one is NULL: `x = ANY (NULL)` is NULL at once, which the
 * policies take as "no" (none of them negates it).
 */
#define MIN_POLICY_ARRAY_ITEMS 8

static Datum
PolicyArray(Datum *items, int n, int unit)
{
	int			padded = n;

	if (n == 0)
		return (Datum) 0;
	while (padded < MIN_POLICY_ARRAY_ITEMS)
		padded += unit;
	for (int i = n; i < padded; i++)
		items[i] = items[i - unit];
	return PointerGetDatum(construct_array(items, padded, UUIDOID, UUID_LEN, false,
										   TYPALIGN_CHAR));
}

/*
 * The tenants the current principal is a member of where its roles give the
 * action on the type (holding = true) or do not (holding = false), as a
 * policy array; NULL for none, and without an active principal.
 */
static Datum
MemberTenants(FunctionCallInfo fcinfo, bool holding)
{
	int			type_index;
	int			action;
	pg_uuid_t	principal;
	PrincipalEntry *p;
	Datum	   *items;
	int			n = 0;

	CatalogEnsureFresh();
	ResolveTypeAction(PG_GETARG_TEXT_PP(0), PG_GETARG_TEXT_PP(1), &type_index, &action);
	if (!CurrentPrincipal(&principal))
		PG_RETURN_NULL();
	p = CatalogGetPrincipal(&principal);
	if (!p->exists || !p->active)
		PG_RETURN_NULL();
	items = palloc(sizeof(Datum) * (p->ntenants + MIN_POLICY_ARRAY_ITEMS));
	for (int t = 0; t < p->ntenants; t++)
	{
		const uint8 *perms = CatalogTenantPermissions(&principal, &p->tenants[t]);

		if (perms != NULL && PermitsOnType(perms, type_index, RBAC_BIT(action)) == holding)
			items[n++] = UUIDPGetDatum(&p->tenants[t]);
	}
	if (n == 0)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(PolicyArray(items, n, 1));
}

PG_FUNCTION_INFO_V1(rls_tenants);

/*
 * rls_tenants(resource_type text, action text) returns uuid[]: the tenants
 * where the current principal's roles (own and teams') give the action on
 * the type, padded; NULL for none (no active principal included).
 */
Datum
rls_tenants(PG_FUNCTION_ARGS)
{
	return MemberTenants(fcinfo, true);
}

PG_FUNCTION_INFO_V1(rls_owner_tenants);

/*
 * rls_owner_tenants(resource_type text, action text) returns uuid[]: the
 * tenants the current principal is a member of without the action on the
 * type, padded; NULL for none.  Where there is an owner column, the SELECT
 * policy lets the principal's own rows through in these: a row it inserts is
 * registered only at the end of the statement, but RETURNING (and an UPDATE
 * giving a row a new id) needs it visible before.
 */
Datum
rls_owner_tenants(PG_FUNCTION_ARGS)
{
	return MemberTenants(fcinfo, false);
}

PG_FUNCTION_INFO_V1(rls_instances);

/*
 * rls_instances(resource_type text, action text) returns uuid[]: the
 * instances the current principal reaches by ownership or shares beyond its
 * rls_tenants(), as id, tenant, id, tenant, ... sorted by id then tenant and
 * padded; NULL for none.
 */
Datum
rls_instances(PG_FUNCTION_ARGS)
{
	int			type_index;
	int			action;
	pg_uuid_t	principal;
	const InstanceSet *set;
	Datum	   *items;

	CatalogEnsureFresh();
	ResolveTypeAction(PG_GETARG_TEXT_PP(0), PG_GETARG_TEXT_PP(1), &type_index, &action);
	if (!CurrentPrincipal(&principal))
		PG_RETURN_NULL();
	set = CatalogInstances(&principal, type_index, action);
	if (set->npairs == 0)
		PG_RETURN_NULL();
	items = palloc(sizeof(Datum) * (2 * set->npairs + MIN_POLICY_ARRAY_ITEMS));
	for (int i = 0; i < set->npairs; i++)
	{
		items[2 * i] = UUIDPGetDatum((pg_uuid_t *) &set->pairs[i].id);
		items[2 * i + 1] = UUIDPGetDatum((pg_uuid_t *) &set->pairs[i].tenant);
	}
	PG_RETURN_DATUM(PolicyArray(items, 2 * set->npairs, 2));
}

PG_FUNCTION_INFO_V1(rls_instance_match);

/*
 * rls_instance_match(tenant uuid, id uuid, pairs uuid[]) returns boolean:
 * whether (id, tenant) is one of the pairs rls_instances() returned (sorted,
 * repeats allowed).  A pure function of its arguments, so parallel workers
 * may run it.
 */
Datum
rls_instance_match(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *tenant = PG_GETARG_UUID_P(0);
	pg_uuid_t  *id = PG_GETARG_UUID_P(1);
	ArrayType  *pairs = PG_GETARG_ARRAYTYPE_P(2);
	InstancePair key;
	const InstancePair *items;
	int			n;
	int			lo = 0;
	int			hi;

	if (ARR_ELEMTYPE(pairs) != UUIDOID || ARR_HASNULL(pairs) || ARR_NDIM(pairs) != 1)
		PG_RETURN_BOOL(false);
	n = ArrayGetNItems(ARR_NDIM(pairs), ARR_DIMS(pairs)) / 2;
	items = (const InstancePair *) ARR_DATA_PTR(pairs);
	key.id = *id;
	key.tenant = *tenant;
	hi = n - 1;
	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;
		int			c = InstancePairCompare(&key, &items[mid]);

		if (c == 0)
			PG_RETURN_BOOL(true);
		if (c < 0)
			hi = mid - 1;
		else
			lo = mid + 1;
	}
	PG_RETURN_BOOL(false);
}

PG_FUNCTION_INFO_V1(rls_registered);

/*
 * rls_registered(tenant uuid, id uuid, resource_type text) returns boolean:
 * whether the instance is registered in that tenant.  The UPDATE policy uses
 * it to tell a row that stays where it is registered from one moved to
 * another tenant (the registration follows only after the row is written).
 * It answers only about what the current principal may know of: tenants it
 * is a member of, and instances shared with it or its teams.
 */
Datum
rls_registered(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *tenant = PG_GETARG_UUID_P(0);
	text	   *type_text = PG_GETARG_TEXT_PP(2);
	const TypeEntry *type;
	int			type_index;
	pg_uuid_t	principal;
	PrincipalEntry *p;
	ResourceEntry *r;

	/*
	 * Entries found in the cache stay valid until the next
	 * CatalogEnsureFresh(), which only entry points call, first thing; the
	 * loads below may accept invalidations but never reset the cache.
	 */
	CatalogEnsureFresh();
	if (!CurrentPrincipal(&principal))
		PG_RETURN_BOOL(false);
	type = CatalogLookupType(VARDATA_ANY(type_text), VARSIZE_ANY_EXHDR(type_text));
	if (type == NULL)
		PG_RETURN_BOOL(false);
	type_index = type->index;
	p = CatalogGetPrincipal(&principal);
	if (!p->exists || !p->active)
		PG_RETURN_BOOL(false);
	r = CatalogGetResource(tenant, type_index, PG_GETARG_UUID_P(1));
	if (!r->registered)
		PG_RETURN_BOOL(false);
	if (CatalogTenantPermissions(&principal, tenant) != NULL)
		PG_RETURN_BOOL(true);
	PG_RETURN_BOOL(CatalogSharedWith(r, p, 0));
}

/* ------------------------------------------------------------------------
 * Triggers
 * ------------------------------------------------------------------------
 */

/* A protected table's configuration, resolved for one relation (per trigger call site). */
/* How a protected table is protected (zenml_rbac.protected_table). */
typedef struct ProtectionConfig
{
	bool		found;
	char		resource_type[NAMEDATALEN];
	char		tenant_column[NAMEDATALEN];
	char		id_column[NAMEDATALEN];
	char		owner_column[NAMEDATALEN];	/* empty when there is none */
} ProtectionConfig;

/* The table's row of zenml_rbac.protected_table, as the extension owner reads it. */
static void
LoadProtection(Oid relid, ProtectionConfig *out)
{
	static SPIPlanPtr plan = NULL;
	CatalogAccess access;
	Oid			argtype = REGCLASSOID;
	Datum		arg = ObjectIdGetDatum(relid);

	memset(out, 0, sizeof(*out));
	BeginCatalogAccess(&access);
	if (CatalogExecute(&plan, "SELECT resource_type, tenant_column, id_column, owner_column"
					   " FROM zenml_rbac.protected_table WHERE relid = $1",
					   1, &argtype, &arg, NULL) > 0)
	{
		char	   *columns[4] = {out->resource_type, out->tenant_column, out->id_column,
		out->owner_column};

		out->found = true;
		for (int i = 0; i < 4; i++)
		{
			char	   *value = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1);

			if (value != NULL)
				strlcpy(columns[i], value, NAMEDATALEN);
		}
	}
	EndCatalogAccess(&access);
}

typedef struct TableProtection
{
	Oid			relid;			/* the relation the trigger fires on */
	Oid			protected_relid;	/* it, or the partitioned table protected */
	uint64		epoch;
	int			type_index;
	ProtectionConfig config;
	AttrNumber	tenant_att;
	AttrNumber	id_att;
	AttrNumber	owner_att;		/* InvalidAttrNumber when none */
} TableProtection;

static TriggerData *
RequireTrigger(FunctionCallInfo fcinfo, const char *name)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("%s() must be called as a trigger", name)));
	return (TriggerData *) fcinfo->context;
}

static AttrNumber
ProtectedColumn(Relation rel, const char *name, const char *table)
{
	AttrNumber	att = get_attnum(RelationGetRelid(rel), name);

	if (att == InvalidAttrNumber || TupleDescAttr(RelationGetDescr(rel), att - 1)->atttypid != UUIDOID)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("protection of table \"%s\" is broken: it has no uuid column \"%s\"",
						table, name),
				 errhint("Run zenml_rbac.protect() again with the table's current column names.")));
	return att;
}

/*
 * The configuration comes from zenml_rbac.protected_table, not from trigger
 * arguments, so a trigger left behind without a protection refuses to work.
 */
static TableProtection *
GetTableProtection(FunctionCallInfo fcinfo, Relation rel)
{
	TableProtection *tp = (TableProtection *) fcinfo->flinfo->fn_extra;
	Oid			relid = RelationGetRelid(rel);
	const TypeEntry *type;
	char	   *table = RelationGetRelationName(rel);

	if (tp != NULL && tp->relid == relid && tp->epoch == CatalogEpoch())
		return tp;
	if (tp == NULL)
	{
		tp = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(TableProtection));
		fcinfo->flinfo->fn_extra = tp;
	}
	tp->relid = relid;
	tp->protected_relid = relid;
	LoadProtection(relid, &tp->config);
	if (!tp->config.found && rel->rd_rel->relispartition)
	{
		/* row triggers are cloned to partitions: the parent is what is protected */
		List	   *ancestors = get_partition_ancestors(relid);
		ListCell   *lc;

		foreach(lc, ancestors)
		{
			LoadProtection(lfirst_oid(lc), &tp->config);
			if (tp->config.found)
			{
				tp->protected_relid = lfirst_oid(lc);
				break;
			}
		}
	}
	if (!tp->config.found)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" has zenml_rbac triggers but is not protected", table),
				 errhint("Run zenml_rbac.protect() on it, or zenml_rbac.unprotect() to remove them.")));
	type = CatalogLookupType(tp->config.resource_type, strlen(tp->config.resource_type));
	if (type == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("protection of table \"%s\" is broken: unknown resource type \"%s\"",
						table, tp->config.resource_type)));
	tp->type_index = type->index;
	tp->tenant_att = ProtectedColumn(rel, tp->config.tenant_column, table);
	tp->id_att = ProtectedColumn(rel, tp->config.id_column, table);
	tp->owner_att = tp->config.owner_column[0] != '\0'
		? ProtectedColumn(rel, tp->config.owner_column, table) : InvalidAttrNumber;
	tp->epoch = CatalogEpoch();
	return tp;
}

/* A uuid column of a row; NULL when the value is null. */
static pg_uuid_t *
RowUuid(HeapTuple tuple, TupleDesc desc, AttrNumber att)
{
	bool		isnull;
	Datum		d = heap_getattr(tuple, att, desc, &isnull);

	return isnull ? NULL : DatumGetUUIDP(d);
}

static bool
SameUuid(const pg_uuid_t *a, const pg_uuid_t *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return UuidEquals(a, b);
}

/*
 * Refuses a write with 42501 naming the table and what is missing; with
 * zenml_rbac.log_denials on, logs it first (tenant may be NULL).
 */
static void
RefuseWrite(Relation rel, TableProtection *tp, const pg_uuid_t *tenant, const char *action,
			const char *permission, const char *detail, const char *hint)
{
	if (rbac_log_denials)
	{
		pg_uuid_t	principal;

		LogDenial("rls", CurrentPrincipal(&principal) ? UuidText(&principal) : NULL,
				  tenant ? UuidText(tenant) : NULL,
				  psprintf("%s (table %s)", tp->config.resource_type, RelationGetRelationName(rel)),
				  action);
	}
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied for table %s: %s", RelationGetRelationName(rel), permission),
			 detail ? errdetail_internal("%s", detail) : 0,
			 hint ? errhint("%s", hint) : 0));
}

/* what: "Inserting a row needs %s in its tenant.", with the permission for %s */
static void
RequireTypePermission(Relation rel, TableProtection *tp, const pg_uuid_t *principal,
					  const pg_uuid_t *tenant, int action, const char *what)
{
	const char *type = tp->config.resource_type;
	char	   *permission = psprintf("%s:%s", type, RbacActionNames[action]);

	if (!DecisionAllows(principal, tenant, tp->type_index, NULL, action))
		RefuseWrite(rel, tp, tenant, RbacActionNames[action],
					psprintf("%s is needed in tenant %s", permission, UuidText(tenant)),
					psprintf(what, permission),
					NULL);
}

static void
CheckInsert(Relation rel, TableProtection *tp, HeapTuple row, bool have_principal,
			const pg_uuid_t *principal)
{
	TupleDesc	desc = RelationGetDescr(rel);
	pg_uuid_t  *tenant = RowUuid(row, desc, tp->tenant_att);

	if (!have_principal)
		RefuseWrite(rel, tp, tenant, RbacActionNames[RBAC_CREATE],
					psprintf("%s:create needs an acting principal", tp->config.resource_type),
					"No principal is set for this transaction or linked to the session user.",
					"Call zenml_rbac.set_principal() or zenml_rbac.authenticate() after BEGIN.");
	if (tenant == NULL)
		RefuseWrite(rel, tp, NULL, RbacActionNames[RBAC_CREATE],
					psprintf("%s:create needs a tenant", tp->config.resource_type),
					psprintf("Column \"%s\" of the new row is null.", tp->config.tenant_column),
					NULL);
	RequireTypePermission(rel, tp, principal, tenant, RBAC_CREATE,
						  "Inserting a row needs %s in its tenant.");
	if (tp->owner_att != InvalidAttrNumber &&
		!SameUuid(RowUuid(row, desc, tp->owner_att), principal))
		RefuseWrite(rel, tp, tenant, RbacActionNames[RBAC_CREATE],
					psprintf("column \"%s\" must be the acting principal", tp->config.owner_column),
					psprintf("The owner of a new row is the principal that creates it, %s.",
							 UuidText(principal)),
					"Leave the column out (it is filled in) or set it to zenml_rbac.current_principal().");
}

static void
CheckUpdate(Relation rel, TableProtection *tp, HeapTuple old_row, HeapTuple new_row,
			bool have_principal, const pg_uuid_t *principal)
{
	TupleDesc	desc = RelationGetDescr(rel);
	pg_uuid_t  *old_tenant = RowUuid(old_row, desc, tp->tenant_att);
	pg_uuid_t  *new_tenant = RowUuid(new_row, desc, tp->tenant_att);
	pg_uuid_t  *old_id = RowUuid(old_row, desc, tp->id_att);
	pg_uuid_t  *new_id = RowUuid(new_row, desc, tp->id_att);
	const char *type = tp->config.resource_type;

	if (tp->owner_att != InvalidAttrNumber &&
		!SameUuid(RowUuid(old_row, desc, tp->owner_att), RowUuid(new_row, desc, tp->owner_att)))
		RefuseWrite(rel, tp, old_tenant, RbacActionNames[RBAC_UPDATE],
					psprintf("column \"%s\" may not change", tp->config.owner_column),
					"Ownership gives every action on the row: only roles that bypass row-level security (the table owner) may hand it on.",
					NULL);
	if (SameUuid(old_tenant, new_tenant) && SameUuid(old_id, new_id))
		return;					/* the policies decide the rest */
	if (!have_principal)
		RefuseWrite(rel, tp, old_tenant, RbacActionNames[RBAC_UPDATE],
					psprintf("%s:update needs an acting principal", type), NULL,
					"Call zenml_rbac.set_principal() or zenml_rbac.authenticate() after BEGIN.");
	if (new_tenant == NULL || new_id == NULL)
		RefuseWrite(rel, tp, old_tenant, RbacActionNames[RBAC_UPDATE],
					psprintf("%s:update needs a tenant and an id", type),
					psprintf("Column \"%s\" or \"%s\" of the new row is null.",
							 tp->config.tenant_column, tp->config.id_column),
					NULL);
	if (!SameUuid(old_tenant, new_tenant))
		RequireTypePermission(rel, tp, principal, new_tenant, RBAC_CREATE,
							  "Moving a row to another tenant needs %s there.");
	else
		RequireTypePermission(rel, tp, principal, new_tenant, RBAC_CREATE,
							  "Changing the id of a row needs %s in its tenant.");

	/*
	 * The row leaves its old place, its shares with it: that is deleting it
	 * there, by role, ownership or a share with delete -- an update share
	 * alone must not carry a row out of its tenant.
	 */
	if (old_tenant != NULL && old_id != NULL &&
		!DecisionAllows(principal, old_tenant, tp->type_index, old_id, RBAC_DELETE))
		RefuseWrite(rel, tp, old_tenant, RbacActionNames[RBAC_DELETE],
					psprintf("%s:delete is needed on the row in tenant %s", type, UuidText(old_tenant)),
					SameUuid(old_tenant, new_tenant)
					? "Changing the id of a row removes it under its old id: that needs delete on it (by role, ownership or share)."
					: "Moving a row to another tenant removes it from its old one: that needs delete on it there (by role, ownership or share).",
					NULL);

	/*
	 * The new row must pass for update where it lands: by role, or as its
	 * owner (a member there, as create shows).  Shares stay behind with the
	 * old registration.  Ownership follows the owner column; a table without
	 * one has no ownership the policies can see before the registration
	 * moves, so there the role must give update.
	 */
	if (tp->owner_att != InvalidAttrNumber &&
		SameUuid(RowUuid(new_row, desc, tp->owner_att), principal))
		return;
	RequireTypePermission(rel, tp, principal, new_tenant, RBAC_UPDATE,
						  SameUuid(old_tenant, new_tenant)
						  ? "Changing the id of a row needs %s in its tenant, or ownership."
						  : "Moving a row to another tenant needs %s there, or ownership.");
}

PG_FUNCTION_INFO_V1(protect_check);

/*
 * BEFORE INSERT OR UPDATE row trigger of protected tables: fills the owner
 * column, and refuses a write row-level security would refuse with an error
 * that names the table and the missing permission.  The policies' WITH
 * CHECK clauses enforce the same rules again.
 */
Datum
protect_check(PG_FUNCTION_ARGS)
{
	TriggerData *td = RequireTrigger(fcinfo, "protect_check");
	Relation	rel = td->tg_relation;
	TableProtection *tp;
	HeapTuple	row;
	pg_uuid_t	principal;
	bool		have_principal;
	bool		rls;

	if (!TRIGGER_FIRED_BEFORE(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event) ||
		TRIGGER_FIRED_BY_DELETE(td->tg_event) || TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("protect_check() must fire before insert or update, for each row")));
	CatalogEnsureFresh();
	tp = GetTableProtection(fcinfo, rel);
	rls = check_enable_rls(tp->protected_relid, InvalidOid, true) == RLS_ENABLED;
	have_principal = CurrentPrincipal(&principal);

	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
	{
		row = td->tg_trigtuple;
		if (tp->owner_att != InvalidAttrNumber && have_principal &&
			RowUuid(row, RelationGetDescr(rel), tp->owner_att) == NULL)
		{
			Datum		value = UUIDPGetDatum(&principal);
			bool		isnull = false;
			int			att = tp->owner_att;

			row = heap_modify_tuple_by_cols(row, RelationGetDescr(rel), 1, &att, &value, &isnull);
		}
		if (rls)
			CheckInsert(rel, tp, row, have_principal, &principal);
	}
	else
	{
		row = td->tg_newtuple;
		if (rls)
			CheckUpdate(rel, tp, td->tg_trigtuple, row, have_principal, &principal);
	}
	return PointerGetDatum(row);
}

/* Registration queries run as the extension owner, with SPI connected. */
static void
RunRegistrationQuery(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls,
					 int expected)
{
	int			rc = SPI_execute_with_args(sql, nargs, types, values, nulls, false, 0);

	if (rc != expected)
		elog(ERROR, "zenml_rbac: registration query failed: %s", SPI_result_code_string(rc));
}

/* Why a row cannot be registered: its tenant does not exist, or its id is another owner's. */
pg_noreturn static void
RefuseRegistration(Relation rel, TableProtection *tp, bool no_tenant, const char *id,
				   const char *tenant)
{
	if (no_tenant)
		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("row %s of table \"%s\" names tenant %s, which does not exist",
						id, RelationGetRelationName(rel), tenant)));
	ereport(ERROR,
			(errcode(ERRCODE_UNIQUE_VIOLATION),
			 errmsg("resource %s/%s is already registered in tenant %s with another owner",
					tp->config.resource_type, id, tenant),
			 errdetail("A row of table \"%s\" cannot take over a registered resource.",
					   RelationGetRelationName(rel))));
}

/*
 * Registers the rows of a relation or transition table: first refuses rows
 * naming an unknown tenant or an instance registered with another owner,
 * then registers the rest (owner: the owner column when it names a
 * principal, else the acting principal).
 */
static void
RegisterRows(Relation rel, TableProtection *tp, const char *source, const pg_uuid_t *principal)
{
	const char *tc = quote_identifier(tp->config.tenant_column);
	const char *ic = quote_identifier(tp->config.id_column);
	char	   *owner;
	Oid			types[2] = {TEXTOID, UUIDOID};
	Datum		values[2];
	char		nulls[3] = {' ', ' ', '\0'};

	if (tp->owner_att != InvalidAttrNumber)
		owner = psprintf("(SELECT p.id FROM zenml_rbac.principal p WHERE p.id = n.%s)",
						 quote_identifier(tp->config.owner_column));
	else
		owner = "$2";
	values[0] = CStringGetTextDatum(tp->config.resource_type);
	if (principal != NULL)
		values[1] = UUIDPGetDatum((pg_uuid_t *) principal);
	else
		nulls[1] = 'n';

	RunRegistrationQuery(psprintf("SELECT n.%s, n.%s, t.id IS NULL"
								  " FROM %s n"
								  " LEFT JOIN zenml_rbac.tenant t ON t.id = n.%s"
								  " LEFT JOIN zenml_rbac.resource r ON r.tenant_id = n.%s"
								  "  AND r.resource_type = $1 AND r.resource_id = n.%s"
								  " WHERE n.%s IS NOT NULL AND n.%s IS NOT NULL"
								  " AND (t.id IS NULL OR (r.resource_id IS NOT NULL"
								  "  AND r.owner_id IS DISTINCT FROM %s::uuid))"
								  " LIMIT 1",
								  tc, ic, source, tc, tc, ic, tc, ic, owner),
						 2, types, values, nulls, SPI_OK_SELECT);
	if (SPI_processed > 0)
	{
		bool		isnull;
		char	   *tenant = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		char	   *id = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);

		RefuseRegistration(rel, tp,
						   DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull)),
						   id, tenant);
	}
	RunRegistrationQuery(psprintf("INSERT INTO zenml_rbac.resource"
								  " (tenant_id, resource_type, resource_id, owner_id)"
								  " SELECT DISTINCT ON (n.%s, n.%s) n.%s, $1, n.%s, %s::uuid"
								  " FROM %s n WHERE n.%s IS NOT NULL AND n.%s IS NOT NULL"
								  " ON CONFLICT DO NOTHING",
								  tc, ic, tc, ic, owner, source, tc, ic),
						 2, types, values, nulls, SPI_OK_INSERT);
}

/* Unregisters the rows of a relation or transition table; their grants go too. */
static void
UnregisterRows(TableProtection *tp, const char *source)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1];

	values[0] = CStringGetTextDatum(tp->config.resource_type);
	RunRegistrationQuery(psprintf("DELETE FROM zenml_rbac.resource r USING %s n"
								  " WHERE r.tenant_id = n.%s AND r.resource_type = $1"
								  " AND r.resource_id = n.%s",
								  source, quote_identifier(tp->config.tenant_column),
								  quote_identifier(tp->config.id_column)),
						 1, types, values, NULL, SPI_OK_DELETE);
}

/* The first column of the first row of the last query, as a bool. */
static bool
ResultBool(int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, col, &isnull);

	return !isnull && DatumGetBool(d);
}

/* An UPDATE that changed the tenant, id or owner of one row. */
static void
ReregisterRow(Relation rel, TableProtection *tp, HeapTuple old_row, HeapTuple new_row)
{
	TupleDesc	desc = RelationGetDescr(rel);
	pg_uuid_t  *old_tenant = RowUuid(old_row, desc, tp->tenant_att);
	pg_uuid_t  *old_id = RowUuid(old_row, desc, tp->id_att);
	pg_uuid_t  *new_tenant = RowUuid(new_row, desc, tp->tenant_att);
	pg_uuid_t  *new_id = RowUuid(new_row, desc, tp->id_att);
	pg_uuid_t	owner;
	bool		have_owner = false;
	Oid			types[4] = {UUIDOID, TEXTOID, UUIDOID, UUIDOID};
	Datum		values[4];
	char		nulls[5] = {' ', ' ', ' ', 'n', '\0'};

	values[1] = CStringGetTextDatum(tp->config.resource_type);
	values[3] = (Datum) 0;

	/* the old registration goes, with its grants; its owner stays the owner */
	if (old_tenant != NULL && old_id != NULL)
	{
		values[0] = UUIDPGetDatum(old_tenant);
		values[2] = UUIDPGetDatum(old_id);
		RunRegistrationQuery("DELETE FROM zenml_rbac.resource WHERE tenant_id = $1"
							 " AND resource_type = $2 AND resource_id = $3 RETURNING owner_id",
							 3, types, values, NULL, SPI_OK_DELETE_RETURNING);
		if (SPI_processed > 0)
		{
			bool		isnull;
			Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

			if (!isnull)
			{
				owner = *DatumGetUUIDP(d);
				have_owner = true;
			}
		}
	}
	if (new_tenant == NULL || new_id == NULL)
		return;

	/* with an owner column, the owner is what it says, when that is a principal */
	if (tp->owner_att != InvalidAttrNumber)
	{
		pg_uuid_t  *column = RowUuid(new_row, desc, tp->owner_att);

		have_owner = false;
		if (column != NULL)
		{
			Oid			type = UUIDOID;
			Datum		value = UUIDPGetDatum(column);

			RunRegistrationQuery("SELECT EXISTS (SELECT FROM zenml_rbac.principal WHERE id = $1)",
								 1, &type, &value, NULL, SPI_OK_SELECT);
			have_owner = ResultBool(1);
			owner = *column;
		}
	}
	values[0] = UUIDPGetDatum(new_tenant);
	values[2] = UUIDPGetDatum(new_id);
	if (have_owner)
	{
		values[3] = UUIDPGetDatum(&owner);
		nulls[3] = ' ';
	}
	RunRegistrationQuery("SELECT NOT EXISTS (SELECT FROM zenml_rbac.tenant WHERE id = $1),"
						 " EXISTS (SELECT FROM zenml_rbac.resource WHERE tenant_id = $1"
						 "  AND resource_type = $2 AND resource_id = $3"
						 "  AND owner_id IS DISTINCT FROM $4)",
						 4, types, values, nulls, SPI_OK_SELECT);
	if (ResultBool(1) || ResultBool(2))
		RefuseRegistration(rel, tp, ResultBool(1), UuidText(new_id), UuidText(new_tenant));
	RunRegistrationQuery("INSERT INTO zenml_rbac.resource (tenant_id, resource_type, resource_id, owner_id)"
						 " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
						 4, types, values, nulls, SPI_OK_INSERT);
}

PG_FUNCTION_INFO_V1(protect_sync);

/*
 * The AFTER triggers of protected tables, and their BEFORE TRUNCATE trigger:
 * inserted rows register as resources (owner: the acting principal, or the
 * owner column), deleted rows unregister (their grants go with them), an
 * UPDATE that changes a row's tenant, id or owner moves its registration.
 * TRUNCATE bypasses row-level security, so it is refused to anyone the
 * protection applies to.
 */
Datum
protect_sync(PG_FUNCTION_ARGS)
{
	TriggerData *td = RequireTrigger(fcinfo, "protect_sync");
	Relation	rel = td->tg_relation;
	TableProtection *tp;
	pg_uuid_t	principal;
	bool		have_principal;
	CatalogAccess access;
	TriggerEvent event = td->tg_event;

	CatalogEnsureFresh();
	tp = GetTableProtection(fcinfo, rel);
	if (TRIGGER_FIRED_BY_TRUNCATE(event) &&
		check_enable_rls(tp->protected_relid, InvalidOid, true) == RLS_ENABLED)
		RefuseWrite(rel, tp, NULL, RbacActionNames[RBAC_DELETE], "TRUNCATE bypasses row-level security",
					"Only roles the protection does not apply to (the table owner, superusers) may truncate a protected table.",
					"Use DELETE, which row-level security governs.");
	have_principal = CurrentPrincipal(&principal);

	BeginCatalogAccess(&access);
	if (TRIGGER_FIRED_BY_TRUNCATE(event))
		UnregisterRows(tp, quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
													  RelationGetRelationName(rel)));
	else if (TRIGGER_FIRED_BY_INSERT(event) && TRIGGER_FIRED_FOR_STATEMENT(event) &&
			 td->tg_newtable != NULL)
	{
		SPI_register_trigger_data(td);
		RegisterRows(rel, tp, quote_identifier(td->tg_trigger->tgnewtable),
					 have_principal ? &principal : NULL);
	}
	else if (TRIGGER_FIRED_BY_DELETE(event) && TRIGGER_FIRED_FOR_STATEMENT(event) &&
			 td->tg_oldtable != NULL)
	{
		SPI_register_trigger_data(td);
		UnregisterRows(tp, quote_identifier(td->tg_trigger->tgoldtable));
	}
	else if (TRIGGER_FIRED_BY_UPDATE(event) && TRIGGER_FIRED_FOR_ROW(event) &&
			 TRIGGER_FIRED_AFTER(event))
		ReregisterRow(rel, tp, td->tg_trigtuple, td->tg_newtuple);
	else
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("protect_sync() fired for an event it does not handle")));
	EndCatalogAccess(&access);
	return PointerGetDatum(NULL);
}
