-- protect(): row-level security on an application table.  Every command
-- (SELECT, INSERT, UPDATE, DELETE) allowed and denied along every path --
-- type-level roles, custom roles, ownership, shares to the principal and to
-- its teams -- plus registration, the write checks, cached plans, the
-- table owner, the protected_tables view, protect()'s errors and the plan.
-- The application acts through a pool role: SET ROLE plus set_principal.
\set VERBOSITY terse

CREATE ROLE regress_rls_app;
CREATE ROLE regress_rls_owner;
GRANT EXECUTE ON FUNCTION zenml_rbac.set_principal(uuid) TO regress_rls_app;

-- Tenants with fixed ids (direct DML by the DBA), so that the errors naming
-- a tenant are stable.
SELECT zenml_rbac.create_organization('rls_org') AS org \gset
INSERT INTO zenml_rbac.tenant (id, org_id, name) VALUES
    ('10000000-0000-4000-8000-000000000001', :'org', 'prod'),
    ('10000000-0000-4000-8000-000000000002', :'org', 'dev'),
    ('10000000-0000-4000-8000-000000000003', :'org', 'stage');
\set prod 10000000-0000-4000-8000-000000000001
\set dev 10000000-0000-4000-8000-000000000002
\set stage 10000000-0000-4000-8000-000000000003

SELECT zenml_rbac.create_user('rls_admin') AS admin \gset
SELECT zenml_rbac.create_user('rls_editor') AS editor \gset
SELECT zenml_rbac.create_user('rls_viewer') AS viewer \gset
SELECT zenml_rbac.create_user('rls_curator') AS curator \gset
SELECT zenml_rbac.create_user('rls_owner') AS owner \gset
SELECT zenml_rbac.create_user('rls_ex') AS ex \gset
SELECT zenml_rbac.create_user('rls_guest') AS guest \gset
SELECT zenml_rbac.create_user('rls_teamie') AS teamie \gset
SELECT zenml_rbac.create_user('rls_mover') AS mover \gset
SELECT zenml_rbac.create_user('rls_gone') AS gone \gset
SELECT count(zenml_rbac.set_org_role(:'org', id, 'org_viewer')) AS org_members
  FROM zenml_rbac.principal WHERE name LIKE 'rls\_%';
SELECT zenml_rbac.create_team(:'org', 'rls_team') AS team \gset
SELECT zenml_rbac.add_team_member(:'team', :'teamie');

-- custom roles: one with an action its base lacks, one without one its base has
SELECT zenml_rbac.create_role(:'prod', 'curator', 'viewer who may edit models', 'viewer') IS NOT NULL AS created;
SELECT zenml_rbac.role_allow(:'prod', 'curator', 'model', 'update');
SELECT zenml_rbac.create_role(:'prod', 'blind', 'editor who may not read models', 'editor') IS NOT NULL AS created;
SELECT zenml_rbac.role_disallow(:'prod', 'blind', 'model', 'read');

SELECT count(*) AS assignments FROM (VALUES
    (zenml_rbac.grant_tenant_role(:'prod', :'admin', 'admin')),
    (zenml_rbac.grant_tenant_role(:'prod', :'editor', 'editor')),
    (zenml_rbac.grant_tenant_role(:'prod', :'viewer', 'viewer')),
    (zenml_rbac.grant_tenant_role(:'prod', :'curator', 'curator')),
    (zenml_rbac.grant_tenant_role(:'prod', :'owner', 'blind')),
    (zenml_rbac.grant_tenant_role(:'prod', :'ex', 'blind')),
    (zenml_rbac.grant_tenant_role(:'dev', :'guest', 'viewer')),
    (zenml_rbac.grant_tenant_role(:'dev', :'teamie', 'viewer')),
    (zenml_rbac.grant_tenant_role(:'prod', :'mover', 'editor')),
    (zenml_rbac.grant_tenant_role(:'dev', :'mover', 'admin')),
    (zenml_rbac.grant_tenant_role(:'stage', :'mover', 'viewer')),
    (zenml_rbac.grant_tenant_role(:'prod', :'gone', 'admin'))) g(x);

-- The application table, owned by a non-superuser role; rows already there
-- when it is protected become registered resources (owner: the owner column).
CREATE TABLE rls_models (
    id        uuid PRIMARY KEY,
    tenant_id uuid NOT NULL,
    owner_id  uuid,
    name      text NOT NULL
);
CREATE INDEX rls_models_tenant ON rls_models (tenant_id);
ALTER TABLE rls_models OWNER TO regress_rls_owner;
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON rls_models TO regress_rls_app;
INSERT INTO rls_models VALUES
    ('a0000000-0000-4000-8000-000000000001', :'prod', :'admin', 'p-admin'),
    ('a0000000-0000-4000-8000-000000000002', :'prod', :'owner', 'p-owned'),
    ('a0000000-0000-4000-8000-000000000003', :'prod', :'admin', 'p-guest'),
    ('a0000000-0000-4000-8000-000000000004', :'prod', :'admin', 'p-team'),
    ('a0000000-0000-4000-8000-000000000005', :'prod', NULL, 'p-plain'),
    ('a0000000-0000-4000-8000-000000000006', :'prod', :'ex', 'p-ex'),
    ('a0000000-0000-4000-8000-000000000011', :'dev', NULL, 'd-one'),
    ('a0000000-0000-4000-8000-000000000021', :'stage', NULL, 's-one');

SELECT zenml_rbac.protect('rls_models', 'model', 'tenant_id', 'id', 'owner_id');
SELECT t.name AS tenant, r.resource_type, m.name, p.name AS owner
  FROM zenml_rbac.resource r
  JOIN zenml_rbac.tenant t ON t.id = r.tenant_id
  JOIN rls_models m ON m.id = r.resource_id
  LEFT JOIN zenml_rbac.principal p ON p.id = r.owner_id
 ORDER BY m.name;

-- shares: read+update to a principal that is no member of prod (implicit
-- membership), read+delete to a team whose member is no member of prod
SELECT zenml_rbac.share_resource(:'prod', 'model/a0000000-0000-4000-8000-000000000003', :'guest', ARRAY['read', 'update']);
SELECT zenml_rbac.share_resource(:'prod', 'model/a0000000-0000-4000-8000-000000000004', :'team', ARRAY['read', 'delete']);

-- Who reaches which rows with each command: SELECT, and UPDATE/DELETE ...
-- RETURNING undone at once.  Each call acts as the principal it is given.
CREATE TABLE rls_who (name text, id uuid);
INSERT INTO rls_who SELECT substr(name, 5), id FROM zenml_rbac.principal
 WHERE name LIKE 'rls\_%' AND kind = 'user';
INSERT INTO rls_who VALUES ('none', NULL);
GRANT SELECT ON rls_who TO regress_rls_app;
CREATE FUNCTION rls_reach(who uuid, cmd text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    names text[];
BEGIN
    PERFORM zenml_rbac.set_principal(who);
    IF cmd = 'select' THEN
        SELECT array_agg(name ORDER BY name) INTO names FROM rls_models;
    ELSE
        BEGIN
            IF cmd = 'update' THEN
                WITH w AS (UPDATE rls_models SET name = name RETURNING name)
                SELECT array_agg(name ORDER BY name) INTO names FROM w;
            ELSE
                WITH w AS (DELETE FROM rls_models RETURNING name)
                SELECT array_agg(name ORDER BY name) INTO names FROM w;
            END IF;
            RAISE EXCEPTION USING ERRCODE = 'ZZ000';
        EXCEPTION WHEN SQLSTATE 'ZZ000' THEN NULL;
        END;
    END IF;
    RETURN coalesce(array_to_string(names, ' '), '-');
END
$$;

SET ROLE regress_rls_app;
BEGIN;
SELECT name AS principal, rls_reach(id, 'select') AS "select",
       rls_reach(id, 'update') AS "update", rls_reach(id, 'delete') AS "delete"
  FROM rls_who ORDER BY name;
COMMIT;
RESET ROLE;

-- rbac_can agrees with what the policies let through, for every principal,
-- row and command (UPDATE and DELETE ... RETURNING also need read)
CREATE TABLE rls_all AS SELECT id, tenant_id, name FROM rls_models;
GRANT SELECT ON rls_all TO regress_rls_app;
SET ROLE regress_rls_app;
BEGIN;
WITH reach AS MATERIALIZED (
    SELECT w.id AS who, c.cmd, c.action, string_to_array(rls_reach(w.id, c.cmd), ' ') AS names
      FROM rls_who w,
           (VALUES ('select', 'read'), ('update', 'update'), ('delete', 'delete')) c(cmd, action))
SELECT count(*) AS checks,
       count(*) FILTER (WHERE (r.name = ANY (x.names)) IS DISTINCT FROM
                              (coalesce(zenml_rbac.rbac_can(x.who, r.tenant_id, 'model/' || r.id, x.action), false)
                               AND coalesce(zenml_rbac.rbac_can(x.who, r.tenant_id, 'model/' || r.id, 'read'), false)))
           AS disagreements
  FROM reach x CROSS JOIN rls_all r;
COMMIT;
RESET ROLE;

-- INSERT: create in the row's tenant; the owner column is filled with the
-- acting principal, and must be it
SET ROLE regress_rls_app;
BEGIN;
SELECT zenml_rbac.set_principal(:'editor');
INSERT INTO rls_models (id, tenant_id, name)
VALUES ('a0000000-0000-4000-8000-000000000031', :'prod', 'e-new')
RETURNING name, owner_id = zenml_rbac.current_principal() AS owner_filled;
INSERT INTO rls_models (id, tenant_id, owner_id, name)
VALUES ('a0000000-0000-4000-8000-000000000032', :'prod', zenml_rbac.current_principal(), 'e-explicit');
COMMIT;
BEGIN;
SELECT zenml_rbac.set_principal(:'editor');
INSERT INTO rls_models (id, tenant_id, owner_id, name)
VALUES ('a0000000-0000-4000-8000-000000000033', :'prod', :'viewer', 'e-for-someone-else');
\echo :SQLSTATE
ROLLBACK;
BEGIN;
SELECT zenml_rbac.set_principal(:'editor');
INSERT INTO rls_models (id, tenant_id, name) VALUES ('a0000000-0000-4000-8000-000000000033', :'dev', 'e-not-member');
\echo :SQLSTATE
ROLLBACK;
BEGIN;
SELECT zenml_rbac.set_principal(:'viewer');
INSERT INTO rls_models (id, tenant_id, name) VALUES ('a0000000-0000-4000-8000-000000000033', :'prod', 'v-no-create');
\echo :SQLSTATE
ROLLBACK;
BEGIN;
SELECT zenml_rbac.set_principal(:'guest');    -- a share is no membership: no create
INSERT INTO rls_models (id, tenant_id, name) VALUES ('a0000000-0000-4000-8000-000000000033', :'prod', 'g-shared-only');
ROLLBACK;
BEGIN;
SELECT zenml_rbac.set_principal(:'curator');  -- a custom role without create
INSERT INTO rls_models (id, tenant_id, name) VALUES ('a0000000-0000-4000-8000-000000000033', :'prod', 'c-no-create');
ROLLBACK;
INSERT INTO rls_models (id, tenant_id, name) VALUES ('a0000000-0000-4000-8000-000000000033', :'prod', 'nobody');
\echo :SQLSTATE
-- a custom role with create but without read: the creator owns the new row,
-- so it reads it back, also through RETURNING (README, Protecting tables: owner passes SELECT;
-- the owner column lets the SELECT policy see that before the row registers)
BEGIN;
SELECT zenml_rbac.set_principal(:'owner');
INSERT INTO rls_models (id, tenant_id, name) VALUES ('a0000000-0000-4000-8000-000000000034', :'prod', 'o-new');
SELECT name FROM rls_models ORDER BY 1;
INSERT INTO rls_models (id, tenant_id, name) VALUES ('a0000000-0000-4000-8000-000000000035', :'prod', 'o-returned')
RETURNING name;
ROLLBACK;
RESET ROLE;
-- the write check only gives the precise error: the policy refuses without it
BEGIN;
ALTER TABLE rls_models DISABLE TRIGGER zz_zenml_rbac_check;
SET LOCAL ROLE regress_rls_app;
SELECT zenml_rbac.set_principal(:'viewer');
INSERT INTO rls_models (id, tenant_id, owner_id, name)
VALUES ('a0000000-0000-4000-8000-000000000033', :'prod', :'viewer', 'v-no-create');
ROLLBACK;
BEGIN;
ALTER TABLE rls_models DISABLE TRIGGER zz_zenml_rbac_check;
SET LOCAL ROLE regress_rls_app;
SELECT zenml_rbac.set_principal(:'editor');
INSERT INTO rls_models (id, tenant_id, owner_id, name)
VALUES ('a0000000-0000-4000-8000-000000000033', :'prod', :'viewer', 'e-for-someone-else');
\echo :SQLSTATE
ROLLBACK;

-- inserting registers the row with its creator as owner: the editor, who
-- may not update or delete models, may update and delete its own
SELECT m.name, p.name AS owner FROM zenml_rbac.resource r
  JOIN rls_models m ON m.id = r.resource_id JOIN zenml_rbac.principal p ON p.id = r.owner_id
 WHERE m.name LIKE 'e-%' ORDER BY 1;
SET ROLE regress_rls_app;
BEGIN;
SELECT zenml_rbac.set_principal(:'editor');
UPDATE rls_models SET name = name || '!' WHERE name IN ('e-new', 'p-admin');
SELECT name FROM rls_models WHERE name ~ '^(e-|p-admin)' ORDER BY 1;
SELECT zenml_rbac.share_resource(:'prod', 'model/a0000000-0000-4000-8000-000000000032', :'guest', ARRAY['read']);
COMMIT;
RESET ROLE;
SELECT count(*) AS grants_on_e_explicit FROM zenml_rbac.resource_grant
 WHERE resource_id = 'a0000000-0000-4000-8000-000000000032';
-- deleting unregisters the row and removes its grants
SET ROLE regress_rls_app;
BEGIN;
SELECT zenml_rbac.set_principal(:'editor');
DELETE FROM rls_models WHERE name IN ('e-explicit', 'p-admin');
SELECT name FROM rls_models WHERE name ~ '^(e-|p-admin)' ORDER BY 1;
COMMIT;
RESET ROLE;
SELECT count(*) AS registered, (SELECT count(*) FROM zenml_rbac.resource_grant
                                 WHERE resource_id = 'a0000000-0000-4000-8000-000000000032') AS grants
  FROM zenml_rbac.resource WHERE resource_id = 'a0000000-0000-4000-8000-000000000032';
SELECT zenml_rbac.rbac_can(:'guest'::uuid, :'prod'::uuid, 'model/a0000000-0000-4000-8000-000000000032', 'read') AS guest_still_reads;

-- UPDATE: the owner column cannot change under row-level security (not even
-- by an admin); the table owner may hand a row on, and the registration follows
SET ROLE regress_rls_app;
BEGIN;
SELECT zenml_rbac.set_principal(:'owner');
UPDATE rls_models SET owner_id = :'viewer' WHERE name = 'p-owned';
\echo :SQLSTATE
ROLLBACK;
BEGIN;
SELECT zenml_rbac.set_principal(:'admin');
UPDATE rls_models SET owner_id = :'admin' WHERE name = 'p-owned';
ROLLBACK;
BEGIN;
SELECT zenml_rbac.set_principal(:'admin');
UPDATE rls_models SET owner_id = NULL WHERE name = 'p-guest';
ROLLBACK;
RESET ROLE;
SET ROLE regress_rls_owner;
UPDATE rls_models SET owner_id = :'curator' WHERE name = 'p-plain';
RESET ROLE;
SELECT p.name AS p_plain_owner FROM zenml_rbac.resource r JOIN zenml_rbac.principal p ON p.id = r.owner_id
 WHERE r.resource_id = 'a0000000-0000-4000-8000-000000000005';

-- Moving a row to another tenant needs create there, and the moved row must
-- still pass UPDATE there; the registration moves with it, keeps its owner
-- and loses its grants.
SET ROLE regress_rls_app;
BEGIN;
SELECT zenml_rbac.set_principal(:'mover');
INSERT INTO rls_models (id, tenant_id, name) VALUES ('a0000000-0000-4000-8000-000000000041', :'prod', 'm-move');
SELECT zenml_rbac.share_resource(:'prod', 'model/a0000000-0000-4000-8000-000000000041', :'viewer', ARRAY['read', 'update']);
COMMIT;
BEGIN;
SELECT zenml_rbac.set_principal(:'mover');    -- viewer in stage: no create there
UPDATE rls_models SET tenant_id = :'stage' WHERE name = 'm-move';
\echo :SQLSTATE
ROLLBACK;
BEGIN;
SELECT zenml_rbac.set_principal(:'viewer');   -- shared with update in prod, nothing in dev
UPDATE rls_models SET tenant_id = :'dev' WHERE name = 'm-move';
ROLLBACK;
BEGIN;
SELECT zenml_rbac.set_principal(:'mover');    -- admin in dev
UPDATE rls_models SET tenant_id = :'dev' WHERE name = 'm-move';
COMMIT;
RESET ROLE;
SELECT t.name AS tenant, p.name AS owner,
       (SELECT count(*) FROM zenml_rbac.resource_grant g WHERE g.resource_id = r.resource_id) AS grants
  FROM zenml_rbac.resource r JOIN zenml_rbac.tenant t ON t.id = r.tenant_id
  JOIN zenml_rbac.principal p ON p.id = r.owner_id
 WHERE r.resource_id = 'a0000000-0000-4000-8000-000000000041';
-- changing the id makes a new resource: it needs create in the tenant, and
-- the new row must pass UPDATE (type-level update, or the owner's row)
SET ROLE regress_rls_app;
BEGIN;
SELECT zenml_rbac.set_principal(:'guest');    -- shared with update, no create
UPDATE rls_models SET id = 'a0000000-0000-4000-8000-000000000042' WHERE name = 'p-guest';
\echo :SQLSTATE
ROLLBACK;
BEGIN;
SELECT zenml_rbac.set_principal(:'owner');    -- owns p-owned, has create but not update:
-- a new id is a new, not yet registered resource; the owner column still
-- shows the SELECT policy (which UPDATE applies to the new row) its owner
UPDATE rls_models SET id = 'a0000000-0000-4000-8000-000000000043' WHERE name = 'p-owned';
SELECT name, id FROM rls_models;
ROLLBACK;
BEGIN;
SELECT zenml_rbac.set_principal(:'mover');
UPDATE rls_models SET id = 'a0000000-0000-4000-8000-000000000042' WHERE name = 'm-move';
COMMIT;
RESET ROLE;
SELECT count(*) FILTER (WHERE resource_id = 'a0000000-0000-4000-8000-000000000041') AS old_id,
       count(*) FILTER (WHERE resource_id = 'a0000000-0000-4000-8000-000000000042') AS new_id
  FROM zenml_rbac.resource;
-- an owner that holds create (not update) where it moves its own row: the
-- new row is its own there too, so it passes (README, Protecting tables: "update on the type,
-- or owner, ...; a row moved to another tenant needs create there")
SELECT zenml_rbac.grant_tenant_role(:'stage', :'editor', 'editor');
SET ROLE regress_rls_app;
BEGIN;
SELECT zenml_rbac.set_principal(:'editor');
UPDATE rls_models SET tenant_id = :'stage' WHERE name = 'e-new!';
SELECT name FROM rls_models WHERE tenant_id = :'stage' ORDER BY 1;
ROLLBACK;
RESET ROLE;

-- An owner that stops being a member of the tenant loses its owner rights.
SET ROLE regress_rls_app;
BEGIN;
SELECT zenml_rbac.set_principal(:'ex');
SELECT name FROM rls_models;
COMMIT;
RESET ROLE;
SELECT zenml_rbac.revoke_tenant_role(:'prod', :'ex', 'blind');
SET ROLE regress_rls_app;
BEGIN;
SELECT zenml_rbac.set_principal(:'ex');
SELECT count(*) AS ex_sees FROM rls_models;
-- no WHERE, no RETURNING: only the UPDATE and DELETE policies apply
UPDATE rls_models SET name = 'hijacked';
DELETE FROM rls_models;
COMMIT;
RESET ROLE;

-- A deactivated principal sees nothing from its next statement on; no
-- principal sees nothing.
SET ROLE regress_rls_app;
BEGIN;
SELECT zenml_rbac.set_principal(:'gone');
SELECT count(*) AS before_deactivation FROM rls_models;
SELECT zenml_rbac.deactivate_user(:'gone');
SELECT count(*) AS after_deactivation FROM rls_models;
UPDATE rls_models SET name = 'hijacked';
DELETE FROM rls_models;
COMMIT;
SELECT count(*) AS no_principal FROM rls_models;
UPDATE rls_models SET name = 'hijacked';
DELETE FROM rls_models;
RESET ROLE;
-- none of those writes touched a row
SET ROLE regress_rls_owner;
SELECT count(*) AS rows_kept, count(*) FILTER (WHERE name = 'hijacked') AS hijacked FROM rls_models;
RESET ROLE;

-- Prepared statements and cached plans answer for the principal of the
-- transaction that runs them, and follow a revoke from the next statement.
SET plan_cache_mode = force_generic_plan;
CREATE FUNCTION rls_count() RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    RETURN (SELECT count(*) FROM rls_models);
END
$$;
SET ROLE regress_rls_app;
PREPARE rls_names AS SELECT string_agg(name, ' ' ORDER BY name) FROM rls_models;
BEGIN;
SELECT zenml_rbac.set_principal(:'guest');
EXECUTE rls_names;
SELECT rls_count() AS guest_count;
COMMIT;
BEGIN;
SELECT zenml_rbac.set_principal(:'viewer');
EXECUTE rls_names;
SELECT rls_count() AS viewer_count;
COMMIT;
BEGIN;
SELECT zenml_rbac.set_principal(:'guest');
EXECUTE rls_names;
SELECT rls_count() AS guest_count;
COMMIT;
SELECT generic_plans > 0 AS generic_plan_reused FROM pg_prepared_statements WHERE name = 'rls_names';
RESET ROLE;
SELECT zenml_rbac.revoke_tenant_role(:'dev', :'guest', 'viewer');
SET ROLE regress_rls_app;
BEGIN;
SELECT zenml_rbac.set_principal(:'guest');
EXECUTE rls_names;
SELECT rls_count() AS guest_count;
COMMIT;
-- inside one transaction: the next statement sees the revoke
BEGIN;
SELECT zenml_rbac.set_principal(:'viewer');
SELECT rls_count() AS viewer_count;
SELECT zenml_rbac.set_principal(:'admin');
SELECT zenml_rbac.revoke_tenant_role(:'prod', :'viewer', 'viewer');
SELECT zenml_rbac.set_principal(:'viewer');
EXECUTE rls_names;
SELECT rls_count() AS viewer_count;
ROLLBACK;
DEALLOCATE rls_names;
RESET ROLE;
RESET plan_cache_mode;

-- TRUNCATE bypasses row-level security: refused to whom the policies apply,
-- allowed to the table owner, and it unregisters the rows.  A table without
-- an owner column registers its rows with the acting principal as owner.
CREATE TABLE rls_runs (run_id uuid PRIMARY KEY, tenant uuid NOT NULL, note text);
CREATE INDEX ON rls_runs (tenant);
ALTER TABLE rls_runs OWNER TO regress_rls_owner;
GRANT ALL ON rls_runs TO regress_rls_app;
SELECT zenml_rbac.protect('rls_runs', 'pipeline_run', 'tenant', 'run_id');
SET ROLE regress_rls_app;
BEGIN;
SELECT zenml_rbac.set_principal(:'editor');
INSERT INTO rls_runs VALUES ('b0000000-0000-4000-8000-000000000001', :'prod', 'r1'),
                            ('b0000000-0000-4000-8000-000000000002', :'prod', 'r2');
UPDATE rls_runs SET note = note || '!';
COMMIT;
BEGIN;
SELECT zenml_rbac.set_principal(:'viewer');
UPDATE rls_runs SET note = note || '?';
ROLLBACK;
BEGIN;
SELECT zenml_rbac.set_principal(:'admin');
TRUNCATE rls_runs;
\echo :SQLSTATE
ROLLBACK;
TRUNCATE rls_runs;
RESET ROLE;
SELECT count(*) AS runs_registered, count(*) FILTER (WHERE owner_id = :'editor') AS owned_by_editor
  FROM zenml_rbac.resource WHERE resource_type = 'pipeline_run';
SET ROLE regress_rls_owner;
TRUNCATE rls_runs;
RESET ROLE;
SELECT count(*) AS runs_registered FROM zenml_rbac.resource WHERE resource_type = 'pipeline_run';
SET ROLE regress_rls_app;
BEGIN;
SELECT zenml_rbac.set_principal(:'editor');
INSERT INTO rls_runs VALUES ('b0000000-0000-4000-8000-000000000003', :'prod', 'r3');
COMMIT;
RESET ROLE;

-- The table owner bypasses the policies; FORCE ROW LEVEL SECURITY subjects it.
SET ROLE regress_rls_owner;
SELECT count(*) AS owner_sees FROM rls_models;
RESET ROLE;
ALTER TABLE rls_models FORCE ROW LEVEL SECURITY;
SET ROLE regress_rls_owner;
SELECT count(*) AS forced_owner_sees FROM rls_models;
INSERT INTO rls_models (id, tenant_id, name) VALUES ('a0000000-0000-4000-8000-000000000051', :'prod', 'o-forced');
TRUNCATE rls_models;
RESET ROLE;
BEGIN;
SELECT zenml_rbac.set_principal(:'curator');
SET LOCAL ROLE regress_rls_owner;
SELECT count(*) AS forced_owner_as_curator FROM rls_models;
ROLLBACK;
SELECT table_name, rls_enabled, rls_forced, table_owner FROM zenml_rbac.protected_tables ORDER BY table_name::text;
ALTER TABLE rls_models NO FORCE ROW LEVEL SECURITY;

-- protected_tables: what protects each table, and problems when a part is
-- missing; a missing policy fails closed; protecting again repairs it.
SELECT table_name, resource_type, tenant_column, id_column, owner_column, policies, triggers, problems
  FROM zenml_rbac.protected_tables ORDER BY table_name::text;
DROP POLICY zenml_rbac_delete ON rls_models;
ALTER TABLE rls_models DISABLE TRIGGER zz_zenml_rbac_unregister;
SELECT table_name, problems FROM zenml_rbac.protected_tables ORDER BY table_name::text;
SET ROLE regress_rls_app;
BEGIN;
SELECT zenml_rbac.set_principal(:'admin');
SELECT count(*) AS admin_sees FROM rls_models;
WITH d AS (DELETE FROM rls_models RETURNING 1) SELECT count(*) AS deleted_without_policy FROM d;
ROLLBACK;
RESET ROLE;
ALTER TABLE rls_models ENABLE TRIGGER zz_zenml_rbac_unregister;
ALTER TABLE rls_models DISABLE ROW LEVEL SECURITY;
ALTER TABLE rls_models RENAME COLUMN owner_id TO creator_id;
CREATE POLICY rls_extra ON rls_models FOR SELECT USING (true);
SELECT table_name, problems FROM zenml_rbac.protected_tables ORDER BY table_name::text;
DROP POLICY rls_extra ON rls_models;
ALTER TABLE rls_models RENAME COLUMN creator_id TO owner_id;
SELECT zenml_rbac.protect('rls_models', 'model', 'tenant_id', 'id', 'owner_id');
SELECT table_name, rls_enabled, problems FROM zenml_rbac.protected_tables ORDER BY table_name::text;

-- protecting again replaces the configuration (here: no owner column)
SELECT zenml_rbac.protect('rls_models', 'model', 'tenant_id');
SELECT table_name, owner_column, cardinality(policies) AS policies, cardinality(triggers) AS triggers, problems
  FROM zenml_rbac.protected_tables WHERE table_name = 'rls_models'::regclass;
SET ROLE regress_rls_app;
BEGIN;
SELECT zenml_rbac.set_principal(:'editor');
INSERT INTO rls_models (id, tenant_id, owner_id, name)
VALUES ('a0000000-0000-4000-8000-000000000061', :'prod', :'viewer', 'e-column-free');
SET LOCAL ROLE NONE;
SELECT p.name AS registered_owner FROM zenml_rbac.resource r JOIN zenml_rbac.principal p ON p.id = r.owner_id
 WHERE r.resource_id = 'a0000000-0000-4000-8000-000000000061';
ROLLBACK;
RESET ROLE;
SELECT zenml_rbac.protect('rls_models', 'model', 'tenant_id', 'id', 'owner_id');

-- protect() and unprotect() errors
\set VERBOSITY sqlstate
SET ROLE regress_rls_app;
SELECT zenml_rbac.protect('rls_models', 'model', 'tenant_id');
\echo :SQLSTATE
SELECT zenml_rbac.unprotect('rls_models');
\echo :SQLSTATE
RESET ROLE;
SET ROLE regress_rls_owner;
SELECT zenml_rbac.unprotect('rls_models');
\echo :SQLSTATE
RESET ROLE;
\set VERBOSITY terse
SELECT zenml_rbac.protect('rls_models', 'modle', 'tenant_id');
\echo :SQLSTATE
SELECT zenml_rbac.protect('rls_models', 'member', 'tenant_id');
\echo :SQLSTATE
SELECT zenml_rbac.protect('rls_models', 'model', 'tenant');
\echo :SQLSTATE
SELECT zenml_rbac.protect('rls_models', 'model', 'tenant_id', 'uid');
\echo :SQLSTATE
SELECT zenml_rbac.protect('rls_models', 'model', 'tenant_id', 'id', 'creator');
\echo :SQLSTATE
SELECT zenml_rbac.protect('rls_models', 'model', 'name');
\echo :SQLSTATE
SELECT zenml_rbac.protect('rls_models', 'model', 'tenant_id', 'id', 'tenant_id');
\echo :SQLSTATE
CREATE VIEW rls_view AS SELECT * FROM rls_models;
SELECT zenml_rbac.protect('rls_view', 'model', 'tenant_id');
\echo :SQLSTATE
CREATE SEQUENCE rls_seq;
SELECT zenml_rbac.protect('rls_seq', 'model', 'tenant_id');
\echo :SQLSTATE
SELECT zenml_rbac.protect(NULL, 'model', 'tenant_id');
\echo :SQLSTATE
SELECT zenml_rbac.protect('rls_models', NULL, 'tenant_id');
\echo :SQLSTATE
SELECT zenml_rbac.protect('rls_models', 'model', NULL);
\echo :SQLSTATE
SELECT zenml_rbac.protect('rls_models', 'model', 'tenant_id', NULL);
\echo :SQLSTATE
SELECT zenml_rbac.unprotect(NULL);
\echo :SQLSTATE
SELECT zenml_rbac.protect('rls_no_such_table', 'model', 'tenant_id');
\echo :SQLSTATE
DROP VIEW rls_view;
DROP SEQUENCE rls_seq;
-- nothing changed by the failed calls
SELECT table_name, owner_column, problems FROM zenml_rbac.protected_tables ORDER BY table_name::text;

-- unprotect: policies and triggers go, row-level security is off, the
-- registered resources stay; a second unprotect only says so
SELECT zenml_rbac.unprotect('rls_runs');
SELECT relrowsecurity,
       (SELECT count(*) FROM pg_policy WHERE polrelid = 'rls_runs'::regclass) AS policies,
       (SELECT count(*) FROM pg_trigger WHERE tgrelid = 'rls_runs'::regclass) AS triggers,
       (SELECT count(*) FROM zenml_rbac.protected_tables WHERE table_name = 'rls_runs'::regclass) AS listed
  FROM pg_class WHERE oid = 'rls_runs'::regclass;
SELECT count(*) AS runs_registered FROM zenml_rbac.resource WHERE resource_type = 'pipeline_run';
SELECT zenml_rbac.unprotect('rls_runs');
-- a policy the DBA wrote keeps row-level security on
SELECT zenml_rbac.protect('rls_runs', 'pipeline_run', 'tenant', 'run_id');
CREATE POLICY rls_dba ON rls_runs AS RESTRICTIVE FOR SELECT USING (note IS NOT NULL);
SELECT zenml_rbac.unprotect('rls_runs');
SELECT relrowsecurity FROM pg_class WHERE oid = 'rls_runs'::regclass;
-- dropping a protected table removes it from protected_tables
SELECT zenml_rbac.protect('rls_runs', 'pipeline_run', 'tenant', 'run_id');
SELECT count(*) AS listed FROM zenml_rbac.protected_tables WHERE table_name::text = 'rls_runs';
DROP TABLE rls_runs;
SELECT count(*) AS listed FROM zenml_rbac.protected_table;

-- The plan: a principal in 1 tenant of 200 reads through the index on the
-- tenant column, not a scan of every tenant's rows.
CREATE TABLE rls_big (id uuid PRIMARY KEY, tenant_id uuid NOT NULL, payload text);
CREATE INDEX rls_big_tenant ON rls_big (tenant_id);
INSERT INTO zenml_rbac.tenant (id, org_id, name)
SELECT ('20000000-0000-4000-8000-' || lpad(g::text, 12, '0'))::uuid, :'org', 'big' || g
  FROM generate_series(1, 200) g;
INSERT INTO rls_big
SELECT ('30000000-0000-4000-' || lpad(t::text, 4, '0') || '-' || lpad(r::text, 12, '0'))::uuid,
       ('20000000-0000-4000-8000-' || lpad(t::text, 12, '0'))::uuid, repeat('x', 100)
  FROM generate_series(1, 200) t, generate_series(1, 50) r;
SELECT zenml_rbac.protect('rls_big', 'model', 'tenant_id');
ANALYZE rls_big;
GRANT SELECT ON rls_big TO regress_rls_app;
SELECT zenml_rbac.grant_tenant_role('20000000-0000-4000-8000-000000000007', :'viewer', 'viewer');
SET ROLE regress_rls_app;
BEGIN;
SELECT zenml_rbac.set_principal(:'viewer');
SELECT count(*) AS big_rows FROM rls_big;
CREATE TEMP TABLE rls_plan (line text);
DO $$
DECLARE
    l text;
BEGIN
    FOR l IN EXECUTE 'EXPLAIN (COSTS OFF) SELECT * FROM rls_big' LOOP
        INSERT INTO rls_plan VALUES (l);
    END LOOP;
END
$$;
SELECT bool_or(line ~ '(Index|Bitmap Index) Scan on rls_big_tenant') AS uses_tenant_index,
       bool_or(line ~ 'Seq Scan') AS seq_scan
  FROM rls_plan;
ROLLBACK;
RESET ROLE;

-- clean up
DROP TABLE rls_big, rls_models, rls_who, rls_all;
DROP FUNCTION rls_reach(uuid, text);
DROP FUNCTION rls_count();
SELECT count(*) AS listed FROM zenml_rbac.protected_table;
SELECT zenml_rbac.delete_organization(:'org');
DELETE FROM zenml_rbac.principal WHERE name LIKE 'rls\_%';
REVOKE ALL ON FUNCTION zenml_rbac.set_principal(uuid) FROM regress_rls_app;
DROP ROLE regress_rls_app;
DROP ROLE regress_rls_owner;
