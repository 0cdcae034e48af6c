-- One scenario of rls.sh in one transaction: its principal is set (for
-- zenml_rbac) and app.user_id too (for the plain-SQL policies); every query
-- is checked against its expected answer, then timed by the wall clock,
-- interleaved (bench.measure_as).  psql variables: scenario, reps, subset
-- (`all`, or `concurrent`: the count(*) queries of the series under a
-- concurrent writer).  Output: c|kind|name|answer|expect, then
-- m|kind|name|median_ms|samples|iters.
\set ON_ERROR_STOP 1
BEGIN;
SELECT p.id AS pid FROM bench.rls_scenario s JOIN rls.principal p ON p.name = s.principal
 WHERE s.scenario = :'scenario' \gset
SET LOCAL ROLE bench_rls_app;
SELECT zenml_rbac.set_principal(:'pid') \g /dev/null
RESET ROLE;
SELECT set_config('app.user_id', :'pid', true) \g /dev/null
SELECT set_config('app.tenants', tenants::text, true), set_config('app.shares', shared::text, true)
  FROM bench.rls_scenario WHERE scenario = :'scenario' \g /dev/null
CREATE TEMP TABLE run_q ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY kind, ord) AS i, *
  FROM bench.rls_q
 WHERE scenario = :'scenario' AND (:'subset' = 'all' OR (concurrent AND kind = 'count'));
SELECT 'c', kind, name, bench.rls_answer(setup, query), expect FROM run_q ORDER BY i;
SELECT 'm', q.kind, q.name, m.median_ms, m.samples, m.iters
  FROM bench.measure_as(ARRAY(SELECT kind || '/' || name FROM run_q ORDER BY i),
                        ARRAY(SELECT setup FROM run_q ORDER BY i),
                        ARRAY(SELECT query FROM run_q ORDER BY i),
                        :reps) m
  JOIN run_q q ON q.kind || '/' || q.name = m.name;
COMMIT;
