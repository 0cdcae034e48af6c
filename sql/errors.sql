-- Every error path of the checks and the management API, with its SQLSTATE.
\set VERBOSITY terse
\set SHOW_CONTEXT never

SELECT zenml_rbac.create_organization('er_org') AS org \gset
SELECT zenml_rbac.create_tenant(:'org', 'prod') AS prod \gset
SELECT zenml_rbac.create_user('er_alice') AS alice \gset
SELECT zenml_rbac.set_org_role(:'org', :'alice', 'org_viewer');
SELECT zenml_rbac.create_team(:'org', 'er_team') AS team \gset

-- message, detail and hint, then the SQLSTATE psql recorded for the statement
\set VERBOSITY default
\set ON_ERROR_STOP 0

-- checks: names are validated first, whoever asks
SELECT zenml_rbac.rbac_can(NULL::uuid, NULL::uuid, 'modle', 'read');
\echo :SQLSTATE
SELECT zenml_rbac.rbac_can(:'alice'::uuid, :'prod'::uuid, 'model', 'fly');
\echo :SQLSTATE
SELECT zenml_rbac.rbac_can('e0000000-0000-0000-0000-0000000000ee', 'e0000000-0000-0000-0000-0000000000ee', 'Model', 'read');
\echo :SQLSTATE
SELECT zenml_rbac.rbac_can(:'alice'::uuid, :'prod'::uuid, 'model', 'READ');
\echo :SQLSTATE
SELECT zenml_rbac.rbac_can('nobody', 'no/where', 'nosuch', 'read');
\echo :SQLSTATE
SELECT zenml_rbac.rbac_can(:'prod'::uuid, 'model', 'erase');
\echo :SQLSTATE
-- malformed resource strings are 22P02
SELECT zenml_rbac.rbac_can(:'alice'::uuid, :'prod'::uuid, '', 'read');
\echo :SQLSTATE
SELECT zenml_rbac.rbac_can(:'alice'::uuid, :'prod'::uuid, 'model/', 'read');
\echo :SQLSTATE
SELECT zenml_rbac.rbac_can(:'alice'::uuid, :'prod'::uuid, 'model/not-a-uuid', 'read');
\echo :SQLSTATE
SELECT zenml_rbac.rbac_can(:'alice'::uuid, :'prod'::uuid, '/d0000000-0000-0000-0000-000000000001', 'read');
\echo :SQLSTATE
SELECT zenml_rbac.rbac_can(:'alice'::uuid, :'prod'::uuid, 'model/d0000000-0000-0000-0000-000000000001/x', 'read');
\echo :SQLSTATE
SELECT zenml_rbac.rbac_can(:'alice'::uuid, :'prod'::uuid, repeat('x', 100000), 'read');
\echo :SQLSTATE
-- NULL resource or action is an error; NULL principal or tenant is false
SELECT zenml_rbac.rbac_can(:'alice'::uuid, :'prod'::uuid, NULL, 'read');
\echo :SQLSTATE
SELECT zenml_rbac.rbac_can(:'alice'::uuid, :'prod'::uuid, 'model', NULL);
\echo :SQLSTATE
-- organization checks
SELECT zenml_rbac.rbac_org_can(:'alice'::uuid, :'org'::uuid, 'billings', 'read');
\echo :SQLSTATE
SELECT zenml_rbac.rbac_org_can(NULL::uuid, NULL::uuid, 'billing', 'pay');
\echo :SQLSTATE
SELECT zenml_rbac.rbac_org_can(:'alice'::uuid, :'org'::uuid, NULL, 'read');
\echo :SQLSTATE
-- accepted uuid spellings
SELECT zenml_rbac.parse_resource('model/D0000000-0000-0000-0000-00000000000A'),
       zenml_rbac.parse_resource('model/d000000000000000000000000000000a'),
       zenml_rbac.parse_resource('model');
\echo :SQLSTATE

-- names of objects
SELECT zenml_rbac.create_organization(NULL);
\echo :SQLSTATE
SELECT zenml_rbac.create_organization('');
\echo :SQLSTATE
SELECT zenml_rbac.create_organization('a/b');
\echo :SQLSTATE
SELECT zenml_rbac.create_organization(' padded');
\echo :SQLSTATE
SELECT zenml_rbac.create_organization(repeat('n', 256));
\echo :SQLSTATE
SELECT zenml_rbac.create_organization('er_org');
\echo :SQLSTATE
SELECT zenml_rbac.create_tenant(:'org', 'prod');
\echo :SQLSTATE
SELECT zenml_rbac.create_user('er_alice');
\echo :SQLSTATE
SELECT zenml_rbac.create_team(:'org', 'er_team');
\echo :SQLSTATE
SELECT zenml_rbac.create_service_account(:'org', E'bot\n');
\echo :SQLSTATE

-- objects that do not exist
SELECT zenml_rbac.delete_organization('e0000000-0000-0000-0000-0000000000ee');
\echo :SQLSTATE
SELECT zenml_rbac.delete_organization(NULL);
\echo :SQLSTATE
SELECT zenml_rbac.create_tenant('e0000000-0000-0000-0000-0000000000ee', 'x');
\echo :SQLSTATE
SELECT zenml_rbac.delete_tenant('e0000000-0000-0000-0000-0000000000ee');
\echo :SQLSTATE
SELECT zenml_rbac.grant_tenant_role('e0000000-0000-0000-0000-0000000000ee', :'alice', 'viewer');
\echo :SQLSTATE
SELECT zenml_rbac.delete_team('e0000000-0000-0000-0000-0000000000ee');
\echo :SQLSTATE
SELECT zenml_rbac.delete_team(:'alice');
\echo :SQLSTATE
SELECT zenml_rbac.deactivate_user('e0000000-0000-0000-0000-0000000000ee');
\echo :SQLSTATE
SELECT zenml_rbac.deactivate_user(:'team');
\echo :SQLSTATE
SELECT zenml_rbac.link_pg_role('e0000000-0000-0000-0000-0000000000ee', 'postgres');
\echo :SQLSTATE

-- principals that cannot take part
SELECT zenml_rbac.set_org_role(:'org', 'e0000000-0000-0000-0000-0000000000ee', 'org_viewer');
\echo :SQLSTATE
SELECT zenml_rbac.set_org_role(:'org', NULL, 'org_viewer');
\echo :SQLSTATE
SELECT zenml_rbac.grant_tenant_role(:'prod', 'e0000000-0000-0000-0000-0000000000ee', 'viewer');
\echo :SQLSTATE
SELECT zenml_rbac.grant_tenant_role(:'prod', NULL, 'viewer');
\echo :SQLSTATE
SELECT zenml_rbac.add_team_member(:'team', :'team');
\echo :SQLSTATE

-- role names
SELECT zenml_rbac.set_org_role(:'org', :'alice', 'org_owner');
\echo :SQLSTATE
SELECT zenml_rbac.set_org_role(:'org', :'alice', NULL);
\echo :SQLSTATE
SELECT zenml_rbac.grant_tenant_role(:'prod', :'alice', 'superuser');
\echo :SQLSTATE
SELECT zenml_rbac.create_role(:'prod', 'custom1', 'd', 'viewer') IS NOT NULL AS created;
\echo :SQLSTATE
SELECT zenml_rbac.grant_tenant_role(:'prod', :'alice', 'custom2');
\echo :SQLSTATE
SELECT zenml_rbac.revoke_tenant_role(:'prod', :'alice', 'nosuch');
\echo :SQLSTATE
SELECT zenml_rbac.role_allow(:'prod', 'nosuch', 'model', 'read');
\echo :SQLSTATE
SELECT zenml_rbac.role_allow(:'prod', 'custom1', 'modle', 'read');
\echo :SQLSTATE
SELECT zenml_rbac.role_allow(:'prod', 'custom1', 'model', 'fly');
\echo :SQLSTATE
SELECT zenml_rbac.role_allow(:'prod', 'custom1', 'model/d0000000-0000-0000-0000-000000000001', 'read');
\echo :SQLSTATE
SELECT zenml_rbac.role_allow(:'prod', 'custom1', NULL, 'read');
\echo :SQLSTATE
SELECT zenml_rbac.drop_role(:'prod', 'viewer');
\echo :SQLSTATE
SELECT zenml_rbac.drop_role(:'prod', 'nosuch');
\echo :SQLSTATE

-- resource types
SELECT zenml_rbac.register_resource_type('Data-Set');
\echo :SQLSTATE
SELECT zenml_rbac.register_resource_type('');
\echo :SQLSTATE
SELECT zenml_rbac.register_resource_type(NULL);
\echo :SQLSTATE

-- resources and shares
SELECT zenml_rbac.register_resource(:'prod', 'model', :'alice');
\echo :SQLSTATE
SELECT zenml_rbac.register_resource(:'prod', 'model/xyz', :'alice');
\echo :SQLSTATE
SELECT zenml_rbac.register_resource(:'prod', 'dataset/d0000000-0000-0000-0000-000000000001', :'alice');
\echo :SQLSTATE
SELECT zenml_rbac.register_resource(:'prod', NULL, :'alice');
\echo :SQLSTATE
SELECT zenml_rbac.register_resource(:'prod', 'model/d0000000-0000-0000-0000-000000000001', :'alice');
\echo :SQLSTATE
SELECT zenml_rbac.share_resource(:'prod', 'model/d0000000-0000-0000-0000-000000000001', :'alice', NULL);
\echo :SQLSTATE
SELECT zenml_rbac.share_resource(:'prod', 'model/d0000000-0000-0000-0000-000000000001', :'alice', ARRAY['read', NULL]);
\echo :SQLSTATE
SELECT zenml_rbac.share_resource(:'prod', 'model/d0000000-0000-0000-0000-000000000001', :'alice', ARRAY['read', 'fly']);
\echo :SQLSTATE
SELECT zenml_rbac.share_resource(:'prod', 'model/d0000000-0000-0000-0000-000000000001', :'alice', ARRAY['create']);
\echo :SQLSTATE
SELECT zenml_rbac.share_resource(:'prod', 'model/d0000000-0000-0000-0000-0000000000ff', :'alice', ARRAY['read']);
\echo :SQLSTATE

-- identity
SELECT zenml_rbac.set_principal('e0000000-0000-0000-0000-0000000000ee');
\echo :SQLSTATE
SELECT zenml_rbac.link_pg_role(:'alice', 'regress_no_such_role');
\echo :SQLSTATE

-- the invalidation trigger is only a trigger
SELECT zenml_rbac.catalog_changed();
\echo :SQLSTATE

\set ON_ERROR_STOP 1
\set VERBOSITY terse
SELECT zenml_rbac.delete_organization(:'org');
DELETE FROM zenml_rbac.principal WHERE name LIKE 'er\_%';
