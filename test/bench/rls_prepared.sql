-- Prepared statements reused across principals (rls.sh): one session,
-- statements prepared once by the application role, executed by alice and
-- bob in turn in separate transactions, under each plan_cache_mode (auto
-- switches to the generic plan after five executions), then both within one
-- transaction, then with no principal.  Every answer must be the current
-- principal's.  Output: p|case|principal|got|expected, the plan-cache
-- counters, and the generic plan.  Revokes one of alice's roles on the way
-- and grants it back.
\set ON_ERROR_STOP 1
SELECT id AS alice FROM rls.principal WHERE name = 'alice' \gset
SELECT id AS bob FROM rls.principal WHERE name = 'bob' \gset
SELECT count(*) AS alice_n FROM rls.items WHERE tenant_id IN (SELECT tenant_id FROM rls.memberships WHERE user_id = :'alice') \gset
SELECT count(*) AS bob_n FROM rls.items WHERE tenant_id IN (SELECT tenant_id FROM rls.memberships WHERE user_id = :'bob') \gset
-- one of bob's tenants, not alice's, and how many rows it holds
SELECT tenant_id AS bob_tenant, count(*) AS bob_tenant_n FROM rls.items
 WHERE tenant_id = (SELECT min(tenant_id::text)::uuid FROM rls.memberships WHERE user_id = :'bob') GROUP BY 1 \gset

SET ROLE bench_rls_app;
PREPARE q AS SELECT count(*) FROM rls.items;
PREPARE q_tenant(uuid) AS SELECT count(*) FROM rls.items WHERE tenant_id = $1;

\set mode auto
SET plan_cache_mode = auto;
\set who alice
\ir rls_prepared_step.sql
\set who bob
\ir rls_prepared_step.sql
\set who alice
\ir rls_prepared_step.sql
\set who bob
\ir rls_prepared_step.sql
\set who alice
\ir rls_prepared_step.sql
\set who bob
\ir rls_prepared_step.sql
\set who alice
\ir rls_prepared_step.sql
\set who bob
\ir rls_prepared_step.sql
SELECT 'g', 'auto', name, generic_plans, custom_plans FROM pg_prepared_statements ORDER BY name;

\set mode force_generic_plan
SET plan_cache_mode = force_generic_plan;
DEALLOCATE q;
DEALLOCATE q_tenant;
PREPARE q AS SELECT count(*) FROM rls.items;
PREPARE q_tenant(uuid) AS SELECT count(*) FROM rls.items WHERE tenant_id = $1;
\set who alice
\ir rls_prepared_step.sql
\set who bob
\ir rls_prepared_step.sql
\set who alice
\ir rls_prepared_step.sql
\set who bob
\ir rls_prepared_step.sql
SELECT 'g', 'force_generic_plan', name, generic_plans, custom_plans FROM pg_prepared_statements ORDER BY name;

-- both principals in one transaction, the generic plan still in use
BEGIN;
SELECT zenml_rbac.set_principal(:'alice') \g /dev/null
EXECUTE q \gset e_
SELECT 'p', 'same transaction', 'alice', :e_count, :alice_n;
SELECT zenml_rbac.set_principal(:'bob') \g /dev/null
EXECUTE q \gset e_
SELECT 'p', 'same transaction', 'bob', :e_count, :bob_n;
COMMIT;

-- a role revoked between two executions: the next one no longer sees its rows
RESET ROLE;
SELECT min(tenant_id::text)::uuid AS alice_tenant FROM rls.memberships WHERE user_id = :'alice' \gset
SELECT count(*) AS alice_tenant_n FROM rls.items WHERE tenant_id = :'alice_tenant' \gset
SELECT zenml_rbac.revoke_tenant_role(:'alice_tenant', :'alice', 'viewer') \g /dev/null
SET ROLE bench_rls_app;
BEGIN;
SELECT zenml_rbac.set_principal(:'alice') \g /dev/null
EXECUTE q \gset e_
SELECT 'p', 'after revoking one of alice''s roles', 'alice', :e_count, :alice_n - :alice_tenant_n;
COMMIT;
RESET ROLE;
SELECT zenml_rbac.grant_tenant_role(:'alice_tenant', :'alice', 'viewer') \g /dev/null
SET ROLE bench_rls_app;
BEGIN;
SELECT zenml_rbac.set_principal(:'alice') \g /dev/null
EXECUTE q \gset e_
SELECT 'p', 'after granting it again', 'alice', :e_count, :alice_n;
COMMIT;

-- nobody: the application role has no principal of its own
BEGIN;
EXECUTE q \gset e_
SELECT 'p', 'no principal', '-', :e_count, 0;
COMMIT;

BEGIN;
SELECT zenml_rbac.set_principal(:'bob') \g /dev/null
EXPLAIN (ANALYZE, TIMING OFF, COSTS OFF) EXECUTE q;
COMMIT;
RESET ROLE;
