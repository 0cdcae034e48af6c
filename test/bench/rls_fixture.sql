-- Fixture of the row-level security benchmark (rls.sh): a zenml_rbac
-- catalog, a protected 1M-row table, identical copies of it under plain-SQL
-- policies over ordinary role tables, and a wide table for the selective case.
-- Runs as a superuser in a fresh database after common.sql and rls_common.sql.
-- psql variables (rls.sh sets them): rows, tenants, member, many, shares,
-- many_shares, share_tenants, naive_rows, wide_rows, wide_tenants,
-- filler_users.
--
-- Principals (all org_viewer; tenant role viewer, which reads every type):
--   alice  tenants 0 .. member-1                      (member/tenants of the rows)
--   bob    tenants member .. member+2                 (the prepared-statement check)
--   carol  tenants 10 .. 10+member-1, plus `shares` rows shared with her
--          with {read}, one in each of the next `shares` tenants
--   dave   the last `member` tenants, plus `many_shares` rows shared with him
--          with {read}: many_shares / share_tenants rows in each of tenants
--          0 .. share_tenants-1, spread over the heap
--   many   tenants 0 .. many-1
--   sel    wide tenant 0 of wide_tenants
--   ed     editor (model:create) in tenant `extra`, which holds no rows: the
--          inserts of rls.sh (rolled back) and the concurrent writer's go there
-- Row i of rls.items is md5('item:i')::uuid in tenant i % tenants: every
-- tenant's rows are spread over the whole heap, as in a table all tenants
-- write to over time.

\set ON_ERROR_STOP 1

-- ---------------------------------------------------------------- roles
-- Cluster-wide; rls.sh drops them at the end of a run on an existing server.
SELECT format('CREATE ROLE %I NOLOGIN', r)
  FROM unnest(ARRAY['bench_rls_owner', 'bench_rls_app', 'bench_rls_bp_in', 'bench_rls_bp_any',
                    'bench_rls_bp_shares', 'bench_rls_naive_exists', 'bench_rls_naive_fn',
                    'bench_rls_bp_in_shares', 'bench_rls_naive_exists_shares', 'bench_rls_naive_fn_shares',
                    'bench_rls_p2', 'bench_rls_claims', 'bench_rls_claims_shares']) r
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) \gexec
GRANT EXECUTE ON FUNCTION zenml_rbac.set_principal(uuid) TO bench_rls_app;

CREATE SCHEMA rls AUTHORIZATION bench_rls_owner;
GRANT USAGE ON SCHEMA rls, bench TO PUBLIC;

-- ---------------------------------------------------------------- catalog
-- Through the management API (as the system): it is small.
SELECT zenml_rbac.create_organization('bench') AS org \gset
SELECT zenml_rbac.create_organization('bench_wide') AS org_wide \gset

CREATE TABLE rls.tenant (kind text, n int, id uuid NOT NULL, PRIMARY KEY (kind, n));
INSERT INTO rls.tenant
SELECT 'main', n, zenml_rbac.create_tenant(:'org', 't' || n) FROM generate_series(0, :tenants - 1) n;
INSERT INTO rls.tenant
SELECT 'wide', n, zenml_rbac.create_tenant(:'org_wide', 'w' || n) FROM generate_series(0, :wide_tenants - 1) n;
INSERT INTO rls.tenant VALUES ('extra', 0, zenml_rbac.create_tenant(:'org', 'extra'));

CREATE TABLE rls.principal (name text PRIMARY KEY, id uuid NOT NULL);
INSERT INTO rls.principal
SELECT u, zenml_rbac.create_user(u) FROM unnest(ARRAY['alice', 'bob', 'carol', 'dave', 'many', 'sel', 'ed']) u;
SELECT count(zenml_rbac.set_org_role(:'org', id, 'org_viewer')) AS org_members FROM rls.principal WHERE name <> 'sel';
SELECT count(zenml_rbac.set_org_role(:'org_wide', id, 'org_viewer')) AS wide_members FROM rls.principal WHERE name = 'sel';

SELECT count(zenml_rbac.grant_tenant_role(t.id, p.id, 'viewer')) AS tenant_roles
  FROM rls.principal p
  JOIN rls.tenant t ON (t.kind, p.name) IN (('main', 'alice'), ('main', 'bob'), ('main', 'carol'),
                                            ('main', 'dave'), ('main', 'many'), ('wide', 'sel'))
 WHERE CASE p.name
         WHEN 'alice' THEN t.n < :member
         WHEN 'bob'   THEN t.n BETWEEN :member AND :member + 2
         WHEN 'carol' THEN t.n BETWEEN 10 AND 10 + :member - 1
         WHEN 'dave'  THEN t.n >= :tenants - :member
         WHEN 'many'  THEN t.n < :many
         WHEN 'sel'   THEN t.n = 0
       END;
SELECT zenml_rbac.grant_tenant_role(t.id, p.id, 'editor') AS editor_role
  FROM rls.principal p, rls.tenant t WHERE p.name = 'ed' AND t.kind = 'extra';

-- ---------------------------------------------------------------- the protected table
CREATE TABLE rls.items (
    id         uuid        PRIMARY KEY,
    tenant_id  uuid        NOT NULL,
    name       text        NOT NULL,
    created_at timestamptz NOT NULL
);
ALTER TABLE rls.items OWNER TO bench_rls_owner;
INSERT INTO rls.items
SELECT md5('item:' || i)::uuid, t.a[i % :tenants + 1], 'model ' || i,
       timestamptz '2026-01-01' + i * interval '1 second'
  FROM (SELECT array_agg(id ORDER BY n) a FROM rls.tenant WHERE kind = 'main') t,
       generate_series(0, :rows - 1) i;
CREATE INDEX items_tenant ON rls.items (tenant_id);
SET client_min_messages = warning;   -- protect()'s notice: the owner bypasses the policies
SELECT zenml_rbac.protect('rls.items', 'model', 'tenant_id', 'id');   -- registers every row
RESET client_min_messages;
GRANT SELECT, INSERT ON rls.items TO bench_rls_app;   -- INSERT: the inserts of rls_point.sql

-- carol's shares: the first row of each of `shares` tenants after hers
SELECT count(zenml_rbac.share_resource(i.tenant_id, 'model/' || i.id, p.id, '{read}')) AS shares
  FROM rls.principal p,
       rls.tenant t
       JOIN LATERAL (SELECT * FROM rls.items i WHERE i.tenant_id = t.id
                      ORDER BY i.created_at LIMIT 1) i ON true
 WHERE p.name = 'carol' AND t.kind = 'main'
   AND t.n BETWEEN 10 + :member AND 10 + :member + :shares - 1;

-- dave's shares: in each of the first share_tenants tenants, many_shares /
-- share_tenants rows evenly spaced over the tenant's rows (row i is in tenant
-- i % tenants), so over the whole heap and, the ids being md5s, over the
-- whole primary key.
SELECT count(zenml_rbac.share_resource(t.id, 'model/' || bench.id('item', i), p.id, '{read}')) AS many_shares
  FROM rls.principal p,
       rls.tenant t,
       LATERAL (SELECT :many_shares / :share_tenants AS per, :rows / :tenants AS n) k,
       LATERAL generate_series(0, k.per - 1) j,
       LATERAL (SELECT t.n + :tenants::bigint * (j * (k.n / k.per)) AS i) r
 WHERE p.name = 'dave' AND t.kind = 'main' AND t.n < :share_tenants;

-- ---------------------------------------------------------------- plain-SQL role tables
-- What an application without zenml_rbac keeps: memberships with a role name,
-- a role -> permission table, shares.  The bench principals' rows mirror
-- their zenml_rbac grants; filler users make the tables realistically sized.
CREATE TABLE rls.memberships (
    user_id   uuid NOT NULL,
    tenant_id uuid NOT NULL,
    role      text NOT NULL,
    PRIMARY KEY (user_id, tenant_id, role)
);
CREATE INDEX ON rls.memberships (tenant_id);
CREATE TABLE rls.role_perms (
    role          text NOT NULL,
    resource_type text NOT NULL,
    action        text NOT NULL,
    PRIMARY KEY (role, resource_type, action)
);
CREATE TABLE rls.shares (
    user_id     uuid   NOT NULL,
    tenant_id   uuid   NOT NULL,
    resource_id uuid   NOT NULL,
    actions     text[] NOT NULL,
    PRIMARY KEY (user_id, tenant_id, resource_id)
);
CREATE INDEX ON rls.shares (user_id, resource_id);   -- "is this row shared with me?"
INSERT INTO rls.role_perms
SELECT r, t, a
  FROM unnest(ARRAY['admin', 'editor', 'viewer']) r,
       (SELECT name FROM zenml_rbac.resource_type WHERE kind = 'data') rt(t),
       unnest(ARRAY['create', 'read', 'update', 'delete', 'share']) a
 WHERE r = 'admin' OR a = 'read' OR (r = 'editor' AND a IN ('create', 'share'));
INSERT INTO rls.memberships
SELECT a.principal_id, a.tenant_id, r.name
  FROM zenml_rbac.tenant_role_assignment a JOIN zenml_rbac.role r ON r.id = a.role_id;
INSERT INTO rls.memberships
SELECT md5('filler:' || u)::uuid, t.id, (ARRAY['admin', 'editor', 'viewer'])[(u + k) % 3 + 1]
  FROM generate_series(1, :filler_users) u, generate_series(0, 4) k,
       LATERAL (SELECT id FROM rls.tenant
                 WHERE (kind, n) = (CASE WHEN (u + k) % 2 = 0 THEN 'main' ELSE 'wide' END,
                                    CASE WHEN (u + k) % 2 = 0 THEN (u * 7 + k) % :tenants
                                         ELSE (u * 7 + k) % :wide_tenants END)) t
ON CONFLICT DO NOTHING;
INSERT INTO rls.shares
SELECT principal_id, tenant_id, resource_id, actions FROM zenml_rbac.resource_grant;
ALTER TABLE rls.memberships OWNER TO bench_rls_owner;
ALTER TABLE rls.role_perms OWNER TO bench_rls_owner;
ALTER TABLE rls.shares OWNER TO bench_rls_owner;
GRANT SELECT ON rls.memberships, rls.role_perms, rls.shares TO PUBLIC;

-- ---------------------------------------------------------------- identical copies
-- Same rows in the same physical order.  Each plain-SQL policy is written
-- TO its own role, so several styles share one copy: a role sees only its
-- own policy (PostgreSQL applies the policies of the current role only).
CREATE TABLE rls.items_sql (LIKE rls.items);
INSERT INTO rls.items_sql SELECT * FROM rls.items ORDER BY created_at;
ALTER TABLE rls.items_sql ADD PRIMARY KEY (id);
CREATE INDEX items_sql_tenant ON rls.items_sql (tenant_id);

-- The same with (tenant_id, id) instead of (tenant_id): an index that can
-- cover every column the zenml_rbac policy reads.
CREATE TABLE rls.items_cov (LIKE rls.items);
INSERT INTO rls.items_cov SELECT * FROM rls.items ORDER BY created_at;
ALTER TABLE rls.items_cov ADD PRIMARY KEY (id);
CREATE INDEX items_cov_tenant_id ON rls.items_cov (tenant_id, id);

-- The first naive_rows rows (every tenant alike): the per-row policy is too
-- slow to run on all of them repeatedly.
CREATE TABLE rls.items_naive (LIKE rls.items);
INSERT INTO rls.items_naive SELECT * FROM rls.items ORDER BY created_at LIMIT :naive_rows;
ALTER TABLE rls.items_naive ADD PRIMARY KEY (id);
CREATE INDEX items_naive_tenant ON rls.items_naive (tenant_id);

ALTER TABLE rls.items_sql OWNER TO bench_rls_owner;
ALTER TABLE rls.items_cov OWNER TO bench_rls_owner;
ALTER TABLE rls.items_naive OWNER TO bench_rls_owner;
GRANT SELECT ON rls.items_sql, rls.items_cov, rls.items_naive TO PUBLIC;
ALTER TABLE rls.items_sql ENABLE ROW LEVEL SECURITY;
ALTER TABLE rls.items_cov ENABLE ROW LEVEL SECURITY;
ALTER TABLE rls.items_naive ENABLE ROW LEVEL SECURITY;

-- Plain SQL, best practice: the user id is read once per query (sub-select),
-- and the tenant list is computed once: hashed SubPlan ...
CREATE POLICY bp_in ON rls.items_sql FOR SELECT TO bench_rls_bp_in USING (
    tenant_id IN (SELECT m.tenant_id FROM rls.memberships m JOIN rls.role_perms p ON p.role = m.role
                   WHERE m.user_id = (SELECT current_setting('app.user_id')::uuid)
                     AND p.resource_type = 'model' AND p.action = 'read'));
-- ... or an InitPlan array, which an index on tenant_id serves
CREATE POLICY bp_any ON rls.items_sql FOR SELECT TO bench_rls_bp_any USING (
    tenant_id = ANY ((SELECT array_agg(m.tenant_id) FROM rls.memberships m JOIN rls.role_perms p ON p.role = m.role
                       WHERE m.user_id = (SELECT current_setting('app.user_id')::uuid)
                         AND p.resource_type = 'model' AND p.action = 'read')::uuid[]));
-- ... and the same with a shares arm: what zenml_rbac's policy decides
CREATE POLICY bp_shares ON rls.items_sql FOR SELECT TO bench_rls_bp_shares USING (
    tenant_id = ANY ((SELECT array_agg(m.tenant_id) FROM rls.memberships m JOIN rls.role_perms p ON p.role = m.role
                       WHERE m.user_id = (SELECT current_setting('app.user_id')::uuid)
                         AND p.resource_type = 'model' AND p.action = 'read')::uuid[])
    OR id = ANY ((SELECT array_agg(s.resource_id) FROM rls.shares s
                   WHERE s.user_id = (SELECT current_setting('app.user_id')::uuid)
                     AND 'read' = ANY (s.actions))::uuid[]));

-- The application's own lists, in settings it sets for each request (as
-- from its token's claims): the owner's constants, under a policy.  Only as
-- trustworthy as whoever can SET them.
CREATE POLICY claims ON rls.items_sql FOR SELECT TO bench_rls_claims USING (
    tenant_id = ANY ((SELECT current_setting('app.tenants')::uuid[])::uuid[]));
CREATE POLICY claims_shares ON rls.items_sql FOR SELECT TO bench_rls_claims_shares USING (
    tenant_id = ANY ((SELECT current_setting('app.tenants')::uuid[])::uuid[])
    OR id = ANY ((SELECT current_setting('app.shares')::uuid[])::uuid[]));

-- The same two with a shares arm (what zenml_rbac's policy decides): a second
-- hashed SubPlan ...
CREATE POLICY bp_in_shares ON rls.items_sql FOR SELECT TO bench_rls_bp_in_shares USING (
    tenant_id IN (SELECT m.tenant_id FROM rls.memberships m JOIN rls.role_perms p ON p.role = m.role
                   WHERE m.user_id = (SELECT current_setting('app.user_id')::uuid)
                     AND p.resource_type = 'model' AND p.action = 'read')
    OR id IN (SELECT s.resource_id FROM rls.shares s
               WHERE s.user_id = (SELECT current_setting('app.user_id')::uuid) AND 'read' = ANY (s.actions)));

-- Plain SQL, naive: a correlated EXISTS inline (PostgreSQL turns it into a
-- hashed SubPlan, so it is not per row) ...
CREATE POLICY naive_exists ON rls.items_sql FOR SELECT TO bench_rls_naive_exists USING (
    EXISTS (SELECT 1 FROM rls.memberships m JOIN rls.role_perms p ON p.role = m.role
             WHERE m.user_id = current_setting('app.user_id')::uuid AND m.tenant_id = items_sql.tenant_id
               AND p.resource_type = 'model' AND p.action = 'read'));
CREATE POLICY naive_exists_shares ON rls.items_sql FOR SELECT TO bench_rls_naive_exists_shares USING (
    EXISTS (SELECT 1 FROM rls.memberships m JOIN rls.role_perms p ON p.role = m.role
             WHERE m.user_id = current_setting('app.user_id')::uuid AND m.tenant_id = items_sql.tenant_id
               AND p.resource_type = 'model' AND p.action = 'read')
    OR EXISTS (SELECT 1 FROM rls.shares s
                WHERE s.user_id = current_setting('app.user_id')::uuid AND s.resource_id = items_sql.id
                  AND 'read' = ANY (s.actions)));
-- ... and the usual helper function: the same EXISTS, run for every row
-- (a SQL function whose body has a sub-query is not inlined).  On the
-- small copy for count(*), on the full one for the page (ORDER BY id LIMIT).
CREATE FUNCTION rls.has_permission(tenant uuid, resource_type text, action text) RETURNS boolean
    LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM rls.memberships m JOIN rls.role_perms p ON p.role = m.role
                    WHERE m.user_id = current_setting('app.user_id')::uuid AND m.tenant_id = tenant
                      AND p.resource_type = has_permission.resource_type AND p.action = has_permission.action)
$$;
CREATE FUNCTION rls.has_access(tenant uuid, resource uuid, resource_type text, action text) RETURNS boolean
    LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM rls.memberships m JOIN rls.role_perms p ON p.role = m.role
                    WHERE m.user_id = current_setting('app.user_id')::uuid AND m.tenant_id = tenant
                      AND p.resource_type = has_access.resource_type AND p.action = has_access.action)
        OR EXISTS (SELECT 1 FROM rls.shares s
                    WHERE s.user_id = current_setting('app.user_id')::uuid AND s.resource_id = resource
                      AND has_access.action = ANY (s.actions))
$$;
SELECT format('CREATE POLICY naive_fn ON %s FOR SELECT TO bench_rls_naive_fn USING ('
              'rls.has_permission(tenant_id, ''model'', ''read''))', t),
       format('CREATE POLICY naive_fn_shares ON %s FOR SELECT TO bench_rls_naive_fn_shares USING ('
              'rls.has_access(tenant_id, id, ''model'', ''read''))', t)
  FROM unnest(ARRAY['rls.items_naive', 'rls.items_sql']) t \gexec

-- zenml_rbac's own SELECT policy, copied verbatim from the protected table
-- onto the (tenant_id, id) copy.
SELECT format('CREATE POLICY zenml_rbac_select ON rls.items_cov FOR SELECT TO bench_rls_app USING (%s)',
              pg_get_expr(polqual, polrelid))
  FROM pg_policy WHERE polrelid = 'rls.items'::regclass AND polname = 'zenml_rbac_select' \gexec

-- The SELECT policy protect() generated before this release ("v0.2"), over
-- the same functions, on the plain copy for the application role itself
-- (the only policy of that role there), so the same principal reads it.
-- Timed with zenml_rbac.policy_arms off, as the 0.2 library planned it.
CREATE FUNCTION bench.rls_v02_policy(tbl text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT format($p$CREATE POLICY v02 ON %s FOR SELECT TO bench_rls_app USING (
    ((tenant_id = ANY ((SELECT zenml_rbac.rls_tenants('model','read'))::uuid[])
      OR id = ANY ((SELECT zenml_rbac.rls_instances('model','read'))::uuid[]))
     AND ((SELECT zenml_rbac.rls_instances('model','read')) IS NULL
          OR tenant_id = ANY ((SELECT zenml_rbac.rls_tenants('model','read'))::uuid[])
          OR zenml_rbac.rls_instance_match(tenant_id, id, (SELECT zenml_rbac.rls_instances('model','read'))))))$p$, tbl)
$$;
SELECT bench.rls_v02_policy('rls.items_sql') \gexec

-- Prototypes of other policy expressions over the same zenml_rbac functions
-- (hand-written here; not what protect() generates).
-- P2: one indexable tenant condition (the tenants of rls_tenants() and those
-- of the instances), so an index on (tenant_id, id) can answer it alone.
CREATE FUNCTION rls.instance_tenants(pairs uuid[]) RETURNS uuid[]
    LANGUAGE sql IMMUTABLE AS $$
    SELECT array_agg(DISTINCT pairs[k]) FROM generate_series(2, cardinality(pairs), 2) k
$$;
SELECT format($p$CREATE POLICY p2 ON %s FOR SELECT TO bench_rls_p2 USING (
    tenant_id = ANY ((SELECT array_cat(zenml_rbac.rls_tenants('model', 'read'),
                                       rls.instance_tenants(zenml_rbac.rls_instances('model', 'read'))))::uuid[])
    AND ((SELECT zenml_rbac.rls_instances('model', 'read') IS NULL)
         OR tenant_id = ANY ((SELECT zenml_rbac.rls_tenants('model', 'read'))::uuid[])
         OR zenml_rbac.rls_instance_match(tenant_id, id, (SELECT zenml_rbac.rls_instances('model', 'read')))))$p$, t)
  FROM unnest(ARRAY['rls.items_sql', 'rls.items_cov']) t \gexec

-- ---------------------------------------------------------------- the selective case
-- wide_rows rows over wide_tenants tenants; sel is a member of one.
CREATE TABLE rls.items_wide (
    id         uuid        PRIMARY KEY,
    tenant_id  uuid        NOT NULL,
    name       text        NOT NULL,
    created_at timestamptz NOT NULL
);
ALTER TABLE rls.items_wide OWNER TO bench_rls_owner;
INSERT INTO rls.items_wide
SELECT md5('wide:' || i)::uuid, t.a[i % :wide_tenants + 1], 'model ' || i,
       timestamptz '2026-01-01' + i * interval '1 second'
  FROM (SELECT array_agg(id ORDER BY n) a FROM rls.tenant WHERE kind = 'wide') t,
       generate_series(0, :wide_rows - 1) i;
CREATE INDEX items_wide_tenant ON rls.items_wide (tenant_id);
SET client_min_messages = warning;
SELECT zenml_rbac.protect('rls.items_wide', 'model', 'tenant_id', 'id');
RESET client_min_messages;
GRANT SELECT ON rls.items_wide TO bench_rls_app;

-- Its copy indexed on (tenant_id, id), with zenml_rbac's policy and P2.
CREATE TABLE rls.items_wide_cov (LIKE rls.items_wide);
INSERT INTO rls.items_wide_cov SELECT * FROM rls.items_wide ORDER BY created_at;
ALTER TABLE rls.items_wide_cov ADD PRIMARY KEY (id);
CREATE INDEX items_wide_cov_tenant_id ON rls.items_wide_cov (tenant_id, id);
ALTER TABLE rls.items_wide_cov OWNER TO bench_rls_owner;
GRANT SELECT ON rls.items_wide_cov TO PUBLIC;
ALTER TABLE rls.items_wide_cov ENABLE ROW LEVEL SECURITY;
SELECT format('CREATE POLICY zenml_rbac_select ON rls.items_wide_cov FOR SELECT TO bench_rls_app USING (%s)',
              pg_get_expr(polqual, polrelid))
  FROM pg_policy WHERE polrelid = 'rls.items_wide'::regclass AND polname = 'zenml_rbac_select' \gexec
SELECT format('CREATE POLICY p2 ON rls.items_wide_cov FOR SELECT TO bench_rls_p2 USING (%s)',
              pg_get_expr(polqual, polrelid))
  FROM pg_policy WHERE polrelid = 'rls.items_cov'::regclass AND polname = 'p2' \gexec

-- Its plain copy (same index as rls.items_wide) with the plain-SQL policies
-- of rls.items_sql and v0.2's (the per-row function ones aside: they would
-- call the function on every one of its rows).
CREATE TABLE rls.items_wide_sql (LIKE rls.items_wide);
INSERT INTO rls.items_wide_sql SELECT * FROM rls.items_wide ORDER BY created_at;
ALTER TABLE rls.items_wide_sql ADD PRIMARY KEY (id);
CREATE INDEX items_wide_sql_tenant ON rls.items_wide_sql (tenant_id);
ALTER TABLE rls.items_wide_sql OWNER TO bench_rls_owner;
GRANT SELECT ON rls.items_wide_sql TO PUBLIC;
ALTER TABLE rls.items_wide_sql ENABLE ROW LEVEL SECURITY;
SELECT format('CREATE POLICY %I ON rls.items_wide_sql FOR SELECT TO %s USING (%s)', polname,
              (SELECT string_agg(quote_ident(rolname), ', ') FROM pg_roles WHERE oid = ANY (polroles)),
              replace(pg_get_expr(polqual, polrelid), 'items_sql.', 'items_wide_sql.'))
  FROM pg_policy
 WHERE polrelid = 'rls.items_sql'::regclass AND polname NOT LIKE 'naive_fn%' AND polname <> 'p2' \gexec

-- Every visibility map bit set and fresh statistics, so index-only scans are
-- possible wherever the planner wants them.
VACUUM ANALYZE;
