-- Organizations, tenants and organization membership.

CREATE FUNCTION zenml_rbac.create_organization(name text) RETURNS uuid
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

CREATE FUNCTION zenml_rbac.delete_organization(org uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
BEGIN
    PERFORM zenml_rbac._lock_org(org);
    PERFORM zenml_rbac._require_org(v_actor, org, 'organization', 'delete', 'delete the organization');
    DELETE FROM zenml_rbac.organization o WHERE o.id = org;
END
$$;
COMMENT ON FUNCTION zenml_rbac.delete_organization(uuid) IS
    'Deletes an organization with its tenants, service accounts, teams, roles, resources and shares. Needs organization:delete (org_admin).';

CREATE FUNCTION zenml_rbac.create_tenant(org uuid, name text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_id uuid;
BEGIN
    PERFORM zenml_rbac._lock_org(org);
    PERFORM zenml_rbac._check_name('tenant', name);
    PERFORM zenml_rbac._require_org(v_actor, org, 'tenant', 'create', format('create tenant "%s"', name));
    IF EXISTS (SELECT 1 FROM zenml_rbac.tenant t WHERE t.org_id = org AND t.name = create_tenant.name) THEN
        RAISE EXCEPTION 'tenant "%" already exists in the organization', name USING ERRCODE = '42710';
    END IF;
    INSERT INTO zenml_rbac.tenant (org_id, name) VALUES (org, name) RETURNING id INTO v_id;
    IF v_actor IS NOT NULL THEN
        INSERT INTO zenml_rbac.tenant_role_assignment (tenant_id, principal_id, role_id)
        VALUES (v_id, v_actor, '00000000-0000-4000-8000-000000000001');
    END IF;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION zenml_rbac.create_tenant(uuid, text) IS
    'Creates a tenant; its creator becomes its admin. Needs tenant:create in the organization (org_admin, org_editor).';

CREATE FUNCTION zenml_rbac.delete_tenant(tenant uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_tenant record := zenml_rbac._lock_tenant(tenant);
BEGIN
    PERFORM zenml_rbac._require_org(v_actor, v_tenant.org_id, 'tenant', 'delete',
                                    format('delete tenant "%s"', v_tenant.name));
    DELETE FROM zenml_rbac.tenant t WHERE t.id = tenant;
END
$$;
COMMENT ON FUNCTION zenml_rbac.delete_tenant(uuid) IS
    'Deletes a tenant with its roles, assignments, resources and shares. Needs tenant:delete in the organization (org_admin).';

CREATE FUNCTION zenml_rbac.set_org_role(org uuid, principal uuid, role text) RETURNS void
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

CREATE FUNCTION zenml_rbac.remove_org_member(org uuid, principal uuid) RETURNS void
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

-- Who may call these: the management API authorizes its caller itself (the
-- acting principal, or the system), so any role may call it.
REVOKE ALL ON FUNCTION
    zenml_rbac.create_organization(text),
    zenml_rbac.create_tenant(uuid, text),
    zenml_rbac.delete_organization(uuid),
    zenml_rbac.delete_tenant(uuid),
    zenml_rbac.remove_org_member(uuid, uuid),
    zenml_rbac.set_org_role(uuid, uuid, text)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    zenml_rbac.create_organization(text),
    zenml_rbac.create_tenant(uuid, text),
    zenml_rbac.delete_organization(uuid),
    zenml_rbac.delete_tenant(uuid),
    zenml_rbac.remove_org_member(uuid, uuid),
    zenml_rbac.set_org_role(uuid, uuid, text)
    TO PUBLIC;
