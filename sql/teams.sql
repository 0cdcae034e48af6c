-- Teams: membership, roles through teams, no nesting, organization scope.
\set VERBOSITY terse

SELECT zenml_rbac.create_organization('tm_org') AS org \gset
SELECT zenml_rbac.create_organization('tm_other') AS other \gset
SELECT zenml_rbac.create_tenant(:'org', 'prod') AS prod \gset
SELECT zenml_rbac.create_user('tm_alice') AS alice \gset
SELECT zenml_rbac.create_user('tm_stranger') AS stranger \gset
SELECT zenml_rbac.set_org_role(:'org', :'alice', 'org_viewer');
SELECT zenml_rbac.create_service_account(:'org', 'tm_bot') AS bot \gset
SELECT zenml_rbac.create_team(:'org', 'ml') AS ml \gset
SELECT zenml_rbac.create_team(:'org', 'ops') AS ops \gset
SELECT zenml_rbac.create_team(:'other', 'ml') AS other_ml \gset

-- members are users and service accounts of the organization
SELECT zenml_rbac.add_team_member(:'ml', :'alice');
SELECT zenml_rbac.add_team_member(:'ml', :'bot');
SELECT zenml_rbac.add_team_member(:'ml', :'alice');     -- twice: no change, no error
SELECT zenml_rbac.add_team_member(:'ml', :'stranger');  -- not an org member
SELECT zenml_rbac.add_team_member(:'ml', :'ops');       -- teams do not nest
SELECT zenml_rbac.add_team_member(:'other_ml', :'alice');
SELECT count(*) AS members FROM zenml_rbac.team_member WHERE team_id = :'ml';

-- a team's tenant role reaches every member
SELECT zenml_rbac.grant_tenant_role(:'prod', :'ml', 'editor');
SELECT zenml_rbac.rbac_can(:'alice'::uuid, :'prod'::uuid, 'model', 'create') AS alice,
       zenml_rbac.rbac_can(:'bot'::uuid, :'prod'::uuid, 'model', 'create') AS bot,
       zenml_rbac.rbac_can(:'ml'::uuid, :'prod'::uuid, 'model', 'create') AS team_itself;
-- a team of another organization cannot hold a role here
SELECT zenml_rbac.grant_tenant_role(:'prod', :'other_ml', 'viewer');

-- own roles and team roles add up
SELECT zenml_rbac.grant_tenant_role(:'prod', :'ops', 'viewer');
SELECT zenml_rbac.add_team_member(:'ops', :'alice');
SELECT zenml_rbac.grant_tenant_role(:'prod', :'alice', 'viewer');
SELECT zenml_rbac.rbac_can(:'alice'::uuid, :'prod'::uuid, 'model', 'share') AS union_of_roles;

-- leaving the team takes its role away at once
SELECT zenml_rbac.remove_team_member(:'ml', :'alice');
SELECT zenml_rbac.rbac_can(:'alice'::uuid, :'prod'::uuid, 'model', 'create') AS after_leaving,
       zenml_rbac.rbac_can(:'alice'::uuid, :'prod'::uuid, 'model', 'read') AS own_role_kept;
SELECT zenml_rbac.remove_team_member(:'ml', :'alice');  -- again: no-op

-- revoking the team's role takes it from every member
SELECT zenml_rbac.revoke_tenant_role(:'prod', :'ml', 'editor');
SELECT zenml_rbac.rbac_can(:'bot'::uuid, :'prod'::uuid, 'model', 'read') AS bot_after_revoke;

-- deleting a team removes its memberships and roles
SELECT zenml_rbac.delete_team(:'ops');
SELECT (SELECT count(*) FROM zenml_rbac.team_member WHERE team_id = :'ops') AS memberships,
       (SELECT count(*) FROM zenml_rbac.tenant_role_assignment WHERE principal_id = :'ops') AS roles;
\set VERBOSITY sqlstate
SELECT zenml_rbac.delete_team(:'ops');  -- it is gone (the message names its id)
\set VERBOSITY terse

-- a deactivated member gets nothing through its teams
SELECT zenml_rbac.grant_tenant_role(:'prod', :'ml', 'viewer');
SELECT zenml_rbac.deactivate_user(:'bot');
SELECT zenml_rbac.rbac_can(:'bot'::uuid, :'prod'::uuid, 'model', 'read') AS deactivated_member;
SELECT zenml_rbac.add_team_member(:'ml', :'bot');   -- still allowed to be added

SELECT zenml_rbac.delete_organization(:'org');
SELECT zenml_rbac.delete_organization(:'other');
DELETE FROM zenml_rbac.principal WHERE name LIKE 'tm\_%';
