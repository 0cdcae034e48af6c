/*
 * decision.c
 *     The decision engine: rbac_can() and rbac_org_can() with their name-based
 *     and current-principal forms, answered from the backend caches of
 *     catalog.c, plus the no-escalation helper of the management API.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/uuid.h"

#include "denial_log.h"
#include "catalog.h"
#include "decision.h"
#include "identity.h"
#include "resource_ref.h"

/* What one check asks about, once its names are validated. */
typedef struct CheckTarget
{
	int			type_index;
	bool		has_id;
	pg_uuid_t	id;
	int			action;
} CheckTarget;

/*
 * Per call site (fn_extra) memo of the last inputs and what they resolved
 * to: RLS scans ask the same type/action and mostly the same principal and
 * tenant row after row.  Valid within one cache epoch.
 */
#define MEMO_TEXT_MAX 128

typedef struct CallMemo
{
	uint64		epoch;
	int			resource_len;	/* -1: nothing memoized */
	char		resource[MEMO_TEXT_MAX];
	CheckTarget target;			/* its action comes from the action memo */
	int			action_len;
	char		action_text[16];
	int			action;
	bool		have_scope;
	pg_uuid_t	principal;
	pg_uuid_t	tenant;
	PrincipalEntry *entry;
	const uint8 *permissions;
} CallMemo;

static CallMemo *
GetMemo(FunctionCallInfo fcinfo)
{
	CallMemo   *memo = (CallMemo *) fcinfo->flinfo->fn_extra;
	uint64		epoch = CatalogEpoch();

	if (memo == NULL)
	{
		memo = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(CallMemo));
		fcinfo->flinfo->fn_extra = memo;
		memo->epoch = epoch - 1;
	}
	if (memo->epoch != epoch)
	{
		memo->epoch = epoch;
		memo->resource_len = -1;
		memo->action_len = -1;
		memo->have_scope = false;
	}
	return memo;
}

/* Longest piece of user input quoted back in an error message. */
#define QUOTE_MAX 64

static char *
QuoteInput(const char *s, int len)
{
	int			clip = pg_mbcliplen(s, len, QUOTE_MAX);

	return clip < len ? psprintf("%.*s...", clip, s) : pnstrdup(s, len);
}

int
RequireAction(const char *s, int len)
{
	int			a = ParseAction(s, len);

	if (a < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown action \"%s\"", QuoteInput(s, len)),
				 errhint("Valid actions are: %s.", RbacActionList())));
	return a;
}

int
RequireType(const char *s, int len)
{
	const TypeEntry *type = CatalogLookupType(s, len);

	if (type == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown resource type \"%s\"", QuoteInput(s, len)),
				 errhint("Valid resource types are: %s.", CatalogTypeNameList())));
	return type->index;
}

static int
ValidateAction(text *action)
{
	return RequireAction(VARDATA_ANY(action), VARSIZE_ANY_EXHDR(action));
}

/* 'type' or 'type/uuid': 22P02 when malformed, 22023 for an unknown type. */
static void
ValidateResource(text *resource, CheckTarget *out)
{
	const char *s = VARDATA_ANY(resource);
	int			len = VARSIZE_ANY_EXHDR(resource);
	ResourceRef ref;

	if (!ParseResourceRef(s, len, &ref))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
				 errmsg("invalid resource \"%s\"", QuoteInput(s, len)),
				 errdetail("A resource is written \"type\" or \"type/uuid\".")));
	out->type_index = RequireType(ref.type, (int) ref.type_len);
	out->has_id = ref.has_id;
	if (ref.has_id)
		memcpy(out->id.data, ref.id, UUID_LEN);
}

/*
 * Validates the names of a check before anything else is looked at: an
 * unknown type or action is an error whoever asks.
 */
static void
ValidateTarget(FunctionCallInfo fcinfo, CallMemo *memo, int resource_arg, CheckTarget *out)
{
	text	   *resource;
	text	   *action;
	int			len;

	if (PG_ARGISNULL(resource_arg))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("resource must not be null")));
	if (PG_ARGISNULL(resource_arg + 1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("action must not be null")));
	resource = PG_GETARG_TEXT_PP(resource_arg);
	action = PG_GETARG_TEXT_PP(resource_arg + 1);

	len = VARSIZE_ANY_EXHDR(resource);
	if (len == memo->resource_len && memcmp(VARDATA_ANY(resource), memo->resource, len) == 0)
		*out = memo->target;
	else
	{
		ValidateResource(resource, out);
		if (len <= MEMO_TEXT_MAX)
		{
			memcpy(memo->resource, VARDATA_ANY(resource), len);
			memo->resource_len = len;
			memo->target = *out;
		}
	}

	len = VARSIZE_ANY_EXHDR(action);
	if (len == memo->action_len && memcmp(VARDATA_ANY(action), memo->action_text, len) == 0)
		out->action = memo->action;
	else
	{
		out->action = ValidateAction(action);
		if (len <= (int) sizeof(memo->action_text))
		{
			memcpy(memo->action_text, VARDATA_ANY(action), len);
			memo->action_len = len;
			memo->action = out->action;
		}
	}
}

/*
 * The decision: type-level permission from roles (own and teams'), then for
 * an instance its owner (while a member) and its shares (own and teams').
 */
static bool
Decide(CallMemo *memo, const pg_uuid_t *principal, const pg_uuid_t *tenant,
	   const CheckTarget *target)
{
	PrincipalEntry *p;
	const uint8 *perms;
	uint8		wanted = RBAC_BIT(target->action);
	ResourceEntry *r;

	if (memo->have_scope && UuidEquals(&memo->principal, principal) &&
		UuidEquals(&memo->tenant, tenant))
	{
		p = memo->entry;
		perms = memo->permissions;
	}
	else
	{
		p = CatalogGetPrincipal(principal);
		perms = CatalogTenantPermissions(principal, tenant);
		memo->principal = *principal;
		memo->tenant = *tenant;
		memo->entry = p;
		memo->permissions = perms;
		memo->have_scope = true;
	}
	if (!p->exists || !p->active)
		return false;
	if (PermitsOnType(perms, target->type_index, wanted))
		return true;
	if (!target->has_id)
		return false;

	r = CatalogGetResource(tenant, target->type_index, &target->id);
	if (!r->registered)
		return false;
	if (perms != NULL && r->has_owner && UuidEquals(&r->owner, principal))
		return true;
	return CatalogSharedWith(r, p, wanted);
}

bool
DecisionAllows(const pg_uuid_t *principal, const pg_uuid_t *tenant, int type_index,
			   const pg_uuid_t *id, int action)
{
	CallMemo	memo;
	CheckTarget target;

	memset(&memo, 0, sizeof(memo));
	memset(&target, 0, sizeof(target));
	target.type_index = type_index;
	target.action = action;
	target.has_id = id != NULL;
	if (id != NULL)
		target.id = *id;
	return Decide(&memo, principal, tenant, &target);
}

/* A uuid, else a name of that kind (CatalogResolveName): 'u' user, 't' "org/tenant". */
static bool
ResolveText(text *t, char kind, pg_uuid_t *out)
{
	char	   *s = text_to_cstring(t);

	if (ParseUuid(s, strlen(s), out->data))
		return true;
	return CatalogResolveName(kind, s, out);
}

/* A principal given as text: a uuid, else a user name. */
#define ResolvePrincipalText(t, out) ResolveText((t), 'u', (out))
/* A tenant given as text: a uuid, else 'organization/tenant'. */
#define ResolveTenantText(t, out) ResolveText((t), 't', (out))

/* An argument as the log line shows it (NULL when absent). */
static char *
ArgString(FunctionCallInfo fcinfo, int arg, bool is_uuid)
{
	if (arg < 0 || PG_ARGISNULL(arg))
		return NULL;
	if (is_uuid)
		return DatumGetCString(DirectFunctionCall1(uuid_out, PG_GETARG_DATUM(arg)));
	return text_to_cstring(PG_GETARG_TEXT_PP(arg));
}

/*
 * A check's answer; a denial is logged when zenml_rbac.log_denials is on.
 * principal_arg < 0: the current principal was asked about.  Arguments
 * from scope_arg on are the tenant (or organization), the resource (or
 * capability) and the action.
 */
static Datum
Answer(FunctionCallInfo fcinfo, bool allowed, const char *check, int principal_arg,
	   int scope_arg, bool uuid_args)
{
	char	   *principal;

	if (likely(allowed) || likely(!rbac_log_denials))
		PG_RETURN_BOOL(allowed);
	/* the management functions' own probes (running as the extension owner) are not denials */
	if (GetUserId() != GetOuterUserId() && GetUserId() == CatalogExtensionOwner())
		PG_RETURN_BOOL(allowed);
	if (principal_arg >= 0)
		principal = ArgString(fcinfo, principal_arg, uuid_args);
	else
	{
		pg_uuid_t	current;

		principal = CurrentPrincipal(&current)
			? UuidText(&current)
			: NULL;
	}
	LogDenial(check, principal, ArgString(fcinfo, scope_arg, uuid_args),
			  ArgString(fcinfo, scope_arg + 1, false),
			  ArgString(fcinfo, scope_arg + 2, false));
	PG_RETURN_BOOL(allowed);
}

PG_FUNCTION_INFO_V1(rbac_can);

/* rbac_can(principal uuid, tenant uuid, resource text, action text) */
Datum
rbac_can(PG_FUNCTION_ARGS)
{
	CallMemo   *memo;
	CheckTarget target;

	CatalogEnsureFresh();
	memo = GetMemo(fcinfo);
	ValidateTarget(fcinfo, memo, 2, &target);
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		return Answer(fcinfo, false, "rbac_can", 0, 1, true);
	return Answer(fcinfo, Decide(memo, PG_GETARG_UUID_P(0), PG_GETARG_UUID_P(1), &target), "rbac_can", 0, 1, true);
}

PG_FUNCTION_INFO_V1(rbac_can_by_name);

/* rbac_can(principal text, tenant text, resource text, action text) */
Datum
rbac_can_by_name(PG_FUNCTION_ARGS)
{
	CallMemo   *memo;
	CheckTarget target;
	pg_uuid_t	principal;
	pg_uuid_t	tenant;

	CatalogEnsureFresh();
	memo = GetMemo(fcinfo);
	ValidateTarget(fcinfo, memo, 2, &target);
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		return Answer(fcinfo, false, "rbac_can", 0, 1, false);
	if (!ResolvePrincipalText(PG_GETARG_TEXT_PP(0), &principal) ||
		!ResolveTenantText(PG_GETARG_TEXT_PP(1), &tenant))
		return Answer(fcinfo, false, "rbac_can", 0, 1, false);
	return Answer(fcinfo, Decide(memo, &principal, &tenant, &target), "rbac_can", 0, 1, false);
}

PG_FUNCTION_INFO_V1(rbac_can_current);

/* rbac_can(tenant uuid, resource text, action text), for current_principal() */
Datum
rbac_can_current(PG_FUNCTION_ARGS)
{
	CallMemo   *memo;
	CheckTarget target;
	pg_uuid_t	principal;

	CatalogEnsureFresh();
	memo = GetMemo(fcinfo);
	ValidateTarget(fcinfo, memo, 1, &target);
	if (PG_ARGISNULL(0) || !CurrentPrincipal(&principal))
		return Answer(fcinfo, false, "rbac_can", -1, 0, true);
	return Answer(fcinfo, Decide(memo, &principal, PG_GETARG_UUID_P(0), &target), "rbac_can", -1, 0, true);
}

PG_FUNCTION_INFO_V1(rbac_can_current_by_name);

/* rbac_can(tenant text, resource text, action text), for current_principal() */
Datum
rbac_can_current_by_name(PG_FUNCTION_ARGS)
{
	CallMemo   *memo;
	CheckTarget target;
	pg_uuid_t	principal;
	pg_uuid_t	tenant;

	CatalogEnsureFresh();
	memo = GetMemo(fcinfo);
	ValidateTarget(fcinfo, memo, 1, &target);
	if (PG_ARGISNULL(0) || !CurrentPrincipal(&principal) ||
		!ResolveTenantText(PG_GETARG_TEXT_PP(0), &tenant))
		return Answer(fcinfo, false, "rbac_can", -1, 0, false);
	return Answer(fcinfo, Decide(memo, &principal, &tenant, &target), "rbac_can", -1, 0, false);
}

/* ------------------------------------------------------------------------
 * Organization capabilities (README: Reference, Checks): the lowest org role that holds
 * each capability x action; ORG_NONE where no role does.
 * ------------------------------------------------------------------------
 */

typedef struct OrgCapability
{
	const char *name;
	OrgRoleLevel needs[RBAC_NUM_ACTIONS];	/* create, read, update, delete, share */
} OrgCapability;

static const OrgCapability org_capabilities[] = {
	{"organization", {ORG_NONE, ORG_VIEWER, ORG_EDITOR, ORG_ADMIN, ORG_NONE}},
	{"billing", {ORG_NONE, ORG_ADMIN, ORG_ADMIN, ORG_NONE, ORG_NONE}},
	{"member", {ORG_EDITOR, ORG_VIEWER, ORG_EDITOR, ORG_EDITOR, ORG_NONE}},
	{"tenant", {ORG_EDITOR, ORG_VIEWER, ORG_EDITOR, ORG_ADMIN, ORG_NONE}},
	{"team", {ORG_EDITOR, ORG_VIEWER, ORG_EDITOR, ORG_EDITOR, ORG_NONE}},
};

/* "organization, billing, ...": for the hint, from the table. */
static const char *
CapabilityList(void)
{
	StringInfoData list;

	initStringInfo(&list);
	for (int i = 0; i < lengthof(org_capabilities); i++)
		appendStringInfo(&list, "%s%s", i > 0 ? ", " : "", org_capabilities[i].name);
	return list.data;
}

static const OrgCapability *
ValidateCapability(text *capability)
{
	const char *s = VARDATA_ANY(capability);
	int			len = VARSIZE_ANY_EXHDR(capability);

	for (int i = 0; i < (int) lengthof(org_capabilities); i++)
	{
		const char *name = org_capabilities[i].name;

		if ((int) strlen(name) == len && memcmp(name, s, len) == 0)
			return &org_capabilities[i];
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown organization capability \"%s\"", QuoteInput(s, len)),
			 errhint("Valid capabilities are: %s.", CapabilityList())));
	return NULL;
}

static bool
DecideOrg(const pg_uuid_t *principal, const pg_uuid_t *org,
		  const OrgCapability *capability, int action)
{
	PrincipalEntry *p = CatalogGetPrincipal(principal);
	OrgRoleLevel needs = capability->needs[action];

	if (!p->exists || !p->active || needs == ORG_NONE)
		return false;
	return CatalogOrgRole(principal, org) >= needs;
}

static void
ValidateOrgCheck(FunctionCallInfo fcinfo, const OrgCapability **capability, int *action)
{
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("capability must not be null")));
	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("action must not be null")));
	*capability = ValidateCapability(PG_GETARG_TEXT_PP(2));
	*action = ValidateAction(PG_GETARG_TEXT_PP(3));
}

PG_FUNCTION_INFO_V1(rbac_org_can);

/* rbac_org_can(principal uuid, org uuid, capability text, action text) */
Datum
rbac_org_can(PG_FUNCTION_ARGS)
{
	const OrgCapability *capability;
	int			action;

	CatalogEnsureFresh();
	ValidateOrgCheck(fcinfo, &capability, &action);
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		return Answer(fcinfo, false, "rbac_org_can", 0, 1, true);
	return Answer(fcinfo, DecideOrg(PG_GETARG_UUID_P(0), PG_GETARG_UUID_P(1), capability, action), "rbac_org_can", 0, 1, true);
}

PG_FUNCTION_INFO_V1(rbac_org_can_by_name);

/* rbac_org_can(principal text, org text, capability text, action text) */
Datum
rbac_org_can_by_name(PG_FUNCTION_ARGS)
{
	const OrgCapability *capability;
	int			action;
	pg_uuid_t	principal;
	pg_uuid_t	org;

	CatalogEnsureFresh();
	ValidateOrgCheck(fcinfo, &capability, &action);
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		return Answer(fcinfo, false, "rbac_org_can", 0, 1, false);
	if (!ResolvePrincipalText(PG_GETARG_TEXT_PP(0), &principal))
		return Answer(fcinfo, false, "rbac_org_can", 0, 1, false);
	if (!ResolveText(PG_GETARG_TEXT_PP(1), 'o', &org))
		return Answer(fcinfo, false, "rbac_org_can", 0, 1, false);
	return Answer(fcinfo, DecideOrg(&principal, &org, capability, action), "rbac_org_can", 0, 1, false);
}

/* ------------------------------------------------------------------------
 * Helpers of the management API
 * ------------------------------------------------------------------------
 */

PG_FUNCTION_INFO_V1(role_missing_permissions);

/*
 * role_missing_permissions(actor uuid, tenant uuid, role uuid) returns text[]:
 * the 'type:action' pairs the role holds that the actor does not hold in the
 * tenant (type level), in vocabulary order.  Empty when nothing is missing.
 */
Datum
role_missing_permissions(PG_FUNCTION_ARGS)
{
	pg_uuid_t  *actor = PG_GETARG_UUID_P(0);
	pg_uuid_t  *tenant = PG_GETARG_UUID_P(1);
	pg_uuid_t  *role = PG_GETARG_UUID_P(2);
	PrincipalEntry *p;
	const uint8 *held = NULL;
	const uint8 *wanted;
	ArrayBuildState *astate = NULL;
	int			ntypes;

	CatalogEnsureFresh();
	ntypes = CatalogTypeCount();
	p = CatalogGetPrincipal(actor);
	if (p->exists && p->active)
		held = CatalogTenantPermissions(actor, tenant);
	wanted = CatalogRolePermissions(role);
	astate = initArrayResult(TEXTOID, CurrentMemoryContext, false);
	if (wanted != NULL)
	{
		for (int t = 0; t < ntypes; t++)
		{
			uint8		missing = wanted[t] & ~(held ? held[t] : 0);

			for (int a = 0; a < RBAC_NUM_ACTIONS; a++)
				if (missing & RBAC_BIT(a))
					astate = accumArrayResult(astate,
											  CStringGetTextDatum(psprintf("%s:%s", CatalogTypeName(t),
																		   RbacActionNames[a])),
											  false, TEXTOID, CurrentMemoryContext);
		}
	}
	PG_RETURN_DATUM(makeArrayResult(astate, CurrentMemoryContext));
}

/* One row of holdings_missing(): what is missing, and in which tenant (NULL: the organization). */
static void
PutMissing(ReturnSetInfo *rsinfo, const pg_uuid_t *tenant, const char *what)
{
	Datum		values[2];
	bool		nulls[2] = {tenant == NULL, false};

	values[0] = tenant ? UUIDPGetDatum((pg_uuid_t *) tenant) : (Datum) 0;
	values[1] = CStringGetTextDatum(what);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

PG_FUNCTION_INFO_V1(holdings_missing);

/*
 * _holdings_missing(actor uuid, holder uuid, org uuid, removing boolean)
 * returns table(tenant_id uuid, missing text): the no-escalation rule for
 * the indirect ways of handing out what a principal holds (adding a member
 * to a team, issuing an API key of a service account).  Adding needs
 * everything the holder holds in the organization: its org role, in every
 * tenant where it is a member "member:create" or "member:update" and each
 * of its permissions, on every instance shared with it (or its teams)
 * "share" and each shared action, and on every instance it owns where it
 * is a member every action.  Removing a member needs, where the
 * holder is a tenant member, "member:update" or "member:delete", and
 * org_admin when the holder holds org_admin.  Org admins miss nothing.
 * Decided, like every check, from the latest committed catalog.
 */
Datum
holdings_missing(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	pg_uuid_t  *actor;
	pg_uuid_t  *holder;
	pg_uuid_t  *org;
	bool		removing;
	PrincipalEntry *a;
	PrincipalEntry *h;
	OrgRoleLevel actor_level = ORG_NONE;
	OrgRoleLevel holder_level;
	const TypeEntry *member;
	int			ntypes;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3))
		PG_RETURN_VOID();
	actor = PG_GETARG_UUID_P(0);
	holder = PG_GETARG_UUID_P(1);
	org = PG_GETARG_UUID_P(2);
	removing = PG_GETARG_BOOL(3);

	CatalogEnsureFresh();
	ntypes = CatalogTypeCount();
	member = CatalogLookupType("member", strlen("member"));
	a = CatalogGetPrincipal(actor);
	h = CatalogGetPrincipal(holder);
	if (a->exists && a->active)
		actor_level = CatalogOrgRole(actor, org);
	if (actor_level == ORG_ADMIN)
		PG_RETURN_VOID();
	holder_level = CatalogOrgRole(holder, org);
	if (holder_level == ORG_ADMIN || (!removing && holder_level > actor_level))
		PutMissing(rsinfo, NULL, OrgRoleNames[holder_level]);

	for (int t = 0; t < h->ntenants; t++)
	{
		const pg_uuid_t *tenant = &h->tenants[t];
		const uint8 *held = CatalogTenantPermissions(holder, tenant);
		const uint8 *has = (a->exists && a->active) ? CatalogTenantPermissions(actor, tenant) : NULL;
		uint8		admin_bits = (has != NULL && member != NULL) ? has[member->index] : 0;

		if (removing)
		{
			if (!(admin_bits & (RBAC_BIT(RBAC_UPDATE) | RBAC_BIT(RBAC_DELETE))))
				PutMissing(rsinfo, tenant, "member:update or member:delete");
			continue;
		}
		if (!(admin_bits & (RBAC_BIT(RBAC_CREATE) | RBAC_BIT(RBAC_UPDATE))))
			PutMissing(rsinfo, tenant, "member:create or member:update");
		for (int i = 0; held != NULL && i < ntypes; i++)
		{
			uint8		lacking = held[i] & ~(has ? has[i] : 0);

			for (int act = 0; act < RBAC_NUM_ACTIONS; act++)
				if (lacking & RBAC_BIT(act))
					PutMissing(rsinfo, tenant, psprintf("%s:%s", CatalogTypeName(i),
														RbacActionNames[act]));
		}
	}

	if (!removing)
	{
		pg_uuid_t  *grantees = CatalogGrantees(h);
		HeldGrant  *grants;
		HeldGrant  *owned;
		int			ngrants;
		int			nowned;

		ngrants = CatalogPrincipalGrants(grantees, h->nteams + 1, &grants);

		/*
		 * What it owns where it is a member: ownership gives every action
		 * there (the share bit needs no special case, it is one of them).
		 */
		nowned = CatalogOwnedResources(holder, &owned);
		grants = repalloc(grants, sizeof(HeldGrant) * Max(ngrants + nowned, 1));
		for (int o = 0; o < nowned; o++)
		{
			bool		in_tenant = false;

			for (int t = 0; t < h->ntenants && !in_tenant; t++)
				in_tenant = UuidEquals(&h->tenants[t], &owned[o].tenant);
			if (in_tenant)
			{
				owned[o].actions = RBAC_SHAREABLE;
				grants[ngrants++] = owned[o];
			}
		}
		for (int g = 0; g < ngrants; g++)
		{
			uint8		wanted = grants[g].actions | RBAC_BIT(RBAC_SHARE);

			for (int act = 0; act < RBAC_NUM_ACTIONS; act++)
				if ((wanted & RBAC_BIT(act)) &&
					!DecisionAllows(actor, &grants[g].tenant, grants[g].type_index,
									&grants[g].id, act))
					PutMissing(rsinfo, &grants[g].tenant,
							   psprintf("%s/%s:%s", CatalogTypeName(grants[g].type_index),
										UuidText(&grants[g].id),
										RbacActionNames[act]));
		}
	}
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(role_permissions);

/*
 * role_permissions(role uuid) returns table(resource_type text, action text):
 * the effective permission set of a role, live inheritance applied.
 */
Datum
role_permissions(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	const uint8 *perms;
	int			ntypes;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0))
		PG_RETURN_VOID();
	CatalogEnsureFresh();
	ntypes = CatalogTypeCount();
	perms = CatalogRolePermissions(PG_GETARG_UUID_P(0));
	if (perms == NULL)
		PG_RETURN_VOID();
	for (int t = 0; t < ntypes; t++)
		for (int a = 0; a < RBAC_NUM_ACTIONS; a++)
		{
			Datum		values[2];
			bool		nulls[2] = {false, false};

			if (!(perms[t] & RBAC_BIT(a)))
				continue;
			values[0] = CStringGetTextDatum(CatalogTypeName(t));
			values[1] = CStringGetTextDatum(RbacActionNames[a]);
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
		}
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(parse_resource);

/* parse_resource(resource text, OUT resource_type text, OUT resource_id uuid) */
Datum
parse_resource(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	CheckTarget target;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	CatalogEnsureFresh();
	ValidateResource(PG_GETARG_TEXT_PP(0), &target);
	values[0] = CStringGetTextDatum(CatalogTypeName(target.type_index));
	if (target.has_id)
	{
		pg_uuid_t  *id = palloc(sizeof(pg_uuid_t));

		memcpy(id, &target.id, sizeof(pg_uuid_t));
		values[1] = UUIDPGetDatum(id);
	}
	else
		nulls[1] = true;
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

PG_FUNCTION_INFO_V1(cache_stats);

/* cache_stats(): what this backend's cache holds, for benchmarks and DBAs. */
Datum
cache_stats(PG_FUNCTION_ARGS)
{
	TupleDesc	tupdesc;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};
	int64		principals,
				resources,
				roles,
				bytes,
				loads;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	CatalogStats(&principals, &resources, &roles, &bytes, &loads);
	values[0] = Int64GetDatum(principals);
	values[1] = Int64GetDatum(resources);
	values[2] = Int64GetDatum(roles);
	values[3] = Int64GetDatum(bytes);
	values[4] = Int64GetDatum(loads);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}
