-- zenml_rbac demo: the application runs ordinary SQL; row-level security set
-- up by zenml_rbac.protect() decides which rows each principal sees and writes.
\pset footer off
\echo '== 1. The DBA bootstraps an organization, two tenants and two users'
CREATE EXTENSION zenml_rbac;
SELECT zenml_rbac.create_organization('acme') AS org \gset
SELECT zenml_rbac.create_tenant(:'org', 'prod') AS prod \gset
SELECT zenml_rbac.create_tenant(:'org', 'dev') AS dev \gset
SELECT zenml_rbac.create_user('alice') AS alice \gset
SELECT zenml_rbac.create_user('bob') AS bob \gset
SELECT zenml_rbac.set_org_role(:'org', :'alice', 'org_editor') \g /dev/null
SELECT zenml_rbac.set_org_role(:'org', :'bob', 'org_viewer') \g /dev/null
SELECT zenml_rbac.grant_tenant_role(:'prod', :'alice', 'editor') \g /dev/null
SELECT zenml_rbac.grant_tenant_role(:'dev', :'alice', 'viewer') \g /dev/null
SELECT zenml_rbac.grant_tenant_role(:'dev', :'bob', 'editor') \g /dev/null

\echo '== 2. An application table, protected with one call'
CREATE ROLE demo_app LOGIN;
GRANT EXECUTE ON FUNCTION zenml_rbac.set_principal(uuid) TO demo_app;
CREATE TABLE models (
    id        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL,
    owner_id  uuid,
    name      text NOT NULL
);
CREATE INDEX ON models (tenant_id);
GRANT SELECT, INSERT, UPDATE, DELETE ON models TO demo_app;
INSERT INTO models (tenant_id, name) VALUES
    (:'prod', 'fraud-detector'), (:'prod', 'churn-predictor'), (:'dev', 'experiment-42');
SELECT zenml_rbac.protect('models', 'model', 'tenant_id', 'id', 'owner_id') \g /dev/null
SELECT table_name, resource_type, tenant_column, policies, problems FROM zenml_rbac.protected_tables;

\echo '== 3. The application connects as demo_app and acts for one user per transaction'
SET ROLE demo_app;
BEGIN;
SELECT zenml_rbac.set_principal(:'alice') \g /dev/null
\echo 'alice (editor in prod, viewer in dev) sees:'
SELECT t.name AS tenant, m.name FROM models m JOIN (VALUES (:'prod'::uuid, 'prod'), (:'dev'::uuid, 'dev')) t(id, name) ON t.id = m.tenant_id ORDER BY 1, 2;
COMMIT;
BEGIN;
SELECT zenml_rbac.set_principal(:'bob') \g /dev/null
\echo 'bob (editor in dev only) sees:'
SELECT t.name AS tenant, m.name FROM models m JOIN (VALUES (:'prod'::uuid, 'prod'), (:'dev'::uuid, 'dev')) t(id, name) ON t.id = m.tenant_id ORDER BY 1, 2;
\echo 'bob may create models in dev (he becomes their owner):'
INSERT INTO models (tenant_id, name) VALUES (:'dev', 'bobs-model') RETURNING name, owner_id = :'bob' AS owned_by_bob;
\echo 'but not in prod (the statement fails):'
\set ON_ERROR_STOP 0
INSERT INTO models (tenant_id, name) VALUES (:'prod', 'sneaky');
\set ON_ERROR_STOP 1
ROLLBACK;
BEGIN;
SELECT zenml_rbac.set_principal(:'alice') \g /dev/null
\echo 'alice shares fraud-detector with bob, read only:'
SELECT zenml_rbac.share_resource(:'prod', 'model/' || id, :'bob', ARRAY['read']) FROM models WHERE name = 'fraud-detector' \g /dev/null
COMMIT;
BEGIN;
SELECT zenml_rbac.set_principal(:'bob') \g /dev/null
\echo 'bob now sees it too:'
SELECT t.name AS tenant, m.name FROM models m JOIN (VALUES (:'prod'::uuid, 'prod'), (:'dev'::uuid, 'dev')) t(id, name) ON t.id = m.tenant_id ORDER BY 1, 2;
\echo 'but may not rename it (no row qualifies for his update):'
WITH renamed AS (UPDATE models SET name = 'renamed' WHERE name = 'fraud-detector' RETURNING 1)
SELECT count(*) AS rows_renamed FROM renamed;
COMMIT;
\echo 'after the transaction nobody is acting: no rows'
SELECT count(*) AS visible_rows FROM models;
\echo 'and no SET can change that (there is no such setting):'
\set ON_ERROR_STOP 0
SET zenml_rbac.principal = 'alice';
\set ON_ERROR_STOP 1
RESET ROLE;

\echo '== 4. A revoke takes effect at once, in every session'
SELECT zenml_rbac.revoke_tenant_role(:'prod', :'alice', 'editor') \g /dev/null
SET ROLE demo_app;
BEGIN;
SELECT zenml_rbac.set_principal(:'alice') \g /dev/null
\echo 'alice after losing prod:'
SELECT count(*) AS visible_rows FROM models;
COMMIT;
RESET ROLE;

\echo '== 5. Every change is in the audit log, hash-chained'
SELECT e.seq, coalesce(e.actor_name, e.session_user_name || ' (system)') AS actor, e.operation, e.object_kind,
       concat_ws(' ', p.name, r.name, e.after->>'name', e.after->>'actions') AS about
  FROM zenml_rbac.audit_events e
  LEFT JOIN zenml_rbac.principal p ON p.id = e.subject_id
  LEFT JOIN zenml_rbac.role r ON r.id = (coalesce(e.after, e.before)->>'role_id')::uuid
 WHERE e.object_kind IN ('organization', 'tenant', 'tenant_role_assignment', 'resource_grant')
 ORDER BY e.seq;
\echo 'the chain verifies:'
SELECT valid, events_checked FROM zenml_rbac.verify_audit_log();
