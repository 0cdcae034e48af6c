-- Custom roles: base + allowed - disallowed, live inheritance, edits,
-- refusals, and drop.
\set VERBOSITY terse

SELECT zenml_rbac.create_organization('cr_org') AS org \gset
SELECT zenml_rbac.create_tenant(:'org', 'prod') AS prod \gset
SELECT zenml_rbac.create_tenant(:'org', 'dev') AS dev \gset
SELECT zenml_rbac.create_user('cr_alice') AS alice \gset
SELECT zenml_rbac.set_org_role(:'org', :'alice', 'org_viewer');

-- a viewer that may also run pipelines
SELECT zenml_rbac.create_role(:'prod', 'runner', 'Viewer who runs pipelines', 'viewer') AS runner \gset
SELECT zenml_rbac.role_allow(:'prod', 'runner', 'pipeline_run', 'create');
SELECT zenml_rbac.grant_tenant_role(:'prod', :'alice', 'runner');
SELECT zenml_rbac.rbac_can(:'alice'::uuid, :'prod'::uuid, 'pipeline_run', 'create') AS runs,
       zenml_rbac.rbac_can(:'alice'::uuid, :'prod'::uuid, 'pipeline_run', 'read') AS reads,
       zenml_rbac.rbac_can(:'alice'::uuid, :'prod'::uuid, 'pipeline', 'create') AS creates_pipelines;

-- a role built on a custom role; disallow removes what the base gives
SELECT zenml_rbac.create_role(:'prod', 'blind_runner', 'Runner without secrets', 'runner') AS blind \gset
SELECT zenml_rbac.role_disallow(:'prod', 'blind_runner', 'secret', 'read');
SELECT resource_type, action FROM zenml_rbac.role_permissions(:'blind')
 WHERE resource_type IN ('secret', 'pipeline_run') ORDER BY 1, 2;

-- live inheritance: editing the base flows into every role built on it
SELECT zenml_rbac.role_allow(:'prod', 'runner', 'model', 'update');
SELECT zenml_rbac.role_disallow(:'prod', 'runner', 'pipeline_run', 'create');
SELECT resource_type, action FROM zenml_rbac.role_permissions(:'blind')
 WHERE action <> 'read' ORDER BY 1, 2;
-- a disallow is kept even when the base stops holding the permission...
SELECT zenml_rbac.role_disallow(:'prod', 'blind_runner', 'model', 'update');
SELECT zenml_rbac.role_disallow(:'prod', 'runner', 'model', 'update');
SELECT zenml_rbac.role_allow(:'prod', 'runner', 'model', 'update');
SELECT count(*) AS blind_updates_models FROM zenml_rbac.role_permissions(:'blind')
 WHERE resource_type = 'model' AND action = 'update';
-- ...and a later edit of the same pair replaces it
SELECT zenml_rbac.role_allow(:'prod', 'blind_runner', 'model', 'update');
SELECT count(*) AS blind_updates_models FROM zenml_rbac.role_permissions(:'blind')
 WHERE resource_type = 'model' AND action = 'update';
SELECT resource_type, action, allowed FROM zenml_rbac.role_permission
 WHERE role_id = :'blind' ORDER BY 1, 2;

-- holders see the change at once
SELECT zenml_rbac.grant_tenant_role(:'prod', :'alice', 'blind_runner');
SELECT zenml_rbac.revoke_tenant_role(:'prod', :'alice', 'runner');
SELECT zenml_rbac.rbac_can(:'alice'::uuid, :'prod'::uuid, 'secret', 'read') AS reads_secrets,
       zenml_rbac.rbac_can(:'alice'::uuid, :'prod'::uuid, 'model', 'update') AS updates_models;

-- custom roles belong to one tenant
SELECT zenml_rbac.grant_tenant_role(:'dev', :'alice', 'runner');
SELECT zenml_rbac.create_role(:'dev', 'runner', 'same name, other tenant', 'editor') IS NOT NULL AS created;

-- predefined roles cannot be edited, dropped or have their names reused
SELECT zenml_rbac.role_allow(:'prod', 'viewer', 'model', 'delete');
SELECT zenml_rbac.role_disallow(:'prod', 'admin', 'model', 'delete');
SELECT zenml_rbac.drop_role(:'prod', 'editor');
SELECT zenml_rbac.create_role(:'prod', 'admin', 'shadow', 'viewer');
SELECT zenml_rbac.create_role(:'prod', 'org_admin', 'shadow of the org role', 'viewer');
SELECT zenml_rbac.create_role(:'prod', 'runner', 'duplicate', 'viewer');
-- the base must exist in the same tenant
SELECT zenml_rbac.create_role(:'prod', 'orphan', '', 'no_such_role');
SELECT zenml_rbac.create_role(:'dev', 'cross', '', 'blind_runner');

-- drop is refused while another role builds on it
SELECT zenml_rbac.drop_role(:'prod', 'runner');
-- dropping revokes the role from every holder
SELECT zenml_rbac.drop_role(:'prod', 'blind_runner');
SELECT count(*) AS alice_roles_in_prod FROM zenml_rbac.tenant_role_assignment
 WHERE principal_id = :'alice' AND tenant_id = :'prod';
SELECT zenml_rbac.rbac_can(:'alice'::uuid, :'prod'::uuid, 'model', 'read') AS after_drop;
SELECT zenml_rbac.drop_role(:'prod', 'runner');
SELECT zenml_rbac.drop_role(:'prod', 'runner');   -- gone now

SELECT zenml_rbac.delete_organization(:'org');
DELETE FROM zenml_rbac.principal WHERE name LIKE 'cr\_%';
