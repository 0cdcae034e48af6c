-- The queries of the row-level security benchmark (rls.sh), one table for
-- measuring, checking and explaining them: each query is a count(*) or a
-- page (`SELECT id, name ... ORDER BY id LIMIT 100`), run as `role` after
-- `setup`, by one principal per scenario.  The owner's queries name the
-- principal's tenants (and shared ids) as constants, as an application that
-- had looked them up would.  `expect` is the answer, from the owner's query
-- run here as superuser on the table the query reads; `scale` turns a time
-- measured on the 100k-row copy into one for the full table.

\set ON_ERROR_STOP 1

CREATE TABLE bench.rls_scenario (
    scenario  text PRIMARY KEY,
    principal text NOT NULL,
    ord       int  NOT NULL,
    tenants   uuid[] NOT NULL,     -- where its roles give model:read (the application's view)
    shared    uuid[] NOT NULL,     -- model ids shared with it for read
    tbl       text NOT NULL,       -- the protected table, its plain copy, its (tenant_id, id) copy, its small copy
    tbl_sql   text NOT NULL,
    tbl_cov   text NOT NULL,
    tbl_naive text,
    about     text NOT NULL
);
INSERT INTO bench.rls_scenario
SELECT s.scenario, s.principal, s.ord,
       ARRAY(SELECT m.tenant_id FROM rls.memberships m JOIN rls.role_perms r ON r.role = m.role
              WHERE m.user_id = p.id AND r.resource_type = 'model' AND r.action = 'read' ORDER BY 1),
       ARRAY(SELECT resource_id FROM rls.shares WHERE user_id = p.id AND 'read' = ANY (actions) ORDER BY 1),
       'rls.' || s.t, 'rls.' || s.t || '_sql', 'rls.' || s.t || '_cov',
       CASE WHEN s.t = 'items' THEN 'rls.items_naive' END,
       s.about
  FROM (VALUES ('member', 'alice', 1, 'items', 'member of ' || :member || ' of ' || :tenants || ' tenants'),
               ('shares', 'carol', 2, 'items', 'member of ' || :member || ' of ' || :tenants || ' tenants, plus '
                                      || :shares || ' rows shared with it in ' || :shares || ' other tenants'),
               ('many_shares', 'dave', 3, 'items', 'member of ' || :member || ' of ' || :tenants || ' tenants, plus '
                                      || :many_shares || ' rows shared with it in ' || :share_tenants || ' other tenants'),
               ('many',   'many',  4, 'items', 'member of ' || :many || ' of ' || :tenants || ' tenants'),
               ('selective', 'sel', 5, 'items_wide', 'member of 1 of ' || :wide_tenants || ' tenants'))
       s(scenario, principal, ord, t, about)
  JOIN rls.principal p ON p.name = s.principal;

CREATE TABLE bench.rls_q (
    scenario   text NOT NULL REFERENCES bench.rls_scenario,
    kind       text NOT NULL CHECK (kind IN ('count', 'page')),
    ord        int  NOT NULL,
    name       text NOT NULL,
    what       text NOT NULL,
    class      text NOT NULL,      -- owner (a candidate baseline), zenml, plain (a plain-SQL policy), other
    role       text NOT NULL,
    setup      text NOT NULL DEFAULT '',
    query      text NOT NULL,
    scale      numeric NOT NULL DEFAULT 1,
    concurrent boolean NOT NULL DEFAULT false,   -- also in the series under a concurrent writer
    expect     text,
    PRIMARY KEY (scenario, kind, name)
);

-- What a query selects and how it ends, by kind.
CREATE FUNCTION bench.rls_select(kind text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE kind WHEN 'count' THEN 'SELECT count(*)' ELSE 'SELECT id, name' END
$$;
CREATE FUNCTION bench.rls_tail(kind text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE kind WHEN 'count' THEN '' ELSE ' ORDER BY id LIMIT 100' END
$$;

-- The owner's WHERE for the scenario's principal on table tbl, constants or
-- InitPlans (`shape`: the plan shape of a policy).
CREATE FUNCTION bench.rls_owner_query(s bench.rls_scenario, tbl text, shape boolean, kind text DEFAULT 'count')
    RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT bench.rls_select(kind) || ' FROM ' || tbl || ' WHERE '
           || CASE WHEN NOT shape THEN
                  format('tenant_id = ANY (%L::uuid[])', s.tenants)
                  || CASE WHEN cardinality(s.shared) > 0 THEN format(' OR id = ANY (%L::uuid[])', s.shared) ELSE '' END
              ELSE
                  format('tenant_id = ANY ((SELECT %L::uuid[])::uuid[]) OR id = ANY ((SELECT %s::uuid[])::uuid[])',
                         s.tenants, CASE WHEN cardinality(s.shared) > 0 THEN quote_literal(s.shared) ELSE 'NULL' END)
              END
           || bench.rls_tail(kind)
$$;

-- The best the owner can write by hand with shares: the tenant part and the
-- shared ids elsewhere as two index scans, concatenated (count), or each
-- part's first 100 by id, then the first 100 of those (page).
CREATE FUNCTION bench.rls_owner_union(s bench.rls_scenario, tbl text, kind text) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE kind WHEN 'count' THEN
               format('SELECT count(*) FROM (SELECT 1 FROM %1$s WHERE tenant_id = ANY (%2$L::uuid[])'
                      ' UNION ALL SELECT 1 FROM %1$s WHERE id = ANY (%3$L::uuid[])'
                      ' AND tenant_id <> ALL (%2$L::uuid[])) x', tbl, s.tenants, s.shared)
           ELSE
               format('SELECT id, name FROM ((SELECT id, name FROM %1$s WHERE tenant_id = ANY (%2$L::uuid[])'
                      ' ORDER BY id LIMIT 100) UNION ALL (SELECT id, name FROM %1$s WHERE id = ANY (%3$L::uuid[])'
                      ' AND tenant_id <> ALL (%2$L::uuid[]) ORDER BY id LIMIT 100)) x ORDER BY id LIMIT 100',
                      tbl, s.tenants, s.shared)
           END
$$;

-- Every query, for every scenario and kind where it applies.  Tenant-only
-- plain-SQL policies cannot express shares: they run where there are none;
-- where there are, their forms with a shares arm run instead.
INSERT INTO bench.rls_q (scenario, kind, ord, name, what, class, role, setup, query, scale, concurrent)
SELECT s.scenario, k.kind, q.ord, q.name, q.what, q.class, q.role, coalesce(q.setup, ''),
       q.query, coalesce(q.scale, 1), coalesce(q.concurrent, false)
  FROM bench.rls_scenario s,
       (VALUES ('count'), ('page')) k(kind),
       LATERAL (SELECT cardinality(s.shared) > 0 AS sh, bench.rls_select(k.kind) AS sel, bench.rls_tail(k.kind) AS tail) x,
       LATERAL (VALUES
    (1, 'owner', 'table owner, WHERE tenant_id = ANY (constants)'
                 || CASE WHEN x.sh THEN ' OR id = ANY (constants)' ELSE '' END
                 || CASE WHEN k.kind = 'page' THEN ', ORDER BY id LIMIT 100' ELSE '' END,
     'owner', 'bench_rls_owner', NULL, bench.rls_owner_query(s, s.tbl, false, k.kind), NULL, true, true),
    (2, 'owner_union', CASE k.kind WHEN 'count'
                       THEN 'table owner, by hand: the tenants UNION ALL the shared ids elsewhere (two index scans)'
                       ELSE 'table owner, by hand: first 100 of the tenants UNION ALL first 100 shared elsewhere, first 100' END,
     'owner', 'bench_rls_owner', NULL, bench.rls_owner_union(s, s.tbl, k.kind), NULL, true, x.sh),
    (8, 'owner_sum', 'table owner, by hand: count(*) of the tenants plus a sub-select''s count of the shared ids elsewhere',
     'owner', 'bench_rls_owner', NULL,
     format('SELECT count(*) + (SELECT count(*) FROM %1$s WHERE id = ANY (%3$L::uuid[]) AND tenant_id <> ALL (%2$L::uuid[]))'
            ' FROM %1$s WHERE tenant_id = ANY (%2$L::uuid[])', s.tbl, s.tenants, s.shared),
     NULL, false, x.sh AND k.kind = 'count'),
    (9, 'claims', 'the application''s tenant list in a setting: tenant_id = ANY ((SELECT current_setting(''app.tenants'')::uuid[]))',
     'owner', 'bench_rls_claims', NULL, x.sel || ' FROM ' || s.tbl_sql || x.tail, NULL, false, NOT x.sh),
    (9, 'claims_shares', 'the application''s lists in settings: claims plus OR id = ANY ((SELECT current_setting(''app.shares'')::uuid[]))',
     'owner', 'bench_rls_claims_shares', NULL, x.sel || ' FROM ' || s.tbl_sql || x.tail, NULL, false, x.sh),
    (3, 'owner_shape', 'table owner, same WHERE as InitPlans (the policy''s plan shape)',
     'other', 'bench_rls_owner', NULL, bench.rls_owner_query(s, s.tbl, true, k.kind), NULL, false, k.kind = 'count'),
    (4, 'zenml_rbac', 'zenml_rbac: protect() policy', 'zenml', 'bench_rls_app', NULL,
     x.sel || ' FROM ' || s.tbl || x.tail, NULL, true, true),
    (5, 'zenml_rbac_off', 'the same, SET zenml_rbac.policy_arms = off (PostgreSQL''s own plans)', 'other', 'bench_rls_app',
     'SET LOCAL zenml_rbac.policy_arms = off', x.sel || ' FROM ' || s.tbl || x.tail, NULL, true, true),
    (6, 'v02', 'v0.2''s policy text, policy_arms off (the 0.2 release''s plans), plain copy', 'other', 'bench_rls_app',
     'SET LOCAL zenml_rbac.policy_arms = off', x.sel || ' FROM ' || s.tbl_sql || x.tail, NULL, true, true),
    (10, 'bp_in', 'plain SQL best practice: tenant_id IN (SELECT ... memberships)',
     'plain', 'bench_rls_bp_in', NULL, x.sel || ' FROM ' || s.tbl_sql || x.tail, NULL, false, NOT x.sh),
    (11, 'bp_any', 'plain SQL best practice: tenant_id = ANY ((SELECT array_agg(...)))',
     'plain', 'bench_rls_bp_any', NULL, x.sel || ' FROM ' || s.tbl_sql || x.tail, NULL, false, NOT x.sh),
    (12, 'bp_in_shares', 'plain SQL best practice IN, plus OR id IN (SELECT ... shares)',
     'plain', 'bench_rls_bp_in_shares', NULL, x.sel || ' FROM ' || s.tbl_sql || x.tail, NULL, false, x.sh),
    (13, 'bp_shares', 'plain SQL best practice = ANY, plus OR id = ANY ((SELECT array_agg(... shares)))',
     'plain', 'bench_rls_bp_shares', NULL, x.sel || ' FROM ' || s.tbl_sql || x.tail, NULL, false, true),
    (14, 'naive_exists', 'plain SQL naive: correlated EXISTS inline (hashed by PostgreSQL)',
     'plain', 'bench_rls_naive_exists', NULL, x.sel || ' FROM ' || s.tbl_sql || x.tail, NULL, false, NOT x.sh),
    (15, 'naive_exists_shares', 'plain SQL naive: EXISTS (memberships) OR EXISTS (shares), inline',
     'plain', 'bench_rls_naive_exists_shares', NULL, x.sel || ' FROM ' || s.tbl_sql || x.tail, NULL, false, x.sh),
    (16, 'naive_fn', CASE k.kind WHEN 'count'
                     THEN format('plain SQL naive: per-row has_permission() (%s-row copy, x%s)',
                                 :naive_rows, round(:rows::numeric / :naive_rows, 1))
                     ELSE 'plain SQL naive: per-row has_permission()' END,
     'plain', 'bench_rls_naive_fn', NULL,
     x.sel || ' FROM ' || CASE k.kind WHEN 'count' THEN s.tbl_naive ELSE s.tbl_sql END || x.tail,
     CASE k.kind WHEN 'count' THEN :rows::numeric / :naive_rows END, false, NOT x.sh AND s.tbl_naive IS NOT NULL),
    (17, 'naive_fn_shares', CASE k.kind WHEN 'count'
                     THEN format('plain SQL naive: per-row has_access() with shares (%s-row copy, x%s)',
                                 :naive_rows, round(:rows::numeric / :naive_rows, 1))
                     ELSE 'plain SQL naive: per-row has_access() with shares' END,
     'plain', 'bench_rls_naive_fn_shares', NULL,
     x.sel || ' FROM ' || CASE k.kind WHEN 'count' THEN s.tbl_naive ELSE s.tbl_sql END || x.tail,
     CASE k.kind WHEN 'count' THEN :rows::numeric / :naive_rows END, false, x.sh AND s.tbl_naive IS NOT NULL),
    (20, 'owner_cov', 'table owner, constants, copy indexed on (tenant_id, id)',
     'other', 'bench_rls_owner', NULL, bench.rls_owner_query(s, s.tbl_cov, false, k.kind), NULL, false, k.kind = 'count'),
    (21, 'zenml_rbac_cov', 'zenml_rbac policy, copy indexed on (tenant_id, id)',
     'other', 'bench_rls_app', NULL, x.sel || ' FROM ' || s.tbl_cov || x.tail, NULL, false, k.kind = 'count'),
    (22, 'p2', 'prototype P2 policy (one tenant condition), (tenant_id) index',
     'other', 'bench_rls_p2', NULL, x.sel || ' FROM ' || s.tbl_sql || x.tail, NULL, false,
     k.kind = 'count' AND s.scenario <> 'selective'),
    (23, 'p2_cov', 'prototype P2 policy (one tenant condition), (tenant_id, id) index',
     'other', 'bench_rls_p2', NULL, x.sel || ' FROM ' || s.tbl_cov || x.tail, NULL, false, k.kind = 'count'),
    (7, 'zenml_rbac_nowalk', 'zenml_rbac, SET enable_indexscan = off: no primary-key walk (the arms path or a BitmapOr, then a sort)',
     'other', 'bench_rls_app', 'SET LOCAL enable_indexscan = off', x.sel || ' FROM ' || s.tbl || x.tail, NULL, false,
     k.kind = 'page'),
    (24, 'zenml_rbac_noindex', 'zenml_rbac with index scans disabled (what the tenant index saves)', 'other', 'bench_rls_app',
     'SET LOCAL enable_indexscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_indexonlyscan = off',
     x.sel || ' FROM ' || s.tbl || x.tail, NULL, false, s.scenario = 'selective' AND k.kind = 'count')
  ) q(ord, name, what, class, role, setup, query, scale, concurrent, applies)
 WHERE q.applies;

UPDATE bench.rls_q SET setup = format('SET LOCAL ROLE %I; ', role) || setup;

-- The answers, from the owner's WHERE on the table each query reads.
UPDATE bench.rls_q q
   SET expect = bench.rls_answer('', bench.rls_owner_query(s, substring(q.query FROM 'FROM (rls\.\w+)'), false, q.kind))
  FROM bench.rls_scenario s
 WHERE s.scenario = q.scenario;
