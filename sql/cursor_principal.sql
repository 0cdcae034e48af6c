-- An open cursor keeps returning the rows of the principal it started with
-- (its policies were evaluated then), so the principal may not change while
-- one is open: not directly, not by way of set_principal(NULL), and not
-- away from the user linked to session_user.  The refusal is 24000 and the
-- cursor's rows never reach the next principal.
\set VERBOSITY terse

CREATE ROLE regress_cp_pool;
CREATE ROLE regress_cp_linked;
GRANT EXECUTE ON FUNCTION zenml_rbac.set_principal(uuid) TO regress_cp_pool, regress_cp_linked;
SELECT zenml_rbac.create_organization('cp_org') AS org \gset
SELECT zenml_rbac.create_tenant(:'org', 'cp_a') AS ta \gset
SELECT zenml_rbac.create_tenant(:'org', 'cp_b') AS tb \gset
SELECT zenml_rbac.create_user('cp_alice') AS alice \gset
SELECT zenml_rbac.create_user('cp_bob') AS bob \gset
SELECT zenml_rbac.set_org_role(:'org', p, 'org_viewer') FROM unnest(ARRAY[:'alice', :'bob']::uuid[]) p;
SELECT zenml_rbac.grant_tenant_role(:'ta', :'alice', 'viewer');
SELECT zenml_rbac.grant_tenant_role(:'tb', :'bob', 'viewer');
SELECT zenml_rbac.link_pg_role(:'alice', 'regress_cp_linked');
CREATE TABLE cp_docs (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), tenant_id uuid NOT NULL, body text);
CREATE INDEX ON cp_docs (tenant_id);
SELECT zenml_rbac.protect('cp_docs', 'model', 'tenant_id');
INSERT INTO cp_docs (tenant_id, body) SELECT :'ta', 'alice-' || g FROM generate_series(1, 3) g;
INSERT INTO cp_docs (tenant_id, body) SELECT :'tb', 'bob-' || g FROM generate_series(1, 3) g;
GRANT SELECT ON cp_docs TO regress_cp_pool, regress_cp_linked;

SET ROLE regress_cp_pool;
-- alice -> NULL -> bob with alice's cursor open (finding 12)
BEGIN;
SELECT zenml_rbac.set_principal(:'alice');
DECLARE c CURSOR FOR SELECT body FROM cp_docs ORDER BY body;
FETCH 1 FROM c;
SELECT zenml_rbac.set_principal(NULL);
ROLLBACK;
-- ... nor in two steps with a savepoint to hide the first
BEGIN;
SELECT zenml_rbac.set_principal(:'alice');
DECLARE c CURSOR FOR SELECT body FROM cp_docs ORDER BY body;
FETCH 1 FROM c;
SAVEPOINT s;
SELECT zenml_rbac.set_principal(NULL);
ROLLBACK TO s;
SELECT zenml_rbac.set_principal(:'bob');
ROLLBACK;
-- the cursor closed first: the switch is fine, and bob sees his own rows
BEGIN;
SELECT zenml_rbac.set_principal(:'alice');
DECLARE c CURSOR FOR SELECT body FROM cp_docs ORDER BY body;
FETCH 1 FROM c;
CLOSE c;
SELECT zenml_rbac.set_principal(NULL);
SELECT zenml_rbac.set_principal(:'bob');
SELECT string_agg(body, ',' ORDER BY body) AS bob_sees FROM cp_docs;
ROLLBACK;
-- a cursor opened after set_principal(NULL), once a principal was set in
-- the transaction, still may not pass to another
BEGIN;
SELECT zenml_rbac.set_principal(:'alice');
SELECT zenml_rbac.set_principal(NULL);
DECLARE c CURSOR FOR SELECT body FROM cp_docs ORDER BY body;
FETCH 1 FROM c;
SELECT zenml_rbac.set_principal(:'bob');
ROLLBACK;
-- no principal at all: a cursor opened then saw nothing, and may stay open
BEGIN;
DECLARE c CURSOR FOR SELECT body FROM cp_docs ORDER BY body;
FETCH 1 FROM c;
SELECT zenml_rbac.set_principal(:'bob');
FETCH ALL FROM c;
ROLLBACK;
RESET ROLE;

-- the user linked to session_user: its cursor does not pass to bob either
SET SESSION AUTHORIZATION regress_cp_linked;
BEGIN;
SELECT zenml_rbac.current_principal() = :'alice' AS linked_alice;
DECLARE c CURSOR FOR SELECT body FROM cp_docs ORDER BY body;
FETCH 1 FROM c;
SELECT zenml_rbac.set_principal(:'bob');
ROLLBACK;
RESET SESSION AUTHORIZATION;

SELECT zenml_rbac.unprotect('cp_docs');
DROP TABLE cp_docs;
SELECT zenml_rbac.delete_organization(:'org');
DELETE FROM zenml_rbac.principal WHERE name LIKE 'cp\_%';
REVOKE EXECUTE ON FUNCTION zenml_rbac.set_principal(uuid) FROM regress_cp_pool, regress_cp_linked;
DROP ROLE regress_cp_pool;
DROP ROLE regress_cp_linked;
