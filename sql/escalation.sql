-- No escalation through the indirect ways of handing something out: adding
-- a member to a team hands out everything the team holds (org role, tenant
-- roles, shares); creating or rotating an API key of a service account
-- everything the account holds; moving a protected row out of its tenant
-- takes it away from there.  Each attack is refused with 42501 and leaves
-- the catalog and the table as they were; each has a control that the
-- same call goes through when nothing is handed out.
\set VERBOSITY terse

CREATE ROLE regress_esc_pool;
GRANT EXECUTE ON FUNCTION zenml_rbac.set_principal(uuid) TO regress_esc_pool;

SELECT zenml_rbac.create_organization('esc_org') AS org \gset
SELECT zenml_rbac.create_tenant(:'org', 'esc_main') AS main \gset
SELECT zenml_rbac.create_tenant(:'org', 'esc_lab') AS lab \gset
SELECT zenml_rbac.create_tenant(:'org', 'esc_vault') AS vault \gset
SELECT zenml_rbac.create_tenant(:'org', 'esc_shared') AS shared \gset
SELECT zenml_rbac.create_user('esc_mallory') AS mallory \gset
SELECT zenml_rbac.create_user('esc_alice') AS alice \gset
SELECT zenml_rbac.set_org_role(:'org', :'mallory', 'org_editor');
SELECT zenml_rbac.set_org_role(:'org', :'alice', 'org_viewer');
-- mallory: admin of main and lab, editor of shared, nothing in vault
SELECT zenml_rbac.grant_tenant_role(:'main', :'mallory', 'admin');
SELECT zenml_rbac.grant_tenant_role(:'lab', :'mallory', 'admin');
SELECT zenml_rbac.grant_tenant_role(:'shared', :'mallory', 'editor');
SELECT zenml_rbac.grant_tenant_role(:'vault', :'alice', 'admin');

CREATE TABLE esc_models (id uuid PRIMARY KEY, tenant_id uuid NOT NULL, name text NOT NULL);
CREATE INDEX ON esc_models (tenant_id);
SELECT zenml_rbac.protect('esc_models', 'model', 'tenant_id');
GRANT SELECT, INSERT, UPDATE, DELETE ON esc_models TO regress_esc_pool;
INSERT INTO esc_models VALUES
    ('e0000000-0000-4000-8000-000000000001', :'vault', 'vault-shared-update'),
    ('e0000000-0000-4000-8000-000000000002', :'vault', 'vault-shared-read'),
    ('e0000000-0000-4000-8000-000000000003', :'main', 'main-1'),
    ('e0000000-0000-4000-8000-000000000004', :'shared', 'shared-edit');
SELECT zenml_rbac.register_resource(:'vault', 'model/e0000000-0000-4000-8000-000000000001', NULL);
SELECT zenml_rbac.register_resource(:'vault', 'model/e0000000-0000-4000-8000-000000000002', NULL);
SELECT zenml_rbac.register_resource(:'main', 'model/e0000000-0000-4000-8000-000000000003', NULL);
SELECT zenml_rbac.register_resource(:'shared', 'model/e0000000-0000-4000-8000-000000000004', NULL);
SELECT zenml_rbac.share_resource(:'shared', 'model/e0000000-0000-4000-8000-000000000004', :'mallory', '{update}');
-- mallory may update one vault row (a share), nothing more there
SELECT zenml_rbac.share_resource(:'vault', 'model/e0000000-0000-4000-8000-000000000001', :'mallory', '{update}');

-- teams: one with a share in vault, one with a role there, one with org_admin, one with nothing
SELECT zenml_rbac.create_team(:'org', 'esc_readers') AS readers \gset
SELECT zenml_rbac.create_team(:'org', 'esc_vaulters') AS vaulters \gset
SELECT zenml_rbac.create_team(:'org', 'esc_admins') AS admins \gset
SELECT zenml_rbac.create_team(:'org', 'esc_plain') AS plain \gset
SELECT zenml_rbac.share_resource(:'vault', 'model/e0000000-0000-4000-8000-000000000002', :'readers', '{read}');
SELECT zenml_rbac.grant_tenant_role(:'vault', :'vaulters', 'viewer');
SELECT zenml_rbac.set_org_role(:'org', :'admins', 'org_admin');
SELECT zenml_rbac.grant_tenant_role(:'main', :'plain', 'editor');

-- service accounts: org_admin; a vault share; a vault role; only what mallory holds
SELECT zenml_rbac.create_service_account(:'org', 'esc_root_bot') AS root_bot \gset
SELECT zenml_rbac.create_service_account(:'org', 'esc_share_bot') AS share_bot \gset
SELECT zenml_rbac.create_service_account(:'org', 'esc_vault_bot') AS vault_bot \gset
SELECT zenml_rbac.create_service_account(:'org', 'esc_main_bot') AS main_bot \gset
SELECT zenml_rbac.set_org_role(:'org', :'root_bot', 'org_admin');
SELECT zenml_rbac.share_resource(:'vault', 'model/e0000000-0000-4000-8000-000000000002', :'share_bot', '{read}');
SELECT zenml_rbac.grant_tenant_role(:'vault', :'vault_bot', 'viewer');
SELECT zenml_rbac.grant_tenant_role(:'main', :'main_bot', 'editor');
-- a team of the service account counts too: what the team holds, the key hands out
SELECT zenml_rbac.add_team_member(:'readers', :'main_bot') AS via_team \gset
SELECT zenml_rbac.create_service_account(:'org', 'esc_team_bot') AS team_bot \gset
SELECT zenml_rbac.add_team_member(:'readers', :'team_bot');
-- an account that owns a resource where mallory is only an editor
SELECT zenml_rbac.create_service_account(:'org', 'esc_owner_bot') AS owner_bot \gset
SELECT zenml_rbac.grant_tenant_role(:'shared', :'owner_bot', 'editor');
SELECT zenml_rbac.register_resource(:'shared', 'model/e0000000-0000-4000-8000-000000000005', :'owner_bot');
-- vic holds org_admin through a team only
SELECT zenml_rbac.create_user('esc_vic') AS vic \gset
SELECT zenml_rbac.set_org_role(:'org', :'vic', 'org_viewer');
SELECT zenml_rbac.add_team_member(:'admins', :'vic');

-- What the attacks could change, to compare before and after.
CREATE FUNCTION pg_temp.catalog_state() RETURNS text LANGUAGE sql AS $$
    SELECT md5(string_agg(x, ',' ORDER BY x)) FROM (
        SELECT format('tm:%s:%s', team_id, member_id) FROM zenml_rbac.team_member
        UNION ALL SELECT format('ak:%s:%s:%s', principal_id, retired_at IS NULL, revoked_at IS NULL) FROM zenml_rbac.api_key
        UNION ALL SELECT format('tr:%s:%s:%s', tenant_id, principal_id, role_id) FROM zenml_rbac.tenant_role_assignment
        UNION ALL SELECT format('or:%s:%s:%s', org_id, principal_id, role) FROM zenml_rbac.org_role_assignment
        UNION ALL SELECT format('rg:%s:%s:%s:%s', tenant_id, resource_id, principal_id, actions) FROM zenml_rbac.resource_grant
        UNION ALL SELECT format('rs:%s:%s', tenant_id, resource_id) FROM zenml_rbac.resource
        UNION ALL SELECT format('row:%s:%s', id, tenant_id) FROM esc_models) s(x);
$$;
-- Runs a statement as mallory and reports "ok, N rows" or its SQLSTATE and
-- message (ids masked); undone either way.
CREATE FUNCTION pg_temp.as_mallory(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    BEGIN
        PERFORM zenml_rbac.set_principal(current_setting('regress.mallory')::uuid);
        EXECUTE stmt;
        GET DIAGNOSTICS n = ROW_COUNT;
        RAISE EXCEPTION USING ERRCODE = 'ZZ000';
    EXCEPTION
        WHEN SQLSTATE 'ZZ000' THEN RETURN format('ok, %s rows', n);
        WHEN OTHERS THEN
            RETURN SQLSTATE || ' ' || regexp_replace(SQLERRM, '[0-9a-f]{8}-[0-9a-f-]{27}', '<id>', 'g');
    END;
END
$$;
SELECT pg_temp.catalog_state() AS before \gset
SELECT set_config('regress.mallory', :'mallory', false) IS NOT NULL AND set_config('regress.main', :'main', false) IS NOT NULL AS configured;

SET ROLE regress_esc_pool;
BEGIN;
-- Joining a team hands out its shares (finding 2), its tenant roles and its org role
SELECT pg_temp.as_mallory(format('SELECT zenml_rbac.add_team_member(%L, %L)', :'readers', :'mallory')) AS join_team_with_share;
SELECT pg_temp.as_mallory(format('SELECT zenml_rbac.add_team_member(%L, %L)', :'vaulters', :'mallory')) AS join_team_with_role;
SELECT pg_temp.as_mallory(format('SELECT zenml_rbac.add_team_member(%L, %L)', :'admins', :'mallory')) AS join_org_admin_team;
-- ... and adding anyone else hands it out to them
SELECT pg_temp.as_mallory(format('SELECT zenml_rbac.add_team_member(%L, %L)', :'readers', :'alice')) AS add_alice_to_team_with_share;
-- control: a team holding only what mallory holds
SELECT pg_temp.as_mallory(format('SELECT zenml_rbac.add_team_member(%L, %L)', :'plain', :'mallory')) AS control_join_plain_team;

-- A key of a service account hands out everything it holds (finding 1)
SELECT pg_temp.as_mallory(format('SELECT zenml_rbac.create_api_key(%L)', :'root_bot')) AS key_of_org_admin_account;
SELECT pg_temp.as_mallory(format('SELECT zenml_rbac.rotate_api_key(%L)', :'root_bot')) AS rotate_key_of_org_admin_account;
SELECT pg_temp.as_mallory(format('SELECT zenml_rbac.create_api_key(%L)', :'share_bot')) AS key_of_account_with_share;
SELECT pg_temp.as_mallory(format('SELECT zenml_rbac.create_api_key(%L)', :'vault_bot')) AS key_of_account_with_role;
SELECT pg_temp.as_mallory(format('SELECT zenml_rbac.create_api_key(%L)', :'team_bot')) AS key_of_account_whose_team_has_share;
SELECT pg_temp.as_mallory(format('SELECT zenml_rbac.create_api_key(%L)', :'main_bot')) AS key_of_account_in_team_with_share;
SELECT pg_temp.as_mallory(format('SELECT zenml_rbac.create_api_key(%L)', :'owner_bot')) AS key_of_account_owning_a_resource;
-- taking away is not handing out: revoking the org_admin account's keys is member:update only
SELECT pg_temp.as_mallory(format('SELECT zenml_rbac.revoke_api_key(%L)', :'root_bot')) AS control_revoke_key;

-- Removing someone from the organization takes org_admin away from it,
-- also when it holds org_admin through a team
SELECT pg_temp.as_mallory(format('SELECT zenml_rbac.remove_org_member(%L, %L)', :'org', :'vic')) AS remove_org_admin_via_team;
SELECT pg_temp.as_mallory(format('SELECT zenml_rbac.remove_org_member(%L, %L)', :'org', :'alice')) AS control_remove_member;

-- Moving a row out of its tenant needs delete there (finding 4): an update
-- share is not enough, however the principal holds create where it lands.
SELECT pg_temp.as_mallory(format($q$UPDATE esc_models SET tenant_id = %L WHERE name = 'shared-edit'$q$, :'main')) AS move_shared_row_out;
SELECT pg_temp.as_mallory($q$UPDATE esc_models SET id = gen_random_uuid() WHERE name = 'shared-edit'$q$) AS change_id_of_shared_row;
-- A row it may not even read: an UPDATE that reads no column passes the
-- UPDATE policy alone, so the vault row is among the rows it writes.
SELECT pg_temp.as_mallory($q$SELECT 1 FROM esc_models WHERE name LIKE 'vault%'$q$) AS vault_rows_visible;
SELECT pg_temp.as_mallory(format($q$UPDATE esc_models SET tenant_id = %L$q$, :'main')) AS move_unreadable_row_out;
-- controls: an update share changes the row in place; delete in main and
-- create in lab move a row between them
SELECT pg_temp.as_mallory($q$UPDATE esc_models SET name = 'shared-edited' WHERE name = 'shared-edit'$q$) AS control_update_in_place;
SELECT pg_temp.as_mallory(format($q$UPDATE esc_models SET tenant_id = %L WHERE name = 'main-1'$q$, :'lab')) AS control_move_with_rights;
COMMIT;
RESET ROLE;

SELECT pg_temp.catalog_state() = :'before' AS nothing_changed;

-- once the share carries delete, the move is the principal's to make
SELECT zenml_rbac.share_resource(:'vault', 'model/e0000000-0000-4000-8000-000000000001', :'mallory', '{update,delete}');
SELECT zenml_rbac.share_resource(:'shared', 'model/e0000000-0000-4000-8000-000000000004', :'mallory', '{update,delete}');
SET ROLE regress_esc_pool;
SELECT pg_temp.as_mallory(format($q$UPDATE esc_models SET tenant_id = %L WHERE name = 'shared-edit'$q$, :'main')) AS move_with_delete_share;
SELECT pg_temp.as_mallory(format($q$UPDATE esc_models SET tenant_id = %L$q$, :'main')) AS move_all_with_delete_shares;
RESET ROLE;

SELECT zenml_rbac.unprotect('esc_models');
DROP TABLE esc_models;
SELECT zenml_rbac.delete_organization(:'org');
DELETE FROM zenml_rbac.principal WHERE name IN ('esc_mallory', 'esc_alice', 'esc_vic');
REVOKE EXECUTE ON FUNCTION zenml_rbac.set_principal(uuid) FROM regress_esc_pool;
DROP ROLE regress_esc_pool;
