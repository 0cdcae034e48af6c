-- Teams: groups of users and service accounts of one organization.

CREATE FUNCTION zenml_rbac.create_team(org uuid, name text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_id uuid;
BEGIN
    PERFORM zenml_rbac._lock_org(org);
    PERFORM zenml_rbac._check_name('team', name);
    PERFORM zenml_rbac._require_org(v_actor, org, 'team', 'create', format('create team "%s"', name));
    IF EXISTS (SELECT 1 FROM zenml_rbac.principal p
                WHERE p.kind = 'team' AND p.org_id = org AND p.name = create_team.name) THEN
        RAISE EXCEPTION 'team "%" already exists in the organization', name USING ERRCODE = '42710';
    END IF;
    INSERT INTO zenml_rbac.principal (kind, name, org_id) VALUES ('team', name, org) RETURNING id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION zenml_rbac.create_team(uuid, text) IS
    'Creates a team in the organization. Needs team:create (org_admin, org_editor).';

CREATE FUNCTION zenml_rbac._team_org(team uuid) RETURNS uuid
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
CREATE FUNCTION zenml_rbac._team_tenants(team uuid, principals uuid[])
RETURNS SETOF zenml_rbac._tenant_members_before LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT t, zenml_rbac._tenant_members(t, principals)
      FROM unnest(zenml_rbac._principal_tenants(team)) t;
$$;
COMMENT ON FUNCTION zenml_rbac._team_tenants(uuid, uuid[]) IS
    'Internal: tenants where the team holds a role, and which of the principals are members there now.';

-- A member leaves a team: where that ends its membership of a tenant, its
-- shares there go (the membership transition).
CREATE FUNCTION zenml_rbac._leave_team(team uuid, principal uuid) RETURNS void
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

CREATE FUNCTION zenml_rbac.delete_team(team uuid) RETURNS void
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

CREATE FUNCTION zenml_rbac.add_team_member(team uuid, principal uuid) RETURNS void
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

CREATE FUNCTION zenml_rbac.remove_team_member(team uuid, principal uuid) RETURNS void
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

-- Who may call these: the management API authorizes its caller itself, so
-- any role may call it; the rest are internal.
REVOKE ALL ON FUNCTION
    zenml_rbac._leave_team(uuid, uuid),
    zenml_rbac._team_org(uuid),
    zenml_rbac._team_tenants(uuid, uuid[]),
    zenml_rbac.add_team_member(uuid, uuid),
    zenml_rbac.create_team(uuid, text),
    zenml_rbac.delete_team(uuid),
    zenml_rbac.remove_team_member(uuid, uuid)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    zenml_rbac.add_team_member(uuid, uuid),
    zenml_rbac.create_team(uuid, text),
    zenml_rbac.delete_team(uuid),
    zenml_rbac.remove_team_member(uuid, uuid)
    TO PUBLIC;
