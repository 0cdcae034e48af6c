-- The decision engine (src/decision.c).  STABLE: the answer does not change
-- within a statement; PARALLEL RESTRICTED: the caches and the acting
-- principal live in the leader backend.

CREATE FUNCTION zenml_rbac.rbac_can(principal uuid, tenant uuid, resource text, action text)
    RETURNS boolean LANGUAGE c STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'rbac_can';
COMMENT ON FUNCTION zenml_rbac.rbac_can(uuid, uuid, text, text) IS
    'May the principal do the action on ''type'' (roles) or ''type/uuid'' (roles, ownership, shares) in the tenant? Unknown type or action names are errors (22023).';

CREATE FUNCTION zenml_rbac.rbac_can(principal text, tenant text, resource text, action text)
    RETURNS boolean LANGUAGE c STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'rbac_can_by_name';
COMMENT ON FUNCTION zenml_rbac.rbac_can(text, text, text, text) IS
    'rbac_can by name: principal is a uuid or a user name, tenant a uuid or ''organization/tenant''.';

CREATE FUNCTION zenml_rbac.rbac_can(tenant uuid, resource text, action text)
    RETURNS boolean LANGUAGE c STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'rbac_can_current';
COMMENT ON FUNCTION zenml_rbac.rbac_can(uuid, text, text) IS
    'rbac_can for current_principal(); false when there is none.';

CREATE FUNCTION zenml_rbac.rbac_can(tenant text, resource text, action text)
    RETURNS boolean LANGUAGE c STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'rbac_can_current_by_name';
COMMENT ON FUNCTION zenml_rbac.rbac_can(text, text, text) IS
    'rbac_can for current_principal(), tenant as a uuid or ''organization/tenant''.';

CREATE FUNCTION zenml_rbac.rbac_org_can(principal uuid, org uuid, capability text, action text)
    RETURNS boolean LANGUAGE c STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'rbac_org_can';
COMMENT ON FUNCTION zenml_rbac.rbac_org_can(uuid, uuid, text, text) IS
    'May the principal use the organization capability (organization, billing, member, tenant, team) with the action?';

CREATE FUNCTION zenml_rbac.rbac_org_can(principal text, org text, capability text, action text)
    RETURNS boolean LANGUAGE c STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'rbac_org_can_by_name';
COMMENT ON FUNCTION zenml_rbac.rbac_org_can(text, text, text, text) IS
    'rbac_org_can by name: principal is a uuid or a user name, org a uuid or a name.';

CREATE FUNCTION zenml_rbac.role_permissions(role_id uuid)
    RETURNS TABLE (resource_type text, action text)
    LANGUAGE c STABLE PARALLEL RESTRICTED ROWS 30
    AS 'MODULE_PATHNAME', 'role_permissions';
COMMENT ON FUNCTION zenml_rbac.role_permissions(uuid) IS
    'Effective permissions of a tenant role, with custom roles expanded through their base chain.';

CREATE FUNCTION zenml_rbac.parse_resource(resource text, OUT resource_type text, OUT resource_id uuid)
    LANGUAGE c STABLE STRICT PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'parse_resource';
COMMENT ON FUNCTION zenml_rbac.parse_resource(text) IS
    'Splits ''type'' or ''type/uuid'' into its parts, with the errors rbac_can gives (22P02 malformed, 22023 unknown type).';

CREATE FUNCTION zenml_rbac.cache_stats(OUT principals bigint, OUT resources bigint,
                                       OUT roles bigint, OUT memory_bytes bigint,
                                       OUT loads bigint)
    LANGUAGE c VOLATILE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'cache_stats';
COMMENT ON FUNCTION zenml_rbac.cache_stats() IS
    'What this backend''s decision cache holds now (entries, bytes) and how many entries it has loaded since the backend started.';

CREATE FUNCTION zenml_rbac._role_missing_permissions(actor uuid, tenant uuid, role_id uuid)
    RETURNS text[] LANGUAGE c STABLE STRICT PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'role_missing_permissions';
COMMENT ON FUNCTION zenml_rbac._role_missing_permissions(uuid, uuid, uuid) IS
    'Internal: the type:action pairs of a role the actor does not hold in the tenant (no-escalation rule).';

CREATE FUNCTION zenml_rbac._holdings_missing(actor uuid, holder uuid, org uuid, removing boolean)
    RETURNS TABLE (tenant_id uuid, missing text)
    LANGUAGE c STABLE PARALLEL RESTRICTED ROWS 10
    AS 'MODULE_PATHNAME', 'holdings_missing';
COMMENT ON FUNCTION zenml_rbac._holdings_missing(uuid, uuid, uuid, boolean) IS
    'Internal: what the actor lacks to hand out (or, removing, to take away) everything the holder holds in the organization: org role, tenant permissions, shares; from the latest committed catalog.';

-- Who may call these: the checks and who-am-I, any role may ask; the rest
-- are internal.
REVOKE ALL ON FUNCTION
    zenml_rbac._holdings_missing(uuid, uuid, uuid, boolean),
    zenml_rbac._role_missing_permissions(uuid, uuid, uuid),
    zenml_rbac.cache_stats(),
    zenml_rbac.parse_resource(text),
    zenml_rbac.rbac_can(text, text, text),
    zenml_rbac.rbac_can(text, text, text, text),
    zenml_rbac.rbac_can(uuid, text, text),
    zenml_rbac.rbac_can(uuid, uuid, text, text),
    zenml_rbac.rbac_org_can(text, text, text, text),
    zenml_rbac.rbac_org_can(uuid, uuid, text, text),
    zenml_rbac.role_permissions(uuid)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    zenml_rbac.cache_stats(),
    zenml_rbac.parse_resource(text),
    zenml_rbac.rbac_can(text, text, text),
    zenml_rbac.rbac_can(text, text, text, text),
    zenml_rbac.rbac_can(uuid, text, text),
    zenml_rbac.rbac_can(uuid, uuid, text, text),
    zenml_rbac.rbac_org_can(text, text, text, text),
    zenml_rbac.rbac_org_can(uuid, uuid, text, text),
    zenml_rbac.role_permissions(uuid)
    TO PUBLIC;
