-- A populated catalog for the Perl cluster tests (run as a superuser, in a
-- database where zenml_rbac is installed): two organizations, three tenants,
-- users, a service account with an API key, a team, custom roles with
-- allowed and disallowed edits, a deactivated user, a registered type, a
-- protected table whose rows were written by principals, and shares.
-- public.fx maps each name to its id; fixture_app is the application role.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

CREATE ROLE fixture_app NOLOGIN;
GRANT EXECUTE ON FUNCTION zenml_rbac.set_principal(uuid) TO fixture_app;

CREATE TABLE fx (name text PRIMARY KEY, id uuid NOT NULL);
GRANT SELECT ON fx TO fixture_app;

INSERT INTO fx VALUES ('acme', zenml_rbac.create_organization('acme')),
                      ('globex', zenml_rbac.create_organization('globex'));
INSERT INTO fx SELECT 'prod', zenml_rbac.create_tenant((SELECT id FROM fx WHERE name = 'acme'), 'prod');
INSERT INTO fx SELECT 'dev', zenml_rbac.create_tenant((SELECT id FROM fx WHERE name = 'acme'), 'dev');
INSERT INTO fx SELECT 'main', zenml_rbac.create_tenant((SELECT id FROM fx WHERE name = 'globex'), 'main');
INSERT INTO fx SELECT 'u' || g, zenml_rbac.create_user('u' || g) FROM generate_series(1, 8) g;
INSERT INTO fx SELECT 'sa1', zenml_rbac.create_service_account((SELECT id FROM fx WHERE name = 'acme'), 'sa1');
INSERT INTO fx SELECT 'ml', zenml_rbac.create_team((SELECT id FROM fx WHERE name = 'acme'), 'ml');
SELECT zenml_rbac.register_resource_type('dataset');

CREATE FUNCTION pg_temp.id(text) RETURNS uuid LANGUAGE sql
    AS $$ SELECT id FROM public.fx WHERE name = $1 $$;

SELECT zenml_rbac.set_org_role(pg_temp.id('acme'), pg_temp.id(u), r)
  FROM (VALUES ('u1', 'org_admin'), ('u2', 'org_editor'), ('u3', 'org_viewer'),
               ('u4', 'org_viewer'), ('u5', 'org_viewer'), ('sa1', 'org_viewer')) v(u, r);
SELECT zenml_rbac.set_org_role(pg_temp.id('globex'), pg_temp.id(u), r)
  FROM (VALUES ('u6', 'org_admin'), ('u7', 'org_viewer'), ('u8', 'org_editor'),
               ('u2', 'org_viewer')) v(u, r);
SELECT zenml_rbac.add_team_member(pg_temp.id('ml'), pg_temp.id(u)) FROM unnest(ARRAY['u3', 'u4']) u;

-- custom roles: one narrower and one broader than its base
SELECT zenml_rbac.create_role(pg_temp.id('prod'), 'auditor', 'reads, not secrets', 'viewer');
SELECT zenml_rbac.role_disallow(pg_temp.id('prod'), 'auditor', 'secret', 'read');
SELECT zenml_rbac.create_role(pg_temp.id('dev'), 'curator', 'editor that deletes datasets', 'editor');
SELECT zenml_rbac.role_allow(pg_temp.id('dev'), 'curator', 'dataset', 'delete');
SELECT zenml_rbac.role_allow(pg_temp.id('dev'), 'curator', 'model', 'update');

SELECT zenml_rbac.grant_tenant_role(pg_temp.id(t), pg_temp.id(u), r)
  FROM (VALUES ('prod', 'u2', 'editor'), ('prod', 'u3', 'auditor'), ('prod', 'sa1', 'viewer'),
               ('prod', 'u5', 'editor'), ('dev', 'u2', 'curator'), ('dev', 'ml', 'editor'),
               ('main', 'u7', 'viewer'), ('main', 'u8', 'editor'), ('main', 'u2', 'viewer')) v(t, u, r);
SELECT zenml_rbac.deactivate_user(pg_temp.id('u5'));
SELECT zenml_rbac.create_api_key(pg_temp.id('sa1')) IS NOT NULL AS api_key_created \gset

-- a protected table, rows written by principals through the application role
CREATE TABLE models (
    id        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id uuid NOT NULL,
    owner_id  uuid,
    name      text NOT NULL
);
CREATE INDEX ON models (tenant_id);
GRANT SELECT, INSERT, UPDATE, DELETE ON models TO fixture_app;
SELECT zenml_rbac.protect('models', 'model', 'tenant_id', 'id', 'owner_id');

SET ROLE fixture_app;
BEGIN;
SELECT zenml_rbac.set_principal((SELECT id FROM fx WHERE name = 'u2'));
INSERT INTO models (tenant_id, name)
SELECT (SELECT id FROM fx WHERE name = t), t || '-' || g
  FROM unnest(ARRAY['prod', 'dev']) t, generate_series(1, 3) g;
COMMIT;
BEGIN;
SELECT zenml_rbac.set_principal((SELECT id FROM fx WHERE name = 'u8'));
INSERT INTO models (tenant_id, name) SELECT (SELECT id FROM fx WHERE name = 'main'), 'main-' || g
  FROM generate_series(1, 2) g;
COMMIT;
BEGIN;
-- u2 shares a prod model with u4 (not a prod member) and a dev model with u3
SELECT zenml_rbac.set_principal((SELECT id FROM fx WHERE name = 'u2'));
SELECT zenml_rbac.share_resource(m.tenant_id, 'model/' || m.id, (SELECT id FROM fx WHERE name = 'u4'), ARRAY['read'])
  FROM models m WHERE m.name = 'prod-1';
SELECT zenml_rbac.share_resource(m.tenant_id, 'model/' || m.id, (SELECT id FROM fx WHERE name = 'u3'), ARRAY['read', 'update'])
  FROM models m WHERE m.name = 'dev-2';
COMMIT;
RESET ROLE;
