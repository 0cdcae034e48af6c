-- The triggers of every catalog table, from the one list of them in
-- src/invalidation.c (zenml_rbac._catalog_tables()): cache invalidation on
-- the cached tables, audit capture on the audited ones.  Last in the
-- install script, once every table exists.

CREATE FUNCTION zenml_rbac._catalog_tables(OUT name text, OUT cached boolean, OUT note text,
                                           OUT audit text[])
    RETURNS SETOF record LANGUAGE c STABLE PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'catalog_tables';
COMMENT ON FUNCTION zenml_rbac._catalog_tables() IS
    'Every table of the schema: the cached ones with the keys a change to a row invalidates, the others with why they are not cached; for audited ones audit_capture()''s arguments (key, organization, tenant, subject, secret columns).';

-- Cache invalidation (src/invalidation.c): a row trigger on every cached
-- table names, per changed row, the keys it can affect, by queueing a
-- relcache invalidation naming each key; every backend (and, through the
-- commit record, every hot standby) drops just the entries depending on those
-- keys at its next statement.
CREATE FUNCTION zenml_rbac.catalog_changed() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'catalog_changed';
COMMENT ON FUNCTION zenml_rbac.catalog_changed() IS
    'Trigger: queues an invalidation naming each key the changed rows can affect, so every backend''s rbac cache drops what depends on it at commit.';
REVOKE ALL ON FUNCTION zenml_rbac._catalog_tables(), zenml_rbac.catalog_changed() FROM PUBLIC;

DO $$
DECLARE
    t record;
BEGIN
    CREATE TYPE zenml_rbac.invalidation_all AS ();
    COMMENT ON TYPE zenml_rbac.invalidation_all IS
        'Named in cache invalidation messages only: every backend resets its whole rbac cache.';

    -- the library's list, limited to this version's tables: a later
    -- library may list tables a later version adds
    FOR t IN SELECT * FROM zenml_rbac._catalog_tables() c
              WHERE pg_catalog.to_regclass(pg_catalog.format('zenml_rbac.%I', c.name)) IS NOT NULL
    LOOP
        IF t.cached THEN
            EXECUTE pg_catalog.format(
                'CREATE TRIGGER zz_invalidate_cache AFTER INSERT OR UPDATE OR DELETE '
                'ON zenml_rbac.%I FOR EACH ROW EXECUTE FUNCTION zenml_rbac.catalog_changed()', t.name);
            EXECUTE pg_catalog.format(
                'CREATE TRIGGER zz_invalidate_cache_truncate AFTER TRUNCATE '
                'ON zenml_rbac.%I FOR EACH STATEMENT EXECUTE FUNCTION zenml_rbac.catalog_changed()', t.name);
            -- logical replication's apply worker and session_replication_role =
            -- replica fire only triggers enabled for replicas
            EXECUTE pg_catalog.format('ALTER TABLE zenml_rbac.%I ENABLE ALWAYS TRIGGER zz_invalidate_cache', t.name);
            EXECUTE pg_catalog.format('ALTER TABLE zenml_rbac.%I ENABLE ALWAYS TRIGGER zz_invalidate_cache_truncate', t.name);
        END IF;
        IF t.audit IS NOT NULL THEN
            -- api_key's updates have their own trigger (src/sql/audit.sql)
            EXECUTE pg_catalog.format(
                'CREATE TRIGGER audit_capture AFTER INSERT OR DELETE%s ON zenml_rbac.%I '
                'FOR EACH ROW EXECUTE FUNCTION zenml_rbac.audit_capture(%L, %L, %L, %L, %L, %L)',
                CASE WHEN t.name = 'api_key' THEN '' ELSE ' OR UPDATE' END,
                t.name, t.name, t.audit[1], t.audit[2], t.audit[3], t.audit[4], t.audit[5]);
            EXECUTE pg_catalog.format(
                'CREATE TRIGGER audit_capture_truncate BEFORE TRUNCATE ON zenml_rbac.%I '
                'FOR EACH STATEMENT EXECUTE FUNCTION zenml_rbac.audit_capture(%L, %L, %L, %L, %L, %L)',
                t.name, t.name, t.audit[1], t.audit[2], t.audit[3], t.audit[4], t.audit[5]);
        END IF;
    END LOOP;
END
$$;
