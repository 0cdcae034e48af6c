-- One scenario of rls.sh in one transaction: its principal is set (for
-- zenml_rbac) and app.user_id too (for the plain-SQL policies); every query
-- is checked against its expected count, then timed, interleaved (the
-- sub-millisecond selective queries each right after an untimed run).
-- psql variables: scenario, reps.  Output: c|name|count|expect, then
-- m|name|median_ms|samples.
\set ON_ERROR_STOP 1
BEGIN;
SELECT p.id AS pid FROM bench.rls_scenario s JOIN rls.principal p ON p.name = s.principal
 WHERE s.scenario = :'scenario' \gset
SET LOCAL ROLE bench_rls_app;
SELECT zenml_rbac.set_principal(:'pid');
RESET ROLE;
SELECT set_config('app.user_id', :'pid', true);
SELECT 'c', name, bench.rls_count(setup, query), expect FROM bench.rls_q WHERE scenario = :'scenario' ORDER BY ord;
SELECT 'm', m.name, m.median_ms, m.samples
  FROM bench.measure_as(ARRAY(SELECT name FROM bench.rls_q WHERE scenario = :'scenario' ORDER BY ord),
                        ARRAY(SELECT setup FROM bench.rls_q WHERE scenario = :'scenario' ORDER BY ord),
                        ARRAY(SELECT query FROM bench.rls_q WHERE scenario = :'scenario' ORDER BY ord),
                        :reps, :'scenario' = 'selective') m;
COMMIT;
