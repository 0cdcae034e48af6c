-- Authorization of every management function by each kind of actor: the
-- system, org_admin, org_editor, org_viewer, tenant admin/editor/viewer, a
-- deactivated principal, a service account, and a login role with no
-- principal.  Identity is switched for real: SET ROLE plus set_principal.
\set VERBOSITY terse

CREATE ROLE regress_authz_app LOGIN;
GRANT EXECUTE ON FUNCTION zenml_rbac.set_principal(uuid) TO regress_authz_app;

SELECT zenml_rbac.create_organization('az_org') AS org \gset
SELECT zenml_rbac.create_tenant(:'org', 'prod') AS prod \gset
SELECT zenml_rbac.create_user('az_admin') AS oadmin \gset
SELECT zenml_rbac.create_user('az_editor') AS oeditor \gset
SELECT zenml_rbac.create_user('az_viewer') AS oviewer \gset
SELECT zenml_rbac.create_user('az_tadmin') AS tadmin \gset
SELECT zenml_rbac.create_user('az_teditor') AS teditor \gset
SELECT zenml_rbac.create_user('az_target') AS target \gset
SELECT zenml_rbac.create_user('az_gone') AS gone \gset
SELECT zenml_rbac.set_org_role(:'org', :'oadmin', 'org_admin');
SELECT zenml_rbac.set_org_role(:'org', :'oeditor', 'org_editor');
SELECT zenml_rbac.set_org_role(:'org', :'oviewer', 'org_viewer');
SELECT zenml_rbac.set_org_role(:'org', :'tadmin', 'org_viewer');
SELECT zenml_rbac.set_org_role(:'org', :'teditor', 'org_viewer');
SELECT zenml_rbac.set_org_role(:'org', :'target', 'org_viewer');
SELECT zenml_rbac.set_org_role(:'org', :'gone', 'org_admin');
SELECT zenml_rbac.grant_tenant_role(:'prod', :'tadmin', 'admin');
SELECT zenml_rbac.grant_tenant_role(:'prod', :'teditor', 'editor');
SELECT zenml_rbac.grant_tenant_role(:'prod', :'oviewer', 'viewer');
SELECT zenml_rbac.grant_tenant_role(:'prod', :'gone', 'admin');
SELECT zenml_rbac.deactivate_user(:'gone');
SELECT zenml_rbac.create_service_account(:'org', 'az_bot') AS bot \gset
SELECT zenml_rbac.create_team(:'org', 'az_team') AS team \gset
SELECT zenml_rbac.register_resource(:'prod', 'model/c0000000-0000-0000-0000-000000000001', :'teditor');

-- Runs one management call as a principal (through the application's login
-- role) and reports ok or the SQLSTATE and message it got; rolled back.
CREATE FUNCTION pg_temp.try_as(actor uuid, call text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        IF actor IS NOT NULL THEN
            PERFORM zenml_rbac.set_principal(actor);
        END IF;
        EXECUTE 'SELECT ' || call;
        RAISE EXCEPTION USING ERRCODE = 'ZZ000';   -- undo whatever the call did
    EXCEPTION
        WHEN SQLSTATE 'ZZ000' THEN RETURN 'ok';
        WHEN OTHERS THEN
            RETURN SQLSTATE || ' ' || regexp_replace(SQLERRM, '[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}', '<id>', 'g');
    END;
END
$$;
GRANT EXECUTE ON FUNCTION pg_temp.try_as(uuid, text) TO regress_authz_app;

CREATE TEMP TABLE actors (label text, id uuid, ord int);
INSERT INTO actors VALUES
    ('org_admin', :'oadmin', 1), ('org_editor', :'oeditor', 2), ('org_viewer+t_viewer', :'oviewer', 3),
    ('t_admin', :'tadmin', 4), ('t_editor', :'teditor', 5), ('deactivated', :'gone', 6),
    ('service_account', :'bot', 7), ('no_principal', NULL, 8);

CREATE TEMP TABLE calls (ord int, call text);
INSERT INTO calls VALUES
    (1,  format('zenml_rbac.create_organization(%L)', 'az_new_org')),
    (2,  format('zenml_rbac.delete_organization(%L)', :'org')),
    (3,  format('zenml_rbac.create_tenant(%L, %L)', :'org', 'staging')),
    (4,  format('zenml_rbac.delete_tenant(%L)', :'prod')),
    (5,  format('zenml_rbac.create_user(%L)', 'az_newbie')),
    (6,  format('zenml_rbac.create_service_account(%L, %L)', :'org', 'az_bot2')),
    (7,  format('zenml_rbac.deactivate_user(%L)', :'target')),
    (8,  format('zenml_rbac.deactivate_user(%L)', :'bot')),
    (9,  format('zenml_rbac.link_pg_role(%L, %L)', :'target', 'regress_authz_app')),
    (10, format('zenml_rbac.create_team(%L, %L)', :'org', 'az_team2')),
    (11, format('zenml_rbac.delete_team(%L)', :'team')),
    (12, format('zenml_rbac.add_team_member(%L, %L)', :'team', :'target')),
    (13, format('zenml_rbac.remove_team_member(%L, %L)', :'team', :'target')),
    (14, format('zenml_rbac.set_org_role(%L, %L, %L)', :'org', :'target', 'org_editor')),
    (15, format('zenml_rbac.set_org_role(%L, %L, %L)', :'org', :'target', 'org_admin')),
    (16, format('zenml_rbac.remove_org_member(%L, %L)', :'org', :'target')),
    (17, format('zenml_rbac.grant_tenant_role(%L, %L, %L)', :'prod', :'target', 'viewer')),
    (18, format('zenml_rbac.grant_tenant_role(%L, %L, %L)', :'prod', :'target', 'admin')),
    (19, format('zenml_rbac.revoke_tenant_role(%L, %L, %L)', :'prod', :'oviewer', 'viewer')),
    (20, format('zenml_rbac.create_role(%L, %L, %L, %L)', :'prod', 'az_role', '', 'viewer')),
    (21, format('zenml_rbac.register_resource_type(%L)', 'az_type')),
    (22, format('zenml_rbac.register_resource(%L, %L, %L)', :'prod', 'model/c0000000-0000-0000-0000-000000000002', :'teditor')),
    (23, format('zenml_rbac.share_resource(%L, %L, %L, %L)', :'prod', 'model/c0000000-0000-0000-0000-000000000001', :'target', '{read}')),
    (24, format('zenml_rbac.delete_resource(%L, %L)', :'prod', 'model/c0000000-0000-0000-0000-000000000001'));

GRANT SELECT ON actors, calls TO regress_authz_app;

-- the system (superuser, no principal) may do everything
SELECT c.ord, pg_temp.try_as(NULL, c.call) AS system
  FROM calls c WHERE c.ord IN (1, 4, 9, 21) ORDER BY c.ord;

SET ROLE regress_authz_app;
SELECT c.ord, a.label, pg_temp.try_as(a.id, c.call) AS result
  FROM calls c CROSS JOIN actors a
 ORDER BY c.ord, a.ord;
RESET ROLE;

-- custom role edits: role:create/update/delete, and no escalation
SELECT zenml_rbac.create_role(:'prod', 'az_custom', '', 'viewer') IS NOT NULL AS created;
SET ROLE regress_authz_app;
SELECT a.label,
       pg_temp.try_as(a.id, format('zenml_rbac.role_allow(%L, %L, %L, %L)', :'prod', 'az_custom', 'model', 'delete')) AS allow_delete,
       pg_temp.try_as(a.id, format('zenml_rbac.role_disallow(%L, %L, %L, %L)', :'prod', 'az_custom', 'model', 'read')) AS disallow_read,
       pg_temp.try_as(a.id, format('zenml_rbac.drop_role(%L, %L)', :'prod', 'az_custom')) AS drop_role,
       pg_temp.try_as(a.id, format('zenml_rbac.create_role(%L, %L, %L, %L)', :'prod', 'az_big', '', 'admin')) AS create_on_admin
  FROM actors a ORDER BY a.ord;
RESET ROLE;

-- a tenant editor given member:update still cannot hand out more than it holds
SELECT zenml_rbac.create_role(:'prod', 'az_manager', 'editor who manages members', 'editor') IS NOT NULL AS created;
SELECT zenml_rbac.role_allow(:'prod', 'az_manager', 'member', 'update');
SELECT zenml_rbac.grant_tenant_role(:'prod', :'teditor', 'az_manager');
SET ROLE regress_authz_app;
SELECT pg_temp.try_as(:'teditor', format('zenml_rbac.grant_tenant_role(%L, %L, %L)', :'prod', :'target', 'editor')) AS grant_editor,
       pg_temp.try_as(:'teditor', format('zenml_rbac.grant_tenant_role(%L, %L, %L)', :'prod', :'target', 'admin')) AS grant_admin,
       pg_temp.try_as(:'teditor', format('zenml_rbac.grant_tenant_role(%L, %L, %L)', :'prod', :'teditor', 'admin')) AS grant_self_admin;
RESET ROLE;

-- the catalog itself is not writable nor readable by an application role
SET ROLE regress_authz_app;
INSERT INTO zenml_rbac.tenant_role_assignment VALUES (:'prod', :'target', '00000000-0000-4000-8000-000000000001');
SELECT count(*) FROM zenml_rbac.principal;
RESET ROLE;

SELECT zenml_rbac.delete_organization(:'org');
DELETE FROM zenml_rbac.principal WHERE name LIKE 'az\_%';
DROP FUNCTION pg_temp.try_as(uuid, text);
DROP TABLE actors, calls;
REVOKE ALL ON FUNCTION zenml_rbac.set_principal(uuid) FROM regress_authz_app;
DROP ROLE regress_authz_app;
