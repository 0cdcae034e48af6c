-- Internal helpers of the management API: looking objects up with clear
-- errors, authorizing the acting principal, and membership transitions.
-- None is executable by PUBLIC; the SECURITY DEFINER API functions call them.

CREATE FUNCTION zenml_rbac._check_name(kind text, name text) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF name IS NULL THEN
        RAISE EXCEPTION '% name must not be null', kind USING ERRCODE = '22004';
    END IF;
    IF name = '' OR length(name) > 255 OR name ~ '[/[:cntrl:]]' OR name <> btrim(name) THEN
        RAISE EXCEPTION 'invalid % name "%"', kind, left(name, 64)
            USING ERRCODE = '22023',
                  DETAIL = 'A name has 1 to 255 characters, no "/", no control characters and no leading or trailing spaces.';
    END IF;
    -- the checks take a principal or organization by name or by id: a name
    -- spelled like an id would answer for whoever has that id
    IF name ~* '^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})$' THEN
        RAISE EXCEPTION 'invalid % name "%"', kind, name
            USING ERRCODE = '22023', DETAIL = 'A name must not have the form of a uuid.';
    END IF;
END
$$;
COMMENT ON FUNCTION zenml_rbac._check_name(text, text) IS 'Internal: validates an object name (22004, 22023).';

CREATE FUNCTION zenml_rbac._not_null(what text, value anyelement) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF value IS NULL THEN
        RAISE EXCEPTION '% must not be null', what USING ERRCODE = '22004';
    END IF;
END
$$;
COMMENT ON FUNCTION zenml_rbac._not_null(text, anyelement) IS 'Internal: 22004 for a NULL argument.';

-- How messages name a principal: kind and name, e.g. user "alice".
CREATE FUNCTION zenml_rbac._principal_label(principal uuid) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce((SELECT format('%s "%s"', replace(p.kind, '_', ' '), p.name)
                       FROM zenml_rbac.principal p WHERE p.id = principal),
                    format('principal %s', principal));
$$;
COMMENT ON FUNCTION zenml_rbac._principal_label(uuid) IS
    'Internal: how error messages name a principal (kind and name, or the id when unknown).';

-- Locks the organization row: management changes within one organization
-- are serialized, so membership transitions see a stable picture.  Then the
-- decision cache is refreshed (what was revoked while we waited is gone).
-- A principal that is not a member of the organization learns nothing about
-- it, not even whether it exists: a generic 42501.
CREATE FUNCTION zenml_rbac._lock_org(org uuid) RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_name text;
BEGIN
    PERFORM zenml_rbac._not_null('organization', org);
    SELECT o.name INTO v_name FROM zenml_rbac.organization o WHERE o.id = org FOR NO KEY UPDATE;
    PERFORM zenml_rbac._refresh_after_lock();
    IF v_actor IS NOT NULL AND NOT zenml_rbac.rbac_org_can(v_actor, org, 'organization', 'read') THEN
        RAISE EXCEPTION 'permission denied for organization %', org
            USING ERRCODE = '42501', DETAIL = 'The acting principal is not a member of it.';
    END IF;
    IF v_name IS NULL THEN
        RAISE EXCEPTION 'organization % does not exist', org USING ERRCODE = '42704';
    END IF;
    RETURN v_name;
END
$$;
COMMENT ON FUNCTION zenml_rbac._lock_org(uuid) IS
    'Internal: locks an organization for a management change and refreshes the decision cache; 42501 for non-members, 42704 if missing.';

CREATE FUNCTION zenml_rbac._lock_tenant(tenant uuid, OUT org_id uuid, OUT name text)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
BEGIN
    PERFORM zenml_rbac._not_null('tenant', tenant);
    SELECT t.org_id, t.name INTO org_id, name FROM zenml_rbac.tenant t WHERE t.id = tenant;
    -- a tenant of an organization the actor is not in reads as a missing one
    IF NOT FOUND OR (v_actor IS NOT NULL AND NOT zenml_rbac.rbac_org_can(v_actor, org_id, 'organization', 'read')) THEN
        IF v_actor IS NOT NULL THEN
            RAISE EXCEPTION 'permission denied for tenant %', tenant
                USING ERRCODE = '42501', DETAIL = 'The acting principal is not a member of its organization.';
        END IF;
        RAISE EXCEPTION 'tenant % does not exist', tenant USING ERRCODE = '42704';
    END IF;
    PERFORM zenml_rbac._lock_org(org_id);
END
$$;
COMMENT ON FUNCTION zenml_rbac._lock_tenant(uuid) IS 'Internal: locks a tenant''s organization for a management change; 42704 if missing.';

CREATE FUNCTION zenml_rbac._require_org(actor uuid, org uuid, capability text, action text, what text)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF actor IS NOT NULL AND NOT zenml_rbac.rbac_org_can(actor, org, capability, action) THEN
        RAISE EXCEPTION 'permission denied to % in organization "%"', what,
            (SELECT o.name FROM zenml_rbac.organization o WHERE o.id = org)
            USING ERRCODE = '42501',
                  DETAIL = format('It requires "%s:%s" in the organization.', capability, action);
    END IF;
END
$$;
COMMENT ON FUNCTION zenml_rbac._require_org(uuid, uuid, text, text, text) IS
    'Internal: 42501 naming the missing organization capability.';

CREATE FUNCTION zenml_rbac._is_org_admin(actor uuid, org uuid) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    -- billing:update is held by org_admin alone
    SELECT actor IS NULL OR zenml_rbac.rbac_org_can(actor, org, 'billing', 'update');
$$;
COMMENT ON FUNCTION zenml_rbac._is_org_admin(uuid, uuid) IS
    'Internal: is the actor the system or an org_admin of the organization?';

CREATE FUNCTION zenml_rbac._require_org_admin(actor uuid, org uuid, what text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT zenml_rbac._is_org_admin(actor, org) THEN
        RAISE EXCEPTION 'permission denied to % in organization "%"', what,
            (SELECT o.name FROM zenml_rbac.organization o WHERE o.id = org)
            USING ERRCODE = '42501', DETAIL = 'It requires the org_admin role.';
    END IF;
END
$$;
COMMENT ON FUNCTION zenml_rbac._require_org_admin(uuid, uuid, text) IS 'Internal: 42501 unless org_admin.';

CREATE FUNCTION zenml_rbac._require_tenant(actor uuid, tenant uuid, resource text, actions text[], what text)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    a text;
BEGIN
    IF actor IS NULL THEN
        RETURN;
    END IF;
    FOREACH a IN ARRAY actions LOOP
        IF zenml_rbac.rbac_can(actor, tenant, resource, a) THEN
            RETURN;
        END IF;
    END LOOP;
    RAISE EXCEPTION 'permission denied to % in tenant "%"', what,
        (SELECT t.name FROM zenml_rbac.tenant t WHERE t.id = tenant)
        USING ERRCODE = '42501',
              DETAIL = format('It requires %s on "%s".',
                              (SELECT string_agg(format('"%s"', x), ' or ') FROM unnest(actions) x),
                              resource);
END
$$;
COMMENT ON FUNCTION zenml_rbac._require_tenant(uuid, uuid, text, text[], text) IS
    'Internal: 42501 unless the actor holds one of the actions on the resource in the tenant.';

-- A user or service account that is a member of the organization, or a team
-- of it: the principals that may hold roles and shares there.
-- A user or service account that is a member of the organization, or a team
-- of it: the principals that may hold roles and shares there.  A principal
-- outside the organization is named by its id only, whether it exists or
-- not: its name and kind are not the caller's to learn.  The membership row
-- is locked, so a removal committed after a REPEATABLE READ transaction
-- began fails it (40001) instead of leaving a non-member holding a role.
CREATE FUNCTION zenml_rbac._require_org_principal(org uuid, principal uuid, allow_team boolean)
RETURNS text LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_kind text;
    v_org uuid;
BEGIN
    PERFORM zenml_rbac._not_null('principal', principal);
    SELECT p.kind, p.org_id INTO v_kind, v_org FROM zenml_rbac.principal p WHERE p.id = principal
       FOR KEY SHARE;
    IF NOT FOUND OR (v_kind = 'team' AND v_org <> org)
       OR (v_kind <> 'team' AND NOT EXISTS (SELECT 1 FROM zenml_rbac.org_role_assignment m
                                             WHERE m.org_id = org AND m.principal_id = principal
                                               FOR KEY SHARE)) THEN
        RAISE EXCEPTION 'the principal is not a member of organization "%"',
            (SELECT o.name FROM zenml_rbac.organization o WHERE o.id = org)
            USING ERRCODE = '22023', DETAIL = format('Principal %s.', principal),
                  HINT = 'Give a user or service account an organization role with zenml_rbac.set_org_role() first; teams belong to one organization.';
    END IF;
    IF v_kind = 'team' AND NOT allow_team THEN
        RAISE EXCEPTION '% cannot be a team member', zenml_rbac._principal_label(principal)
            USING ERRCODE = '22023', DETAIL = 'Teams do not nest and hold no organization membership of their own.';
    END IF;
    RETURN v_kind;
END
$$;
COMMENT ON FUNCTION zenml_rbac._require_org_principal(uuid, uuid, boolean) IS
    'Internal: 22023 unless the principal is a member (or, if allowed, a team) of the organization; locks what it relies on.';

CREATE FUNCTION zenml_rbac._tenant_role(tenant uuid, role text) RETURNS uuid
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_id uuid;
    v_actor uuid;
    v_show_custom boolean;
BEGIN
    PERFORM zenml_rbac._not_null('role', role);
    SELECT r.id INTO v_id FROM zenml_rbac.role r
     WHERE r.name = role AND (r.tenant_id IS NULL OR r.tenant_id = tenant);
    IF NOT FOUND THEN
        -- the tenant's custom role names only to whoever may read its roles
        v_actor := zenml_rbac._acting_principal();
        v_show_custom := v_actor IS NULL OR zenml_rbac.rbac_can(v_actor, tenant, 'role', 'read');
        RAISE EXCEPTION 'unknown tenant role "%"', left(role, 64)
            USING ERRCODE = '22023',
                  HINT = 'Valid roles are: ' || (SELECT string_agg(r.name, ', ' ORDER BY r.tenant_id IS NOT NULL, r.created_at, r.name)
                                                FROM zenml_rbac.role r
                                               WHERE r.tenant_id IS NULL OR (v_show_custom AND r.tenant_id = tenant)) || '.';
    END IF;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION zenml_rbac._tenant_role(uuid, text) IS
    'Internal: id of a predefined or custom role of the tenant; 22023 listing valid names.';

CREATE FUNCTION zenml_rbac._custom_role(tenant uuid, role text) RETURNS uuid
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_id uuid := zenml_rbac._tenant_role(tenant, role);
BEGIN
    IF EXISTS (SELECT 1 FROM zenml_rbac.role r WHERE r.id = v_id AND r.tenant_id IS NULL) THEN
        RAISE EXCEPTION 'predefined role "%" cannot be changed', role
            USING ERRCODE = '22023', HINT = 'Create a custom role based on it with zenml_rbac.create_role().';
    END IF;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION zenml_rbac._custom_role(uuid, text) IS
    'Internal: id of a custom role of the tenant; predefined roles are refused (22023).';

CREATE FUNCTION zenml_rbac._check_vocabulary(resource_type text, action text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM zenml_rbac._not_null('resource type', resource_type);
    PERFORM zenml_rbac._not_null('action', action);
    IF strpos(resource_type, '/') > 0 THEN
        RAISE EXCEPTION 'unknown resource type "%"', left(resource_type, 64)
            USING ERRCODE = '22023', DETAIL = 'Role permissions name a type, not an instance.';
    END IF;
    -- rbac_can validates both names with the engine's own errors and hints
    PERFORM zenml_rbac.rbac_can(NULL::uuid, NULL::uuid, resource_type, action);
END
$$;
COMMENT ON FUNCTION zenml_rbac._check_vocabulary(text, text) IS
    'Internal: 22023 with a hint for an unknown resource type or action.';

-- Membership: holding a tenant role directly or through a team.  Decided in
-- C (src/membership.c) from the latest committed catalog, not a REPEATABLE
-- READ transaction's snapshot: two changes that each end one path into a
-- tenant must not both miss the end of the membership.
CREATE FUNCTION zenml_rbac._tenant_members(tenant uuid, candidates uuid[]) RETURNS uuid[]
    LANGUAGE c STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'tenant_members';
COMMENT ON FUNCTION zenml_rbac._tenant_members(uuid, uuid[]) IS
    'Internal: which of the candidates are members of the tenant now (latest committed catalog).';

CREATE FUNCTION zenml_rbac._with_team_members(principals uuid[]) RETURNS uuid[]
    LANGUAGE c STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'with_team_members';
COMMENT ON FUNCTION zenml_rbac._with_team_members(uuid[]) IS
    'Internal: the principals plus the members of those that are teams (latest committed catalog).';

CREATE FUNCTION zenml_rbac._principal_tenants(principal uuid) RETURNS uuid[]
    LANGUAGE c STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'principal_tenants';
COMMENT ON FUNCTION zenml_rbac._principal_tenants(uuid) IS
    'Internal: the tenants a principal is a member of now, through its own roles or its teams'' (latest committed catalog).';

CREATE TYPE zenml_rbac._tenant_members_before AS (tenant_id uuid, members uuid[]);
COMMENT ON TYPE zenml_rbac._tenant_members_before IS
    'Internal: the members of a tenant among some principals, taken before a change.';

-- The removals (org_member: org, principal; tenant_role: tenant, principal,
-- role; team_member: team, member), against the latest committed catalog: in
-- REPEATABLE READ a row a concurrent commit added fails the call (40001)
-- instead of surviving the removal unseen.
CREATE FUNCTION zenml_rbac._remove_latest(what text, a uuid, b uuid, c uuid) RETURNS void
    LANGUAGE c VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'remove_latest';
COMMENT ON FUNCTION zenml_rbac._remove_latest(text, uuid, uuid, uuid) IS
    'Internal: removes an org member''s rows, a tenant role assignment or a team membership, found in the latest committed catalog (40001 for a row a REPEATABLE READ transaction cannot see).';

-- Called after a change with the members from before it: whoever stopped
-- being a member loses every share it held in the tenant.
CREATE FUNCTION zenml_rbac._drop_departed_grants(tenant uuid, members_before uuid[]) RETURNS void
    LANGUAGE c VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'drop_departed_grants';
COMMENT ON FUNCTION zenml_rbac._drop_departed_grants(uuid, uuid[]) IS
    'Internal: membership transition: drops the shares of those who stopped being tenant members; a share given after a REPEATABLE READ snapshot fails the call with 40001.';

-- What an actor (not an org_admin) lacks to assign a tenant role: member:create
-- or member:update in the tenant, and every permission of the role.
CREATE FUNCTION zenml_rbac._grant_missing(actor uuid, tenant uuid, role_id uuid) RETURNS text[]
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN zenml_rbac.rbac_can(actor, tenant, 'member', 'create')
                  OR zenml_rbac.rbac_can(actor, tenant, 'member', 'update')
                THEN '{}'::text[]
                ELSE ARRAY['member:create or member:update'] END
           || zenml_rbac._role_missing_permissions(actor, tenant, role_id);
$$;
COMMENT ON FUNCTION zenml_rbac._grant_missing(uuid, uuid, uuid) IS
    'Internal: the no-escalation rule for assigning a tenant role: what the actor is missing (empty when nothing).';

-- Indirect hand-outs: adding a member to a team hands out whatever the team
-- holds (org role, tenant roles, shares), issuing an API key whatever the
-- service account holds.  The actor must hold all of it (org admins are
-- exempt); taking a member out needs member:update or member:delete where
-- the team is a member, and org_admin for a team holding org_admin.  What
-- the holder holds is read from the latest committed catalog, not from a
-- REPEATABLE READ transaction's snapshot.
CREATE FUNCTION zenml_rbac._require_holdings(actor uuid, holder uuid, org uuid, removing boolean, what text)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_missing text;
BEGIN
    IF actor IS NULL THEN
        RETURN;
    END IF;
    SELECT string_agg(CASE WHEN m.tenant_id IS NULL THEN m.missing
                           ELSE format('%s in tenant "%s"', m.missing, t.name) END,
                      ', ' ORDER BY m.tenant_id IS NOT NULL, t.name, m.missing)
      INTO v_missing
      FROM zenml_rbac._holdings_missing(actor, holder, org, removing) m
      LEFT JOIN zenml_rbac.tenant t ON t.id = m.tenant_id;
    IF v_missing IS NOT NULL THEN
        RAISE EXCEPTION 'permission denied to %', what
            USING ERRCODE = '42501',
                  DETAIL = format(CASE WHEN removing
                                       THEN 'It takes away what %s holds; missing: %s.'
                                       ELSE 'It hands out everything %s holds, so it requires all of it; missing: %s.' END,
                                  zenml_rbac._principal_label(holder), v_missing);
    END IF;
END
$$;
COMMENT ON FUNCTION zenml_rbac._require_holdings(uuid, uuid, uuid, boolean, text) IS
    'Internal: no escalation through teams and API keys: 42501 unless the actor holds everything the holder would hand out (or may take it away).';

-- Who may call these: they are internal, none for PUBLIC.
REVOKE ALL ON FUNCTION
    zenml_rbac._check_name(text, text),
    zenml_rbac._check_vocabulary(text, text),
    zenml_rbac._custom_role(uuid, text),
    zenml_rbac._drop_departed_grants(uuid, uuid[]),
    zenml_rbac._grant_missing(uuid, uuid, uuid),
    zenml_rbac._is_org_admin(uuid, uuid),
    zenml_rbac._lock_org(uuid),
    zenml_rbac._lock_tenant(uuid),
    zenml_rbac._not_null(text, anyelement),
    zenml_rbac._principal_label(uuid),
    zenml_rbac._principal_tenants(uuid),
    zenml_rbac._remove_latest(text, uuid, uuid, uuid),
    zenml_rbac._require_holdings(uuid, uuid, uuid, boolean, text),
    zenml_rbac._require_org(uuid, uuid, text, text, text),
    zenml_rbac._require_org_admin(uuid, uuid, text),
    zenml_rbac._require_org_principal(uuid, uuid, boolean),
    zenml_rbac._require_tenant(uuid, uuid, text, text[], text),
    zenml_rbac._tenant_members(uuid, uuid[]),
    zenml_rbac._tenant_role(uuid, text),
    zenml_rbac._with_team_members(uuid[])
    FROM PUBLIC;
