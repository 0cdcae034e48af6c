-- Account takeover and lock-out.  A user is global: only the system or the
-- user itself deactivates it, never the admin of some organization (anyone
-- may create an organization and add anyone to it); a service account also
-- whoever holds member:delete in its organization.  And the name a
-- just-in-time login gives a new user ("<provider>:<subject>") cannot be
-- taken first by anyone else, which would lock the real person out.
\set VERBOSITY terse

CREATE ROLE regress_at_pool;
GRANT EXECUTE ON FUNCTION zenml_rbac.set_principal(uuid) TO regress_at_pool;
GRANT EXECUTE ON FUNCTION zenml_rbac.authenticate_jwt(text) TO regress_at_pool;

SELECT zenml_rbac.create_organization('at_real') AS real_org \gset
SELECT zenml_rbac.create_user('at_victim') AS victim \gset
SELECT zenml_rbac.create_user('at_stranger') AS stranger \gset
SELECT zenml_rbac.create_user('at_admin') AS admin \gset
SELECT zenml_rbac.set_org_role(:'real_org', :'victim', 'org_viewer');
SELECT zenml_rbac.set_org_role(:'real_org', :'admin', 'org_admin');
SELECT zenml_rbac.create_service_account(:'real_org', 'at_bot') AS bot \gset

CREATE FUNCTION pg_temp.as_user(who uuid, stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        PERFORM zenml_rbac.set_principal(who);
        EXECUTE stmt;
        RAISE EXCEPTION USING ERRCODE = 'ZZ000';
    EXCEPTION
        WHEN SQLSTATE 'ZZ000' THEN RETURN 'ok';
        WHEN OTHERS THEN RETURN SQLSTATE || ' ' || SQLERRM;
    END;
END
$$;

SET ROLE regress_at_pool;
-- finding 8: a stranger creates an organization, adds the victim, and tries
-- to deactivate it
SELECT pg_temp.as_user(:'stranger', format($q$DO $d$ DECLARE o uuid := zenml_rbac.create_organization('at_trap');
    BEGIN PERFORM zenml_rbac.set_org_role(o, %L, 'org_viewer'); PERFORM zenml_rbac.deactivate_user(%L); END $d$$q$,
    :'victim', :'victim')) AS trap_org_deactivates_victim;
-- nor can the admin of the victim's real organization: the user is not the organization's
SELECT pg_temp.as_user(:'admin', format('SELECT zenml_rbac.deactivate_user(%L)', :'victim')) AS org_admin_deactivates_user;
-- a made-up id is refused the same way as a real one
SELECT pg_temp.as_user(:'stranger', format('SELECT zenml_rbac.deactivate_user(%L)', gen_random_uuid())) AS unknown_id;
-- the user itself may; a service account by member:delete in its organization
SELECT pg_temp.as_user(:'victim', format('SELECT zenml_rbac.deactivate_user(%L)', :'victim')) AS self;
SELECT pg_temp.as_user(:'admin', format('SELECT zenml_rbac.deactivate_user(%L)', :'bot')) AS org_admin_deactivates_service_account;
SELECT pg_temp.as_user(:'stranger', format('SELECT zenml_rbac.deactivate_user(%L)', :'bot')) AS stranger_deactivates_service_account;
-- a user who also created an organization of its own is still its own
SELECT pg_temp.as_user(:'victim', format($q$DO $d$ BEGIN PERFORM zenml_rbac.create_organization('at_own');
    PERFORM zenml_rbac.deactivate_user(%L); END $d$$q$, :'victim')) AS self_with_own_org;
RESET ROLE;
SELECT count(*) FILTER (WHERE active) AS still_active, count(*) AS users
  FROM zenml_rbac.principal WHERE id IN (:'victim', :'stranger', :'admin', :'bot');
-- the system may
BEGIN;
SELECT zenml_rbac.deactivate_user(:'victim');
SELECT active FROM zenml_rbac.principal WHERE id = :'victim';
ROLLBACK;

-- finding 9: a provider that provisions users just in time
SELECT zenml_rbac.register_identity_provider('at_idp', 'https://rn.example', 'rn',
    '{"keys": [{"kty": "oct", "kid": "k1", "alg": "HS256", "k": "cmVzZXJ2ZWQtbmFtZXMtdGVzdC1zZWNyZXQtMDEyMzQ1Njc4OSEh"}]}') IS NOT NULL AS registered;
SELECT zenml_rbac.set_identity_provider_provisioning('at_idp', :'real_org', 'org_viewer');
SET ROLE regress_at_pool;
-- the admin (member:create) tries to take the subject's name before its first login
SELECT pg_temp.as_user(:'admin', $q$SELECT zenml_rbac.create_user('at_idp:newbie')$q$) AS squat_exact_name;
SELECT pg_temp.as_user(:'admin', $q$SELECT zenml_rbac.create_user('at_idp:')$q$) AS squat_prefix;
-- a name that merely resembles the prefix is fine
SELECT pg_temp.as_user(:'admin', $q$SELECT zenml_rbac.create_user('at_idpx:newbie')$q$) AS control_other_name;
-- the real person's first login works and is provisioned
BEGIN;
SELECT zenml_rbac.authenticate_jwt('eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0.eyJpc3MiOiJodHRwczovL3JuLmV4YW1wbGUiLCJhdWQiOiJybiIsInN1YiI6Im5ld2JpZSIsImV4cCI6NDEwMjQ0NDgwMH0.2biCPCDogQKhfOiwDwJlB17pqf8zUHZcJro1CNnBnaw') IS NOT NULL AS logged_in;
COMMIT;
RESET ROLE;
SELECT p.name, x.subject FROM zenml_rbac.principal p JOIN zenml_rbac.external_identity x ON x.principal_id = p.id
 WHERE x.issuer = 'https://rn.example';
-- the system may still create such a name (to link it by hand), and is warned
-- when a provider is registered over names already taken
SELECT zenml_rbac.create_user('at_idp2:someone') IS NOT NULL AS system_may;
SELECT zenml_rbac.register_identity_provider('at_idp2', 'https://rn2.example', 'rn',
    '{"keys": [{"kty": "oct", "kid": "k1", "alg": "HS256", "k": "cmVzZXJ2ZWQtbmFtZXMtdGVzdC1zZWNyZXQtMDEyMzQ1Njc4OSEh"}]}') IS NOT NULL AS registered;

DELETE FROM zenml_rbac.identity_provider WHERE name IN ('at_idp', 'at_idp2');
DELETE FROM zenml_rbac.external_identity WHERE issuer = 'https://rn.example';
SELECT zenml_rbac.delete_organization(id) FROM zenml_rbac.organization WHERE name IN ('at_real', 'at_trap', 'at_own');
DELETE FROM zenml_rbac.principal WHERE name LIKE 'at\_%' OR name LIKE 'at_idp%';
REVOKE EXECUTE ON FUNCTION zenml_rbac.set_principal(uuid) FROM regress_at_pool;
REVOKE EXECUTE ON FUNCTION zenml_rbac.authenticate_jwt(text) FROM regress_at_pool;
DROP ROLE regress_at_pool;
