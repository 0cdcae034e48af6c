-- Included by rls_run.sql and rls_plans.sql inside their transaction: the
-- scenario's principal for zenml_rbac (set as the application role), and
-- the settings the plain-SQL policies read (app.user_id) and the claims
-- policies (app.tenants, app.shares: the application's own lists).  psql
-- variable: scenario; sets pid.
SELECT p.id AS pid FROM bench.rls_scenario s JOIN rls.principal p ON p.name = s.principal
 WHERE s.scenario = :'scenario' \gset
SET LOCAL ROLE bench_rls_app;
SELECT zenml_rbac.set_principal(:'pid') \g /dev/null
RESET ROLE;
SELECT set_config('app.user_id', :'pid', true) \g /dev/null
SELECT set_config('app.tenants', tenants::text, true), set_config('app.shares', shared::text, true)
  FROM bench.rls_scenario WHERE scenario = :'scenario' \g /dev/null
