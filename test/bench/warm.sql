-- Part 1, small catalog, one session: 1,000,000 warm checks against the same
-- query with a trivial built-in, then rbac_can against plain SQL.
-- psql variable: reps.  Output: name|median ms|samples.

\set ON_ERROR_STOP 1

-- floor: the scan and the aggregate with no function call (PG 15 keeps the
-- NOT NULL test; it is one cheap expression step per row)
-- baseline: uuid_eq(p, t), the built-in behind uuid = uuid: a C function of
-- the same two uuid columns per row returning boolean (rbac_can's two text
-- arguments are constants, evaluated without a call)
-- rbac_one_pair: every row asks about the same pair (the arguments are
-- init-plan parameters computed once), as an RLS policy scanning one
-- tenant's table for the session's principal does: the per-call-site memo
-- answers without a hash lookup
SELECT name, round(median_ms::numeric, 3), samples
FROM bench.measure(
    ARRAY['floor', 'uuid_eq', 'rbac_can', 'rbac_one_pair'],
    ARRAY['SELECT count(*) FILTER (WHERE p IS NOT NULL) FROM bench.rows',
          'SELECT count(*) FILTER (WHERE pg_catalog.uuid_eq(p, t)) FROM bench.rows',
          'SELECT count(*) FILTER (WHERE zenml_rbac.rbac_can(p, t, ''model'', ''read'')) FROM bench.rows',
          'SELECT count(*) FILTER (WHERE zenml_rbac.rbac_can((SELECT p FROM bench.pairs WHERE k = 0),
                                                             (SELECT t FROM bench.pairs WHERE k = 0),
                                                             ''model'', ''read'')) FROM bench.rows'],
    :reps);

-- the same (fewer) rows for both: plain SQL is too slow for a million
SELECT name, round(median_ms::numeric, 3), samples
FROM bench.measure(
    ARRAY['rbac_can_plain_rows', 'authorize'],
    ARRAY['SELECT count(*) FILTER (WHERE zenml_rbac.rbac_can(p, t, ''model'', ''read'')) FROM bench.rows_plain',
          'SELECT count(*) FILTER (WHERE plain.authorize(p, t, ''model'', ''read'')) FROM bench.rows_plain'],
    :reps);

-- both answer the same on every pair, or the comparison means nothing
SELECT 'agreement',
       count(*) FILTER (WHERE zenml_rbac.rbac_can(p, t, 'model', 'read')),
       count(*) FILTER (WHERE plain.authorize(p, t, 'model', 'read')),
       count(*) FILTER (WHERE zenml_rbac.rbac_can(p, t, 'model', 'read')
                              IS DISTINCT FROM plain.authorize(p, t, 'model', 'read')),
       count(*), count(DISTINCT p)
FROM bench.pairs;

SELECT 'cache', principals, memory_bytes FROM zenml_rbac.cache_stats();
