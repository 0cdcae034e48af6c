-- Protecting application tables with row-level security (src/protect.c).

CREATE TABLE zenml_rbac.protected_table (
    relid         regclass    PRIMARY KEY,
    resource_type text        NOT NULL REFERENCES zenml_rbac.resource_type,
    tenant_column name        NOT NULL,
    id_column     name        NOT NULL,
    owner_column  name,
    protected_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE zenml_rbac.protected_table IS
    'Tables protected by protect(): the resource type their rows are and the columns holding tenant, id and owner.';
SELECT pg_catalog.pg_extension_config_dump('zenml_rbac.protected_table', '');

CREATE FUNCTION zenml_rbac._require_system(what text) RETURNS void
    LANGUAGE c VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'require_system';
COMMENT ON FUNCTION zenml_rbac._require_system(text) IS
    'Internal: 42501 unless the caller is a superuser or the extension owner (outside maintenance code).';

-- The planner support function of the array functions below: planning a
-- policy's InitPlan calls it, which loads the library (and its planner path,
-- src/policy_scan.c) before the table itself is planned.
CREATE FUNCTION zenml_rbac._policy_planner_support(internal) RETURNS internal
    LANGUAGE c STRICT
    AS 'MODULE_PATHNAME', 'policy_planner_support';
COMMENT ON FUNCTION zenml_rbac._policy_planner_support(internal) IS
    'Internal: planner support of the policy functions; loads zenml_rbac''s planner path in time for a backend''s first query. Answers no request.';

-- What the generated policies call.  Their names and arguments are part of
-- every dump of a protected table: they stay as they are across versions.
CREATE FUNCTION zenml_rbac.rls_tenants(resource_type text, action text) RETURNS uuid[]
    LANGUAGE c STABLE STRICT PARALLEL RESTRICTED SUPPORT zenml_rbac._policy_planner_support
    AS 'MODULE_PATHNAME', 'rls_tenants';
COMMENT ON FUNCTION zenml_rbac.rls_tenants(text, text) IS
    'Tenants where the current principal''s roles give the action on the type (padded with repeats); NULL for none. Called once per query by the policies of protected tables.';

CREATE FUNCTION zenml_rbac.rls_instances(resource_type text, action text) RETURNS uuid[]
    LANGUAGE c STABLE STRICT PARALLEL RESTRICTED SUPPORT zenml_rbac._policy_planner_support
    AS 'MODULE_PATHNAME', 'rls_instances';
COMMENT ON FUNCTION zenml_rbac.rls_instances(text, text) IS
    'Instances of the type the current principal reaches with the action by ownership or shares outside rls_tenants(), as id, tenant, id, tenant, ... sorted (padded with repeats); NULL for none.';

CREATE FUNCTION zenml_rbac.rls_owner_tenants(resource_type text, action text) RETURNS uuid[]
    LANGUAGE c STABLE STRICT PARALLEL RESTRICTED SUPPORT zenml_rbac._policy_planner_support
    AS 'MODULE_PATHNAME', 'rls_owner_tenants';
COMMENT ON FUNCTION zenml_rbac.rls_owner_tenants(text, text) IS
    'Tenants the current principal is a member of without the action on the type (padded with repeats); NULL for none. With an owner column, the SELECT policy passes the principal''s own rows there.';

CREATE FUNCTION zenml_rbac.rls_instance_match(tenant uuid, id uuid, pairs uuid[]) RETURNS boolean
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'rls_instance_match';
COMMENT ON FUNCTION zenml_rbac.rls_instance_match(uuid, uuid, uuid[]) IS
    'Whether (id, tenant) is one of the pairs of an rls_instances() result.';

CREATE FUNCTION zenml_rbac.rls_registered(tenant uuid, id uuid, resource_type text) RETURNS boolean
    LANGUAGE c STABLE STRICT PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'rls_registered';
COMMENT ON FUNCTION zenml_rbac.rls_registered(uuid, uuid, text) IS
    'Whether the instance is registered in the tenant, answered only where the current principal is a member or holds a share of it: lets the UPDATE policy tell a row that stays in its tenant from one moved elsewhere.';

CREATE FUNCTION zenml_rbac.protect_check() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'protect_check';
COMMENT ON FUNCTION zenml_rbac.protect_check() IS
    'Trigger of protected tables: fills the owner column and refuses a write with an error naming the table and the missing permission.';

CREATE FUNCTION zenml_rbac.protect_sync() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'protect_sync';
COMMENT ON FUNCTION zenml_rbac.protect_sync() IS
    'Trigger of protected tables: registers inserted rows as resources, unregisters deleted ones, follows tenant/id/owner changes; refuses TRUNCATE under row-level security.';

-- The policy text for one action: a tenant where roles give it, or one of
-- the owned or shared instances elsewhere.  The planner runs this OR as one
-- scan per arm (src/policy_scan.c): the tenant arm on the tenant index (an
-- index-only scan where it can), the instances on the id index, checked
-- exactly by the pair lookup before the id list.  No instances: the array is
-- NULL and the second arm costs one test of it per row that is not in a
-- tenant.
CREATE FUNCTION zenml_rbac._policy_expression(resource_type text, action text,
                                              tenant_column name, id_column name)
RETURNS text LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT format('(%1$I = ANY ((SELECT zenml_rbac.rls_tenants(%3$L, %4$L))::uuid[])'
                  ' OR (zenml_rbac.rls_instance_match(%1$I, %2$I, (SELECT zenml_rbac.rls_instances(%3$L, %4$L)))'
                  ' AND %2$I = ANY ((SELECT zenml_rbac.rls_instances(%3$L, %4$L))::uuid[])))',
                  tenant_column, id_column, resource_type, action)
$$;
COMMENT ON FUNCTION zenml_rbac._policy_expression(text, text, name, name) IS
    'Internal: the condition a row passes for an action: a tenant where roles give it, or an owned or shared instance.';

-- The four policies protect() creates: name, command, USING and WITH CHECK
-- (NULL: none).  The upgrade scripts re-apply them to protected tables.
CREATE FUNCTION zenml_rbac._policy_definitions(resource_type text, tenant_column name,
                                               id_column name, owner_column name,
                                               OUT policy name, OUT command text,
                                               OUT using_clause text, OUT check_clause text)
RETURNS SETOF record LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    -- With an owner column, a third arm passes the principal's own rows in
    -- tenants where its roles do not give read: a row it just inserted is
    -- registered only at the end of the statement, and RETURNING needs it.
    SELECT 'zenml_rbac_select'::name, 'SELECT',
           zenml_rbac._policy_expression(resource_type, 'read', tenant_column, id_column)
           || CASE WHEN owner_column IS NULL THEN ''
                   ELSE format(' OR (%I = (SELECT zenml_rbac.current_principal())'
                               ' AND %I = ANY ((SELECT zenml_rbac.rls_owner_tenants(%L, ''read''))::uuid[]))',
                               owner_column, tenant_column, resource_type) END,
           NULL
    UNION ALL
    SELECT 'zenml_rbac_insert', 'INSERT', NULL,
           format('%I = ANY ((SELECT zenml_rbac.rls_tenants(%L, ''create''))::uuid[])', tenant_column, resource_type)
           || CASE WHEN owner_column IS NULL THEN ''
                   ELSE format(' AND %I = (SELECT zenml_rbac.current_principal())', owner_column) END
    UNION ALL
    -- The new row passes for update (or as the owner the column names), and
    -- stays where it is registered or lands where the principal may create.
    SELECT 'zenml_rbac_update', 'UPDATE',
           zenml_rbac._policy_expression(resource_type, 'update', tenant_column, id_column),
           format('(%s%s) AND (%I = ANY ((SELECT zenml_rbac.rls_tenants(%L, ''create''))::uuid[])'
                  ' OR zenml_rbac.rls_registered(%I, %I, %L))',
                  zenml_rbac._policy_expression(resource_type, 'update', tenant_column, id_column),
                  CASE WHEN owner_column IS NULL THEN ''
                       ELSE format(' OR %I = (SELECT zenml_rbac.current_principal())', owner_column) END,
                  tenant_column, resource_type, tenant_column, id_column, resource_type)
    UNION ALL
    SELECT 'zenml_rbac_delete', 'DELETE',
           zenml_rbac._policy_expression(resource_type, 'delete', tenant_column, id_column), NULL
$$;
COMMENT ON FUNCTION zenml_rbac._policy_definitions(text, name, name, name) IS
    'Internal: the policies protect() creates on a table (name, command, USING, WITH CHECK).';

-- Drops what protect() creates on a table (policies and triggers).
CREATE FUNCTION zenml_rbac._drop_protection(tbl regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_name name;
BEGIN
    FOREACH v_name IN ARRAY ARRAY['zenml_rbac_select', 'zenml_rbac_insert',
                                  'zenml_rbac_update', 'zenml_rbac_delete']::name[]
    LOOP
        IF EXISTS (SELECT FROM pg_policy WHERE polrelid = tbl AND polname = v_name) THEN
            EXECUTE format('DROP POLICY %I ON %s', v_name, tbl);
        END IF;
    END LOOP;
    FOREACH v_name IN ARRAY ARRAY['zz_zenml_rbac_check', 'zz_zenml_rbac_register',
                                  'zz_zenml_rbac_reregister', 'zz_zenml_rbac_unregister',
                                  'zz_zenml_rbac_truncate']::name[]
    LOOP
        IF EXISTS (SELECT FROM pg_trigger WHERE tgrelid = tbl AND tgname = v_name) THEN
            EXECUTE format('DROP TRIGGER %I ON %s', v_name, tbl);
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION zenml_rbac._drop_protection(regclass) IS
    'Internal: drops the policies and triggers protect() created on a table.';

CREATE FUNCTION zenml_rbac._require_uuid_column(tbl regclass, role text, col name) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_type regtype;
BEGIN
    SELECT a.atttypid::regtype INTO v_type
      FROM pg_attribute a
     WHERE a.attrelid = tbl AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'column "%" of table % does not exist', col, tbl
            USING ERRCODE = '42703', HINT = format('Name the table''s %s column.', role);
    END IF;
    IF v_type <> 'uuid'::regtype THEN
        RAISE EXCEPTION '% column "%" of table % is of type %, not uuid', role, col, tbl, v_type
            USING ERRCODE = '42804';
    END IF;
END
$$;
COMMENT ON FUNCTION zenml_rbac._require_uuid_column(regclass, text, name) IS
    'Internal: 42703 unless the table has the column, 42804 unless it is a uuid.';

CREATE FUNCTION zenml_rbac.protect(tbl regclass, resource_type text, tenant_column name,
                                   id_column name DEFAULT 'id', owner_column name DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_kind     "char";
    v_owner    regrole;
    v_kind_of_type text;
    v_changed  text;
    v_skipped  bigint;
    v_others   text;
    v_policy   record;
BEGIN
    PERFORM zenml_rbac._require_system('protect tables');
    PERFORM zenml_rbac._not_null('table', tbl);
    PERFORM zenml_rbac._not_null('resource type', resource_type);
    PERFORM zenml_rbac._not_null('tenant column', tenant_column);
    PERFORM zenml_rbac._not_null('id column', id_column);

    SELECT c.relkind, c.relowner::regrole INTO v_kind, v_owner FROM pg_class c WHERE c.oid = tbl;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'relation with OID % does not exist', tbl::oid USING ERRCODE = '42P01';
    END IF;
    IF v_kind = 'p' THEN
        RAISE EXCEPTION 'cannot protect partitioned table %', tbl
            USING ERRCODE = '0A000',
                  DETAIL = 'Its partitions could be read and written directly, past the parent''s policies.';
    ELSIF v_kind <> 'r' THEN
        RAISE EXCEPTION '% is not a table', tbl USING ERRCODE = '42809';
    END IF;
    IF (SELECT c.relpersistence FROM pg_class c WHERE c.oid = tbl) = 't' THEN
        RAISE EXCEPTION 'cannot protect temporary table %', tbl
            USING ERRCODE = '0A000',
                  DETAIL = 'A temporary table goes away without a drop event, leaving its protection behind.';
    END IF;
    IF EXISTS (SELECT FROM pg_inherits WHERE inhrelid = tbl OR inhparent = tbl) THEN
        RAISE EXCEPTION 'cannot protect table %, which takes part in inheritance', tbl
            USING ERRCODE = '0A000',
                  DETAIL = 'Rows of a parent or child table could be reached past these policies.';
    END IF;
    SELECT t.kind INTO v_kind_of_type FROM zenml_rbac.resource_type t WHERE t.name = protect.resource_type;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown resource type "%"', left(protect.resource_type, 64)
            USING ERRCODE = '22023', HINT = 'Register it with zenml_rbac.register_resource_type() first.';
    END IF;
    IF v_kind_of_type <> 'data' THEN
        RAISE EXCEPTION 'resource type "%" is an administration type', protect.resource_type
            USING ERRCODE = '22023', DETAIL = 'Rows of application tables are data resources.';
    END IF;
    PERFORM zenml_rbac._require_uuid_column(tbl, 'tenant', tenant_column);
    PERFORM zenml_rbac._require_uuid_column(tbl, 'id', id_column);
    IF owner_column IS NOT NULL THEN
        PERFORM zenml_rbac._require_uuid_column(tbl, 'owner', owner_column);
    END IF;
    IF tenant_column = id_column OR tenant_column = owner_column OR id_column = owner_column THEN
        RAISE EXCEPTION 'the tenant, id and owner columns must be distinct' USING ERRCODE = '22023';
    END IF;

    -- Protecting again replaces what an earlier protect() made.
    PERFORM zenml_rbac._drop_protection(tbl);

    FOR v_policy IN SELECT * FROM zenml_rbac._policy_definitions(resource_type, tenant_column,
                                                                   id_column, owner_column)
    LOOP
        EXECUTE format('CREATE POLICY %I ON %s FOR %s%s%s', v_policy.policy, tbl, v_policy.command,
                       ' USING (' || v_policy.using_clause || ')',
                       ' WITH CHECK (' || v_policy.check_clause || ')');
    END LOOP;

    EXECUTE format('CREATE TRIGGER zz_zenml_rbac_check BEFORE INSERT OR UPDATE ON %s'
                   ' FOR EACH ROW EXECUTE FUNCTION zenml_rbac.protect_check()', tbl);
    EXECUTE format('CREATE TRIGGER zz_zenml_rbac_register AFTER INSERT ON %s'
                   ' REFERENCING NEW TABLE AS zenml_rbac_new'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION zenml_rbac.protect_sync()', tbl);
    v_changed := format('OLD.%1$I IS DISTINCT FROM NEW.%1$I OR OLD.%2$I IS DISTINCT FROM NEW.%2$I',
                        tenant_column, id_column);
    IF owner_column IS NOT NULL THEN
        v_changed := v_changed || format(' OR OLD.%1$I IS DISTINCT FROM NEW.%1$I', owner_column);
    END IF;
    EXECUTE format('CREATE TRIGGER zz_zenml_rbac_reregister AFTER UPDATE ON %s'
                   ' FOR EACH ROW WHEN (%s) EXECUTE FUNCTION zenml_rbac.protect_sync()', tbl, v_changed);
    EXECUTE format('CREATE TRIGGER zz_zenml_rbac_unregister AFTER DELETE ON %s'
                   ' REFERENCING OLD TABLE AS zenml_rbac_old'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION zenml_rbac.protect_sync()', tbl);
    EXECUTE format('CREATE TRIGGER zz_zenml_rbac_truncate BEFORE TRUNCATE ON %s'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION zenml_rbac.protect_sync()', tbl);
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);

    INSERT INTO zenml_rbac.protected_table AS p (relid, resource_type, tenant_column, id_column, owner_column)
    VALUES (tbl, protect.resource_type, tenant_column, id_column, owner_column)
    ON CONFLICT (relid) DO UPDATE
       SET resource_type = EXCLUDED.resource_type, tenant_column = EXCLUDED.tenant_column,
           id_column = EXCLUDED.id_column, owner_column = EXCLUDED.owner_column,
           protected_at = pg_catalog.now();

    -- Rows already there become resources (owner: the owner column, when it names a principal).
    EXECUTE format('INSERT INTO zenml_rbac.resource (tenant_id, resource_type, resource_id, owner_id)'
                   ' SELECT DISTINCT ON (r.%1$I, r.%2$I) r.%1$I, %3$L, r.%2$I, %4$s'
                   ' FROM %5$s r JOIN zenml_rbac.tenant t ON t.id = r.%1$I'
                   ' WHERE r.%2$I IS NOT NULL ON CONFLICT DO NOTHING',
                   tenant_column, id_column, resource_type,
                   CASE WHEN owner_column IS NULL THEN 'NULL::uuid'
                        ELSE format('(SELECT p.id FROM zenml_rbac.principal p WHERE p.id = r.%I)', owner_column) END,
                   tbl);
    EXECUTE format('SELECT count(*) FROM %s r WHERE r.%I IS NULL OR r.%I IS NULL'
                   ' OR NOT EXISTS (SELECT FROM zenml_rbac.tenant t WHERE t.id = r.%I)',
                   tbl, tenant_column, id_column, tenant_column) INTO v_skipped;
    IF v_skipped > 0 THEN
        RAISE WARNING '% rows of % name no existing tenant or have no id: nobody but the table owner sees them', v_skipped, tbl;
    END IF;

    SELECT string_agg(quote_ident(polname), ', ' ORDER BY polname) INTO v_others
      FROM pg_policy WHERE polrelid = tbl AND polpermissive AND polname NOT LIKE 'zenml\_rbac\_%';
    IF v_others IS NOT NULL THEN
        RAISE WARNING 'table % has other permissive policies (%), which widen what the protection allows', tbl, v_others
            USING HINT = 'Make them AS RESTRICTIVE, or drop them.';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_index i
                    WHERE i.indrelid = tbl AND i.indisunique AND i.indpred IS NULL
                      AND (SELECT attnum FROM pg_attribute WHERE attrelid = tbl AND attname = id_column)
                          = ANY (i.indkey::int2[])
                      AND i.indkey::int2[] <@ ARRAY(SELECT attnum FROM pg_attribute
                                                     WHERE attrelid = tbl
                                                       AND attname IN (tenant_column, id_column))::int2[]) THEN
        RAISE WARNING 'table % has no unique index on (%) or (%, %)', tbl, id_column, tenant_column, id_column
            USING DETAIL = 'Rows sharing an id share one registered resource: deleting one unregisters it for all.';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_index i WHERE i.indrelid = tbl
                      AND i.indkey[0] = (SELECT attnum FROM pg_attribute WHERE attrelid = tbl AND attname = tenant_column)) THEN
        RAISE NOTICE 'table % has no index leading with column %', tbl, tenant_column
            USING DETAIL = 'Principals that are members of few tenants would read the whole table.';
    END IF;
    IF NOT (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE oid = v_owner) THEN
        RAISE NOTICE 'the owner of %, role %, bypasses these policies', tbl, v_owner
            USING HINT = format('To subject it too: ALTER TABLE %s FORCE ROW LEVEL SECURITY;', tbl);
    END IF;
END
$$;
COMMENT ON FUNCTION zenml_rbac.protect(regclass, text, name, name, name) IS
    'Turns on row-level security for a table whose rows are resources of a type: policies per command, triggers that check writes and register rows. System only; run it again to change it.';

CREATE FUNCTION zenml_rbac.unprotect(tbl regclass) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM zenml_rbac._require_system('unprotect tables');
    PERFORM zenml_rbac._not_null('table', tbl);
    IF NOT EXISTS (SELECT FROM zenml_rbac.protected_table WHERE relid = tbl) THEN
        -- its row-level security, if any, is someone else's: leave it on
        RAISE NOTICE 'table % is not protected, skipping', tbl;
        RETURN;
    END IF;
    PERFORM zenml_rbac._drop_protection(tbl);
    DELETE FROM zenml_rbac.protected_table WHERE relid = tbl;
    -- Other policies the DBA wrote keep row-level security on.
    IF NOT EXISTS (SELECT FROM pg_policy WHERE polrelid = tbl) THEN
        EXECUTE format('ALTER TABLE %s DISABLE ROW LEVEL SECURITY', tbl);
    END IF;
END
$$;
COMMENT ON FUNCTION zenml_rbac.unprotect(regclass) IS
    'Removes what protect() made (policies, triggers) and turns row-level security off unless other policies remain. Registered resources stay. System only.';

-- A dropped table takes its protection with it.
CREATE FUNCTION zenml_rbac._forget_dropped_tables() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    DELETE FROM zenml_rbac.protected_table p
     WHERE NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = p.relid);
END
$$;
COMMENT ON FUNCTION zenml_rbac._forget_dropped_tables() IS
    'Internal: event trigger removing the protection rows of dropped tables.';
CREATE EVENT TRIGGER zenml_rbac_forget_dropped_tables ON sql_drop
    WHEN TAG IN ('DROP TABLE', 'DROP SCHEMA', 'DROP OWNED')
    EXECUTE FUNCTION zenml_rbac._forget_dropped_tables();
COMMENT ON EVENT TRIGGER zenml_rbac_forget_dropped_tables IS
    'Removes the protected_table rows of dropped tables.';

CREATE VIEW zenml_rbac.protected_tables AS
SELECT p.relid AS table_name,
       p.resource_type,
       p.tenant_column,
       p.id_column,
       p.owner_column,
       c.relrowsecurity AS rls_enabled,
       c.relforcerowsecurity AS rls_forced,
       pg_catalog.pg_get_userbyid(c.relowner) AS table_owner,
       ARRAY(SELECT pol.polname FROM pg_catalog.pg_policy pol
              WHERE pol.polrelid = p.relid ORDER BY pol.polname) AS policies,
       ARRAY(SELECT tg.tgname FROM pg_catalog.pg_trigger tg
              WHERE tg.tgrelid = p.relid AND NOT tg.tgisinternal ORDER BY tg.tgname) AS triggers,
       ARRAY(SELECT problem FROM (VALUES
                (NOT c.relrowsecurity, 'row level security is disabled'),
                ((SELECT count(*) FROM pg_catalog.pg_policy pol WHERE pol.polrelid = p.relid
                   AND pol.polname IN ('zenml_rbac_select', 'zenml_rbac_insert',
                                       'zenml_rbac_update', 'zenml_rbac_delete')) < 4,
                 'a zenml_rbac policy is missing'),
                (EXISTS (SELECT FROM pg_catalog.pg_policy pol WHERE pol.polrelid = p.relid
                          AND pol.polpermissive AND pol.polname NOT LIKE 'zenml\_rbac\_%'),
                 'other permissive policies widen access'),
                ((SELECT count(*) FROM pg_catalog.pg_trigger tg WHERE tg.tgrelid = p.relid
                   AND tg.tgname LIKE 'zz\_zenml\_rbac\_%' AND tg.tgenabled <> 'D') < 5,
                 'a zenml_rbac trigger is missing or disabled'),
                (EXISTS (SELECT FROM unnest(ARRAY[p.tenant_column, p.id_column, p.owner_column]) col(name)
                          WHERE col.name IS NOT NULL AND NOT EXISTS (
                                SELECT FROM pg_catalog.pg_attribute a WHERE a.attrelid = p.relid
                                   AND a.attname = col.name AND NOT a.attisdropped)),
                 'a protected column no longer exists'),
                (EXISTS (SELECT FROM pg_catalog.pg_inherits i WHERE i.inhparent = p.relid OR i.inhrelid = p.relid),
                 'the table takes part in inheritance: other tables reach its rows or it theirs')) v(failed, problem)
              WHERE failed) AS problems,
       p.protected_at
  FROM zenml_rbac.protected_table p
  JOIN pg_catalog.pg_class c ON c.oid = p.relid;
COMMENT ON VIEW zenml_rbac.protected_tables IS
    'Protected tables, what protects them (type, columns, policies, triggers, RLS flags), and any problem found: an empty problems array means the protection is complete.';

-- Who may call these: protected tables' policies run the rls_* functions as
-- whoever queries the table, and protect() and unprotect() authorize their
-- caller (the system) themselves; the rest are internal.
REVOKE ALL ON
    zenml_rbac.protected_table,
    zenml_rbac.protected_tables
    FROM PUBLIC;
GRANT SELECT ON zenml_rbac.protected_tables TO PUBLIC;
REVOKE ALL ON FUNCTION
    zenml_rbac._drop_protection(regclass),
    zenml_rbac._forget_dropped_tables(),
    zenml_rbac._policy_definitions(text, name, name, name),
    zenml_rbac._policy_expression(text, text, name, name),
    zenml_rbac._policy_planner_support(internal),
    zenml_rbac._require_system(text),
    zenml_rbac._require_uuid_column(regclass, text, name),
    zenml_rbac.protect(regclass, text, name, name, name),
    zenml_rbac.protect_check(),
    zenml_rbac.protect_sync(),
    zenml_rbac.rls_instance_match(uuid, uuid, uuid[]),
    zenml_rbac.rls_instances(text, text),
    zenml_rbac.rls_owner_tenants(text, text),
    zenml_rbac.rls_registered(uuid, uuid, text),
    zenml_rbac.rls_tenants(text, text),
    zenml_rbac.unprotect(regclass)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    zenml_rbac.protect(regclass, text, name, name, name),
    zenml_rbac.rls_instance_match(uuid, uuid, uuid[]),
    zenml_rbac.rls_instances(text, text),
    zenml_rbac.rls_owner_tenants(text, text),
    zenml_rbac.rls_registered(uuid, uuid, text),
    zenml_rbac.rls_tenants(text, text),
    zenml_rbac.unprotect(regclass)
    TO PUBLIC;
