-- Tenant role assignments.

CREATE FUNCTION zenml_rbac.grant_tenant_role(tenant uuid, principal uuid, role text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_tenant record := zenml_rbac._lock_tenant(tenant);
    v_role uuid := zenml_rbac._tenant_role(tenant, role);
    v_missing text[];
BEGIN
    PERFORM zenml_rbac._require_org_principal(v_tenant.org_id, principal, true);
    IF NOT zenml_rbac._is_org_admin(v_actor, v_tenant.org_id) THEN
        v_missing := zenml_rbac._grant_missing(v_actor, tenant, v_role);
        IF cardinality(v_missing) > 0 THEN
            RAISE EXCEPTION 'permission denied to grant role "%" in tenant "%"', role, v_tenant.name
                USING ERRCODE = '42501',
                      DETAIL = format('Granting it requires "member:create" or "member:update" and every permission of the role; missing: %s.',
                                      array_to_string(v_missing, ', '));
        END IF;
    END IF;
    INSERT INTO zenml_rbac.tenant_role_assignment (tenant_id, principal_id, role_id)
    VALUES (tenant, principal, v_role)
    ON CONFLICT DO NOTHING;
END
$$;
COMMENT ON FUNCTION zenml_rbac.grant_tenant_role(uuid, uuid, text) IS
    'Gives a member (user or service account) or team of the tenant''s organization a predefined or custom tenant role. Needs member:create or member:update plus every permission of the role, unless org_admin.';

CREATE FUNCTION zenml_rbac.revoke_tenant_role(tenant uuid, principal uuid, role text) RETURNS void
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

-- Who may call these: the management API authorizes its caller itself, so
-- any role may call it.
REVOKE ALL ON FUNCTION
    zenml_rbac.grant_tenant_role(uuid, uuid, text),
    zenml_rbac.revoke_tenant_role(uuid, uuid, text)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    zenml_rbac.grant_tenant_role(uuid, uuid, text),
    zenml_rbac.revoke_tenant_role(uuid, uuid, text)
    TO PUBLIC;
