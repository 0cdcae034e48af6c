-- One scenario of rls.sh in one transaction: its principal is set, with the
-- settings the plain-SQL and claims policies read (rls_principal.sql); every
-- query is checked against its expected answer, then timed by the wall clock,
-- interleaved (bench.measure_as).  psql variables: scenario, reps, subset
-- (`all`, or `concurrent`: the count(*) queries of the series under a
-- concurrent writer).  Output: c|kind|name|answer|expect, then
-- m|kind|name|median_ms|samples|iters.
\set ON_ERROR_STOP 1
BEGIN;
\ir rls_principal.sql
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
