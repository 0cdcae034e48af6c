-- One principal of rls_point.sql (:who, id :whoid): its lookups, both modes,
-- every variant, in one transaction.
BEGIN;
SET LOCAL ROLE bench_rls_app;
SELECT zenml_rbac.set_principal(:'whoid') \g /dev/null
RESET ROLE;
SELECT 'l', :'who', split_part(m.name, '/', 1), split_part(m.name, '/', 2), m.median_us, m.samples, m.min_found, :iters
  FROM bench.measure_loops(
         ARRAY(SELECT mode || '/' || variant FROM point_q, unnest(ARRAY['planned', 'prepared']) mode
                WHERE principal = :'who' ORDER BY mode, variant),
         ARRAY(SELECT setup FROM point_q, unnest(ARRAY['planned', 'prepared']) mode
                WHERE principal = :'who' ORDER BY mode, variant),
         ARRAY(SELECT CASE mode
                      WHEN 'planned' THEN format('SELECT * FROM bench.rls_point_planned((SELECT qs FROM point_q WHERE principal = %L AND variant = %L), %s)',
                                                 principal, variant, :iters)
                      ELSE format('SELECT * FROM bench.rls_point_prepared_%s(%L, %s)', variant, ids, :iters) END
                 FROM point_q, unnest(ARRAY['planned', 'prepared']) mode
                WHERE principal = :'who' ORDER BY mode, variant),
         :reps) m;
COMMIT;
