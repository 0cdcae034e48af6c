-- Membership transitions (README: Concepts): whoever stops being a member of a
-- tenant loses every share it held there; others keep theirs.
\set VERBOSITY terse

SELECT zenml_rbac.create_organization('mb_org') AS org \gset
SELECT zenml_rbac.create_tenant(:'org', 'prod') AS prod \gset
SELECT zenml_rbac.create_tenant(:'org', 'dev') AS dev \gset
SELECT zenml_rbac.create_user('mb_owner') AS owner \gset
SELECT zenml_rbac.create_user('mb_alice') AS alice \gset
SELECT zenml_rbac.create_user('mb_bob') AS bob \gset
SELECT zenml_rbac.create_user('mb_guest') AS guest \gset
SELECT zenml_rbac.set_org_role(:'org', :'owner', 'org_viewer');
SELECT zenml_rbac.set_org_role(:'org', :'alice', 'org_viewer');
SELECT zenml_rbac.set_org_role(:'org', :'bob', 'org_viewer');
SELECT zenml_rbac.set_org_role(:'org', :'guest', 'org_viewer');
SELECT zenml_rbac.create_team(:'org', 'mb_team') AS team \gset
SELECT zenml_rbac.grant_tenant_role(:'prod', :'owner', 'admin');
SELECT zenml_rbac.grant_tenant_role(:'dev', :'owner', 'admin');
\set m1 'model/b0000000-0000-0000-0000-000000000001'
\set m2 'model/b0000000-0000-0000-0000-000000000002'
\set d1 'model/b0000000-0000-0000-0000-0000000000d1'
SELECT zenml_rbac.register_resource(:'prod', :'m1', :'owner');
SELECT zenml_rbac.register_resource(:'prod', :'m2', :'owner');
SELECT zenml_rbac.register_resource(:'dev', :'d1', :'owner');

CREATE TEMP VIEW shares AS
SELECT p.name, t.name AS tenant, g.resource_id, g.actions
  FROM zenml_rbac.resource_grant g
  JOIN zenml_rbac.principal p ON p.id = g.principal_id
  JOIN zenml_rbac.tenant t ON t.id = g.tenant_id
 ORDER BY 1, 2, 3;

-- 1. revoking the last direct role
SELECT zenml_rbac.grant_tenant_role(:'prod', :'alice', 'viewer');
SELECT zenml_rbac.grant_tenant_role(:'prod', :'alice', 'editor');
SELECT zenml_rbac.share_resource(:'prod', :'m1', :'alice', ARRAY['update']);
SELECT zenml_rbac.grant_tenant_role(:'dev', :'alice', 'viewer');
SELECT zenml_rbac.share_resource(:'dev', :'d1', :'alice', ARRAY['update']);
SELECT zenml_rbac.revoke_tenant_role(:'prod', :'alice', 'viewer');   -- still editor: keeps the share
SELECT * FROM shares;
SELECT zenml_rbac.revoke_tenant_role(:'prod', :'alice', 'editor');   -- last role in prod: share goes
SELECT * FROM shares;                                                 -- the dev share stays

-- 2. an implicit member (shares only, never a member) keeps its shares
SELECT zenml_rbac.share_resource(:'prod', :'m1', :'guest', ARRAY['read']);
SELECT zenml_rbac.grant_tenant_role(:'prod', :'bob', 'viewer');
SELECT zenml_rbac.revoke_tenant_role(:'prod', :'bob', 'viewer');
SELECT * FROM shares;

-- 3. leaving the team that gave the membership
SELECT zenml_rbac.add_team_member(:'team', :'bob');
SELECT zenml_rbac.grant_tenant_role(:'prod', :'team', 'viewer');
SELECT zenml_rbac.share_resource(:'prod', :'m2', :'bob', ARRAY['delete']);
SELECT zenml_rbac.share_resource(:'prod', :'m2', :'team', ARRAY['update']);
SELECT zenml_rbac.remove_team_member(:'team', :'bob');
SELECT * FROM shares;

-- 4. a member of the team that keeps a direct role keeps its shares
SELECT zenml_rbac.add_team_member(:'team', :'alice');
SELECT zenml_rbac.grant_tenant_role(:'prod', :'alice', 'viewer');
SELECT zenml_rbac.share_resource(:'prod', :'m2', :'alice', ARRAY['read']);
SELECT zenml_rbac.remove_team_member(:'team', :'alice');
SELECT * FROM shares WHERE name = 'mb_alice';

-- 5. revoking a team's role: the team and the members it made members lose
--    their shares
SELECT zenml_rbac.add_team_member(:'team', :'bob');
SELECT zenml_rbac.share_resource(:'prod', :'m1', :'bob', ARRAY['update']);
SELECT zenml_rbac.share_resource(:'prod', :'m1', :'team', ARRAY['read']);
SELECT zenml_rbac.revoke_tenant_role(:'prod', :'team', 'viewer');
SELECT * FROM shares;
SELECT zenml_rbac.rbac_can(:'bob'::uuid, :'prod'::uuid, :'m1', 'update') AS own_share_gone,
       zenml_rbac.rbac_can(:'bob'::uuid, :'prod'::uuid, 'model', 'read') AS type_read;

-- 5b. a principal that stops being a member still reaches what is shared
--     with a team it belongs to (the team here is an implicit member)
SELECT zenml_rbac.share_resource(:'prod', :'m2', :'team', ARRAY['read']);
SELECT zenml_rbac.grant_tenant_role(:'prod', :'bob', 'viewer');
SELECT zenml_rbac.revoke_tenant_role(:'prod', :'bob', 'viewer');
SELECT zenml_rbac.rbac_can(:'bob'::uuid, :'prod'::uuid, :'m2', 'read') AS via_team_share,
       zenml_rbac.rbac_can(:'bob'::uuid, :'prod'::uuid, 'model', 'read') AS type_read;
SELECT zenml_rbac.share_resource(:'prod', :'m2', :'team', ARRAY[]::text[]);

-- 6. dropping a custom role ends membership for its only holders
SELECT zenml_rbac.create_role(:'prod', 'temp', '', 'viewer') IS NOT NULL AS created;
SELECT zenml_rbac.grant_tenant_role(:'prod', :'bob', 'temp');
SELECT zenml_rbac.share_resource(:'prod', :'m1', :'bob', ARRAY['update']);
SELECT zenml_rbac.drop_role(:'prod', 'temp');
SELECT * FROM shares WHERE name = 'mb_bob';

-- 7. deleting a team ends membership of those who were members only through it
SELECT zenml_rbac.grant_tenant_role(:'prod', :'team', 'viewer');
SELECT zenml_rbac.share_resource(:'prod', :'m1', :'bob', ARRAY['update']);
SELECT zenml_rbac.delete_team(:'team');
SELECT * FROM shares;

-- 8. leaving the organization drops every share in it, but ownership stays
SELECT zenml_rbac.share_resource(:'dev', :'d1', :'owner', ARRAY['read']);
SELECT count(*) AS owner_shares FROM zenml_rbac.resource_grant WHERE principal_id = :'owner';
SELECT zenml_rbac.remove_org_member(:'org', :'owner');
SELECT count(*) AS owner_shares FROM zenml_rbac.resource_grant WHERE principal_id = :'owner';
SELECT * FROM shares;
SELECT count(*) AS still_owned FROM zenml_rbac.resource WHERE owner_id = :'owner';
SELECT zenml_rbac.rbac_can(:'owner'::uuid, :'prod'::uuid, :'m1', 'read') AS former_owner_reads;

SELECT zenml_rbac.delete_organization(:'org');
DELETE FROM zenml_rbac.principal WHERE name LIKE 'mb\_%';
