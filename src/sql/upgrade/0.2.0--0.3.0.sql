-- zenml_rbac 0.2.0 -> 0.3.0: security fixes.  No escalation through the
-- indirect paths (adding a member to a team hands out its org role, tenant
-- roles and shares; issuing an API key everything its service account
-- holds); every credential and management decision from the latest
-- committed catalog and the clock now, whatever the isolation level (API
-- keys, tokens, what a team or account holds); a user is deactivated only
-- by itself or the system; just-in-time user names cannot be taken first;
-- errors do not tell callers without rights whether an object exists, nor
-- name another organization's principals or another tenant's custom roles.
-- The C side (same library) also refuses moving a protected row out of its
-- tenant without delete there, keeps an open cursor from passing to
-- another principal through set_principal(NULL), caps the role cache, and
-- bounds the values of a denial log line.
-- The upgrade test checks the result equals a fresh 0.3.0 install.

\echo Use "ALTER EXTENSION zenml_rbac UPDATE TO '0.3.0'" to load this file. \quit

-- replaced by _require_holdings; changed signatures
DROP FUNCTION zenml_rbac._require_team_change(uuid, uuid, uuid, boolean);
DROP FUNCTION zenml_rbac._key_owner(uuid, text);
DROP FUNCTION zenml_rbac._jwt_verify(text);

CREATE OR REPLACE FUNCTION zenml_rbac._holdings_missing(actor uuid, holder uuid, org uuid, removing boolean)
    RETURNS TABLE (tenant_id uuid, missing text)
    LANGUAGE c STABLE PARALLEL RESTRICTED ROWS 10
    AS 'MODULE_PATHNAME', 'holdings_missing';
COMMENT ON FUNCTION zenml_rbac._holdings_missing(uuid, uuid, uuid, boolean) IS
    'Internal: what the actor lacks to hand out (or, removing, to take away) everything the holder holds in the organization: org role, tenant permissions, shares; from the latest committed catalog.';
REVOKE ALL ON FUNCTION zenml_rbac._holdings_missing(uuid, uuid, uuid, boolean) FROM PUBLIC;

CREATE OR REPLACE FUNCTION zenml_rbac._principal_active(principal uuid) RETURNS boolean
    LANGUAGE c STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'principal_active';
COMMENT ON FUNCTION zenml_rbac._principal_active(uuid) IS
    'Internal: is it an existing, active user or service account, in the latest committed catalog?';
REVOKE ALL ON FUNCTION zenml_rbac._principal_active(uuid) FROM PUBLIC;

CREATE OR REPLACE FUNCTION zenml_rbac._lock_tenant(tenant uuid, OUT org_id uuid, OUT name text)
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

-- A user or service account that is a member of the organization, or a team
-- of it: the principals that may hold roles and shares there.
-- A user or service account that is a member of the organization, or a team
-- of it: the principals that may hold roles and shares there.  A principal
-- outside the organization is named by its id only, whether it exists or
-- not: its name and kind are not the caller's to learn.  The membership row
-- is locked, so a removal committed after a REPEATABLE READ transaction
-- began fails it (40001) instead of leaving a non-member holding a role.
CREATE OR REPLACE FUNCTION zenml_rbac._require_org_principal(org uuid, principal uuid, allow_team boolean)
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

CREATE OR REPLACE FUNCTION zenml_rbac._tenant_role(tenant uuid, role text) RETURNS uuid
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

-- Membership: holding a tenant role directly or through a team.  Decided in
-- C (src/membership.c) from the latest committed catalog, not a REPEATABLE
-- READ transaction's snapshot: two changes that each end one path into a
-- tenant must not both miss the end of the membership.
CREATE OR REPLACE FUNCTION zenml_rbac._tenant_members(tenant uuid, candidates uuid[]) RETURNS uuid[]
    LANGUAGE c STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'tenant_members';
COMMENT ON FUNCTION zenml_rbac._tenant_members(uuid, uuid[]) IS
    'Internal: which of the candidates are members of the tenant now (latest committed catalog).';

CREATE OR REPLACE FUNCTION zenml_rbac._with_team_members(principals uuid[]) RETURNS uuid[]
    LANGUAGE c STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'with_team_members';
COMMENT ON FUNCTION zenml_rbac._with_team_members(uuid[]) IS
    'Internal: the principals plus the members of those that are teams (latest committed catalog).';

CREATE OR REPLACE FUNCTION zenml_rbac._principal_tenants(principal uuid) RETURNS uuid[]
    LANGUAGE c STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'principal_tenants';
COMMENT ON FUNCTION zenml_rbac._principal_tenants(uuid) IS
    'Internal: the tenants a principal is a member of now, through its own roles or its teams'' (latest committed catalog).';
REVOKE ALL ON FUNCTION zenml_rbac._principal_tenants(uuid) FROM PUBLIC;

-- The removals (org_member: org, principal; tenant_role: tenant, principal,
-- role; team_member: team, member), against the latest committed catalog: in
-- REPEATABLE READ a row a concurrent commit added fails the call (40001)
-- instead of surviving the removal unseen.
CREATE OR REPLACE FUNCTION zenml_rbac._remove_latest(what text, a uuid, b uuid, c uuid) RETURNS void
    LANGUAGE c VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'remove_latest';
COMMENT ON FUNCTION zenml_rbac._remove_latest(text, uuid, uuid, uuid) IS
    'Internal: removes an org member''s rows, a tenant role assignment or a team membership, found in the latest committed catalog (40001 for a row a REPEATABLE READ transaction cannot see).';
REVOKE ALL ON FUNCTION zenml_rbac._remove_latest(text, uuid, uuid, uuid) FROM PUBLIC;

-- Called after a change with the members from before it: whoever stopped
-- being a member loses every share it held in the tenant.
CREATE OR REPLACE FUNCTION zenml_rbac._drop_departed_grants(tenant uuid, members_before uuid[]) RETURNS void
    LANGUAGE c VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'drop_departed_grants';
COMMENT ON FUNCTION zenml_rbac._drop_departed_grants(uuid, uuid[]) IS
    'Internal: membership transition: drops the shares of those who stopped being tenant members; a share given after a REPEATABLE READ snapshot fails the call with 40001.';

-- Indirect hand-outs: adding a member to a team hands out whatever the team
-- holds (org role, tenant roles, shares), issuing an API key whatever the
-- service account holds.  The actor must hold all of it (org admins are
-- exempt); taking a member out needs member:update or member:delete where
-- the team is a member, and org_admin for a team holding org_admin.  What
-- the holder holds is read from the latest committed catalog, not from a
-- REPEATABLE READ transaction's snapshot.
CREATE OR REPLACE FUNCTION zenml_rbac._require_holdings(actor uuid, holder uuid, org uuid, removing boolean, what text)
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
REVOKE ALL ON FUNCTION zenml_rbac._require_holdings(uuid, uuid, uuid, boolean, text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION zenml_rbac.create_organization(name text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_id uuid;
BEGIN
    PERFORM zenml_rbac._check_name('organization', name);
    -- activity from the latest committed catalog: a user deactivated after a
    -- REPEATABLE READ transaction began creates nothing in it
    IF v_actor IS NOT NULL AND (NOT zenml_rbac._principal_active(v_actor) OR NOT EXISTS (
        SELECT 1 FROM zenml_rbac.principal p WHERE p.id = v_actor AND p.kind = 'user')) THEN
        RAISE EXCEPTION 'permission denied to create organization "%"', name
            USING ERRCODE = '42501', DETAIL = 'Only active users and the system create organizations.';
    END IF;
    IF EXISTS (SELECT 1 FROM zenml_rbac.organization o WHERE o.name = create_organization.name) THEN
        RAISE EXCEPTION 'organization "%" already exists', name USING ERRCODE = '42710';
    END IF;
    INSERT INTO zenml_rbac.organization (name) VALUES (name) RETURNING id INTO v_id;
    IF v_actor IS NOT NULL THEN
        INSERT INTO zenml_rbac.org_role_assignment (org_id, principal_id, role)
        VALUES (v_id, v_actor, 'org_admin');
    END IF;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION zenml_rbac.create_organization(text) IS
    'Creates an organization; a user creating it becomes its org_admin. Allowed to the system and to active users.';

CREATE OR REPLACE FUNCTION zenml_rbac.set_org_role(org uuid, principal uuid, role text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_kind text;
    v_porg uuid;
    v_current text;
BEGIN
    PERFORM zenml_rbac._lock_org(org);
    PERFORM zenml_rbac._not_null('principal', principal);
    PERFORM zenml_rbac._not_null('role', role);
    IF role NOT IN ('org_admin', 'org_editor', 'org_viewer') THEN
        RAISE EXCEPTION 'unknown organization role "%"', left(role, 64)
            USING ERRCODE = '22023', HINT = 'Valid roles are: org_admin, org_editor, org_viewer.';
    END IF;
    -- whoever may change no member learns nothing about the principal first
    IF v_actor IS NOT NULL AND NOT zenml_rbac.rbac_org_can(v_actor, org, 'member', 'create')
       AND NOT zenml_rbac.rbac_org_can(v_actor, org, 'member', 'update') THEN
        PERFORM zenml_rbac._require_org(v_actor, org, 'member', 'update', 'change a member''s role');
    END IF;
    SELECT p.kind, p.org_id INTO v_kind, v_porg FROM zenml_rbac.principal p WHERE p.id = principal;
    IF NOT FOUND OR (v_porg IS NOT NULL AND v_porg <> org) THEN
        -- another organization's service account or team is named like a missing one
        RAISE EXCEPTION 'the principal cannot be a member of organization "%"',
            (SELECT o.name FROM zenml_rbac.organization o WHERE o.id = org)
            USING ERRCODE = '22023',
                  DETAIL = format('Principal %s is no user, nor a service account or team of this organization.', principal);
    END IF;
    SELECT m.role INTO v_current FROM zenml_rbac.org_role_assignment m
     WHERE m.org_id = org AND m.principal_id = principal;
    IF v_current IS NULL THEN
        PERFORM zenml_rbac._require_org(v_actor, org, 'member', 'create', 'add a member');
    ELSE
        PERFORM zenml_rbac._require_org(v_actor, org, 'member', 'update', 'change a member''s role');
    END IF;
    IF role = 'org_admin' OR v_current = 'org_admin' THEN
        PERFORM zenml_rbac._require_org_admin(v_actor, org,
            CASE WHEN role = 'org_admin' THEN 'grant org_admin' ELSE 'revoke org_admin' END);
    END IF;
    INSERT INTO zenml_rbac.org_role_assignment AS m (org_id, principal_id, role)
    VALUES (org, principal, role)
    ON CONFLICT (org_id, principal_id) DO UPDATE SET role = excluded.role
        WHERE m.role IS DISTINCT FROM excluded.role;
END
$$;
COMMENT ON FUNCTION zenml_rbac.set_org_role(uuid, uuid, text) IS
    'Makes the principal a member of the organization with this role, replacing its previous one. Needs member:create (new member) or member:update; to or from org_admin needs org_admin.';

CREATE OR REPLACE FUNCTION zenml_rbac.remove_org_member(org uuid, principal uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_before zenml_rbac._tenant_members_before;
    v_snapshot zenml_rbac._tenant_members_before[];
BEGIN
    PERFORM zenml_rbac._lock_org(org);
    PERFORM zenml_rbac._not_null('principal', principal);
    PERFORM zenml_rbac._require_org(v_actor, org, 'member', 'delete', 'remove a member');
    -- org_admin held directly or through a team: removing it needs org_admin
    IF EXISTS (SELECT FROM zenml_rbac._holdings_missing(v_actor, principal, org, true) m
                WHERE m.tenant_id IS NULL AND m.missing = 'org_admin') THEN
        PERFORM zenml_rbac._require_org_admin(v_actor, org, 'remove an org_admin');
    END IF;
    -- a team leaving takes its tenant roles from its members: those who
    -- thereby leave a tenant lose their shares there
    SELECT coalesce(array_agg(s), '{}') INTO v_snapshot
      FROM zenml_rbac._team_tenants(principal, zenml_rbac._with_team_members(ARRAY[principal])) s;
    PERFORM zenml_rbac._remove_latest('org_member', org, principal, NULL);
    FOREACH v_before IN ARRAY v_snapshot LOOP
        PERFORM zenml_rbac._drop_departed_grants(v_before.tenant_id, v_before.members);
    END LOOP;
END
$$;
COMMENT ON FUNCTION zenml_rbac.remove_org_member(uuid, uuid) IS
    'Removes the principal from the organization: its org role, team memberships, tenant roles and shares there. Owned resources keep their owner. Needs member:delete; removing an org_admin needs org_admin.';

CREATE OR REPLACE FUNCTION zenml_rbac.revoke_tenant_role(tenant uuid, principal uuid, role text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_tenant record := zenml_rbac._lock_tenant(tenant);
    v_role uuid := zenml_rbac._tenant_role(tenant, role);
    v_affected uuid[];
    v_before uuid[];
BEGIN
    PERFORM zenml_rbac._not_null('principal', principal);
    IF NOT zenml_rbac._is_org_admin(v_actor, v_tenant.org_id) THEN
        PERFORM zenml_rbac._require_tenant(v_actor, tenant, 'member', ARRAY['update', 'delete'],
                                           format('revoke role "%s"', role));
    END IF;
    v_affected := zenml_rbac._with_team_members(ARRAY[principal]);
    v_before := zenml_rbac._tenant_members(tenant, v_affected);
    PERFORM zenml_rbac._remove_latest('tenant_role', tenant, principal, v_role);
    PERFORM zenml_rbac._drop_departed_grants(tenant, v_before);
END
$$;
COMMENT ON FUNCTION zenml_rbac.revoke_tenant_role(uuid, uuid, text) IS
    'Takes a tenant role back; whoever stops being a member of the tenant (the principal, or members of a team) loses its shares there. Needs member:update or member:delete, unless org_admin.';

CREATE OR REPLACE FUNCTION zenml_rbac._team_org(team uuid) RETURNS uuid
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_org uuid;
BEGIN
    PERFORM zenml_rbac._not_null('team', team);
    SELECT p.org_id INTO v_org FROM zenml_rbac.principal p WHERE p.id = team AND p.kind = 'team';
    -- a team of an organization the actor is not in reads as a missing one
    IF NOT FOUND OR (v_actor IS NOT NULL AND NOT zenml_rbac.rbac_org_can(v_actor, v_org, 'organization', 'read')) THEN
        IF v_actor IS NOT NULL THEN
            RAISE EXCEPTION 'permission denied for team %', team
                USING ERRCODE = '42501', DETAIL = 'The acting principal is not a member of its organization.';
        END IF;
        IF EXISTS (SELECT 1 FROM zenml_rbac.principal p WHERE p.id = team) THEN
            RAISE EXCEPTION '% is not a team', zenml_rbac._principal_label(team) USING ERRCODE = '22023';
        END IF;
        RAISE EXCEPTION 'team % does not exist', team USING ERRCODE = '42704';
    END IF;
    PERFORM zenml_rbac._lock_org(v_org);
    RETURN v_org;
END
$$;
COMMENT ON FUNCTION zenml_rbac._team_org(uuid) IS 'Internal: a team''s organization, locked; 42704 if no such team.';

-- The tenants where a team holds a role, with their members before a change.
CREATE OR REPLACE FUNCTION zenml_rbac._team_tenants(team uuid, principals uuid[])
RETURNS SETOF zenml_rbac._tenant_members_before LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT t, zenml_rbac._tenant_members(t, principals)
      FROM unnest(zenml_rbac._principal_tenants(team)) t;
$$;
COMMENT ON FUNCTION zenml_rbac._team_tenants(uuid, uuid[]) IS
    'Internal: tenants where the team holds a role, and which of the principals are members there now.';

-- A member leaves a team: where that ends its membership of a tenant, its
-- shares there go (the membership transition).
CREATE OR REPLACE FUNCTION zenml_rbac._leave_team(team uuid, principal uuid) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_before zenml_rbac._tenant_members_before;
    v_snapshot zenml_rbac._tenant_members_before[];
BEGIN
    SELECT coalesce(array_agg(s), '{}') INTO v_snapshot
      FROM zenml_rbac._team_tenants(team, ARRAY[principal]) s;
    PERFORM zenml_rbac._remove_latest('team_member', team, principal, NULL);
    FOREACH v_before IN ARRAY v_snapshot LOOP
        PERFORM zenml_rbac._drop_departed_grants(v_before.tenant_id, v_before.members);
    END LOOP;
END
$$;
COMMENT ON FUNCTION zenml_rbac._leave_team(uuid, uuid) IS
    'Internal: removes a team member, dropping its shares in tenants it thereby leaves.';

CREATE OR REPLACE FUNCTION zenml_rbac.delete_team(team uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_org uuid := zenml_rbac._team_org(team);
    v_members uuid[];
    v_before zenml_rbac._tenant_members_before;
    v_snapshot zenml_rbac._tenant_members_before[];
BEGIN
    PERFORM zenml_rbac._require_org(v_actor, v_org, 'team', 'delete', 'delete a team');
    PERFORM zenml_rbac._require_holdings(v_actor, team, v_org, true, format('delete %s', zenml_rbac._principal_label(team)));
    SELECT coalesce(array_agg(m.member_id), '{}') INTO v_members
      FROM zenml_rbac.team_member m WHERE m.team_id = team;
    SELECT coalesce(array_agg(s), '{}') INTO v_snapshot FROM zenml_rbac._team_tenants(team, v_members) s;
    DELETE FROM zenml_rbac.principal p WHERE p.id = team;
    FOREACH v_before IN ARRAY v_snapshot LOOP
        PERFORM zenml_rbac._drop_departed_grants(v_before.tenant_id, v_before.members);
    END LOOP;
END
$$;
COMMENT ON FUNCTION zenml_rbac.delete_team(uuid) IS
    'Deletes a team with its roles and shares; members who stop being tenant members lose their shares there. Needs team:delete.';

CREATE OR REPLACE FUNCTION zenml_rbac.add_team_member(team uuid, principal uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_org uuid := zenml_rbac._team_org(team);
BEGIN
    PERFORM zenml_rbac._require_org(v_actor, v_org, 'team', 'update', 'add a team member');
    PERFORM zenml_rbac._require_org_principal(v_org, principal, false);
    PERFORM zenml_rbac._require_holdings(v_actor, team, v_org, false,
                                         format('add a member to %s', zenml_rbac._principal_label(team)));
    INSERT INTO zenml_rbac.team_member (team_id, member_id) VALUES (team, principal)
    ON CONFLICT DO NOTHING;
END
$$;
COMMENT ON FUNCTION zenml_rbac.add_team_member(uuid, uuid) IS
    'Adds a user or service account of the team''s organization to the team. Needs team:update.';

CREATE OR REPLACE FUNCTION zenml_rbac.remove_team_member(team uuid, principal uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_org uuid := zenml_rbac._team_org(team);
BEGIN
    PERFORM zenml_rbac._require_org(v_actor, v_org, 'team', 'update', 'remove a team member');
    PERFORM zenml_rbac._not_null('principal', principal);
    PERFORM zenml_rbac._require_holdings(v_actor, team, v_org, true,
                                         format('remove a member of %s', zenml_rbac._principal_label(team)));
    PERFORM zenml_rbac._leave_team(team, principal);
END
$$;
COMMENT ON FUNCTION zenml_rbac.remove_team_member(uuid, uuid) IS
    'Removes a member from a team; if that ends its membership of a tenant, its shares there go. Needs team:update.';

-- The service account whose keys are managed, its organization locked, and
-- the caller authorized: member:update in that organization and, to issue a
-- key (create, rotate), everything the account holds -- a key hands it all
-- out.  Anything but a service account of an organization the caller
-- belongs to is "permission denied", whether it exists or not.
CREATE OR REPLACE FUNCTION zenml_rbac._key_owner(principal uuid, what text, issuing boolean) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_kind text;
    v_org uuid;
BEGIN
    PERFORM zenml_rbac._not_null('principal', principal);
    SELECT p.kind, p.org_id INTO v_kind, v_org FROM zenml_rbac.principal p WHERE p.id = principal;
    IF v_actor IS NOT NULL AND (v_kind IS DISTINCT FROM 'service_account'
                                OR NOT zenml_rbac.rbac_org_can(v_actor, v_org, 'organization', 'read')) THEN
        RAISE EXCEPTION 'permission denied for principal %', principal
            USING ERRCODE = '42501', DETAIL = 'API keys belong to service accounts of the acting principal''s organizations.';
    END IF;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no service account has id %', principal USING ERRCODE = '42704';
    END IF;
    IF v_kind <> 'service_account' THEN
        RAISE EXCEPTION '% cannot have API keys', zenml_rbac._principal_label(principal)
            USING ERRCODE = '22023', HINT = 'API keys belong to service accounts; users authenticate through PostgreSQL or set_principal().';
    END IF;
    PERFORM zenml_rbac._lock_org(v_org);
    PERFORM zenml_rbac._require_org(v_actor, v_org, 'member', 'update', what);
    IF issuing THEN
        PERFORM zenml_rbac._require_holdings(v_actor, principal, v_org, false,
                                             format('%s for %s', what, zenml_rbac._principal_label(principal)));
    END IF;
END
$$;
COMMENT ON FUNCTION zenml_rbac._key_owner(uuid, text, boolean) IS
    'Internal: checks a service account''s keys may be managed by the caller (member:update; issuing a key also needs everything the account holds).';
REVOKE ALL ON FUNCTION zenml_rbac._key_owner(uuid, text, boolean) FROM PUBLIC;

CREATE OR REPLACE FUNCTION zenml_rbac.create_api_key(principal uuid, expires_at timestamptz DEFAULT NULL) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM zenml_rbac._key_owner(principal, 'create an API key', true);
    IF expires_at <= clock_timestamp() THEN
        RAISE EXCEPTION 'expires_at must be in the future' USING ERRCODE = '22023';
    END IF;
    RETURN zenml_rbac._issue_api_key(principal, expires_at);
END
$$;
COMMENT ON FUNCTION zenml_rbac.create_api_key(uuid, timestamptz) IS
    'Creates an API key for a service account and returns it; only its hash is kept, so this is the only time it is shown. Needs member:update in the organization and everything the account holds (org_admins are exempt).';

CREATE OR REPLACE FUNCTION zenml_rbac.rotate_api_key(principal uuid, retain interval DEFAULT '0') RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM zenml_rbac._key_owner(principal, 'rotate an API key', true);
    PERFORM zenml_rbac._not_null('retain', retain);
    IF retain < interval '0' THEN
        RAISE EXCEPTION 'retain must not be negative' USING ERRCODE = '22023';
    END IF;
    -- the clock now, not the transaction's start: a key retired "now" stops now
    UPDATE zenml_rbac.api_key k SET retired_at = clock_timestamp() + retain
     WHERE k.principal_id = principal AND k.revoked_at IS NULL
       AND (k.retired_at IS NULL OR k.retired_at > clock_timestamp() + retain);
    RETURN zenml_rbac._issue_api_key(principal, NULL);
END
$$;
COMMENT ON FUNCTION zenml_rbac.rotate_api_key(uuid, interval) IS
    'Issues a new key; the service account''s current keys keep working for the retention period (0: stop at once). Needs what create_api_key needs.';

CREATE OR REPLACE FUNCTION zenml_rbac.revoke_api_key(principal uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM zenml_rbac._key_owner(principal, 'revoke API keys', false);
    UPDATE zenml_rbac.api_key k SET revoked_at = clock_timestamp()
     WHERE k.principal_id = principal AND k.revoked_at IS NULL;
END
$$;
COMMENT ON FUNCTION zenml_rbac.revoke_api_key(uuid) IS
    'Revokes every key of the service account, effective at once. Needs member:update.';

CREATE OR REPLACE FUNCTION zenml_rbac._api_key_lookup(api_key text, OUT key_id uuid, OUT principal_id uuid,
                                           OUT last_used_at timestamptz)
    RETURNS SETOF record LANGUAGE c STABLE PARALLEL RESTRICTED ROWS 1
    AS 'MODULE_PATHNAME', 'api_key_lookup';
COMMENT ON FUNCTION zenml_rbac._api_key_lookup(text) IS
    'Internal: the key and service account an API key authenticates, from the latest committed catalog and the clock now; no row when it does not.';
REVOKE ALL ON FUNCTION zenml_rbac._api_key_lookup(text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION zenml_rbac._note_key_use(key_id uuid) RETURNS void
    LANGUAGE c VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'note_key_use';
COMMENT ON FUNCTION zenml_rbac._note_key_use(uuid) IS
    'Internal: records the key''s last_used_at when the transaction commits, if its row is free then (never on a standby or in a READ ONLY transaction).';
REVOKE ALL ON FUNCTION zenml_rbac._note_key_use(uuid) FROM PUBLIC;

CREATE OR REPLACE FUNCTION zenml_rbac.authenticate(api_key text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_key_id uuid;
    v_principal uuid;
    v_last_used timestamptz;
BEGIN
    IF api_key IS NOT NULL AND api_key ~ '^zrk_[0-9a-f]{64}$' THEN
        SELECT k.key_id, k.principal_id, k.last_used_at INTO v_key_id, v_principal, v_last_used
          FROM zenml_rbac._api_key_lookup(api_key) k;
    END IF;
    -- one answer for every failure: which part was wrong helps only an attacker
    IF v_key_id IS NULL THEN
        RAISE EXCEPTION 'invalid API key' USING ERRCODE = '28P01';
    END IF;
    PERFORM zenml_rbac.set_principal(v_principal);
    -- bookkeeping at commit, where writing is possible (not on a standby,
    -- not in a READ ONLY transaction): holding the key's row until then
    -- would hold up its revocation
    IF v_last_used IS NULL OR v_last_used < clock_timestamp() - interval '1 minute' THEN
        PERFORM zenml_rbac._note_key_use(v_key_id);
    END IF;
    RETURN v_principal;
END
$$;
COMMENT ON FUNCTION zenml_rbac.authenticate(text) IS
    'Acts, until the transaction ends, as the service account the API key belongs to; 28P01 for any wrong, expired, retired, revoked or malformed key.';

CREATE OR REPLACE FUNCTION zenml_rbac.create_user(name text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_id uuid;
BEGIN
    PERFORM zenml_rbac._check_name('user', name);
    IF v_actor IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM zenml_rbac.org_role_assignment m
         WHERE m.principal_id = v_actor
           AND zenml_rbac.rbac_org_can(v_actor, m.org_id, 'member', 'create')) THEN
        RAISE EXCEPTION 'permission denied to create user "%"', name
            USING ERRCODE = '42501', DETAIL = 'It requires "member:create" in some organization.';
    END IF;
    -- "<provider>:<subject>" is the name a just-in-time login gives a new
    -- user: nobody may take it first and so lock the real person out
    IF v_actor IS NOT NULL AND EXISTS (SELECT 1 FROM zenml_rbac.identity_provider ip
                                        WHERE starts_with(create_user.name, ip.name || ':')) THEN
        RAISE EXCEPTION 'invalid user name "%"', left(name, 64)
            USING ERRCODE = '22023',
                  DETAIL = 'Names beginning with an identity provider''s name and ":" are kept for the users it provisions.',
                  HINT = 'Choose another name.';
    END IF;
    IF EXISTS (SELECT 1 FROM zenml_rbac.principal p WHERE p.kind = 'user' AND p.name = create_user.name) THEN
        RAISE EXCEPTION 'user "%" already exists', name USING ERRCODE = '42710';
    END IF;
    INSERT INTO zenml_rbac.principal (kind, name) VALUES ('user', name) RETURNING id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION zenml_rbac.create_user(text) IS
    'Creates a user (global, a member of nothing yet). Allowed to the system and to whoever holds member:create in some organization.';

-- A user is global: it belongs to no organization, so no organization's
-- admin may end it (any user can create an organization and add anyone);
-- only the system or the user itself.  A service account belongs to one
-- organization: member:delete there.  Anyone else is refused alike whether
-- the id exists or not.
CREATE OR REPLACE FUNCTION zenml_rbac.deactivate_user(principal uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_kind text;
    v_org uuid;
BEGIN
    PERFORM zenml_rbac._not_null('principal', principal);
    SELECT p.kind, p.org_id INTO v_kind, v_org FROM zenml_rbac.principal p WHERE p.id = principal;
    IF v_actor IS NOT NULL AND v_actor IS DISTINCT FROM principal
       AND (v_kind IS DISTINCT FROM 'service_account'
            OR NOT zenml_rbac.rbac_org_can(v_actor, v_org, 'member', 'delete')) THEN
        RAISE EXCEPTION 'permission denied to deactivate the principal'
            USING ERRCODE = '42501',
                  DETAIL = format('Principal %s: a user is deactivated by itself or the system; a service account also by whoever holds "member:delete" in its organization.', principal);
    END IF;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no user or service account has id %', principal USING ERRCODE = '42704';
    ELSIF v_kind = 'team' THEN
        RAISE EXCEPTION '% is not a user or service account', zenml_rbac._principal_label(principal)
            USING ERRCODE = '22023';
    END IF;
    IF v_kind = 'service_account' THEN
        PERFORM zenml_rbac._lock_org(v_org);
        PERFORM zenml_rbac._require_org(v_actor, v_org, 'member', 'delete', 'deactivate a service account');
    END IF;
    UPDATE zenml_rbac.principal p SET active = false WHERE p.id = principal AND p.active;
END
$$;
COMMENT ON FUNCTION zenml_rbac.deactivate_user(uuid) IS
    'Deactivates a user or service account: it keeps roles, teams and shares but has no permission anywhere, at once. A user: itself or the system; a service account: also member:delete in its organization.';

CREATE OR REPLACE FUNCTION zenml_rbac.share_resource(tenant uuid, resource text, principal uuid, actions text[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_tenant record := zenml_rbac._lock_tenant(tenant);
    v_ref record := zenml_rbac._resource_instance(resource);
    v_actions text[];
    v_missing text[];
    a text;
BEGIN
    PERFORM zenml_rbac._not_null('actions', actions);
    IF array_position(actions, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'actions must not contain null' USING ERRCODE = '22004';
    END IF;
    FOREACH a IN ARRAY actions LOOP
        PERFORM zenml_rbac._check_vocabulary(v_ref.resource_type, a);
        IF a = 'create' THEN
            RAISE EXCEPTION 'action "create" cannot be shared'
                USING ERRCODE = '22023',
                      DETAIL = 'Creating is a type-level permission that only roles give.',
                      HINT = 'Share read, update, delete or share.';
        END IF;
    END LOOP;
    SELECT coalesce(array_agg(DISTINCT x ORDER BY x), '{}') INTO v_actions FROM unnest(actions) x;
    -- authorization first: whether the resource is registered, or the
    -- grantee a member, is not for a caller without the rights to learn
    -- (an unregistered id answers the type-level permission)
    IF NOT zenml_rbac._is_org_admin(v_actor, v_tenant.org_id) THEN
        SELECT array_agg(x ORDER BY x) INTO v_missing
          FROM unnest(ARRAY['share'] || v_actions) x
         WHERE NOT zenml_rbac.rbac_can(v_actor, tenant, resource, x);
        IF v_missing IS NOT NULL THEN
            RAISE EXCEPTION 'permission denied to share "%" in tenant "%"', resource, v_tenant.name
                USING ERRCODE = '42501',
                      DETAIL = format('Sharing requires "share" and every action handed out; missing: %s.',
                                      (SELECT string_agg(DISTINCT x, ', ') FROM unnest(v_missing) x));
        END IF;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM zenml_rbac.resource r
                    WHERE r.tenant_id = tenant AND r.resource_type = v_ref.resource_type
                      AND r.resource_id = v_ref.resource_id) THEN
        IF NOT zenml_rbac._is_org_admin(v_actor, v_tenant.org_id)
           AND NOT zenml_rbac.rbac_can(v_actor, tenant, v_ref.resource_type, 'read') THEN
            RAISE EXCEPTION 'permission denied to share "%" in tenant "%"', resource, v_tenant.name
                USING ERRCODE = '42501',
                      DETAIL = 'Sharing requires "share" and every action handed out; missing: read.';
        END IF;
        RAISE EXCEPTION 'resource "%" is not registered in tenant "%"', resource, v_tenant.name
            USING ERRCODE = '42704', HINT = 'Register it with zenml_rbac.register_resource() first.';
    END IF;
    PERFORM zenml_rbac._require_org_principal(v_tenant.org_id, principal, true);
    IF cardinality(v_actions) = 0 THEN
        DELETE FROM zenml_rbac.resource_grant g
         WHERE g.tenant_id = tenant AND g.resource_type = v_ref.resource_type
           AND g.resource_id = v_ref.resource_id AND g.principal_id = principal;
    ELSE
        INSERT INTO zenml_rbac.resource_grant AS g (tenant_id, resource_type, resource_id, principal_id, actions)
        VALUES (tenant, v_ref.resource_type, v_ref.resource_id, principal, v_actions)
        ON CONFLICT ON CONSTRAINT resource_grant_pkey
        DO UPDATE SET actions = excluded.actions WHERE g.actions IS DISTINCT FROM excluded.actions;
    END IF;
END
$$;
COMMENT ON FUNCTION zenml_rbac.share_resource(uuid, text, uuid, text[]) IS
    'Sets the actions (read, update, delete, share) a principal or team holds on one resource, replacing its previous set; an empty array unshares. Needs share and every action handed out, unless org_admin.';

CREATE OR REPLACE FUNCTION zenml_rbac._jwt_verify(token text, OUT provider uuid, OUT issuer text,
                                       OUT subject text, OUT groups text[], OUT principal uuid,
                                       OUT provider_name text, OUT provision_org uuid,
                                       OUT provision_org_role text)
    LANGUAGE c VOLATILE PARALLEL UNSAFE AS 'MODULE_PATHNAME', 'jwt_verify';
COMMENT ON FUNCTION zenml_rbac._jwt_verify(text) IS
    'Internal: the verified identity a token carries with its linked principal and its provider''s provisioning, all from the latest committed catalog; or 28000 "invalid token" (the reason goes to the log with zenml_rbac.log_denials).';
REVOKE ALL ON FUNCTION zenml_rbac._jwt_verify(text) FROM PUBLIC;

-- C functions are named after the SQL functions they implement (0.2.0's
-- 'jwt_refuse' stays in the library for databases still at 0.2.0).
CREATE OR REPLACE FUNCTION zenml_rbac._refuse_token(reason text, issuer text, subject text) RETURNS void
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'refuse_token';

-- Users created before the provider was registered may already hold names
-- its just-in-time logins would give ("<provider>:<subject>"); such a
-- subject's first login is refused rather than handed that user.
CREATE OR REPLACE FUNCTION zenml_rbac._warn_taken_names(provider text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_taken bigint;
BEGIN
    SELECT count(*) INTO v_taken FROM zenml_rbac.principal p
     WHERE p.kind = 'user' AND starts_with(p.name, provider || ':')
       AND NOT EXISTS (SELECT FROM zenml_rbac.external_identity x WHERE x.principal_id = p.id);
    IF v_taken > 0 THEN
        RAISE WARNING '% unlinked users already have names beginning with "%:"', v_taken, provider
            USING DETAIL = 'A just-in-time login whose name is taken is refused; it never becomes that user.',
                  HINT = 'Rename or link them (zenml_rbac.link_external_identity) before turning provisioning on.';
    END IF;
END
$$;
COMMENT ON FUNCTION zenml_rbac._warn_taken_names(text) IS
    'Internal: warns about unlinked users whose names a provider''s just-in-time logins would give.';
REVOKE ALL ON FUNCTION zenml_rbac._warn_taken_names(text) FROM PUBLIC;

CREATE OR REPLACE FUNCTION zenml_rbac.register_identity_provider(name text, issuer text, audience text, keys jsonb)
    RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_id uuid;
BEGIN
    PERFORM zenml_rbac._require_system('register identity providers');
    PERFORM zenml_rbac._check_name('identity provider', name);
    PERFORM zenml_rbac._not_null('issuer', issuer);
    PERFORM zenml_rbac._not_null('audience', audience);
    IF issuer = '' OR audience = '' OR length(issuer) > 1024 OR length(audience) > 1024 THEN
        RAISE EXCEPTION 'issuer and audience must have 1 to 1024 characters' USING ERRCODE = '22023';
    END IF;
    PERFORM zenml_rbac._check_jwks(keys);
    IF EXISTS (SELECT FROM zenml_rbac.identity_provider p
                WHERE p.name = register_identity_provider.name OR p.issuer = register_identity_provider.issuer) THEN
        RAISE EXCEPTION 'an identity provider with this name or issuer already exists' USING ERRCODE = '42710';
    END IF;
    INSERT INTO zenml_rbac.identity_provider (name, issuer, audience, keys)
    VALUES (name, issuer, audience, keys) RETURNING id INTO v_id;
    PERFORM zenml_rbac._warn_taken_names(name);
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION zenml_rbac.register_identity_provider(text, text, text, jsonb) IS
    'Registers an OIDC provider: its issuer (the iss of its tokens), the audience tokens must name, and its JWKS. System only.';

CREATE OR REPLACE FUNCTION zenml_rbac.set_identity_provider_provisioning(provider text, org uuid, org_role text)
    RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_id uuid;
BEGIN
    PERFORM zenml_rbac._require_system('configure identity providers');
    v_id := zenml_rbac._provider(provider);
    IF org IS NOT NULL THEN
        IF NOT EXISTS (SELECT FROM zenml_rbac.organization o WHERE o.id = org) THEN
            RAISE EXCEPTION 'organization % does not exist', org USING ERRCODE = '42704';
        END IF;
        IF org_role IS NULL OR org_role NOT IN ('org_admin', 'org_editor', 'org_viewer') THEN
            RAISE EXCEPTION 'unknown organization role "%"', left(org_role, 64) USING ERRCODE = '22023',
                HINT = 'Valid roles are: org_admin, org_editor, org_viewer.';
        END IF;
    END IF;
    UPDATE zenml_rbac.identity_provider p
       SET provision_org = org, provision_org_role = CASE WHEN org IS NULL THEN NULL ELSE org_role END
     WHERE p.id = v_id;
    IF org IS NOT NULL THEN
        PERFORM zenml_rbac._warn_taken_names(provider);
    END IF;
END
$$;
COMMENT ON FUNCTION zenml_rbac.set_identity_provider_provisioning(text, uuid, text) IS
    'Just-in-time users: an unknown (iss, sub) with a valid token becomes user "<provider>:<sub>", member of org with org_role. NULL org turns it off. System only.';

-- Team membership of the mapped teams follows the token's groups.
-- Team membership of the mapped teams follows the token's groups.  A
-- mapping that hands out a team is locked before it is used: one removed
-- after a REPEATABLE READ transaction began fails the login (40001), never
-- adds the member.
CREATE OR REPLACE FUNCTION zenml_rbac._sync_groups(provider uuid, principal uuid, groups text[]) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m record;
BEGIN
    FOR m IN SELECT DISTINCT g.team_id, t.org_id,
                    bool_or(g.grp = ANY (coalesce(groups, '{}'))) OVER (PARTITION BY g.team_id) AS wanted,
                    EXISTS (SELECT FROM zenml_rbac.team_member tm
                             WHERE tm.team_id = g.team_id AND tm.member_id = principal) AS member
               FROM zenml_rbac.group_team_map g JOIN zenml_rbac.principal t ON t.id = g.team_id
              WHERE g.provider_id = provider
    LOOP
        IF m.wanted AND NOT m.member THEN
            -- only members of the team's organization may join its teams;
            -- what the addition rests on is then locked (a separate
            -- statement: a READ ONLY login with nothing to add takes no lock)
            IF EXISTS (SELECT FROM zenml_rbac.org_role_assignment a
                        WHERE a.org_id = m.org_id AND a.principal_id = principal) THEN
                IF EXISTS (SELECT FROM zenml_rbac.group_team_map g
                            WHERE g.provider_id = provider AND g.team_id = m.team_id
                              AND g.grp = ANY (coalesce(groups, '{}'))
                            FOR KEY SHARE)
                   AND EXISTS (SELECT FROM zenml_rbac.org_role_assignment a
                                WHERE a.org_id = m.org_id AND a.principal_id = principal
                                FOR KEY SHARE) THEN
                    INSERT INTO zenml_rbac.team_member (team_id, member_id) VALUES (m.team_id, principal)
                    ON CONFLICT DO NOTHING;
                END IF;
            END IF;
        ELSIF m.member AND NOT m.wanted THEN
            PERFORM zenml_rbac._leave_team(m.team_id, principal);
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION zenml_rbac._sync_groups(uuid, uuid, text[]) IS
    'Internal: adds and removes team memberships of the provider''s mapped teams to match the token''s groups.';

-- Everything a login decides on -- the provider, its keys, the link, the
-- provisioning -- comes from the latest committed catalog (_jwt_verify), so
-- a provider disabled or a key set replaced after a REPEATABLE READ
-- transaction began is in force in it.
CREATE OR REPLACE FUNCTION zenml_rbac.authenticate_jwt(token text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v record;
    v_principal uuid;
    v_name text;
BEGIN
    v := zenml_rbac._jwt_verify(token);
    v_principal := v.principal;
    IF v_principal IS NULL AND v.provision_org IS NOT NULL THEN
        v_name := v.provider_name || ':' || v.subject;
        IF v_name ~ '[/[:cntrl:]]' OR length(v_name) > 255 OR v_name <> btrim(v_name) THEN
            PERFORM zenml_rbac._refuse_token('subject cannot be a user name', v.issuer, v.subject);
        END IF;
        -- a first login of the same subject in another session may be
        -- creating the user too: whoever loses uses the winner's link
        INSERT INTO zenml_rbac.principal (kind, name) VALUES ('user', v_name)
        ON CONFLICT (name) WHERE kind = 'user' DO NOTHING
        RETURNING id INTO v_principal;
        IF v_principal IS NOT NULL THEN
            INSERT INTO zenml_rbac.org_role_assignment (org_id, principal_id, role)
            VALUES (v.provision_org, v_principal, v.provision_org_role);
            INSERT INTO zenml_rbac.external_identity (issuer, subject, principal_id)
            VALUES (v.issuer, v.subject, v_principal);
        ELSE
            SELECT x.principal_id INTO v_principal FROM zenml_rbac.external_identity x
             WHERE x.issuer = v.issuer AND x.subject = v.subject;
            IF v_principal IS NULL THEN
                PERFORM zenml_rbac._refuse_token('subject cannot be a user name', v.issuer, v.subject);
            END IF;
        END IF;
    END IF;
    IF v_principal IS NULL THEN
        PERFORM zenml_rbac._refuse_token('subject not linked', v.issuer, v.subject);
    END IF;
    -- set_principal decides activity from the latest committed catalog
    BEGIN
        PERFORM zenml_rbac.set_principal(v_principal);
    EXCEPTION WHEN invalid_authorization_specification THEN
        PERFORM zenml_rbac._refuse_token('principal deactivated', v.issuer, v.subject);
    END;
    IF EXISTS (SELECT FROM zenml_rbac.group_team_map g WHERE g.provider_id = v.provider) THEN
        PERFORM zenml_rbac._sync_groups(v.provider, v_principal, v.groups);
    END IF;
    RETURN v_principal;
EXCEPTION
    WHEN invalid_authorization_specification THEN
        -- raised again from one place: the error's context must not tell
        -- which check failed
        RAISE EXCEPTION 'invalid token' USING ERRCODE = '28000';
END
$$;
COMMENT ON FUNCTION zenml_rbac.authenticate_jwt(text) IS
    'Verifies an OIDC token of a registered provider and sets its linked (or just-provisioned) principal for this transaction, like authenticate(); mapped teams follow its groups. 28000 "invalid token" for every failure.';

COMMENT ON COLUMN zenml_rbac.api_key.last_used_at IS
    'Last successful authenticate(), recorded when its transaction commits, at most once a minute, never on a standby.';

-- The predefined roles' permissions become catalog rows (they were rules
-- compiled into the library, which serves databases at every version):
-- the same rules, read with the vocabulary.  Invalidation triggers come
-- with every cached table's below.
CREATE TABLE zenml_rbac.predefined_role_permission (
    role_id uuid   NOT NULL REFERENCES zenml_rbac.role ON DELETE CASCADE,
    kind    text   NOT NULL CHECK (kind IN ('data', 'administration')),
    actions text[] NOT NULL CHECK (actions <@ ARRAY['create', 'read', 'update', 'delete', 'share']),
    PRIMARY KEY (role_id, kind)
);
COMMENT ON TABLE zenml_rbac.predefined_role_permission IS
    'The predefined tenant roles'' actions on every resource type of a kind (data, administration); changed only by upgrade steps.';
INSERT INTO zenml_rbac.predefined_role_permission (role_id, kind, actions) VALUES
    ('00000000-0000-4000-8000-000000000001', 'data', '{create,read,update,delete,share}'),
    ('00000000-0000-4000-8000-000000000001', 'administration', '{create,read,update,delete,share}'),
    ('00000000-0000-4000-8000-000000000002', 'data', '{create,read,share}'),
    ('00000000-0000-4000-8000-000000000002', 'administration', '{read}'),
    ('00000000-0000-4000-8000-000000000003', 'data', '{read}'),
    ('00000000-0000-4000-8000-000000000003', 'administration', '{read}');
REVOKE ALL ON zenml_rbac.predefined_role_permission FROM PUBLIC;
CREATE TRIGGER audit_capture AFTER INSERT OR DELETE OR UPDATE ON zenml_rbac.predefined_role_permission
    FOR EACH ROW EXECUTE FUNCTION zenml_rbac.audit_capture('predefined_role_permission', 'role_id,kind', '', '', '', '');
CREATE TRIGGER audit_capture_truncate BEFORE TRUNCATE ON zenml_rbac.predefined_role_permission
    FOR EACH STATEMENT EXECUTE FUNCTION zenml_rbac.audit_capture('predefined_role_permission', 'role_id,kind', '', '', '', '');
COMMENT ON TABLE zenml_rbac.role IS
    'Tenant roles: the predefined admin, editor and viewer (no tenant; permissions in predefined_role_permission) and custom roles of one tenant built on a base role.';

-- Fine-grained cache invalidation (src/invalidation.c): row triggers name
-- the keys a change can affect instead of invalidating whole tables;
-- cache_stats() counts the entries loaded.
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['organization', 'tenant', 'principal', 'org_role_assignment',
                             'team_member', 'resource_type', 'role', 'role_permission',
                             'tenant_role_assignment', 'resource', 'resource_grant']
    LOOP
        EXECUTE pg_catalog.format('DROP TRIGGER zz_invalidate_cache ON zenml_rbac.%I', t);
        EXECUTE pg_catalog.format('DROP TRIGGER zz_invalidate_cache_replica ON zenml_rbac.%I', t);
    END LOOP;
END
$$;

DROP FUNCTION zenml_rbac.cache_stats();
CREATE FUNCTION zenml_rbac.cache_stats(OUT principals bigint, OUT resources bigint,
                                       OUT roles bigint, OUT memory_bytes bigint,
                                       OUT loads bigint)
    LANGUAGE c VOLATILE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'cache_stats';
COMMENT ON FUNCTION zenml_rbac.cache_stats() IS
    'What this backend''s decision cache holds now (entries, bytes) and how many entries it has loaded since the backend started.';
REVOKE ALL ON FUNCTION zenml_rbac.cache_stats() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION zenml_rbac.cache_stats() TO PUBLIC;

CREATE FUNCTION zenml_rbac._catalog_tables(OUT name text, OUT cached boolean, OUT note text,
                                           OUT audit text[])
    RETURNS SETOF record LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'catalog_tables';
COMMENT ON FUNCTION zenml_rbac._catalog_tables() IS
    'Every table of the schema: the cached ones with the keys a change to a row invalidates, the others with why they are not cached; for audited ones audit_capture()''s arguments (key, organization, tenant, subject, secret columns).';
REVOKE ALL ON FUNCTION zenml_rbac._catalog_tables() FROM PUBLIC;
COMMENT ON FUNCTION zenml_rbac.catalog_changed() IS
    'Trigger: queues an invalidation naming each key the changed rows can affect, so every backend''s rbac cache drops what depends on it at commit.';

DO $$
DECLARE
    t text;
BEGIN
    CREATE TYPE zenml_rbac.invalidation_all AS ();
    COMMENT ON TYPE zenml_rbac.invalidation_all IS
        'Named in cache invalidation messages only: every backend resets its whole rbac cache.';

    -- the tables of 0.3.0 alone: a later library may list more
    FOR t IN SELECT c.name FROM zenml_rbac._catalog_tables() c
              WHERE c.cached
                AND pg_catalog.to_regclass(pg_catalog.format('zenml_rbac.%I', c.name)) IS NOT NULL
    LOOP
        EXECUTE pg_catalog.format(
            'CREATE TRIGGER zz_invalidate_cache AFTER INSERT OR UPDATE OR DELETE '
            'ON zenml_rbac.%I FOR EACH ROW EXECUTE FUNCTION zenml_rbac.catalog_changed()', t);
        EXECUTE pg_catalog.format(
            'CREATE TRIGGER zz_invalidate_cache_truncate AFTER TRUNCATE '
            'ON zenml_rbac.%I FOR EACH STATEMENT EXECUTE FUNCTION zenml_rbac.catalog_changed()', t);
        EXECUTE pg_catalog.format('ALTER TABLE zenml_rbac.%I ENABLE ALWAYS TRIGGER zz_invalidate_cache', t);
        EXECUTE pg_catalog.format('ALTER TABLE zenml_rbac.%I ENABLE ALWAYS TRIGGER zz_invalidate_cache_truncate', t);
    END LOOP;
END
$$;

-- Row-level security at the table owner's speed (src/policy_scan.c): the
-- policy text is one flat OR, which the planner runs as one scan per arm,
-- and the array functions' planner support loads the library before the
-- first policy is planned.  Every protected table's policies get the new
-- text (a missing one stays missing: protected_tables reports it).
CREATE FUNCTION zenml_rbac._policy_planner_support(internal) RETURNS internal
    LANGUAGE c STRICT
    AS 'MODULE_PATHNAME', 'policy_planner_support';
COMMENT ON FUNCTION zenml_rbac._policy_planner_support(internal) IS
    'Internal: planner support of the policy functions; loads zenml_rbac''s planner path in time for a backend''s first query. Answers no request.';
REVOKE ALL ON FUNCTION zenml_rbac._policy_planner_support(internal) FROM PUBLIC;
ALTER FUNCTION zenml_rbac.rls_tenants(text, text) SUPPORT zenml_rbac._policy_planner_support;
ALTER FUNCTION zenml_rbac.rls_instances(text, text) SUPPORT zenml_rbac._policy_planner_support;
ALTER FUNCTION zenml_rbac.rls_owner_tenants(text, text) SUPPORT zenml_rbac._policy_planner_support;

CREATE OR REPLACE FUNCTION zenml_rbac._policy_expression(resource_type text, action text,
                                              tenant_column name, id_column name)
RETURNS text LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT format('(%1$I = ANY ((SELECT zenml_rbac.rls_tenants(%3$L, %4$L))::uuid[])'
                  ' OR (zenml_rbac.rls_instance_match(%1$I, %2$I, (SELECT zenml_rbac.rls_instances(%3$L, %4$L)))'
                  ' AND %2$I = ANY ((SELECT zenml_rbac.rls_instances(%3$L, %4$L))::uuid[])))',
                  tenant_column, id_column, resource_type, action)
$$;
COMMENT ON FUNCTION zenml_rbac._policy_expression(text, text, name, name) IS
    'Internal: the condition a row passes for an action: a tenant where roles give it, or an owned or shared instance.';
CREATE FUNCTION zenml_rbac._policy_definitions(resource_type text, tenant_column name,
                                               id_column name, owner_column name,
                                               OUT policy name, OUT command text,
                                               OUT using_clause text, OUT check_clause text)
RETURNS SETOF record LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    -- With an owner column, a third arm passes the principal's own rows in
    -- tenants where its roles do not give read: a row it just inserted is
    -- registered only at the end of the statement, and RETURNING needs it.
    SELECT 'zenml_rbac_select'::name, 'SELECT',
           zenml_rbac._policy_expression(resource_type, 'read', tenant_column, id_column)
           || CASE WHEN owner_column IS NULL THEN ''
                   ELSE format(' OR (%I = (SELECT zenml_rbac.current_principal())'
                               ' AND %I = ANY ((SELECT zenml_rbac.rls_owner_tenants(%L, ''read''))::uuid[]))',
                               owner_column, tenant_column, resource_type) END,
           NULL
    UNION ALL
    SELECT 'zenml_rbac_insert', 'INSERT', NULL,
           format('%I = ANY ((SELECT zenml_rbac.rls_tenants(%L, ''create''))::uuid[])', tenant_column, resource_type)
           || CASE WHEN owner_column IS NULL THEN ''
                   ELSE format(' AND %I = (SELECT zenml_rbac.current_principal())', owner_column) END
    UNION ALL
    -- The new row passes for update (or as the owner the column names), and
    -- stays where it is registered or lands where the principal may create.
    SELECT 'zenml_rbac_update', 'UPDATE',
           zenml_rbac._policy_expression(resource_type, 'update', tenant_column, id_column),
           format('(%s%s) AND (%I = ANY ((SELECT zenml_rbac.rls_tenants(%L, ''create''))::uuid[])'
                  ' OR zenml_rbac.rls_registered(%I, %I, %L))',
                  zenml_rbac._policy_expression(resource_type, 'update', tenant_column, id_column),
                  CASE WHEN owner_column IS NULL THEN ''
                       ELSE format(' OR %I = (SELECT zenml_rbac.current_principal())', owner_column) END,
                  tenant_column, resource_type, tenant_column, id_column, resource_type)
    UNION ALL
    SELECT 'zenml_rbac_delete', 'DELETE',
           zenml_rbac._policy_expression(resource_type, 'delete', tenant_column, id_column), NULL
$$;
COMMENT ON FUNCTION zenml_rbac._policy_definitions(text, name, name, name) IS
    'Internal: the policies protect() creates on a table (name, command, USING, WITH CHECK).';
REVOKE ALL ON FUNCTION zenml_rbac._policy_definitions(text, name, name, name) FROM PUBLIC;

CREATE OR REPLACE FUNCTION zenml_rbac.protect(tbl regclass, resource_type text, tenant_column name,
                                   id_column name DEFAULT 'id', owner_column name DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_kind     "char";
    v_owner    regrole;
    v_kind_of_type text;
    v_changed  text;
    v_skipped  bigint;
    v_others   text;
    v_policy   record;
BEGIN
    PERFORM zenml_rbac._require_system('protect tables');
    PERFORM zenml_rbac._not_null('table', tbl);
    PERFORM zenml_rbac._not_null('resource type', resource_type);
    PERFORM zenml_rbac._not_null('tenant column', tenant_column);
    PERFORM zenml_rbac._not_null('id column', id_column);

    SELECT c.relkind, c.relowner::regrole INTO v_kind, v_owner FROM pg_class c WHERE c.oid = tbl;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'relation with OID % does not exist', tbl::oid USING ERRCODE = '42P01';
    END IF;
    IF v_kind = 'p' THEN
        RAISE EXCEPTION 'cannot protect partitioned table %', tbl
            USING ERRCODE = '0A000',
                  DETAIL = 'Its partitions could be read and written directly, past the parent''s policies.';
    ELSIF v_kind <> 'r' THEN
        RAISE EXCEPTION '% is not a table', tbl USING ERRCODE = '42809';
    END IF;
    IF (SELECT c.relpersistence FROM pg_class c WHERE c.oid = tbl) = 't' THEN
        RAISE EXCEPTION 'cannot protect temporary table %', tbl
            USING ERRCODE = '0A000',
                  DETAIL = 'A temporary table goes away without a drop event, leaving its protection behind.';
    END IF;
    IF EXISTS (SELECT FROM pg_inherits WHERE inhrelid = tbl OR inhparent = tbl) THEN
        RAISE EXCEPTION 'cannot protect table %, which takes part in inheritance', tbl
            USING ERRCODE = '0A000',
                  DETAIL = 'Rows of a parent or child table could be reached past these policies.';
    END IF;
    SELECT t.kind INTO v_kind_of_type FROM zenml_rbac.resource_type t WHERE t.name = protect.resource_type;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown resource type "%"', left(protect.resource_type, 64)
            USING ERRCODE = '22023', HINT = 'Register it with zenml_rbac.register_resource_type() first.';
    END IF;
    IF v_kind_of_type <> 'data' THEN
        RAISE EXCEPTION 'resource type "%" is an administration type', protect.resource_type
            USING ERRCODE = '22023', DETAIL = 'Rows of application tables are data resources.';
    END IF;
    PERFORM zenml_rbac._require_uuid_column(tbl, 'tenant', tenant_column);
    PERFORM zenml_rbac._require_uuid_column(tbl, 'id', id_column);
    IF owner_column IS NOT NULL THEN
        PERFORM zenml_rbac._require_uuid_column(tbl, 'owner', owner_column);
    END IF;
    IF tenant_column = id_column OR tenant_column = owner_column OR id_column = owner_column THEN
        RAISE EXCEPTION 'the tenant, id and owner columns must be distinct' USING ERRCODE = '22023';
    END IF;

    -- Protecting again replaces what an earlier protect() made.
    PERFORM zenml_rbac._drop_protection(tbl);

    FOR v_policy IN SELECT * FROM zenml_rbac._policy_definitions(resource_type, tenant_column,
                                                                   id_column, owner_column)
    LOOP
        EXECUTE format('CREATE POLICY %I ON %s FOR %s%s%s', v_policy.policy, tbl, v_policy.command,
                       ' USING (' || v_policy.using_clause || ')',
                       ' WITH CHECK (' || v_policy.check_clause || ')');
    END LOOP;

    EXECUTE format('CREATE TRIGGER zz_zenml_rbac_check BEFORE INSERT OR UPDATE ON %s'
                   ' FOR EACH ROW EXECUTE FUNCTION zenml_rbac.protect_check()', tbl);
    EXECUTE format('CREATE TRIGGER zz_zenml_rbac_register AFTER INSERT ON %s'
                   ' REFERENCING NEW TABLE AS zenml_rbac_new'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION zenml_rbac.protect_sync()', tbl);
    v_changed := format('OLD.%1$I IS DISTINCT FROM NEW.%1$I OR OLD.%2$I IS DISTINCT FROM NEW.%2$I',
                        tenant_column, id_column);
    IF owner_column IS NOT NULL THEN
        v_changed := v_changed || format(' OR OLD.%1$I IS DISTINCT FROM NEW.%1$I', owner_column);
    END IF;
    EXECUTE format('CREATE TRIGGER zz_zenml_rbac_reregister AFTER UPDATE ON %s'
                   ' FOR EACH ROW WHEN (%s) EXECUTE FUNCTION zenml_rbac.protect_sync()', tbl, v_changed);
    EXECUTE format('CREATE TRIGGER zz_zenml_rbac_unregister AFTER DELETE ON %s'
                   ' REFERENCING OLD TABLE AS zenml_rbac_old'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION zenml_rbac.protect_sync()', tbl);
    EXECUTE format('CREATE TRIGGER zz_zenml_rbac_truncate BEFORE TRUNCATE ON %s'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION zenml_rbac.protect_sync()', tbl);
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);

    INSERT INTO zenml_rbac.protected_table AS p (relid, resource_type, tenant_column, id_column, owner_column)
    VALUES (tbl, protect.resource_type, tenant_column, id_column, owner_column)
    ON CONFLICT (relid) DO UPDATE
       SET resource_type = EXCLUDED.resource_type, tenant_column = EXCLUDED.tenant_column,
           id_column = EXCLUDED.id_column, owner_column = EXCLUDED.owner_column,
           protected_at = pg_catalog.now();

    -- Rows already there become resources (owner: the owner column, when it names a principal).
    EXECUTE format('INSERT INTO zenml_rbac.resource (tenant_id, resource_type, resource_id, owner_id)'
                   ' SELECT DISTINCT ON (r.%1$I, r.%2$I) r.%1$I, %3$L, r.%2$I, %4$s'
                   ' FROM %5$s r JOIN zenml_rbac.tenant t ON t.id = r.%1$I'
                   ' WHERE r.%2$I IS NOT NULL ON CONFLICT DO NOTHING',
                   tenant_column, id_column, resource_type,
                   CASE WHEN owner_column IS NULL THEN 'NULL::uuid'
                        ELSE format('(SELECT p.id FROM zenml_rbac.principal p WHERE p.id = r.%I)', owner_column) END,
                   tbl);
    EXECUTE format('SELECT count(*) FROM %s r WHERE r.%I IS NULL OR r.%I IS NULL'
                   ' OR NOT EXISTS (SELECT FROM zenml_rbac.tenant t WHERE t.id = r.%I)',
                   tbl, tenant_column, id_column, tenant_column) INTO v_skipped;
    IF v_skipped > 0 THEN
        RAISE WARNING '% rows of % name no existing tenant or have no id: nobody but the table owner sees them', v_skipped, tbl;
    END IF;

    SELECT string_agg(quote_ident(polname), ', ' ORDER BY polname) INTO v_others
      FROM pg_policy WHERE polrelid = tbl AND polpermissive AND polname NOT LIKE 'zenml\_rbac\_%';
    IF v_others IS NOT NULL THEN
        RAISE WARNING 'table % has other permissive policies (%), which widen what the protection allows', tbl, v_others
            USING HINT = 'Make them AS RESTRICTIVE, or drop them.';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_index i
                    WHERE i.indrelid = tbl AND i.indisunique AND i.indpred IS NULL
                      AND (SELECT attnum FROM pg_attribute WHERE attrelid = tbl AND attname = id_column)
                          = ANY (i.indkey::int2[])
                      AND i.indkey::int2[] <@ ARRAY(SELECT attnum FROM pg_attribute
                                                     WHERE attrelid = tbl
                                                       AND attname IN (tenant_column, id_column))::int2[]) THEN
        RAISE WARNING 'table % has no unique index on (%) or (%, %)', tbl, id_column, tenant_column, id_column
            USING DETAIL = 'Rows sharing an id share one registered resource: deleting one unregisters it for all.';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_index i WHERE i.indrelid = tbl
                      AND i.indkey[0] = (SELECT attnum FROM pg_attribute WHERE attrelid = tbl AND attname = tenant_column)) THEN
        RAISE NOTICE 'table % has no index leading with column %', tbl, tenant_column
            USING DETAIL = 'Principals that are members of few tenants would read the whole table.';
    END IF;
    IF NOT (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE oid = v_owner) THEN
        RAISE NOTICE 'the owner of %, role %, bypasses these policies', tbl, v_owner
            USING HINT = format('To subject it too: ALTER TABLE %s FORCE ROW LEVEL SECURITY;', tbl);
    END IF;
END
$$;

DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT p.relid, d.policy, d.using_clause, d.check_clause
               FROM zenml_rbac.protected_table p,
                    zenml_rbac._policy_definitions(p.resource_type, p.tenant_column,
                                                   p.id_column, p.owner_column) d
              WHERE EXISTS (SELECT FROM pg_catalog.pg_policy pol
                             WHERE pol.polrelid = p.relid AND pol.polname = d.policy)
    LOOP
        EXECUTE pg_catalog.format('ALTER POLICY %I ON %s%s%s', r.policy, r.relid,
                                  ' USING (' || r.using_clause || ')',
                                  ' WITH CHECK (' || r.check_clause || ')');
    END LOOP;
END
$$;
