-- Resource types, registered resource instances, and sharing.

CREATE FUNCTION zenml_rbac.register_resource_type(name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
BEGIN
    PERFORM zenml_rbac._not_null('resource type', name);
    IF v_actor IS NOT NULL THEN
        RAISE EXCEPTION 'permission denied to register resource type "%"', left(name, 64)
            USING ERRCODE = '42501', DETAIL = 'The vocabulary is global: only the system registers types.';
    END IF;
    IF name !~ '^[a-z][a-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'invalid resource type name "%"', left(name, 64)
            USING ERRCODE = '22023',
                  DETAIL = 'A type name is a lowercase letter followed by up to 62 lowercase letters, digits or underscores.';
    END IF;
    INSERT INTO zenml_rbac.resource_type (name) VALUES (name) ON CONFLICT DO NOTHING;
END
$$;
COMMENT ON FUNCTION zenml_rbac.register_resource_type(text) IS
    'Adds a data resource type to the vocabulary (no-op if it exists); predefined roles cover it at once. System only.';

-- 'type/uuid' with the engine's errors; a bare 'type' is refused here.
CREATE FUNCTION zenml_rbac._resource_instance(resource text, OUT resource_type text, OUT resource_id uuid)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM zenml_rbac._not_null('resource', resource);
    SELECT r.resource_type, r.resource_id INTO resource_type, resource_id
      FROM zenml_rbac.parse_resource(resource) r;
    IF resource_id IS NULL THEN
        RAISE EXCEPTION 'resource "%" names a type, not an instance', resource
            USING ERRCODE = '22023', HINT = format('Write it as "%s/<uuid>".', resource);
    END IF;
END
$$;
COMMENT ON FUNCTION zenml_rbac._resource_instance(text) IS
    'Internal: parses ''type/uuid'' (22P02, 22023), refusing a bare type.';

CREATE FUNCTION zenml_rbac.register_resource(tenant uuid, resource text, owner uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_tenant record := zenml_rbac._lock_tenant(tenant);
    v_ref record := zenml_rbac._resource_instance(resource);
    v_owner uuid;
BEGIN
    IF owner IS NOT NULL THEN
        PERFORM zenml_rbac._require_org_principal(v_tenant.org_id, owner, false);
    END IF;
    PERFORM zenml_rbac._require_tenant(v_actor, tenant, v_ref.resource_type, ARRAY['create'],
                                       format('register a %s', v_ref.resource_type));
    SELECT r.owner_id INTO v_owner FROM zenml_rbac.resource r
     WHERE r.tenant_id = tenant AND r.resource_type = v_ref.resource_type AND r.resource_id = v_ref.resource_id;
    IF FOUND THEN
        IF v_owner IS DISTINCT FROM owner THEN
            RAISE EXCEPTION 'resource "%" is already registered in tenant "%" with another owner', resource, v_tenant.name
                USING ERRCODE = '42710';
        END IF;
        RETURN;
    END IF;
    INSERT INTO zenml_rbac.resource (tenant_id, resource_type, resource_id, owner_id)
    VALUES (tenant, v_ref.resource_type, v_ref.resource_id, owner);
END
$$;
COMMENT ON FUNCTION zenml_rbac.register_resource(uuid, text, uuid) IS
    'Registers a resource instance (''type/uuid'') of the tenant with its owner (a member of the organization, or NULL). Needs create on the type.';

CREATE FUNCTION zenml_rbac.delete_resource(tenant uuid, resource text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_tenant record := zenml_rbac._lock_tenant(tenant);
    v_ref record := zenml_rbac._resource_instance(resource);
BEGIN
    PERFORM zenml_rbac._require_tenant(v_actor, tenant, resource, ARRAY['delete'],
                                       format('delete "%s"', resource));
    DELETE FROM zenml_rbac.resource r
     WHERE r.tenant_id = tenant AND r.resource_type = v_ref.resource_type AND r.resource_id = v_ref.resource_id;
END
$$;
COMMENT ON FUNCTION zenml_rbac.delete_resource(uuid, text) IS
    'Unregisters a resource instance and removes its shares. Needs delete on it (type-level, owner, or shared).';

CREATE FUNCTION zenml_rbac.share_resource(tenant uuid, resource text, principal uuid, actions text[]) RETURNS void
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

-- Who may call these: the management API authorizes its caller itself, so
-- any role may call it; the rest are internal.
REVOKE ALL ON FUNCTION
    zenml_rbac._resource_instance(text),
    zenml_rbac.delete_resource(uuid, text),
    zenml_rbac.register_resource(uuid, text, uuid),
    zenml_rbac.register_resource_type(text),
    zenml_rbac.share_resource(uuid, text, uuid, text[])
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    zenml_rbac.delete_resource(uuid, text),
    zenml_rbac.register_resource(uuid, text, uuid),
    zenml_rbac.register_resource_type(text),
    zenml_rbac.share_resource(uuid, text, uuid, text[])
    TO PUBLIC;
