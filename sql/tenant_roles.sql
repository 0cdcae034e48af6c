-- Tenant roles: grant, revoke, idempotence, teams, deactivation, names.
\set VERBOSITY terse

SELECT zenml_rbac.create_organization('tr_org') AS org \gset
SELECT zenml_rbac.create_tenant(:'org', 'prod') AS prod \gset
SELECT zenml_rbac.create_tenant(:'org', 'dev') AS dev \gset
SELECT zenml_rbac.create_user('tr_alice') AS alice \gset
SELECT zenml_rbac.create_user('tr_bob') AS bob \gset
SELECT zenml_rbac.create_user('tr_outsider') AS outsider \gset
SELECT zenml_rbac.set_org_role(:'org', :'alice', 'org_viewer');
SELECT zenml_rbac.set_org_role(:'org', :'bob', 'org_viewer');

-- no role: not a member, nothing allowed
SELECT zenml_rbac.rbac_can(:'alice'::uuid, :'prod'::uuid, 'model', 'read') AS before_grant;

SELECT zenml_rbac.grant_tenant_role(:'prod', :'alice', 'editor');
SELECT zenml_rbac.grant_tenant_role(:'prod', :'alice', 'editor');   -- again: no change, no error
SELECT count(*) AS assignments FROM zenml_rbac.tenant_role_assignment WHERE principal_id = :'alice';

SELECT a AS action,
       zenml_rbac.rbac_can(:'alice'::uuid, :'prod'::uuid, 'pipeline', a) AS pipeline,
       zenml_rbac.rbac_can(:'alice'::uuid, :'prod'::uuid, 'member', a) AS member,
       zenml_rbac.rbac_can(:'alice'::uuid, :'dev'::uuid, 'pipeline', a) AS other_tenant
  FROM unnest(ARRAY['create', 'read', 'update', 'delete', 'share']) a;

-- roles add up: editor + viewer is still editor; editor + admin is admin
SELECT zenml_rbac.grant_tenant_role(:'prod', :'alice', 'admin');
SELECT zenml_rbac.rbac_can(:'alice'::uuid, :'prod'::uuid, 'secret', 'delete') AS with_admin;
SELECT zenml_rbac.revoke_tenant_role(:'prod', :'alice', 'admin');
SELECT zenml_rbac.rbac_can(:'alice'::uuid, :'prod'::uuid, 'secret', 'delete') AS admin_revoked,
       zenml_rbac.rbac_can(:'alice'::uuid, :'prod'::uuid, 'secret', 'read') AS editor_kept;
-- revoking what is not held succeeds and changes nothing
SELECT zenml_rbac.revoke_tenant_role(:'prod', :'alice', 'viewer');
SELECT zenml_rbac.revoke_tenant_role(:'prod', :'bob', 'admin');

-- the name-based and current-principal forms agree with the uuid form
SELECT zenml_rbac.rbac_can('tr_alice', 'tr_org/prod', 'model', 'create') AS by_name,
       zenml_rbac.rbac_can(:'alice', :'prod', 'model', 'create') AS uuids_as_text,
       zenml_rbac.rbac_can('tr_alice', 'tr_org/nosuch', 'model', 'create') AS unknown_tenant,
       zenml_rbac.rbac_can('tr_nobody', 'tr_org/prod', 'model', 'create') AS unknown_user;
BEGIN;
SELECT zenml_rbac.set_principal(:'alice');
SELECT zenml_rbac.rbac_can(:'prod'::uuid, 'model', 'create') AS current_uuid,
       zenml_rbac.rbac_can('tr_org/prod', 'model', 'delete') AS current_name;
COMMIT;
SELECT zenml_rbac.rbac_can(:'prod'::uuid, 'model', 'read') AS no_current_principal;

-- NULL and unknown principals and tenants are false, never errors
SELECT zenml_rbac.rbac_can(NULL::uuid, :'prod'::uuid, 'model', 'read') AS null_principal,
       zenml_rbac.rbac_can(:'alice'::uuid, NULL::uuid, 'model', 'read') AS null_tenant,
       zenml_rbac.rbac_can(gen_random_uuid(), :'prod'::uuid, 'model', 'read') AS unknown_principal,
       zenml_rbac.rbac_can(:'alice'::uuid, gen_random_uuid(), 'model', 'read') AS unknown_tenant;

-- a principal outside the organization cannot be granted a role
SELECT zenml_rbac.grant_tenant_role(:'prod', :'outsider', 'viewer');

-- registered resource types are data types for the predefined roles
SELECT zenml_rbac.register_resource_type('tr_dataset');
SELECT zenml_rbac.rbac_can(:'alice'::uuid, :'prod'::uuid, 'tr_dataset', 'create') AS editor_creates,
       zenml_rbac.rbac_can(:'alice'::uuid, :'prod'::uuid, 'tr_dataset', 'delete') AS editor_deletes;
SELECT zenml_rbac.register_resource_type('tr_dataset');   -- again: no-op

-- deactivation: nothing allowed, at once; roles are kept
SELECT zenml_rbac.deactivate_user(:'alice');
SELECT zenml_rbac.rbac_can(:'alice'::uuid, :'prod'::uuid, 'model', 'read') AS deactivated,
       (SELECT count(*) FROM zenml_rbac.tenant_role_assignment WHERE principal_id = :'alice') AS roles_kept;

SELECT zenml_rbac.delete_organization(:'org');
DELETE FROM zenml_rbac.principal WHERE name LIKE 'tr\_%';
DELETE FROM zenml_rbac.resource_type WHERE name = 'tr_dataset';
