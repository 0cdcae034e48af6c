-- zenml_rbac 0.1.0 -> 0.2.0: the catalog can be published with logical
-- replication (caches invalidated on subscribers, seeded rows filterable).
-- The upgrade test checks the result equals a fresh 0.2.0 install.

\echo Use "ALTER EXTENSION zenml_rbac UPDATE TO '0.2.0'" to load this file. \quit

COMMENT ON FUNCTION zenml_rbac.catalog_changed() IS
    'Trigger: sends a relcache invalidation for its table so every backend''s rbac cache drops what is stale at commit.';

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['organization', 'tenant', 'principal', 'org_role_assignment',
                             'team_member', 'resource_type', 'role', 'role_permission',
                             'tenant_role_assignment', 'resource', 'resource_grant']
    LOOP
        EXECUTE pg_catalog.format(
            'CREATE TRIGGER zz_invalidate_cache_replica AFTER INSERT OR UPDATE OR DELETE '
            'ON zenml_rbac.%I FOR EACH ROW EXECUTE FUNCTION zenml_rbac.catalog_changed()', t);
        EXECUTE pg_catalog.format('ALTER TABLE zenml_rbac.%I ENABLE REPLICA TRIGGER zz_invalidate_cache_replica', t);
    END LOOP;
END
$$;

ALTER TABLE zenml_rbac.resource_type REPLICA IDENTITY FULL;
ALTER TABLE zenml_rbac.role REPLICA IDENTITY FULL;
