-- Users and service accounts.

CREATE FUNCTION zenml_rbac.create_user(name text) RETURNS uuid
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

CREATE FUNCTION zenml_rbac.create_service_account(org uuid, name text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_id uuid;
BEGIN
    PERFORM zenml_rbac._lock_org(org);
    PERFORM zenml_rbac._check_name('service account', name);
    PERFORM zenml_rbac._require_org(v_actor, org, 'member', 'create',
                                    format('create service account "%s"', name));
    IF EXISTS (SELECT 1 FROM zenml_rbac.principal p
                WHERE p.kind = 'service_account' AND p.org_id = org AND p.name = create_service_account.name) THEN
        RAISE EXCEPTION 'service account "%" already exists in the organization', name USING ERRCODE = '42710';
    END IF;
    INSERT INTO zenml_rbac.principal (kind, name, org_id) VALUES ('service_account', name, org)
    RETURNING id INTO v_id;
    INSERT INTO zenml_rbac.org_role_assignment (org_id, principal_id, role) VALUES (org, v_id, 'org_viewer');
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION zenml_rbac.create_service_account(uuid, text) IS
    'Creates a service account of the organization, a member with org_viewer. Needs member:create.';

-- A user is global: it belongs to no organization, so no organization's
-- admin may end it (any user can create an organization and add anyone);
-- only the system or the user itself.  A service account belongs to one
-- organization: member:delete there.  Anyone else is refused alike whether
-- the id exists or not.
CREATE FUNCTION zenml_rbac.deactivate_user(principal uuid) RETURNS void
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

CREATE FUNCTION zenml_rbac.link_pg_role(principal uuid, pg_role name) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
BEGIN
    PERFORM zenml_rbac._not_null('principal', principal);
    IF v_actor IS NOT NULL THEN
        RAISE EXCEPTION 'permission denied to link a PostgreSQL role'
            USING ERRCODE = '42501', DETAIL = 'Only the system (a superuser or the extension owner without a principal) links roles.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM zenml_rbac.principal p WHERE p.id = principal) THEN
        RAISE EXCEPTION 'no user or service account has id %', principal USING ERRCODE = '42704';
    ELSIF EXISTS (SELECT 1 FROM zenml_rbac.principal p WHERE p.id = principal AND p.kind = 'team') THEN
        RAISE EXCEPTION '% is not a user or service account', zenml_rbac._principal_label(principal)
            USING ERRCODE = '22023';
    END IF;
    IF pg_role IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = pg_role) THEN
        RAISE EXCEPTION 'role "%" does not exist', pg_role USING ERRCODE = '42704';
    END IF;
    IF EXISTS (SELECT 1 FROM zenml_rbac.principal p WHERE p.pg_role = link_pg_role.pg_role AND p.id <> principal) THEN
        RAISE EXCEPTION 'role "%" is already linked to another principal', pg_role USING ERRCODE = '42710';
    END IF;
    UPDATE zenml_rbac.principal p SET pg_role = link_pg_role.pg_role
     WHERE p.id = principal AND p.pg_role IS DISTINCT FROM link_pg_role.pg_role;
END
$$;
COMMENT ON FUNCTION zenml_rbac.link_pg_role(uuid, name) IS
    'Sessions whose session_user is this PostgreSQL role act as the principal when none is set (NULL unlinks). System only.';

-- Who may call these: the management API authorizes its caller itself, so
-- any role may call it; the rest are internal.
REVOKE ALL ON FUNCTION
    zenml_rbac.create_service_account(uuid, text),
    zenml_rbac.create_user(text),
    zenml_rbac.deactivate_user(uuid),
    zenml_rbac.link_pg_role(uuid, name)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    zenml_rbac.create_service_account(uuid, text),
    zenml_rbac.create_user(text),
    zenml_rbac.deactivate_user(uuid),
    zenml_rbac.link_pg_role(uuid, name)
    TO PUBLIC;
