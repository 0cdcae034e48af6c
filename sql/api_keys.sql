-- Service-account API keys: issued once, stored as a hash, expiry, rotation
-- window, revocation, and authenticate() setting the principal.
\set VERBOSITY terse

CREATE ROLE regress_key_app LOGIN;
SELECT zenml_rbac.create_organization('key_org') AS org \gset
SELECT zenml_rbac.create_tenant(:'org', 'prod') AS prod \gset
SELECT zenml_rbac.create_service_account(:'org', 'ci-bot') AS bot \gset
SELECT zenml_rbac.create_user('key_viewer') AS viewer \gset
SELECT zenml_rbac.set_org_role(:'org', :'viewer', 'org_viewer');
SELECT zenml_rbac.grant_tenant_role(:'prod', :'bot', 'editor');

-- a key is shown once; only its SHA-256 and a short prefix are kept
SELECT zenml_rbac.create_api_key(:'bot') AS key1 \gset
SELECT :'key1' ~ '^zrk_[0-9a-f]{64}$' AS well_formed;
SELECT count(*) AS stored_as_hash FROM zenml_rbac.api_key
 WHERE key_hash = sha256(convert_to(:'key1', 'UTF8')) AND key_prefix = left(:'key1', 12);
SELECT count(*) AS plaintext_anywhere FROM zenml_rbac.api_key k
 WHERE strpos(k::text, substr(:'key1', 13)) > 0;

-- authenticate acts as the service account for the transaction
SET ROLE regress_key_app;
BEGIN;
SELECT zenml_rbac.authenticate(:'key1') = :'bot' AS authenticated;
SELECT zenml_rbac.current_principal() = :'bot' AS acting,
       zenml_rbac.rbac_can(:'prod'::uuid, 'model', 'create') AS may_create;
COMMIT;
SELECT zenml_rbac.current_principal() IS NULL AS cleared_at_commit;
-- the application role cannot read the keys
SELECT count(*) FROM zenml_rbac.api_key;
RESET ROLE;
SELECT last_used_at IS NOT NULL AS use_recorded FROM zenml_rbac.api_key WHERE principal_id = :'bot';
-- a READ ONLY transaction authenticates without trying to record the use
UPDATE zenml_rbac.api_key SET last_used_at = NULL WHERE principal_id = :'bot';
SET ROLE regress_key_app;
BEGIN READ ONLY;
SELECT zenml_rbac.authenticate(:'key1') = :'bot' AS authenticated_read_only;
COMMIT;
RESET ROLE;
SELECT last_used_at IS NULL AS not_recorded_read_only FROM zenml_rbac.api_key WHERE principal_id = :'bot';

-- wrong, malformed and NULL keys: one answer, 28P01, no hint which part failed
\set VERBOSITY default
\set SHOW_CONTEXT never
SELECT zenml_rbac.authenticate('zrk_' || repeat('0', 64));
\echo :SQLSTATE
SELECT zenml_rbac.authenticate('not a key');
\echo :SQLSTATE
SELECT zenml_rbac.authenticate(NULL);
\echo :SQLSTATE
SELECT zenml_rbac.authenticate(upper(:'key1'));
\echo :SQLSTATE
\set VERBOSITY terse

-- expiry (the clock is moved by editing the row, as a DBA could)
SELECT zenml_rbac.create_api_key(:'bot', now() + interval '1 day') AS key2 \gset
BEGIN;
SELECT zenml_rbac.authenticate(:'key2') = :'bot' AS before_expiry;
ROLLBACK;
UPDATE zenml_rbac.api_key SET expires_at = now() - interval '1 second'
 WHERE key_hash = sha256(convert_to(:'key2', 'UTF8'));
BEGIN;
SELECT zenml_rbac.authenticate(:'key2');
ROLLBACK;
SELECT zenml_rbac.create_api_key(:'bot', now() - interval '1 hour');

-- rotation keeps the old key for the retention period only
SELECT zenml_rbac.rotate_api_key(:'bot', interval '1 hour') AS key3 \gset
BEGIN;
SELECT zenml_rbac.authenticate(:'key1') = :'bot' AS old_key_in_window;
ROLLBACK;
BEGIN;
SELECT zenml_rbac.authenticate(:'key3') = :'bot' AS new_key_works;
ROLLBACK;
UPDATE zenml_rbac.api_key SET retired_at = now() - interval '1 second'
 WHERE key_hash = sha256(convert_to(:'key1', 'UTF8'));
BEGIN;
SELECT zenml_rbac.authenticate(:'key1');
ROLLBACK;
-- with no retention the old key stops at once
SELECT zenml_rbac.rotate_api_key(:'bot') AS key4 \gset
BEGIN;
SELECT zenml_rbac.authenticate(:'key3');
ROLLBACK;
SELECT zenml_rbac.rotate_api_key(:'bot', interval '-1 minute');

-- revocation is effective at once, for every key of the account
SELECT zenml_rbac.revoke_api_key(:'bot');
BEGIN;
SELECT zenml_rbac.authenticate(:'key4');
ROLLBACK;
SELECT count(*) FILTER (WHERE revoked_at IS NULL) AS unrevoked FROM zenml_rbac.api_key
 WHERE principal_id = :'bot';

-- a deactivated service account's keys stop working
SELECT zenml_rbac.create_api_key(:'bot') AS key5 \gset
SELECT zenml_rbac.deactivate_user(:'bot');
BEGIN;
SELECT zenml_rbac.authenticate(:'key5');
ROLLBACK;

-- only service accounts have keys; managing them needs member:update
SELECT zenml_rbac.create_api_key(:'viewer');
SET ROLE regress_key_app;
BEGIN;
SELECT zenml_rbac.authenticate(:'key5');
ROLLBACK;
RESET ROLE;
GRANT EXECUTE ON FUNCTION zenml_rbac.set_principal(uuid) TO regress_key_app;
SET ROLE regress_key_app;
BEGIN;
SELECT zenml_rbac.set_principal(:'viewer');
SELECT zenml_rbac.create_api_key(:'bot');
ROLLBACK;
BEGIN;
SELECT zenml_rbac.set_principal(:'viewer');
SELECT zenml_rbac.revoke_api_key(:'bot');
ROLLBACK;
RESET ROLE;

-- deleting the service account deletes its keys
SELECT zenml_rbac.delete_organization(:'org');
SELECT count(*) AS keys_left FROM zenml_rbac.api_key WHERE principal_id = :'bot';
DELETE FROM zenml_rbac.principal WHERE name = 'key_viewer';
REVOKE ALL ON FUNCTION zenml_rbac.set_principal(uuid) FROM regress_key_app;
DROP ROLE regress_key_app;
