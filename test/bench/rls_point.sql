-- Point lookups by primary key and single-row inserts (rls.sh), timed as
-- loops of :iters statements in PL/pgSQL, interleaved (bench.measure_loops),
-- per principal in one transaction.  Lookups: alice reads rows of her
-- tenants, dave rows shared with him (the instance arm), each cycling
-- through 100 visible ids; planned each time (EXECUTE of a text with the
-- id) and through a prepared statement (PL/pgSQL's cached plan); on
-- rls.items with zenml_rbac.policy_arms on and off, on the plain copy under
-- v0.2's policy (policy_arms off), and as the table owner (no policy, for
-- scale).  Inserts: ed (editor in the tenant `extra`) into rls.items, policy
-- arms on, off, and on again (the same loop twice: the noise), rolled back.
-- psql variables: reps, iters.
-- Output: l|principal|mode|variant|median_us|samples|min_found|iters.
\set ON_ERROR_STOP 1
SELECT bench.rls_make_point_prepared(v, t)
  FROM (VALUES ('on', 'rls.items'), ('off', 'rls.items'), ('v02', 'rls.items_sql'), ('owner', 'rls.items')) x(v, t)
 WHERE NOT EXISTS (SELECT FROM pg_proc WHERE proname = 'rls_point_prepared_' || v) \g /dev/null

CREATE TEMP TABLE point_case AS
SELECT p.name AS principal, p.id AS pid,
       ARRAY(SELECT i.id FROM rls.items i
              WHERE CASE p.name WHEN 'alice' THEN i.tenant_id = ANY (s.tenants) ELSE i.id = ANY (s.shared) END
              ORDER BY i.created_at LIMIT 100) AS ids
  FROM bench.rls_scenario s JOIN rls.principal p ON p.name = s.principal
 WHERE p.name IN ('alice', 'dave');
CREATE TEMP TABLE point_q AS
SELECT c.principal, c.pid, v.variant, v.setup, v.tbl, c.ids,
       ARRAY(SELECT format('SELECT name FROM %s WHERE id = %L', v.tbl, x) FROM unnest(c.ids) x) AS qs
  FROM point_case c,
       (VALUES (1, 'on', 'SET LOCAL ROLE bench_rls_app', 'rls.items'),
               (2, 'off', 'SET LOCAL ROLE bench_rls_app; SET LOCAL zenml_rbac.policy_arms = off', 'rls.items'),
               (3, 'v02', 'SET LOCAL ROLE bench_rls_app; SET LOCAL zenml_rbac.policy_arms = off', 'rls.items_sql'),
               (4, 'owner', 'SET LOCAL ROLE bench_rls_owner', 'rls.items')) v(ord, variant, setup, tbl);
GRANT SELECT ON point_q TO PUBLIC;

SELECT pid AS alice FROM point_case WHERE principal = 'alice' \gset
SELECT pid AS dave FROM point_case WHERE principal = 'dave' \gset
SELECT p.id AS ed, t.id AS extra FROM rls.principal p, rls.tenant t WHERE p.name = 'ed' AND t.kind = 'extra' \gset

\set who alice
\set whoid :alice
\ir rls_point_step.sql
\set who dave
\set whoid :dave
\ir rls_point_step.sql

-- inserts, as ed
BEGIN;
SET LOCAL ROLE bench_rls_app;
SELECT zenml_rbac.set_principal(:'ed') \g /dev/null
RESET ROLE;
SELECT 'l', 'ed', 'insert', m.name, m.median_us, m.samples, m.min_found, :iters
  FROM bench.measure_loops(ARRAY['on', 'off', 'on_again'],
                           ARRAY['SET LOCAL ROLE bench_rls_app',
                                 'SET LOCAL ROLE bench_rls_app; SET LOCAL zenml_rbac.policy_arms = off',
                                 'SET LOCAL ROLE bench_rls_app'],
                           ARRAY[format('SELECT * FROM bench.rls_insert_loop(''rls.items'', %L, %s)', :'extra', :iters),
                                 format('SELECT * FROM bench.rls_insert_loop(''rls.items'', %L, %s)', :'extra', :iters),
                                 format('SELECT * FROM bench.rls_insert_loop(''rls.items'', %L, %s)', :'extra', :iters)],
                           :reps) m;
COMMIT;
