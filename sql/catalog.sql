-- Catalog: tables, seeded vocabulary and roles, constraints, documentation.
\set VERBOSITY terse

-- the extension lives in its own schema and is not relocatable
SELECT extname, extrelocatable, n.nspname
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE extname = 'zenml_rbac';

-- every catalog table is dumped by pg_dump (with filters for seeded rows)
SELECT c.relname, coalesce(cond, '') AS dump_condition
  FROM pg_extension e,
       unnest(e.extconfig, e.extcondition) AS x(oid, cond)
  JOIN pg_class c ON c.oid = x.oid
 WHERE e.extname = 'zenml_rbac'
 ORDER BY 1;

-- seeded vocabulary: nine data types, three administration types
SELECT kind, string_agg(name, ', ' ORDER BY name)
  FROM zenml_rbac.resource_type GROUP BY kind ORDER BY kind;

-- predefined roles have fixed ids and no tenant
SELECT id, name, tenant_id, base_role_id FROM zenml_rbac.role ORDER BY name;

-- every table, view and function of the extension is documented
SELECT c.relname AS undocumented_relation
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'zenml_rbac' AND c.relkind IN ('r', 'v')
   AND obj_description(c.oid, 'pg_class') IS NULL;
SELECT p.oid::regprocedure AS undocumented_function
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'zenml_rbac' AND obj_description(p.oid, 'pg_proc') IS NULL;

-- every SECURITY DEFINER function pins its search_path
SELECT p.oid::regprocedure AS definer_without_search_path
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'zenml_rbac' AND p.prosecdef
   AND NOT coalesce(p.proconfig @> ARRAY['search_path=pg_catalog, pg_temp'], false);

-- nothing in the schema is writable by PUBLIC, and PUBLIC cannot create in it
SELECT c.relname, a.privilege_type
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace,
       aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
 WHERE n.nspname = 'zenml_rbac' AND a.grantee = 0;
SELECT has_schema_privilege('public', 'zenml_rbac', 'CREATE') AS public_can_create;

-- internal helpers are not executable by PUBLIC; the API is
SELECT p.proname, has_function_privilege('public', p.oid, 'EXECUTE') AS public_execute
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'zenml_rbac'
   AND (p.proname LIKE '\_%' OR p.proname IN ('set_principal', 'catalog_changed'))
   AND has_function_privilege('public', p.oid, 'EXECUTE');
SELECT count(*) AS public_api_functions
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'zenml_rbac' AND has_function_privilege('public', p.oid, 'EXECUTE');

-- every catalog table invalidates caches on every kind of change, also when
-- logical replication applies it (ENABLE ALWAYS)
SELECT c.relname, t.tgenabled
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE t.tgname = 'zz_invalidate_cache' ORDER BY 1;

-- constraints
SELECT zenml_rbac.create_organization('cat_org') AS org \gset
SELECT zenml_rbac.create_tenant(:'org', 'cat_tenant') AS tenant \gset
INSERT INTO zenml_rbac.principal (kind, name) VALUES ('service_account', 'orgless');
INSERT INTO zenml_rbac.principal (kind, name, org_id) VALUES ('user', 'scoped', :'org');
INSERT INTO zenml_rbac.principal (kind, name, org_id, active) VALUES ('team', 'inactive', :'org', false);
INSERT INTO zenml_rbac.resource_type (name) VALUES ('Bad-Name');
INSERT INTO zenml_rbac.role (name) VALUES ('admin');
INSERT INTO zenml_rbac.role (tenant_id, name) VALUES (:'tenant', 'no_base');
INSERT INTO zenml_rbac.role (tenant_id, name, base_role_id)
VALUES (:'tenant', 'editor', '00000000-0000-4000-8000-000000000002');
INSERT INTO zenml_rbac.role_permission (role_id, resource_type, action, allowed)
VALUES ('00000000-0000-4000-8000-000000000003', 'model', 'fly', true);
-- shares carry read, update, delete and share only
INSERT INTO zenml_rbac.resource (tenant_id, resource_type, resource_id)
VALUES (:'tenant', 'model', '00000000-0000-0000-0000-00000000000a');
INSERT INTO zenml_rbac.principal (kind, name) VALUES ('user', 'cat_user') RETURNING id AS cat_user \gset
INSERT INTO zenml_rbac.resource_grant VALUES
    (:'tenant', 'model', '00000000-0000-0000-0000-00000000000a', :'cat_user', ARRAY['create']);
INSERT INTO zenml_rbac.resource_grant VALUES
    (:'tenant', 'model', '00000000-0000-0000-0000-00000000000a', :'cat_user', ARRAY[]::text[]);
-- a grant needs a registered resource
INSERT INTO zenml_rbac.resource_grant VALUES
    (:'tenant', 'model', '00000000-0000-0000-0000-00000000000b', :'cat_user', ARRAY['read']);
-- role cycles are refused even through direct DML
SELECT zenml_rbac.create_role(:'tenant', 'r1', '', 'viewer') AS r1 \gset
SELECT zenml_rbac.create_role(:'tenant', 'r2', '', 'r1') AS r2 \gset
UPDATE zenml_rbac.role SET base_role_id = :'r2' WHERE id = :'r1';
UPDATE zenml_rbac.role SET base_role_id = :'r1' WHERE id = :'r1';
-- checked at the end of the statement: a role may come before its base in
-- one statement (pg_dump copies the table in physical order)
INSERT INTO zenml_rbac.role (id, tenant_id, name, base_role_id)
VALUES ('00000000-0000-4000-8000-0000000000c2', :'tenant', 'child', '00000000-0000-4000-8000-0000000000c1'),
       ('00000000-0000-4000-8000-0000000000c1', :'tenant', 'parent', '00000000-0000-4000-8000-000000000003');
SELECT r.name, b.name AS base FROM zenml_rbac.role r JOIN zenml_rbac.role b ON b.id = r.base_role_id
 WHERE r.name IN ('child', 'parent') ORDER BY 1;
-- but not a base of another tenant, even one inserted in the same statement
SELECT zenml_rbac.create_tenant(:'org', 'other') AS other \gset
INSERT INTO zenml_rbac.role (id, tenant_id, name, base_role_id)
VALUES ('00000000-0000-4000-8000-0000000000c3', :'tenant', 'stray', '00000000-0000-4000-8000-0000000000c4'),
       ('00000000-0000-4000-8000-0000000000c4', :'other', 'elsewhere', '00000000-0000-4000-8000-000000000003');

-- deleting an organization removes everything in it
SELECT zenml_rbac.delete_organization(:'org');
SELECT count(*) FROM zenml_rbac.tenant WHERE org_id = :'org';
SELECT count(*) FROM zenml_rbac.role WHERE tenant_id = :'tenant';
DELETE FROM zenml_rbac.principal WHERE name = 'cat_user';

-- Invalidation and audit know every table of the schema (the list in
-- src/invalidation.c): a table added to the catalog without an entry there
-- is listed here, and so is an entry without its table.
SELECT c.relname AS table_invalidation_does_not_know
  FROM pg_class c
 WHERE c.relnamespace = 'zenml_rbac'::regnamespace AND c.relkind IN ('r', 'p')
EXCEPT SELECT name FROM zenml_rbac._catalog_tables();
SELECT name AS entry_without_a_table FROM zenml_rbac._catalog_tables()
EXCEPT SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'zenml_rbac'::regnamespace;
-- every cached table has its two invalidation triggers, fired in every
-- session_replication_role (logical replication applies rows as replica)
SELECT t.name AS cached_table_missing_a_trigger
  FROM zenml_rbac._catalog_tables() t
 WHERE t.cached
   AND (SELECT count(*) FROM pg_trigger g
         WHERE g.tgrelid = pg_catalog.format('zenml_rbac.%I', t.name)::regclass
           AND g.tgname IN ('zz_invalidate_cache', 'zz_invalidate_cache_truncate')
           AND g.tgenabled = 'A') <> 2;
-- and no other table has one
SELECT g.tgrelid::regclass AS uncached_table_with_a_trigger
  FROM pg_trigger g JOIN zenml_rbac._catalog_tables() t ON g.tgrelid = pg_catalog.format('zenml_rbac.%I', t.name)::regclass
 WHERE NOT t.cached AND g.tgfoid = 'zenml_rbac.catalog_changed()'::regprocedure;
-- audited tables capture every change, with the list's arguments
SELECT t.name AS audited_table_without_capture
  FROM zenml_rbac._catalog_tables() t
 WHERE t.audit IS NOT NULL
   AND (SELECT count(*) FROM pg_trigger g
         WHERE g.tgrelid = pg_catalog.format('zenml_rbac.%I', t.name)::regclass
           AND g.tgfoid = 'zenml_rbac.audit_capture()'::regprocedure
           AND g.tgname IN ('audit_capture', 'audit_capture_truncate')
           AND g.tgnargs = 6) <> 2;
SELECT g.tgrelid::regclass AS unaudited_table_with_capture
  FROM pg_trigger g JOIN zenml_rbac._catalog_tables() t ON g.tgrelid = pg_catalog.format('zenml_rbac.%I', t.name)::regclass
 WHERE t.audit IS NULL AND g.tgfoid = 'zenml_rbac.audit_capture()'::regprocedure;
SELECT * FROM zenml_rbac._catalog_tables() ORDER BY cached DESC, name;
-- the one relation invalidation messages name (keys need none)
SELECT typname AS invalidation_types FROM pg_type
 WHERE typnamespace = 'zenml_rbac'::regnamespace AND typname ~ '^invalidation' ORDER BY 1;
-- the trigger refuses a table it does not know
CREATE TABLE public.not_catalog (x int);
CREATE TRIGGER t AFTER INSERT ON public.not_catalog FOR EACH ROW EXECUTE FUNCTION zenml_rbac.catalog_changed();
INSERT INTO public.not_catalog VALUES (1);
DROP TABLE public.not_catalog;
-- each C function is named after the SQL function it implements, without
-- the internal underscore (an overload adds a suffix): src/ is searchable
SELECT p.proname AS sql_name, p.prosrc AS c_name
  FROM pg_proc p
  JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
 WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'zenml_rbac')
   AND p.prolang = (SELECT oid FROM pg_language WHERE lanname = 'c')
   AND p.prosrc <> ltrim(p.proname, '_')
   AND p.prosrc NOT LIKE ltrim(p.proname, '_') || '\_%'
 ORDER BY 1;
-- the predefined roles' actions are catalog rows, read with the vocabulary:
-- a change to them (an upgrade step's) reaches the next decision, and its
-- rollback too (all in one transaction: users are global)
BEGIN;
SELECT zenml_rbac.create_organization('pre_org') AS pre_org \gset
SELECT zenml_rbac.create_tenant(:'pre_org', 'pre_t') AS pre_t \gset
SELECT zenml_rbac.create_user('pre_editor') AS pre_editor \gset
SELECT zenml_rbac.set_org_role(:'pre_org', :'pre_editor', 'org_viewer');
SELECT zenml_rbac.grant_tenant_role(:'pre_t', :'pre_editor', 'editor');
SELECT zenml_rbac.rbac_can(:'pre_editor'::uuid, :'pre_t'::uuid, 'model', 'create') AS editor_creates,
       zenml_rbac.rbac_can(:'pre_editor'::uuid, :'pre_t'::uuid, 'model', 'update') AS editor_updates;
SAVEPOINT s;
UPDATE zenml_rbac.predefined_role_permission SET actions = actions || '{update}'
 WHERE role_id = '00000000-0000-4000-8000-000000000002' AND kind = 'data';
SELECT zenml_rbac.rbac_can(:'pre_editor'::uuid, :'pre_t'::uuid, 'model', 'update') AS editor_updates_with_the_row,
       zenml_rbac.rbac_can(:'pre_editor'::uuid, :'pre_t'::uuid, 'member', 'update') AS not_on_administration_types;
ROLLBACK TO SAVEPOINT s;
SELECT zenml_rbac.rbac_can(:'pre_editor'::uuid, :'pre_t'::uuid, 'model', 'update') AS editor_updates_after_rollback;
ROLLBACK;
