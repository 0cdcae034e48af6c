-- Part 2, run in a brand-new session (nothing of zenml_rbac loaded in this
-- backend yet): execution time of single checks.  psql variables: k1, k2
-- (pairs of two different principals).  Output: name|ms.
--   first       the session's first check: loads zenml_rbac.so, prepares the
--               catalog queries, reads the type vocabulary and the principal
--   again       the same check once more: answered from the cache
--   next_cold   a principal this backend has not seen yet: its catalog rows only

\set ON_ERROR_STOP 1

SELECT 'first', round(bench.exec_ms(pg_catalog.format(
    'SELECT zenml_rbac.rbac_can(%L::uuid, %L::uuid, ''model'', ''read'')', p, t))::numeric, 3)
FROM bench.pairs WHERE k = :k1;

SELECT 'again', round(bench.exec_ms(pg_catalog.format(
    'SELECT zenml_rbac.rbac_can(%L::uuid, %L::uuid, ''model'', ''read'')', p, t))::numeric, 3)
FROM bench.pairs WHERE k = :k1;

SELECT 'next_cold', round(bench.exec_ms(pg_catalog.format(
    'SELECT zenml_rbac.rbac_can(%L::uuid, %L::uuid, ''model'', ''read'')', p, t))::numeric, 3)
FROM bench.pairs WHERE k = :k2;
