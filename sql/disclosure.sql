-- What a caller without read access learns from errors: never whether an
-- object exists, never another organization's principal names, never the
-- custom role names of a tenant it may not read.  Each pair of calls below
-- differs only in whether the object exists, and must answer alike.
\set VERBOSITY default

CREATE ROLE regress_dc_pool;
GRANT EXECUTE ON FUNCTION zenml_rbac.set_principal(uuid) TO regress_dc_pool;

SELECT zenml_rbac.create_organization('dc_org') AS org \gset
SELECT zenml_rbac.create_organization('dc_other') AS other \gset
SELECT zenml_rbac.create_tenant(:'org', 'dc_open') AS open \gset
SELECT zenml_rbac.create_tenant(:'org', 'dc_closed') AS closed \gset
SELECT zenml_rbac.create_user('dc_eve') AS eve \gset
SELECT zenml_rbac.create_user('dc_alice') AS alice \gset
SELECT zenml_rbac.set_org_role(:'org', :'eve', 'org_viewer');
SELECT zenml_rbac.set_org_role(:'org', :'alice', 'org_viewer');
SELECT zenml_rbac.grant_tenant_role(:'open', :'eve', 'viewer');
SELECT zenml_rbac.grant_tenant_role(:'closed', :'alice', 'admin');
SELECT zenml_rbac.create_role(:'closed', 'dc_secret_project_role', 'a name that tells', 'viewer') IS NOT NULL AS created;
SELECT zenml_rbac.register_resource(:'closed', 'model/d0000000-0000-4000-8000-000000000001', :'alice');
SELECT zenml_rbac.create_service_account(:'other', 'dc_other_bot') AS other_bot \gset
SELECT zenml_rbac.create_team(:'other', 'dc_other_team') AS other_team \gset
SELECT zenml_rbac.create_tenant(:'other', 'dc_other_tenant') AS other_tenant \gset
SELECT zenml_rbac.create_user('dc_loner') AS loner \gset

-- The message, detail and hint a principal gets, with the ids masked.
CREATE FUNCTION pg_temp.as_who(who uuid, stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    m text;
    d text;
    h text;
BEGIN
    BEGIN
        PERFORM zenml_rbac.set_principal(who);
        EXECUTE stmt;
        RAISE EXCEPTION USING ERRCODE = 'ZZ000';
    EXCEPTION
        WHEN SQLSTATE 'ZZ000' THEN RETURN 'ok';
        WHEN OTHERS THEN
            GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
            RETURN regexp_replace(concat_ws(' | ', SQLSTATE, m, nullif(d, ''), nullif(h, '')),
                                  '[0-9a-f]{8}-[0-9a-f-]{27}', '<id>', 'g');
    END;
END
$$;
CREATE FUNCTION pg_temp.as_eve(stmt text) RETURNS text LANGUAGE sql
    AS $$ SELECT pg_temp.as_who(current_setting('regress.eve')::uuid, stmt) $$;
SELECT set_config('regress.eve', :'eve', false) IS NOT NULL AS configured;
SET ROLE regress_dc_pool;

-- finding 13: sharing a registered and an unregistered instance of a tenant eve cannot read
SELECT pg_temp.as_eve(format($q$SELECT zenml_rbac.share_resource(%L, 'model/d0000000-0000-4000-8000-000000000001', %L, '{read}')$q$, :'closed', :'eve')) AS share_registered;
SELECT pg_temp.as_eve(format($q$SELECT zenml_rbac.share_resource(%L, 'model/d0000000-0000-4000-8000-0000000000ff', %L, '{read}')$q$, :'closed', :'eve')) AS share_unregistered;
-- a tenant eve reads: the same for both too (viewer holds no share)
SELECT pg_temp.as_eve(format($q$SELECT zenml_rbac.share_resource(%L, 'model/d0000000-0000-4000-8000-000000000001', %L, '{read}')$q$, :'open', :'eve')) AS share_in_open_registered_elsewhere;
-- another tenant's custom role names are not listed in a hint
SELECT pg_temp.as_eve(format($q$SELECT zenml_rbac.grant_tenant_role(%L, %L, 'no_such_role')$q$, :'closed', :'eve')) AS role_hint_closed;
-- principals outside the organization: existing or not, a service account,
-- a team or a user of another organization read alike, without their names
SELECT pg_temp.as_eve(format($q$SELECT zenml_rbac.share_resource(%L, 'model/d0000000-0000-4000-8000-000000000001', %L, '{}')$q$, :'closed', :'other_bot')) AS other_org_bot;
SELECT pg_temp.as_eve(format($q$SELECT zenml_rbac.create_api_key(%L)$q$, :'other_bot')) AS key_of_other_org_bot;
SELECT pg_temp.as_eve(format($q$SELECT zenml_rbac.create_api_key(%L)$q$, gen_random_uuid())) AS key_of_unknown;
SELECT pg_temp.as_eve(format($q$SELECT zenml_rbac.create_api_key(%L)$q$, :'loner')) AS key_of_user;
SELECT pg_temp.as_eve(format($q$SELECT zenml_rbac.deactivate_user(%L)$q$, :'other_bot')) AS deactivate_other_org_bot;
SELECT pg_temp.as_eve(format($q$SELECT zenml_rbac.deactivate_user(%L)$q$, gen_random_uuid())) AS deactivate_unknown;
SELECT pg_temp.as_eve(format($q$SELECT zenml_rbac.deactivate_user(%L)$q$, :'other_team')) AS deactivate_other_org_team;
SELECT pg_temp.as_eve(format($q$SELECT zenml_rbac.set_org_role(%L, %L, 'org_viewer')$q$, :'org', :'other_bot')) AS set_org_role_other_org_bot;
SELECT pg_temp.as_eve(format($q$SELECT zenml_rbac.set_org_role(%L, %L, 'org_viewer')$q$, :'org', gen_random_uuid())) AS set_org_role_unknown;
SELECT pg_temp.as_eve(format($q$SELECT zenml_rbac.set_org_role(%L, %L, 'org_viewer')$q$, :'org', :'loner')) AS set_org_role_user;
SELECT pg_temp.as_eve(format($q$SELECT zenml_rbac.add_team_member(%L, %L)$q$, :'other_team', :'eve')) AS other_org_team;
SELECT pg_temp.as_eve(format($q$SELECT zenml_rbac.add_team_member(%L, %L)$q$, gen_random_uuid(), :'eve')) AS unknown_team;
SELECT pg_temp.as_eve(format($q$SELECT zenml_rbac.delete_tenant(%L)$q$, gen_random_uuid())) AS delete_unknown_tenant;
SELECT pg_temp.as_eve(format($q$SELECT zenml_rbac.delete_tenant(%L)$q$, :'other_tenant')) AS delete_other_org_tenant;
SELECT pg_temp.as_eve(format($q$SELECT zenml_rbac.create_role(%L, 'x', '', 'viewer')$q$, :'other_tenant')) AS role_in_other_org_tenant;
SELECT pg_temp.as_eve(format($q$SELECT zenml_rbac.delete_organization(%L)$q$, :'other')) AS delete_other_org;
SELECT pg_temp.as_eve(format($q$SELECT zenml_rbac.delete_organization(%L)$q$, gen_random_uuid())) AS delete_unknown_org;

-- whoever may read the tenant's roles gets the full hint
SELECT pg_temp.as_who(:'alice', format($q$SELECT zenml_rbac.grant_tenant_role(%L, %L, 'no_such_role')$q$, :'closed', :'eve')) AS role_hint_for_admin;
RESET ROLE;

SELECT zenml_rbac.delete_organization(:'org');
SELECT zenml_rbac.delete_organization(:'other');
DELETE FROM zenml_rbac.principal WHERE name LIKE 'dc\_%';
REVOKE EXECUTE ON FUNCTION zenml_rbac.set_principal(uuid) FROM regress_dc_pool;
DROP ROLE regress_dc_pool;
