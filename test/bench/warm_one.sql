-- Part 2, one fresh session on either catalog: the warm-check query of part 1
-- (a first pass that loads every principal, then one timed warm pass), and
-- the backend cache it leaves.
-- Output: rbac_can|warm ms|samples|first pass ms, cache|principals|bytes.

\set ON_ERROR_STOP 1

-- the session's one-off work first (loading the library, preparing the
-- catalog queries), on a principal the rows never name: the first pass
-- below then times loading the principals alone
SELECT zenml_rbac.rbac_can(bench.id('team', 0), bench.id('tenant', 0), 'model', 'read') IS NOT NULL AS setup;

SELECT name, round(median_ms::numeric, 3), samples, round(warmup_ms::numeric, 3)
FROM bench.measure(
    ARRAY['rbac_can'],
    ARRAY['SELECT count(*) FILTER (WHERE zenml_rbac.rbac_can(p, t, ''model'', ''read'')) FROM bench.rows'],
    1);

SELECT 'cache', principals, memory_bytes FROM zenml_rbac.cache_stats();
