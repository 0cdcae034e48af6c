-- The queries of the row-level security benchmark (rls.sh), one table for
-- measuring, checking and explaining them: every query is a count(*), run
-- as `role` after `setup`, by one principal per scenario.  The owner's
-- queries name the principal's tenants (and shared ids) as constants, as an
-- application that had looked them up would.  `expect` is the answer, from
-- the owner's query run here as superuser; `scale` turns a time measured on
-- the 100k-row copy into one for the full table.

\set ON_ERROR_STOP 1

CREATE TABLE bench.rls_scenario (
    scenario  text PRIMARY KEY,
    principal text NOT NULL,
    ord       int  NOT NULL,
    tenants   uuid[] NOT NULL,     -- where its roles give model:read (the application's view)
    shared    uuid[] NOT NULL,     -- model ids shared with it for read
    about     text NOT NULL
);
INSERT INTO bench.rls_scenario
SELECT s.scenario, s.principal, s.ord,
       ARRAY(SELECT m.tenant_id FROM rls.memberships m JOIN rls.role_perms r ON r.role = m.role
              WHERE m.user_id = p.id AND r.resource_type = 'model' AND r.action = 'read' ORDER BY 1),
       ARRAY(SELECT resource_id FROM rls.shares WHERE user_id = p.id AND 'read' = ANY (actions) ORDER BY 1),
       s.about
  FROM (VALUES ('member', 'alice', 1, 'member of ' || :member || ' of ' || :tenants || ' tenants'),
               ('shares', 'carol', 2, 'member of ' || :member || ' of ' || :tenants || ' tenants, plus '
                                      || :shares || ' rows shared with it in ' || :shares || ' other tenants'),
               ('many',   'many',  3, 'member of ' || :many || ' of ' || :tenants || ' tenants'),
               ('selective', 'sel', 4, 'member of 1 of ' || :wide_tenants || ' tenants')) s(scenario, principal, ord, about)
  JOIN rls.principal p ON p.name = s.principal;

CREATE TABLE bench.rls_q (
    scenario text NOT NULL REFERENCES bench.rls_scenario,
    ord      int  NOT NULL,
    name     text NOT NULL,
    what     text NOT NULL,
    role     text NOT NULL,
    setup    text NOT NULL DEFAULT '',
    query    text NOT NULL,
    scale    numeric NOT NULL DEFAULT 1,
    expect   bigint,
    PRIMARY KEY (scenario, name)
);

-- $1: table; the owner's WHERE for the scenario's principal, constants or
-- InitPlans (`shape`: the plan shape of the zenml_rbac policy).
CREATE FUNCTION bench.rls_owner_query(s bench.rls_scenario, tbl text, shape boolean) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN NOT shape THEN
               format('SELECT count(*) FROM %s WHERE tenant_id = ANY (%L::uuid[])', tbl, s.tenants)
               || CASE WHEN cardinality(s.shared) > 0 THEN format(' OR id = ANY (%L::uuid[])', s.shared) ELSE '' END
           ELSE
               format('SELECT count(*) FROM %s WHERE tenant_id = ANY ((SELECT %L::uuid[])::uuid[])'
                      ' OR id = ANY ((SELECT %s::uuid[])::uuid[])', tbl, s.tenants,
                      CASE WHEN cardinality(s.shared) > 0 THEN quote_literal(s.shared) ELSE 'NULL' END)
           END
$$;

-- The best the owner can write by hand with shares: the tenant part and the
-- shared ids elsewhere as two index scans, concatenated.
CREATE FUNCTION bench.rls_owner_union(s bench.rls_scenario, tbl text) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$
    SELECT format('SELECT count(*) FROM (SELECT 1 FROM %1$s WHERE tenant_id = ANY (%2$L::uuid[])'
                  ' UNION ALL SELECT 1 FROM %1$s WHERE id = ANY (%3$L::uuid[])'
                  ' AND tenant_id <> ALL (%2$L::uuid[])) x', tbl, s.tenants, s.shared)
$$;

INSERT INTO bench.rls_q (scenario, ord, name, what, role, setup, query, scale)
SELECT s.scenario, q.ord, q.name, q.what, q.role, coalesce(q.setup, ''), q.query, coalesce(q.scale, 1)
  FROM bench.rls_scenario s,
       LATERAL (VALUES
    (1, 'owner', 'table owner, WHERE tenant_id = ANY (constants)'
                 || CASE WHEN cardinality(s.shared) > 0 THEN ' OR id = ANY (constants)' ELSE '' END,
     'bench_rls_owner', NULL, bench.rls_owner_query(s, 'rls.items', false), NULL),
    (2, 'owner_shape', 'table owner, same WHERE as InitPlans (the policy''s plan shape)',
     'bench_rls_owner', NULL, bench.rls_owner_query(s, 'rls.items', true), NULL),
    (3, 'zenml_rbac', 'zenml_rbac: protect() policy', 'bench_rls_app', NULL, 'SELECT count(*) FROM rls.items', NULL),
    (4, 'bp_in', 'plain SQL best practice: tenant_id IN (SELECT ... memberships)',
     'bench_rls_bp_in', NULL, 'SELECT count(*) FROM rls.items_sql', NULL),
    (5, 'bp_any', 'plain SQL best practice: tenant_id = ANY ((SELECT array_agg(...)))',
     'bench_rls_bp_any', NULL, 'SELECT count(*) FROM rls.items_sql', NULL),
    (6, 'bp_shares', 'plain SQL best practice = ANY, plus a shares arm (same rules)',
     'bench_rls_bp_shares', NULL, 'SELECT count(*) FROM rls.items_sql', NULL),
    (7, 'naive_exists', 'plain SQL naive: correlated EXISTS inline (hashed by PostgreSQL)',
     'bench_rls_naive_exists', NULL, 'SELECT count(*) FROM rls.items_sql', NULL),
    (8, 'naive_fn', format('plain SQL naive: per-row has_permission() (%s-row copy, x%s)',
                           :naive_rows, round(:rows::numeric / :naive_rows, 1)),
     'bench_rls_naive_fn', NULL, 'SELECT count(*) FROM rls.items_naive', :rows::numeric / :naive_rows),
    (9, 'owner_cov', 'table owner, constants, copy indexed on (tenant_id, id)',
     'bench_rls_owner', NULL, bench.rls_owner_query(s, 'rls.items_cov', false), NULL),
    (10, 'zenml_rbac_cov', 'zenml_rbac policy, copy indexed on (tenant_id, id)',
     'bench_rls_app', NULL, 'SELECT count(*) FROM rls.items_cov', NULL),
    (11, 'p1', 'prototype P1 policy (no per-row tenant filter), (tenant_id) index',
     'bench_rls_p1', NULL, 'SELECT count(*) FROM rls.items_sql', NULL),
    (12, 'p2', 'prototype P2 policy (one tenant condition), (tenant_id) index',
     'bench_rls_p2', NULL, 'SELECT count(*) FROM rls.items_sql', NULL),
    (13, 'p2_cov', 'prototype P2 policy (one tenant condition), (tenant_id, id) index',
     'bench_rls_p2', NULL, 'SELECT count(*) FROM rls.items_cov', NULL),
    (14, 'owner_union', 'table owner, by hand: the tenants UNION ALL the shared ids elsewhere (two index scans)',
     'bench_rls_owner', NULL, bench.rls_owner_union(s, 'rls.items'), NULL)
  ) q(ord, name, what, role, setup, query, scale)
 WHERE s.scenario <> 'selective'
   AND q.name = ANY (CASE s.scenario
         WHEN 'member' THEN ARRAY['owner', 'owner_shape', 'zenml_rbac', 'bp_in', 'bp_any', 'bp_shares',
                                  'naive_exists', 'naive_fn', 'owner_cov', 'zenml_rbac_cov', 'p1', 'p2', 'p2_cov']
         WHEN 'shares' THEN ARRAY['owner', 'zenml_rbac', 'bp_shares', 'owner_cov', 'zenml_rbac_cov', 'p1', 'p2', 'p2_cov',
                                  'owner_union']
         WHEN 'many'   THEN ARRAY['owner', 'owner_shape', 'zenml_rbac', 'bp_in', 'bp_any', 'p1', 'p2', 'p2_cov']
       END);

INSERT INTO bench.rls_q (scenario, ord, name, what, role, setup, query)
SELECT 'selective', q.ord, q.name, q.what, q.role, q.setup, q.query
  FROM bench.rls_scenario s,
       LATERAL (VALUES
    (1, 'owner', 'table owner, WHERE tenant_id = ANY (constants)', 'bench_rls_owner', '',
     bench.rls_owner_query(s, 'rls.items_wide', false)),
    (2, 'owner_shape', 'table owner, same WHERE as InitPlans (the policy''s plan shape)', 'bench_rls_owner', '',
     bench.rls_owner_query(s, 'rls.items_wide', true)),
    (3, 'zenml_rbac', 'zenml_rbac: protect() policy', 'bench_rls_app', '', 'SELECT count(*) FROM rls.items_wide'),
    (4, 'zenml_rbac_noindex', 'the same with index scans disabled (what the tenant index saves)', 'bench_rls_app',
     'SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_indexonlyscan = off',
     'SELECT count(*) FROM rls.items_wide'),
    (5, 'owner_cov', 'table owner, constants, copy indexed on (tenant_id, id)', 'bench_rls_owner', '',
     bench.rls_owner_query(s, 'rls.items_wide_cov', false)),
    (6, 'zenml_rbac_cov', 'zenml_rbac policy, copy indexed on (tenant_id, id)', 'bench_rls_app', '',
     'SELECT count(*) FROM rls.items_wide_cov'),
    (7, 'p2_cov', 'prototype P2 policy (one tenant condition), (tenant_id, id) index', 'bench_rls_p2', '',
     'SELECT count(*) FROM rls.items_wide_cov')
  ) q(ord, name, what, role, setup, query)
 WHERE s.scenario = 'selective';

UPDATE bench.rls_q SET setup = format('SET LOCAL ROLE %I; ', role) || setup;

-- The answers, from the owner's WHERE on the table each query reads.
UPDATE bench.rls_q q
   SET expect = bench.rls_count('', bench.rls_owner_query(s, substring(q.query FROM 'FROM (rls\.\w+)'), false))
  FROM bench.rls_scenario s
 WHERE s.scenario = q.scenario;
