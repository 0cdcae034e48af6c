-- Plans of the queries of one scenario of rls.sh, run by its principal:
-- EXPLAIN (ANALYZE, TIMING OFF, COSTS OFF) of each, then for the owner's
-- queries and zenml_rbac's policy (arms on and off) the same with BUFFERS
-- (heap and index pages read).  Constant uuid arrays are shortened to their
-- count.  psql variables: scenario, subset (`all`, or `concurrent`: only the
-- BUFFERS plans of the count(*) queries of the concurrent series).
-- Output: plan text, a '### kind name: what' line before each plan.
\set ON_ERROR_STOP 1
BEGIN;
\ir rls_principal.sql
CREATE TEMP TABLE plan_q ON COMMIT DROP AS
SELECT row_number() OVER (ORDER BY kind, ord) AS i, *,
       class IN ('owner', 'zenml') OR name = 'zenml_rbac_off' AS buffers
  FROM bench.rls_q
 WHERE scenario = :'scenario' AND (:'subset' = 'all' OR (concurrent AND kind = 'count'));
SELECT line FROM (
    SELECT q.i, 0 AS part, '### ' || q.kind || ' ' || q.name || ': ' || q.what AS line, 0 AS k
      FROM plan_q q WHERE :'subset' = 'all'
    UNION ALL
    SELECT q.i, 1, e.line, e.k
      FROM plan_q q,
           LATERAL bench.rls_explain(q.setup, q.query, 'ANALYZE, TIMING OFF, COSTS OFF') WITH ORDINALITY e(line, k)
     WHERE :'subset' = 'all'
    UNION ALL
    SELECT 1000 + q.i, 0, '### ' || q.kind || ' ' || q.name || ' (BUFFERS): ' || q.what, 0
      FROM plan_q q WHERE q.buffers
    UNION ALL
    SELECT 1000 + q.i, 1, e.line, e.k
      FROM plan_q q,
           LATERAL bench.rls_explain(q.setup, q.query, 'ANALYZE, BUFFERS, TIMING OFF, COSTS OFF') WITH ORDINALITY e(line, k)
     WHERE q.buffers
) x ORDER BY i, part, k;
COMMIT;
