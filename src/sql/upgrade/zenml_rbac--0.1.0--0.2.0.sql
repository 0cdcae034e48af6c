-- zenml_rbac 0.1.0 -> 0.2.0: the catalog can be published with logical
-- replication (caches invalidated on subscribers, seeded rows filterable);
-- a dump whose custom role precedes its base role restores.
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

-- Checked at the end of the statement, when all its rows are in: pg_dump
-- copies the table in physical order, which may put a role before its base.
-- (and a cycle is looked for before the chain's length, which would go round it)
CREATE OR REPLACE FUNCTION zenml_rbac._role_integrity() RETURNS trigger
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
DROP TRIGGER role_integrity ON zenml_rbac.role;
CREATE CONSTRAINT TRIGGER role_integrity AFTER INSERT OR UPDATE OF tenant_id, name, base_role_id
    ON zenml_rbac.role FOR EACH ROW EXECUTE FUNCTION zenml_rbac._role_integrity();
