-- Ownership and sharing of resource instances.
\set VERBOSITY terse

SELECT zenml_rbac.create_organization('sh_org') AS org \gset
SELECT zenml_rbac.create_tenant(:'org', 'prod') AS prod \gset
SELECT zenml_rbac.create_tenant(:'org', 'dev') AS dev \gset
SELECT zenml_rbac.create_user('sh_owner') AS owner \gset
SELECT zenml_rbac.create_user('sh_viewer') AS viewer \gset
SELECT zenml_rbac.create_user('sh_guest') AS guest \gset
SELECT zenml_rbac.create_user('sh_stranger') AS stranger \gset
SELECT zenml_rbac.set_org_role(:'org', :'owner', 'org_viewer');
SELECT zenml_rbac.set_org_role(:'org', :'viewer', 'org_viewer');
SELECT zenml_rbac.set_org_role(:'org', :'guest', 'org_viewer');
SELECT zenml_rbac.create_team(:'org', 'sh_team') AS team \gset
SELECT zenml_rbac.add_team_member(:'team', :'viewer');
SELECT zenml_rbac.grant_tenant_role(:'prod', :'owner', 'viewer');
SELECT zenml_rbac.grant_tenant_role(:'prod', :'viewer', 'viewer');
\set m1 'model/a0000000-0000-0000-0000-000000000001'
\set m2 'model/a0000000-0000-0000-0000-000000000002'
\set p1 'pipeline/a0000000-0000-0000-0000-000000000001'

-- the owner has every action on its resource while a member, whatever its role
SELECT zenml_rbac.register_resource(:'prod', :'m1', :'owner');
SELECT zenml_rbac.register_resource(:'prod', :'m2', :'owner');
SELECT a AS action,
       zenml_rbac.rbac_can(:'owner'::uuid, :'prod'::uuid, :'m1', a) AS own_instance,
       zenml_rbac.rbac_can(:'owner'::uuid, :'prod'::uuid, 'model', a) AS type_level,
       zenml_rbac.rbac_can(:'viewer'::uuid, :'prod'::uuid, :'m1', a) AS other_viewer
  FROM unnest(ARRAY['create', 'read', 'update', 'delete', 'share']) a;

-- type and id together identify a resource; grants count only in their tenant
SELECT zenml_rbac.rbac_can(:'owner'::uuid, :'prod'::uuid, :'p1', 'delete') AS same_id_other_type,
       zenml_rbac.rbac_can(:'owner'::uuid, :'dev'::uuid, :'m1', 'read') AS other_tenant;
-- an unregistered id answers the type-level permission
SELECT zenml_rbac.rbac_can(:'viewer'::uuid, :'prod'::uuid, 'model/a0000000-0000-0000-0000-0000000000ff', 'read') AS unregistered_read,
       zenml_rbac.rbac_can(:'viewer'::uuid, :'prod'::uuid, 'model/a0000000-0000-0000-0000-0000000000ff', 'update') AS unregistered_update;

-- sharing replaces the principal's action set on the resource
BEGIN;
SELECT zenml_rbac.set_principal(:'owner');
SELECT zenml_rbac.share_resource(:'prod', :'m1', :'viewer', ARRAY['update', 'delete', 'update']);
COMMIT;
SELECT actions FROM zenml_rbac.resource_grant WHERE principal_id = :'viewer';
SELECT zenml_rbac.rbac_can(:'viewer'::uuid, :'prod'::uuid, :'m1', 'update') AS m1_update,
       zenml_rbac.rbac_can(:'viewer'::uuid, :'prod'::uuid, :'m2', 'update') AS m2_update,
       zenml_rbac.rbac_can(:'viewer'::uuid, :'prod'::uuid, 'model', 'update') AS type_update,
       zenml_rbac.rbac_can(:'viewer'::uuid, :'prod'::uuid, :'m1', 'share') AS m1_share;
SELECT zenml_rbac.share_resource(:'prod', :'m1', :'viewer', ARRAY['read']);
SELECT zenml_rbac.rbac_can(:'viewer'::uuid, :'prod'::uuid, :'m1', 'update') AS replaced;
SELECT zenml_rbac.share_resource(:'prod', :'m1', :'viewer', ARRAY['read']);   -- same again: no-op
-- an empty array unshares
SELECT zenml_rbac.share_resource(:'prod', :'m1', :'viewer', ARRAY[]::text[]);
SELECT count(*) AS grants_left FROM zenml_rbac.resource_grant WHERE principal_id = :'viewer';

-- sharing with a non-member gives implicit membership: those resources only
SELECT zenml_rbac.share_resource(:'prod', :'m1', :'guest', ARRAY['read', 'update']);
SELECT zenml_rbac.rbac_can(:'guest'::uuid, :'prod'::uuid, :'m1', 'read') AS shared_read,
       zenml_rbac.rbac_can(:'guest'::uuid, :'prod'::uuid, :'m2', 'read') AS other_read,
       zenml_rbac.rbac_can(:'guest'::uuid, :'prod'::uuid, 'model', 'read') AS type_read;
-- implicit membership gives no owner rights
SELECT zenml_rbac.register_resource(:'prod', 'model/a0000000-0000-0000-0000-000000000003', :'guest');
SELECT zenml_rbac.share_resource(:'prod', 'model/a0000000-0000-0000-0000-000000000003', :'guest', ARRAY['read']);
SELECT zenml_rbac.rbac_can(:'guest'::uuid, :'prod'::uuid, 'model/a0000000-0000-0000-0000-000000000003', 'delete') AS nonmember_owner_deletes,
       zenml_rbac.rbac_can(:'guest'::uuid, :'prod'::uuid, 'model/a0000000-0000-0000-0000-000000000003', 'read') AS shared_read;

-- shares to a team reach its members
SELECT zenml_rbac.share_resource(:'prod', :'m2', :'team', ARRAY['delete']);
SELECT zenml_rbac.rbac_can(:'viewer'::uuid, :'prod'::uuid, :'m2', 'delete') AS via_team,
       zenml_rbac.rbac_can(:'owner'::uuid, :'prod'::uuid, :'m2', 'delete') AS owner_still;

-- create is type-level only and cannot be shared; principals outside the
-- organization cannot be shared with; the resource must be registered
SELECT zenml_rbac.share_resource(:'prod', :'m1', :'guest', ARRAY['create']);
SELECT zenml_rbac.share_resource(:'prod', :'m1', :'stranger', ARRAY['read']);
SELECT zenml_rbac.share_resource(:'prod', 'model/a0000000-0000-0000-0000-0000000000ff', :'guest', ARRAY['read']);

-- no escalation: a sharer must hold share and every action it hands out
BEGIN;
SELECT zenml_rbac.set_principal(:'guest');
SELECT zenml_rbac.share_resource(:'prod', :'m1', :'viewer', ARRAY['read']);
ROLLBACK;
SELECT zenml_rbac.share_resource(:'prod', :'m1', :'guest', ARRAY['read', 'share']);
BEGIN;
SELECT zenml_rbac.set_principal(:'guest');
SELECT zenml_rbac.share_resource(:'prod', :'m1', :'viewer', ARRAY['read', 'delete']);
ROLLBACK;
BEGIN;
SELECT zenml_rbac.set_principal(:'guest');
SELECT zenml_rbac.share_resource(:'prod', :'m1', :'viewer', ARRAY['read']);
COMMIT;
SELECT zenml_rbac.rbac_can(:'viewer'::uuid, :'prod'::uuid, :'m1', 'read') AS reshared;

-- deleting a resource removes its grants
SELECT count(*) AS grants_on_m1 FROM zenml_rbac.resource_grant
 WHERE resource_id = 'a0000000-0000-0000-0000-000000000001';
BEGIN;
SELECT zenml_rbac.set_principal(:'viewer');
SELECT zenml_rbac.delete_resource(:'prod', :'m1');
ROLLBACK;
BEGIN;
SELECT zenml_rbac.set_principal(:'owner');
SELECT zenml_rbac.delete_resource(:'prod', :'m1');
COMMIT;
SELECT count(*) AS grants_on_m1 FROM zenml_rbac.resource_grant
 WHERE resource_id = 'a0000000-0000-0000-0000-000000000001';
SELECT zenml_rbac.rbac_can(:'guest'::uuid, :'prod'::uuid, :'m1', 'read') AS after_delete;
SELECT zenml_rbac.delete_resource(:'prod', :'m1');   -- gone: no-op

-- registering twice with the same owner is a no-op; another owner is refused
SELECT zenml_rbac.register_resource(:'prod', :'m2', :'owner');
SELECT zenml_rbac.register_resource(:'prod', :'m2', :'viewer');
SELECT zenml_rbac.register_resource(:'prod', 'model', :'owner');
SELECT zenml_rbac.register_resource(:'prod', :'m2', :'stranger');

SELECT zenml_rbac.delete_organization(:'org');
DELETE FROM zenml_rbac.principal WHERE name LIKE 'sh\_%';
