-- Upgrade path: install the oldest release with data, ALTER EXTENSION UPDATE
-- to the current version, and compare with a fresh install of the current
-- version: the same objects with the same definitions, and the same data,
-- decisions, visible rows and a verifying audit chain as before the update.
\set VERBOSITY terse
SET client_min_messages = warning;
SELECT current_database() AS regress_db \gset

CREATE DATABASE regress_upgrade_old;
CREATE DATABASE regress_upgrade_fresh;
CREATE ROLE regress_upgrade_app;

-- Everything the extension defines, one line per property, by name (never
-- by oid): members, function definitions, columns, constraints, indexes,
-- triggers with their enabled state, policies, views, comments, privileges,
-- replica identity and what pg_dump dumps of the configuration tables.
SELECT $fingerprint$
WITH ext AS (
    SELECT oid, extconfig, extcondition FROM pg_extension WHERE extname = 'zenml_rbac'
), members AS (
    SELECT d.classid, d.objid FROM pg_depend d, ext
     WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e'
), rels AS (
    SELECT c.* FROM pg_class c JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = c.oid
)
SELECT 'member ' || i.type || ' ' || i.identity
  FROM members m, pg_identify_object(m.classid, m.objid, 0) i
UNION ALL
SELECT 'function ' || p.oid::regprocedure || ' owner=' || pg_get_userbyid(p.proowner)
       || ' acl=' || coalesce(p.proacl::text, '-') || E'\n'
       || CASE WHEN p.prokind = 'a' THEN '' ELSE pg_get_functiondef(p.oid) END
  FROM pg_proc p JOIN members m ON m.classid = 'pg_proc'::regclass AND m.objid = p.oid
UNION ALL
SELECT 'relation ' || c.oid::regclass || ' kind=' || c.relkind::text || ' owner=' || pg_get_userbyid(c.relowner)
       || ' identity=' || c.relreplident::text || ' rls=' || c.relrowsecurity || '/' || c.relforcerowsecurity
       || ' acl=' || coalesce(c.relacl::text, '-')
       || ' comment=' || coalesce(obj_description(c.oid, 'pg_class'), '-')
  FROM rels c
UNION ALL
SELECT 'column ' || c.oid::regclass || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
       || ' notnull=' || a.attnotnull || ' default=' || coalesce(pg_get_expr(d.adbin, d.adrelid), '-')
       || ' acl=' || coalesce(a.attacl::text, '-')
       || ' comment=' || coalesce(col_description(c.oid, a.attnum), '-')
  FROM rels c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
UNION ALL
SELECT 'constraint ' || c.oid::regclass || ' ' || k.conname || ' ' || pg_get_constraintdef(k.oid)
  FROM rels c JOIN pg_constraint k ON k.conrelid = c.oid
UNION ALL
SELECT 'index ' || pg_get_indexdef(x.indexrelid)
  FROM rels c JOIN pg_index x ON x.indrelid = c.oid
UNION ALL
SELECT 'trigger ' || pg_get_triggerdef(t.oid) || ' enabled=' || t.tgenabled::text
  FROM rels c JOIN pg_trigger t ON t.tgrelid = c.oid AND NOT t.tgisinternal
UNION ALL
SELECT 'policy ' || c.oid::regclass || ' ' || p.polname || ' ' || p.polcmd::text || ' ' || p.polpermissive
       || ' ' || p.polroles::regrole[]::text || ' ' || coalesce(pg_get_expr(p.polqual, p.polrelid), '-')
       || ' ' || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '-')
  FROM rels c JOIN pg_policy p ON p.polrelid = c.oid
UNION ALL
SELECT 'view ' || c.oid::regclass || E'\n' || pg_get_viewdef(c.oid)
  FROM rels c WHERE c.relkind IN ('v', 'm')
UNION ALL
SELECT 'comment ' || i.type || ' ' || i.identity || ' ' || ds.description
  FROM members m JOIN pg_description ds ON ds.classoid = m.classid AND ds.objoid = m.objid AND ds.objsubid = 0,
       pg_identify_object(m.classid, m.objid, 0) i
 WHERE m.classid <> 'pg_class'::regclass
UNION ALL
SELECT 'event trigger ' || e.evtname || ' ' || e.evtevent || ' ' || e.evtfoid::regproc || ' enabled=' || e.evtenabled::text
       || ' tags=' || coalesce(e.evttags::text, '-')
  FROM pg_event_trigger e JOIN members m ON m.classid = 'pg_event_trigger'::regclass AND m.objid = e.oid
UNION ALL
SELECT 'dumped ' || u.cfg::regclass || ' ' || coalesce(nullif(u.cond, ''), 'all rows')
  FROM ext, unnest(ext.extconfig, ext.extcondition) u(cfg, cond)
UNION ALL
SELECT 'schema ' || n.nspname || ' owner=' || pg_get_userbyid(n.nspowner) || ' acl=' || coalesce(n.nspacl::text, '-')
  FROM pg_namespace n WHERE n.nspname = 'zenml_rbac'
$fingerprint$ AS fingerprint_sql \gset

-- Every allowed cell: principals x tenants x types x actions, registered
-- instances, organization capabilities.
SELECT $sweep$
WITH actions(action) AS (VALUES ('create'), ('read'), ('update'), ('delete'), ('share')),
capabilities(capability) AS (VALUES ('organization'), ('billing'), ('member'), ('tenant'), ('team'))
SELECT p.name || ' ' || t.name || ' ' || rt.name || ' ' || a.action
  FROM zenml_rbac.principal p, zenml_rbac.tenant t, zenml_rbac.resource_type rt, actions a
 WHERE zenml_rbac.rbac_can(p.id, t.id, rt.name, a.action)
UNION ALL
SELECT p.name || ' ' || r.resource_type || '/' || m.name || ' ' || a.action
  FROM zenml_rbac.principal p, zenml_rbac.resource r JOIN public.models m ON m.id = r.resource_id, actions a
 WHERE zenml_rbac.rbac_can(p.id, r.tenant_id, r.resource_type || '/' || r.resource_id, a.action)
UNION ALL
SELECT p.name || ' ' || o.name || ' ' || c.capability || ' ' || a.action
  FROM zenml_rbac.principal p, zenml_rbac.organization o, capabilities c, actions a
 WHERE zenml_rbac.rbac_org_can(p.id, o.id, c.capability, a.action)
$sweep$ AS sweep_sql \gset

-- What each principal that can act sees of the protected table, through
-- the application role (public.visible_names, defined with the data).
SELECT $visible$
SELECT p.name || ': ' || coalesce(public.visible_names(p.id), '')
  FROM zenml_rbac.principal p WHERE p.active AND p.kind <> 'team'
$visible$ AS visible_sql \gset

\c regress_upgrade_fresh
SET client_min_messages = warning;
CREATE EXTENSION zenml_rbac;
-- the DBA's grant, as in the upgraded database: it must survive the update
GRANT EXECUTE ON FUNCTION zenml_rbac.set_principal(uuid) TO regress_upgrade_app;
SELECT extversion AS current_version FROM pg_extension WHERE extname = 'zenml_rbac' \gset
SELECT string_agg(line, chr(30) ORDER BY line) AS fresh_fingerprint FROM (:fingerprint_sql) f(line) \gset

\c regress_upgrade_old
SET client_min_messages = warning;
-- the oldest release this version can be reached from
CREATE EXTENSION zenml_rbac VERSION '0.1.0';
SELECT extversion FROM pg_extension WHERE extname = 'zenml_rbac';

-- data: organizations, tenants, users, a team, a custom role, a protected
-- table with rows written by principals, a share, an API key
GRANT EXECUTE ON FUNCTION zenml_rbac.set_principal(uuid) TO regress_upgrade_app;
CREATE TABLE ids (name text PRIMARY KEY, id uuid);
GRANT SELECT ON ids TO regress_upgrade_app;
INSERT INTO ids VALUES ('acme', zenml_rbac.create_organization('acme'));
INSERT INTO ids SELECT t, zenml_rbac.create_tenant((SELECT id FROM ids WHERE name = 'acme'), t)
  FROM unnest(ARRAY['prod', 'dev']) t;
INSERT INTO ids SELECT u, zenml_rbac.create_user(u) FROM unnest(ARRAY['ann', 'ben', 'cal', 'dee']) u;
INSERT INTO ids SELECT 'bot', zenml_rbac.create_service_account((SELECT id FROM ids WHERE name = 'acme'), 'bot');
INSERT INTO ids SELECT 'ops', zenml_rbac.create_team((SELECT id FROM ids WHERE name = 'acme'), 'ops');
SELECT count(zenml_rbac.set_org_role((SELECT id FROM ids WHERE name = 'acme'), id, 'org_viewer'))
  FROM ids WHERE name IN ('ann', 'ben', 'cal', 'dee', 'bot');
SELECT zenml_rbac.add_team_member((SELECT id FROM ids WHERE name = 'ops'), (SELECT id FROM ids WHERE name = 'cal'));
SELECT zenml_rbac.create_role((SELECT id FROM ids WHERE name = 'prod'), 'auditor', 'reads all but secrets', 'viewer') IS NOT NULL AS created;
SELECT zenml_rbac.role_disallow((SELECT id FROM ids WHERE name = 'prod'), 'auditor', 'secret', 'read');
SELECT zenml_rbac.role_allow((SELECT id FROM ids WHERE name = 'prod'), 'auditor', 'model', 'update');
SELECT count(zenml_rbac.grant_tenant_role((SELECT id FROM ids WHERE name = t), (SELECT id FROM ids WHERE name = u), r))
  FROM (VALUES ('prod', 'ann', 'editor'), ('prod', 'ben', 'auditor'), ('dev', 'ops', 'editor'),
               ('dev', 'bot', 'viewer'), ('prod', 'dee', 'viewer')) v(t, u, r);
SELECT zenml_rbac.deactivate_user((SELECT id FROM ids WHERE name = 'dee'));
SELECT length(zenml_rbac.create_api_key((SELECT id FROM ids WHERE name = 'bot'))) > 0 AS key_created;
-- 0.1.0 let a name look like a uuid; the update points it out
SELECT zenml_rbac.create_user('0000000000004000800000000000abcd') IS NOT NULL AS uuid_named_user;

CREATE TABLE models (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), tenant_id uuid NOT NULL,
                     owner_id uuid, name text NOT NULL);
GRANT SELECT, INSERT ON models TO regress_upgrade_app;
SELECT zenml_rbac.protect('models', 'model', 'tenant_id', 'id', 'owner_id');
SET ROLE regress_upgrade_app;
BEGIN;
SELECT zenml_rbac.set_principal((SELECT id FROM ids WHERE name = 'ann'));
INSERT INTO models (tenant_id, name) SELECT (SELECT id FROM ids WHERE name = 'prod'), 'm' || g FROM generate_series(1, 3) g;
SELECT zenml_rbac.share_resource(tenant_id, 'model/' || id, (SELECT id FROM ids WHERE name = 'cal'), ARRAY['read'])
  FROM models WHERE name = 'm2';
COMMIT;
BEGIN;
SELECT zenml_rbac.set_principal((SELECT id FROM ids WHERE name = 'cal'));
INSERT INTO models (tenant_id, name) SELECT (SELECT id FROM ids WHERE name = 'dev'), 'd1';
COMMIT;
RESET ROLE;

-- rows visible to a principal, as the application role sees them
GRANT CREATE ON SCHEMA public TO regress_upgrade_app;
CREATE FUNCTION visible_names(principal uuid) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM zenml_rbac.set_principal(principal);
    RETURN (SELECT string_agg(name, ',' ORDER BY name) FROM public.models);
END
$$;
ALTER FUNCTION visible_names(uuid) OWNER TO regress_upgrade_app;

BEGIN;
CREATE TABLE before_sweep AS SELECT * FROM (:sweep_sql) s(cell);
CREATE TABLE before_visible AS SELECT * FROM (:visible_sql) v(line);
CREATE TABLE before_counts AS
SELECT (SELECT count(*) FROM zenml_rbac.audit_log) AS events,
       (SELECT count(*) FROM zenml_rbac.principal) AS principals,
       (SELECT count(*) FROM zenml_rbac.resource) AS resources;
COMMIT;
SELECT count(*) > 100 AS sweep_has_cells FROM before_sweep;
SELECT * FROM before_visible ORDER BY 1;

ALTER EXTENSION zenml_rbac UPDATE;
SELECT extversion = :'current_version' AS updated_to_current FROM pg_extension WHERE extname = 'zenml_rbac';

-- the same objects and definitions as a fresh install: both lists empty
-- (entries span lines; the first one names the object)
SELECT split_part(line, E'\n', 1) AS only_after_update FROM (
    SELECT line FROM (:fingerprint_sql) f(line)
    EXCEPT SELECT unnest(string_to_array(:'fresh_fingerprint', chr(30)))) d ORDER BY 1;
SELECT split_part(line, E'\n', 1) AS only_in_fresh_install FROM (
    SELECT unnest(string_to_array(:'fresh_fingerprint', chr(30))) line
    EXCEPT SELECT line FROM (:fingerprint_sql) f(line)) d ORDER BY 1;
SELECT count(*) > 500 AS fingerprint_is_not_empty FROM (:fingerprint_sql) f(line);

-- the data and every decision are what they were
SELECT cell AS lost_cell FROM before_sweep EXCEPT SELECT * FROM (:sweep_sql) s;
SELECT cell AS new_cell FROM (:sweep_sql) s(cell) EXCEPT SELECT cell FROM before_sweep;
BEGIN;
SELECT line AS visible_changed FROM (:visible_sql) v(line) EXCEPT SELECT line FROM before_visible;
COMMIT;
SELECT (SELECT count(*) FROM zenml_rbac.audit_log) = events AS no_events_from_update,
       (SELECT count(*) FROM zenml_rbac.principal) = principals AS principals_kept,
       (SELECT count(*) FROM zenml_rbac.resource) = resources AS resources_kept
  FROM before_counts;
SELECT valid, events_checked > 0 AS checked_events FROM zenml_rbac.verify_audit_log();

-- the protected table's policies carry this version's text: protecting it
-- again changes none of them
CREATE TEMP TABLE upgraded_policies AS
SELECT polname, polcmd, pg_get_expr(polqual, polrelid) AS qual, pg_get_expr(polwithcheck, polrelid) AS withcheck
  FROM pg_policy WHERE polrelid = 'models'::regclass;
SELECT count(*) AS upgraded_policies FROM upgraded_policies;
SELECT zenml_rbac.protect('models', 'model', 'tenant_id', 'id', 'owner_id');
SELECT polname AS policy_not_current FROM (
    SELECT * FROM upgraded_policies
    EXCEPT SELECT polname, polcmd, pg_get_expr(polqual, polrelid), pg_get_expr(polwithcheck, polrelid)
             FROM pg_policy WHERE polrelid = 'models'::regclass) d ORDER BY 1;
SELECT problems FROM zenml_rbac.protected_tables;

-- and it keeps working: a revoke changes the decision, is audited, chains
SELECT zenml_rbac.rbac_can((SELECT id FROM ids WHERE name = 'ann'), (SELECT id FROM ids WHERE name = 'prod'), 'model', 'create') AS ann_creates;
SELECT zenml_rbac.revoke_tenant_role((SELECT id FROM ids WHERE name = 'prod'), (SELECT id FROM ids WHERE name = 'ann'), 'editor');
SELECT zenml_rbac.rbac_can((SELECT id FROM ids WHERE name = 'ann'), (SELECT id FROM ids WHERE name = 'prod'), 'model', 'create') AS ann_creates;
SELECT operation, object_kind FROM zenml_rbac.audit_events ORDER BY event_time DESC, seq DESC LIMIT 1;
SELECT valid FROM zenml_rbac.verify_audit_log();

\c :regress_db
SET client_min_messages = warning;
DROP DATABASE regress_upgrade_old;
DROP DATABASE regress_upgrade_fresh;
DROP ROLE regress_upgrade_app;

