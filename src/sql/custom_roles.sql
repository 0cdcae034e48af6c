-- Custom roles: a tenant's own roles built on a base role with edits.

-- Guards the role table against direct DML too: a custom role's base is a
-- predefined role or a role of the same tenant, and chains have no cycles.
CREATE FUNCTION zenml_rbac._role_integrity() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NEW.tenant_id IS NULL THEN
        RETURN NEW;
    END IF;
    IF NEW.name IN ('org_admin', 'org_editor', 'org_viewer')
       OR EXISTS (SELECT 1 FROM zenml_rbac.role r WHERE r.tenant_id IS NULL AND r.name = NEW.name) THEN
        RAISE EXCEPTION 'role "%" already exists', NEW.name
            USING ERRCODE = '42710', DETAIL = 'Predefined role names cannot be reused.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM zenml_rbac.role b
                    WHERE b.id = NEW.base_role_id
                      AND (b.tenant_id IS NULL OR b.tenant_id = NEW.tenant_id)) THEN
        RAISE EXCEPTION 'base of role "%" must be a predefined role or a role of the same tenant', NEW.name
            USING ERRCODE = '22023';
    END IF;
    -- a cycle first: the chain walk below would go round it
    IF EXISTS (WITH RECURSIVE chain(id) AS (
                   SELECT NEW.base_role_id
                   UNION
                   SELECT r.base_role_id FROM zenml_rbac.role r JOIN chain c ON r.id = c.id
                    WHERE r.base_role_id IS NOT NULL)
               SELECT 1 FROM chain WHERE id = NEW.id) THEN
        RAISE EXCEPTION 'role "%" cannot be based on itself', NEW.name
            USING ERRCODE = '22023', DETAIL = 'Role inheritance must not form a cycle.';
    END IF;
    -- the engine computes chains of up to 64 roles; keep well inside that
    IF (WITH RECURSIVE chain(id, depth) AS (
            SELECT NEW.base_role_id, 1
            UNION ALL
            SELECT r.base_role_id, c.depth + 1 FROM zenml_rbac.role r JOIN chain c ON r.id = c.id
             WHERE r.base_role_id IS NOT NULL AND c.depth <= 64)
        SELECT max(depth) FROM chain) > 32 THEN
        RAISE EXCEPTION 'role "%" would be based on a chain of more than 32 roles', NEW.name
            USING ERRCODE = '54000';
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION zenml_rbac._role_integrity() IS
    'Internal trigger: custom roles build on a predefined role or one of their tenant, with no cycle.';

-- Checked at the end of the statement, when all its rows are in: pg_dump
-- copies the table in physical order, which may put a role before its base.
CREATE CONSTRAINT TRIGGER role_integrity AFTER INSERT OR UPDATE OF tenant_id, name, base_role_id
    ON zenml_rbac.role FOR EACH ROW EXECUTE FUNCTION zenml_rbac._role_integrity();

CREATE FUNCTION zenml_rbac.create_role(tenant uuid, name text, description text, base_role text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_tenant record := zenml_rbac._lock_tenant(tenant);
    v_base uuid;
    v_missing text[];
    v_id uuid;
BEGIN
    PERFORM zenml_rbac._check_name('role', name);
    IF name IN ('org_admin', 'org_editor', 'org_viewer')
       OR EXISTS (SELECT 1 FROM zenml_rbac.role r WHERE r.name = create_role.name AND r.tenant_id IS NULL) THEN
        RAISE EXCEPTION 'role "%" already exists', name
            USING ERRCODE = '42710', DETAIL = 'Predefined role names cannot be reused.';
    END IF;
    IF EXISTS (SELECT 1 FROM zenml_rbac.role r WHERE r.name = create_role.name AND r.tenant_id = tenant) THEN
        RAISE EXCEPTION 'role "%" already exists in tenant "%"', name, v_tenant.name USING ERRCODE = '42710';
    END IF;
    v_base := zenml_rbac._tenant_role(tenant, base_role);
    IF NOT zenml_rbac._is_org_admin(v_actor, v_tenant.org_id) THEN
        PERFORM zenml_rbac._require_tenant(v_actor, tenant, 'role', ARRAY['create'],
                                           format('create role "%s"', name));
        v_missing := zenml_rbac._role_missing_permissions(v_actor, tenant, v_base);
        IF cardinality(v_missing) > 0 THEN
            RAISE EXCEPTION 'permission denied to create role "%" in tenant "%"', name, v_tenant.name
                USING ERRCODE = '42501',
                      DETAIL = format('A role may only hand out what its creator holds; missing: %s.',
                                      array_to_string(v_missing, ', '));
        END IF;
    END IF;
    INSERT INTO zenml_rbac.role (tenant_id, name, description, base_role_id)
    VALUES (tenant, name, coalesce(description, ''), v_base)
    RETURNING id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION zenml_rbac.create_role(uuid, text, text, text) IS
    'Creates a custom role of the tenant on a base role (predefined or custom); it inherits the base live. Needs role:create and every permission of the base, unless org_admin.';

CREATE FUNCTION zenml_rbac._edit_role(tenant uuid, role text, resource_type text, action text, allowed boolean)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_tenant record := zenml_rbac._lock_tenant(tenant);
    v_role uuid;
BEGIN
    PERFORM zenml_rbac._check_vocabulary(resource_type, action);
    v_role := zenml_rbac._custom_role(tenant, role);
    IF NOT zenml_rbac._is_org_admin(v_actor, v_tenant.org_id) THEN
        PERFORM zenml_rbac._require_tenant(v_actor, tenant, 'role', ARRAY['update'],
                                           format('edit role "%s"', role));
        IF allowed AND NOT zenml_rbac.rbac_can(v_actor, tenant, resource_type, action) THEN
            RAISE EXCEPTION 'permission denied to allow "%:%" in role "%"', resource_type, action, role
                USING ERRCODE = '42501',
                      DETAIL = format('A role may only hand out what its editor holds; missing: %s:%s.',
                                      resource_type, action);
        END IF;
    END IF;
    INSERT INTO zenml_rbac.role_permission AS p (role_id, resource_type, action, allowed)
    VALUES (v_role, resource_type, action, allowed)
    ON CONFLICT ON CONSTRAINT role_permission_pkey DO UPDATE SET allowed = excluded.allowed
        WHERE p.allowed IS DISTINCT FROM excluded.allowed;
END
$$;
COMMENT ON FUNCTION zenml_rbac._edit_role(uuid, text, text, text, boolean) IS
    'Internal: sets one permission edit of a custom role.';

CREATE FUNCTION zenml_rbac.role_allow(tenant uuid, role text, resource_type text, action text) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT zenml_rbac._edit_role(tenant, role, resource_type, action, true);
$$;
COMMENT ON FUNCTION zenml_rbac.role_allow(uuid, text, text, text) IS
    'Custom role edit: allow (type, action), replacing an earlier edit of the pair. Needs role:update and the permission itself, unless org_admin.';

CREATE FUNCTION zenml_rbac.role_disallow(tenant uuid, role text, resource_type text, action text) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT zenml_rbac._edit_role(tenant, role, resource_type, action, false);
$$;
COMMENT ON FUNCTION zenml_rbac.role_disallow(uuid, text, text, text) IS
    'Custom role edit: disallow (type, action) whatever the base holds, replacing an earlier edit of the pair. Needs role:update, unless org_admin.';

CREATE FUNCTION zenml_rbac.drop_role(tenant uuid, role text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_tenant record := zenml_rbac._lock_tenant(tenant);
    v_role uuid := zenml_rbac._custom_role(tenant, role);
    v_dependent text;
    v_before uuid[];
BEGIN
    IF NOT zenml_rbac._is_org_admin(v_actor, v_tenant.org_id) THEN
        PERFORM zenml_rbac._require_tenant(v_actor, tenant, 'role', ARRAY['delete'],
                                           format('drop role "%s"', role));
    END IF;
    SELECT string_agg(format('"%s"', r.name), ', ' ORDER BY r.name) INTO v_dependent
      FROM zenml_rbac.role r WHERE r.base_role_id = v_role;
    IF v_dependent IS NOT NULL THEN
        RAISE EXCEPTION 'cannot drop role "%" because other roles build on it', role
            USING ERRCODE = '2BP01', DETAIL = format('Roles based on it: %s.', v_dependent),
                  HINT = 'Drop those roles first.';
    END IF;
    v_before := zenml_rbac._tenant_members(tenant, zenml_rbac._with_team_members(
        ARRAY(SELECT a.principal_id FROM zenml_rbac.tenant_role_assignment a WHERE a.role_id = v_role)));
    DELETE FROM zenml_rbac.role r WHERE r.id = v_role;
    PERFORM zenml_rbac._drop_departed_grants(tenant, v_before);
END
$$;
COMMENT ON FUNCTION zenml_rbac.drop_role(uuid, text) IS
    'Drops a custom role, revoking it from every holder (membership transitions apply); refused (2BP01) while another role builds on it. Needs role:delete, unless org_admin.';

-- Who may call these: the management API authorizes its caller itself, so
-- any role may call it; the rest are internal.
REVOKE ALL ON FUNCTION
    zenml_rbac._edit_role(uuid, text, text, text, boolean),
    zenml_rbac._role_integrity(),
    zenml_rbac.create_role(uuid, text, text, text),
    zenml_rbac.drop_role(uuid, text),
    zenml_rbac.role_allow(uuid, text, text, text),
    zenml_rbac.role_disallow(uuid, text, text, text)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    zenml_rbac.create_role(uuid, text, text, text),
    zenml_rbac.drop_role(uuid, text),
    zenml_rbac.role_allow(uuid, text, text, text),
    zenml_rbac.role_disallow(uuid, text, text, text)
    TO PUBLIC;
