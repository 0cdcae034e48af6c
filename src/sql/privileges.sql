-- Privileges: nothing for PUBLIC but what each kind of caller needs.
-- Catalog tables are written only through the SECURITY DEFINER functions.

REVOKE ALL ON ALL TABLES IN SCHEMA zenml_rbac FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA zenml_rbac FROM PUBLIC;
REVOKE ALL ON SCHEMA zenml_rbac FROM PUBLIC;
GRANT USAGE ON SCHEMA zenml_rbac TO PUBLIC;

-- Checks and who-am-I: any role may ask.
GRANT EXECUTE ON FUNCTION
    zenml_rbac.rbac_can(uuid, uuid, text, text),
    zenml_rbac.rbac_can(text, text, text, text),
    zenml_rbac.rbac_can(uuid, text, text),
    zenml_rbac.rbac_can(text, text, text),
    zenml_rbac.rbac_org_can(uuid, uuid, text, text),
    zenml_rbac.rbac_org_can(text, text, text, text),
    zenml_rbac.role_permissions(uuid),
    zenml_rbac.parse_resource(text),
    zenml_rbac.cache_stats(),
    zenml_rbac.current_principal()
TO PUBLIC;

-- The management API authorizes its caller itself (the acting principal,
-- or the system), so any role may call it.
GRANT EXECUTE ON FUNCTION
    zenml_rbac.create_organization(text),
    zenml_rbac.delete_organization(uuid),
    zenml_rbac.create_tenant(uuid, text),
    zenml_rbac.delete_tenant(uuid),
    zenml_rbac.set_org_role(uuid, uuid, text),
    zenml_rbac.remove_org_member(uuid, uuid),
    zenml_rbac.create_user(text),
    zenml_rbac.create_service_account(uuid, text),
    zenml_rbac.deactivate_user(uuid),
    zenml_rbac.link_pg_role(uuid, name),
    zenml_rbac.create_team(uuid, text),
    zenml_rbac.delete_team(uuid),
    zenml_rbac.add_team_member(uuid, uuid),
    zenml_rbac.remove_team_member(uuid, uuid),
    zenml_rbac.grant_tenant_role(uuid, uuid, text),
    zenml_rbac.revoke_tenant_role(uuid, uuid, text),
    zenml_rbac.create_role(uuid, text, text, text),
    zenml_rbac.role_allow(uuid, text, text, text),
    zenml_rbac.role_disallow(uuid, text, text, text),
    zenml_rbac.drop_role(uuid, text),
    zenml_rbac.register_resource_type(text),
    zenml_rbac.register_resource(uuid, text, uuid),
    zenml_rbac.delete_resource(uuid, text),
    zenml_rbac.share_resource(uuid, text, uuid, text[]),
    zenml_rbac.create_api_key(uuid, timestamptz),
    zenml_rbac.rotate_api_key(uuid, interval),
    zenml_rbac.revoke_api_key(uuid)
TO PUBLIC;

-- Protected tables: their policies run these as whoever queries the table;
-- protect() and unprotect() authorize their caller (the system) themselves.
GRANT EXECUTE ON FUNCTION
    zenml_rbac.rls_tenants(text, text),
    zenml_rbac.rls_instances(text, text),
    zenml_rbac.rls_owner_tenants(text, text),
    zenml_rbac.rls_instance_match(uuid, uuid, uuid[]),
    zenml_rbac.rls_registered(uuid, uuid, text),
    zenml_rbac.protect(regclass, text, name, name, name),
    zenml_rbac.unprotect(regclass)
TO PUBLIC;
GRANT SELECT ON zenml_rbac.protected_tables TO PUBLIC;

-- Purging authorizes its caller (the system) itself.  Reading the log and
-- the reporting views is for whom the DBA grants it (README, "Audit"), e.g.
--   GRANT SELECT ON zenml_rbac.audit_events, zenml_rbac.effective_permissions,
--         zenml_rbac.access_review, zenml_rbac.tenant_members,
--         zenml_rbac.role_permissions TO auditor;
--   GRANT EXECUTE ON FUNCTION zenml_rbac.verify_audit_log(), zenml_rbac.audit_head() TO auditor;
GRANT EXECUTE ON FUNCTION zenml_rbac.purge_audit_log(timestamptz) TO PUBLIC;

-- Possessing a valid key is the credential: any role may present one.
GRANT EXECUTE ON FUNCTION zenml_rbac.authenticate(text) TO PUBLIC;

-- set_principal is deliberately not granted: the DBA grants it to the
-- application's pool role, e.g.
--   GRANT EXECUTE ON FUNCTION zenml_rbac.set_principal(uuid) TO app_pool;
