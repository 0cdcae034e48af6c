-- Plans of the queries of one scenario of rls.sh, run by its principal:
-- EXPLAIN (ANALYZE, TIMING OFF, COSTS OFF) of each, then for the owner's
-- query and zenml_rbac's policy the same with BUFFERS (heap and index pages
-- read).  psql variable: scenario.  Output: plan text, a '### name: what'
-- line before each plan.
\set ON_ERROR_STOP 1
BEGIN;
SELECT p.id AS pid FROM bench.rls_scenario s JOIN rls.principal p ON p.name = s.principal
 WHERE s.scenario = :'scenario' \gset
SET LOCAL ROLE bench_rls_app;
SELECT zenml_rbac.set_principal(:'pid') \g /dev/null
RESET ROLE;
SELECT set_config('app.user_id', :'pid', true) \g /dev/null
SELECT line FROM (
    SELECT q.ord, 0 AS part, '### ' || q.name || ': ' || q.what AS line, 0 AS k
      FROM bench.rls_q q WHERE q.scenario = :'scenario'
    UNION ALL
    SELECT q.ord, 1, e.line, e.k
      FROM bench.rls_q q,
           LATERAL bench.rls_explain(q.setup, q.query, 'ANALYZE, TIMING OFF, COSTS OFF') WITH ORDINALITY e(line, k)
     WHERE q.scenario = :'scenario'
    UNION ALL
    SELECT 100 + q.ord, 0, '### ' || q.name || ' (BUFFERS): ' || q.what, 0
      FROM bench.rls_q q WHERE q.scenario = :'scenario' AND q.name IN ('owner', 'zenml_rbac')
    UNION ALL
    SELECT 100 + q.ord, 1, e.line, e.k
      FROM bench.rls_q q,
           LATERAL bench.rls_explain(q.setup, q.query, 'ANALYZE, BUFFERS, TIMING OFF, COSTS OFF') WITH ORDINALITY e(line, k)
     WHERE q.scenario = :'scenario' AND q.name IN ('owner', 'zenml_rbac')
) x ORDER BY ord, part, k;
COMMIT;
