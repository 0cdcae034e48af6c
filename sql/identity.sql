-- Who is asking: set_principal for one transaction, the PostgreSQL role
-- link, the system, and who may call set_principal.
\set VERBOSITY terse

CREATE ROLE regress_id_pool LOGIN;
CREATE ROLE regress_id_plain LOGIN;
CREATE ROLE regress_id_linked LOGIN;
GRANT EXECUTE ON FUNCTION zenml_rbac.set_principal(uuid) TO regress_id_pool;

SELECT zenml_rbac.create_organization('id_org') AS org \gset
SELECT zenml_rbac.create_tenant(:'org', 'prod') AS prod \gset
SELECT zenml_rbac.create_user('id_alice') AS alice \gset
SELECT zenml_rbac.create_user('id_bob') AS bob \gset
SELECT zenml_rbac.create_user('id_gone') AS gone \gset
SELECT zenml_rbac.set_org_role(:'org', :'alice', 'org_viewer');
SELECT zenml_rbac.grant_tenant_role(:'prod', :'alice', 'editor');
SELECT zenml_rbac.deactivate_user(:'gone');
SELECT zenml_rbac.create_team(:'org', 'id_team') AS team \gset

-- no principal by default
SELECT zenml_rbac.current_principal() IS NULL AS none_yet;

-- set for the transaction; cleared at commit and at rollback
BEGIN;
SELECT zenml_rbac.set_principal(:'alice');
SELECT zenml_rbac.current_principal() = :'alice' AS set_in_xact;
SELECT zenml_rbac.rbac_can(:'prod'::uuid, 'model', 'create') AS can_create;
COMMIT;
SELECT zenml_rbac.current_principal() IS NULL AS cleared_at_commit;
BEGIN;
SELECT zenml_rbac.set_principal(:'alice');
ROLLBACK;
SELECT zenml_rbac.current_principal() IS NULL AS cleared_at_rollback;
BEGIN;
SELECT zenml_rbac.set_principal(:'alice');
SELECT 1/0;
ROLLBACK;
SELECT zenml_rbac.current_principal() IS NULL AS cleared_after_error;
-- a later set replaces; NULL clears
BEGIN;
SELECT zenml_rbac.set_principal(:'alice');
SELECT zenml_rbac.set_principal(:'bob');
SELECT zenml_rbac.current_principal() = :'bob' AS replaced;
SELECT zenml_rbac.set_principal(NULL);
SELECT zenml_rbac.current_principal() IS NULL AS cleared_by_null;
COMMIT;
-- outside a transaction block it lasts for its statement only, and says so
SELECT zenml_rbac.set_principal(:'alice');
SELECT zenml_rbac.current_principal() IS NULL AS gone_after_statement;

-- unknown, deactivated principals and teams cannot act (28000)
BEGIN;
SELECT zenml_rbac.set_principal('e0000000-0000-0000-0000-0000000000ee');
ROLLBACK;
\set VERBOSITY sqlstate
BEGIN;
SELECT zenml_rbac.set_principal(:'gone');
ROLLBACK;
BEGIN;
SELECT zenml_rbac.set_principal(:'team');
ROLLBACK;
\set VERBOSITY terse

-- only roles the DBA granted it to may call set_principal
SET ROLE regress_id_plain;
BEGIN;
SELECT zenml_rbac.set_principal(:'alice');
ROLLBACK;
RESET ROLE;
SET ROLE regress_id_pool;
BEGIN;
SELECT zenml_rbac.set_principal(:'alice');
SELECT zenml_rbac.current_principal() = :'alice' AS pool_role_sets;
COMMIT;
RESET ROLE;

-- no setting is a way to become someone: there is no such setting at all
SET zenml_rbac.principal = 'anything';
SELECT name FROM pg_settings WHERE name LIKE 'zenml_rbac.%' ORDER BY 1;

-- the PostgreSQL role link: a session whose session_user is linked acts as
-- that user when nothing is set
SELECT zenml_rbac.link_pg_role(:'alice', 'regress_id_linked');
SET SESSION AUTHORIZATION regress_id_linked;
SELECT session_user, zenml_rbac.current_principal() = :'alice' AS linked;
SELECT zenml_rbac.rbac_can('id_org/prod', 'model', 'create') AS linked_can_create;
-- a linked role is not the system: management calls are authorized as alice
SELECT zenml_rbac.create_tenant(:'org', 'id_sneaky');
RESET SESSION AUTHORIZATION;
-- SET ROLE does not change who is linked: session_user decides
SET ROLE regress_id_linked;
SELECT zenml_rbac.current_principal() IS NULL AS set_role_is_not_login;
RESET ROLE;
-- unlink, relink elsewhere, refuse a second link of the same role
SELECT zenml_rbac.link_pg_role(:'bob', 'regress_id_linked');
SELECT zenml_rbac.link_pg_role(:'alice', NULL);
SELECT zenml_rbac.link_pg_role(:'bob', 'regress_id_linked');
SELECT zenml_rbac.link_pg_role(:'bob', 'regress_no_such_role');
SELECT p.name FROM zenml_rbac.principal p WHERE p.pg_role = 'regress_id_linked';

-- the system: a superuser with no principal; a superuser who sets one is
-- authorized as that principal
BEGIN;
SELECT zenml_rbac.set_principal(:'alice');
SELECT zenml_rbac.delete_tenant(:'prod');
ROLLBACK;

-- WITH HOLD cursors outlive their transaction (a pooler hands the
-- connection to the next client): none while a principal is set, and no
-- principal in a transaction that declared one.  Plain cursors are fine.
BEGIN;
SELECT zenml_rbac.set_principal(:'alice');
DECLARE held CURSOR WITH HOLD FOR SELECT zenml_rbac.current_principal();
ROLLBACK;
BEGIN;
DECLARE held CURSOR WITH HOLD FOR SELECT zenml_rbac.current_principal() IS NULL AS nobody;
SELECT zenml_rbac.set_principal(:'alice');
ROLLBACK;
BEGIN;
SELECT zenml_rbac.set_principal(:'alice');
DECLARE plain CURSOR FOR SELECT zenml_rbac.current_principal() = :'alice' AS alice;
FETCH plain;
COMMIT;
BEGIN;
DECLARE held CURSOR WITH HOLD FOR SELECT zenml_rbac.current_principal() IS NULL AS nobody;
COMMIT;
FETCH held;
CLOSE held;
-- an open cursor keeps the rows of the principal it started with: no switch
-- to another principal while one is open (the same one again is fine)
BEGIN;
SELECT zenml_rbac.set_principal(:'alice');
DECLARE plain CURSOR FOR SELECT 1;
FETCH plain;
SELECT zenml_rbac.set_principal(:'alice');
SELECT zenml_rbac.set_principal(:'bob');
ROLLBACK;
BEGIN;
SELECT zenml_rbac.set_principal(:'alice');
SELECT zenml_rbac.set_principal(:'bob');
SELECT zenml_rbac.current_principal() = :'bob' AS switched;
ROLLBACK;
-- also in a new session whose first transaction declared the cursor before
-- the module was loaded
\c -
BEGIN;
DECLARE held CURSOR WITH HOLD FOR SELECT 1;
SELECT zenml_rbac.set_principal(:'alice');
ROLLBACK;

SELECT zenml_rbac.delete_organization(:'org');
DELETE FROM zenml_rbac.principal WHERE name LIKE 'id\_%';
REVOKE ALL ON FUNCTION zenml_rbac.set_principal(uuid) FROM regress_id_pool;
DROP ROLE regress_id_pool;
DROP ROLE regress_id_plain;
DROP ROLE regress_id_linked;
