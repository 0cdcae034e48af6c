-- Organization roles: membership, replacement, the org capability matrix in
-- practice, and what an org role does not give.
\set VERBOSITY terse

SELECT zenml_rbac.create_organization('org_acme') AS org \gset
SELECT zenml_rbac.create_organization('org_other') AS other \gset
SELECT zenml_rbac.create_user('org_ann') AS ann \gset
SELECT zenml_rbac.create_user('org_ed') AS ed \gset
SELECT zenml_rbac.create_user('org_vi') AS vi \gset

-- a user is a member once it holds an org role; set_org_role replaces
SELECT zenml_rbac.set_org_role(:'org', :'ann', 'org_admin');
SELECT zenml_rbac.set_org_role(:'org', :'ed', 'org_viewer');
SELECT zenml_rbac.set_org_role(:'org', :'ed', 'org_editor');
SELECT zenml_rbac.set_org_role(:'org', :'vi', 'org_viewer');
SELECT zenml_rbac.set_org_role(:'org', :'vi', 'org_viewer');   -- same again: no change, no error
SELECT p.name, m.role FROM zenml_rbac.org_role_assignment m
  JOIN zenml_rbac.principal p ON p.id = m.principal_id
 WHERE m.org_id = :'org' ORDER BY p.name;

-- the capability matrix per role (full matrix: test/pgtap/org_roles.sql)
SELECT c.capability, c.action,
       zenml_rbac.rbac_org_can(:'ann'::uuid, :'org'::uuid, c.capability, c.action) AS admin,
       zenml_rbac.rbac_org_can(:'ed'::uuid, :'org'::uuid, c.capability, c.action) AS editor,
       zenml_rbac.rbac_org_can(:'vi'::uuid, :'org'::uuid, c.capability, c.action) AS viewer
  FROM (VALUES ('organization', 'delete'), ('organization', 'update'), ('billing', 'read'),
               ('member', 'create'), ('tenant', 'delete'), ('team', 'read'),
               ('tenant', 'share')) c(capability, action);

-- by name, and nothing in another organization
SELECT zenml_rbac.rbac_org_can('org_ann', 'org_acme', 'organization', 'delete') AS by_name,
       zenml_rbac.rbac_org_can(:'ann'::uuid, :'other'::uuid, 'organization', 'read') AS other_org,
       zenml_rbac.rbac_org_can('nobody', 'org_acme', 'organization', 'read') AS unknown_user,
       zenml_rbac.rbac_org_can(NULL::uuid, :'org'::uuid, 'organization', 'read') AS null_user;

-- an org role gives nothing inside a tenant, even to org_admin
SELECT zenml_rbac.create_tenant(:'org', 'org_prod') AS prod \gset
SELECT zenml_rbac.rbac_can(:'ann'::uuid, :'prod'::uuid, 'model', 'read') AS org_admin_reads_models;
-- until it adds itself: org_admin may give itself any tenant role
BEGIN;
SELECT zenml_rbac.set_principal(:'ann');
SELECT zenml_rbac.grant_tenant_role(:'prod', :'ann', 'admin');
COMMIT;
SELECT zenml_rbac.rbac_can(:'ann'::uuid, :'prod'::uuid, 'model', 'delete') AS after_self_grant;

-- a team may hold an org role; its members get the higher of both roles
SELECT zenml_rbac.create_team(:'org', 'org_leads') AS leads \gset
SELECT zenml_rbac.add_team_member(:'leads', :'vi');
SELECT zenml_rbac.rbac_org_can(:'vi'::uuid, :'org'::uuid, 'tenant', 'create') AS before_team_role;
SELECT zenml_rbac.set_org_role(:'org', :'leads', 'org_editor');
SELECT zenml_rbac.rbac_org_can(:'vi'::uuid, :'org'::uuid, 'tenant', 'create') AS via_team_role;

-- deactivation removes every permission at once, but keeps the membership
SELECT zenml_rbac.deactivate_user(:'ed');
SELECT zenml_rbac.rbac_org_can(:'ed'::uuid, :'org'::uuid, 'organization', 'read') AS deactivated_reads,
       (SELECT role FROM zenml_rbac.org_role_assignment WHERE principal_id = :'ed') AS kept_role;
-- and a deactivated principal may still be given roles
SELECT zenml_rbac.set_org_role(:'org', :'ed', 'org_viewer');
SELECT zenml_rbac.grant_tenant_role(:'prod', :'ed', 'viewer');

-- service accounts are created as org_viewer members of their organization
SELECT zenml_rbac.create_service_account(:'org', 'org_ci_bot') AS bot \gset
SELECT p.kind, m.role FROM zenml_rbac.principal p
  JOIN zenml_rbac.org_role_assignment m ON m.principal_id = p.id WHERE p.id = :'bot';
-- a service account cannot join another organization
SELECT zenml_rbac.set_org_role(:'other', :'bot', 'org_viewer');

-- remove_org_member drops org role, teams, tenant roles and shares
SELECT zenml_rbac.register_resource(:'prod', 'model/10000000-0000-0000-0000-000000000001', :'ann');
SELECT zenml_rbac.grant_tenant_role(:'prod', :'vi', 'viewer');
SELECT zenml_rbac.share_resource(:'prod', 'model/10000000-0000-0000-0000-000000000001', :'vi', ARRAY['update']);
SELECT zenml_rbac.remove_org_member(:'org', :'vi');
SELECT (SELECT count(*) FROM zenml_rbac.org_role_assignment WHERE principal_id = :'vi') AS org_roles,
       (SELECT count(*) FROM zenml_rbac.team_member WHERE member_id = :'vi') AS teams,
       (SELECT count(*) FROM zenml_rbac.tenant_role_assignment WHERE principal_id = :'vi') AS tenant_roles,
       (SELECT count(*) FROM zenml_rbac.resource_grant WHERE principal_id = :'vi') AS shares;
-- removing what is not there succeeds and changes nothing
SELECT zenml_rbac.remove_org_member(:'org', :'vi');
-- a service account can be removed from its own organization
SELECT zenml_rbac.remove_org_member(:'org', :'bot');
-- a removed owner keeps owning the resource record
SELECT zenml_rbac.remove_org_member(:'org', :'ann');
SELECT owner_id = :'ann' AS owner_kept FROM zenml_rbac.resource WHERE tenant_id = :'prod';

SELECT zenml_rbac.delete_organization(:'org');
SELECT zenml_rbac.delete_organization(:'other');
DELETE FROM zenml_rbac.principal WHERE name LIKE 'org\_%';
