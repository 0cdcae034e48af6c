-- Fixture of the cache-invalidation benchmark (invalidation.sh), run as a
-- superuser after common.sql and fixture.sql (with orgs = 2: organization
-- org0 = "A" holds the even-numbered users and tenants, org1 = "B" the odd
-- ones).  psql variables: warm (principals the warm session checks), rows
-- (checks per warm statement), readers (principals the pgbench readers pick
-- from), items (rows of the protected table per tenant of A).
--
-- What it adds:
--   inv.rows     `rows` (principal, tenant) rows cycling through `warm` users
--                of A (consecutive rows name different users; a user's rows
--                name one of its own tenants or another tenant of A, in turn)
--   inv.warm     those users, k = 0 .. warm-1 (user 2k)
--   inv.reader   `readers` users of A with three tenants each, for pgbench
--   inv.other    every user of B, j = 0 .. (user 2j+1): the unrelated changes
--   three tenants no fixture row names: toggle_a (A), toggle_b and writes_b
--   (B); the toggles grant a user `viewer` there, or revoke it, so every
--   change is one tenant_role_assignment row and the catalog stays the same
--   size.  The writer principal of part (c) is admin of writes_b.
--   inv.plain_roles  an ordinary table shaped like tenant_role_assignment:
--                the baseline writes toggle a row there
--   inv.other_clean  the users of B whose key is none of A's teams' (a
--                diagnostic writer of part (b))
--   inv.key_loads  per key, the entries the warm session of part (a)
--                reloads after a hit on it: a model of src/invalidation.c,
--                compared with the loads measured
--   inv.items    protected (model, tenant_id, id): `items` rows in each tenant
--                of A, registered; inv.items_plain: the same table unprotected
--   roles bench_inv_owner (owns both) and bench_inv_app (the application role: may
--   set_principal, reads and inserts both tables)

\set ON_ERROR_STOP 1

DO $$
BEGIN
    IF (SELECT orgs FROM bench.params) <> 2 THEN
        RAISE EXCEPTION 'invalidation_fixture.sql expects fixture.sql with orgs = 2';
    END IF;
END
$$;

CREATE SCHEMA inv;
GRANT USAGE ON SCHEMA inv, bench TO PUBLIC;

-- ---------------------------------------------------------------- tenants
CREATE FUNCTION inv.toggle_a() RETURNS uuid LANGUAGE sql IMMUTABLE AS $$ SELECT bench.id('toggle', 0) $$;
CREATE FUNCTION inv.toggle_b() RETURNS uuid LANGUAGE sql IMMUTABLE AS $$ SELECT bench.id('toggle', 1) $$;
CREATE FUNCTION inv.writes_b() RETURNS uuid LANGUAGE sql IMMUTABLE AS $$ SELECT bench.id('writes', 1) $$;
-- the writer of part (c): user 1, a member of B
CREATE FUNCTION inv.writer() RETURNS uuid LANGUAGE sql IMMUTABLE AS $$ SELECT bench.id('user', 1) $$;

INSERT INTO zenml_rbac.tenant (id, org_id, name) VALUES
    (inv.toggle_a(), bench.id('org', 0), 'toggle_a'),
    (inv.toggle_b(), bench.id('org', 1), 'toggle_b'),
    (inv.writes_b(), bench.id('org', 1), 'writes_b');
INSERT INTO zenml_rbac.tenant_role_assignment (tenant_id, principal_id, role_id)
VALUES (inv.writes_b(), inv.writer(), bench.role_id(1));

-- ---------------------------------------------------------------- principals and rows
CREATE TABLE inv.warm AS
SELECT k, bench.id('user', 2 * k) AS p,
       bench.id('tenant', bench.user_tenant(2 * k, 0, 2, p.tenants, p.roles_per_user)) AS t
  FROM bench.params p, generate_series(0, :warm - 1) k;
ALTER TABLE inv.warm ADD PRIMARY KEY (k);

CREATE TABLE inv.rows (p uuid NOT NULL, t uuid NOT NULL);
INSERT INTO inv.rows
SELECT bench.id('user', 2 * k),
       bench.id('tenant', CASE WHEN (r + k) % 2 = 0
                               THEN bench.user_tenant(2 * k, ((r / 2 + k) % p.roles_per_user)::int,
                                                      2, p.tenants, p.roles_per_user)
                               ELSE ((k * 11 + r * 3 + 1) % (p.tenants / 2)) * 2 END)
  FROM bench.params p, generate_series(0, :rows - 1) g,
       LATERAL (SELECT g % :warm AS k, g / :warm AS r) x
 ORDER BY g;

CREATE TABLE inv.reader AS
SELECT u, bench.id('user', 2 * u) AS p,
       bench.id('tenant', bench.user_tenant(2 * u, 0, 2, p.tenants, p.roles_per_user)) AS t1,
       bench.id('tenant', bench.user_tenant(2 * u, 1, 2, p.tenants, p.roles_per_user)) AS t2,
       bench.id('tenant', ((u * 7 + 3) % (p.tenants / 2)) * 2) AS t3
  FROM bench.params p, generate_series(0, :readers - 1) u;
ALTER TABLE inv.reader ADD PRIMARY KEY (u);

CREATE TABLE inv.other AS
SELECT j, bench.id('user', 2 * j + 1) AS p
  FROM bench.params p, generate_series(0, p.users / 2 - 1) j;
ALTER TABLE inv.other ADD PRIMARY KEY (j);

DO $$
BEGIN
    IF (SELECT count(*) FROM inv.warm) > (SELECT users / 2 FROM bench.params)
       OR (SELECT count(*) FROM inv.reader) > (SELECT users / 2 FROM bench.params) THEN
        RAISE EXCEPTION 'organization A has fewer users than the warm set or the readers';
    END IF;
END
$$;

-- ---------------------------------------------------------------- the changes
-- One catalog row each, committed by whoever calls them (as the system).

-- a principal gains or loses viewer in a tenant (as the system)
CREATE FUNCTION inv.toggle_viewer(tenant uuid, principal uuid) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT FROM zenml_rbac.tenant_role_assignment a
                WHERE a.tenant_id = tenant AND a.principal_id = principal) THEN
        PERFORM zenml_rbac.revoke_tenant_role(tenant, principal, 'viewer');
        RETURN 'revoke';
    END IF;
    PERFORM zenml_rbac.grant_tenant_role(tenant, principal, 'viewer');
    RETURN 'grant';
END
$$;
-- unrelated: org B's user j, in toggle_b
CREATE FUNCTION inv.unrelated(j int) RETURNS text LANGUAGE sql AS $$
    SELECT inv.toggle_viewer(inv.toggle_b(), (SELECT p FROM inv.other o WHERE o.j = unrelated.j)) $$;
-- affecting: warm user k, in toggle_a (a tenant the checked rows never
-- name: the answers stay the same, the entry is stale)
CREATE FUNCTION inv.affecting(k int) RETURNS text LANGUAGE sql AS $$
    SELECT inv.toggle_viewer(inv.toggle_a(), (SELECT p FROM inv.warm w WHERE w.k = affecting.k)) $$;

-- the baseline: the same toggle on an ordinary table
CREATE TABLE inv.plain_roles (
    tenant_id    uuid NOT NULL,
    principal_id uuid NOT NULL,
    role_id      uuid NOT NULL,
    PRIMARY KEY (tenant_id, principal_id, role_id)
);
CREATE INDEX ON inv.plain_roles (principal_id);
CREATE FUNCTION inv.plain(j int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    v uuid := (SELECT p FROM inv.other WHERE other.j = plain.j);
BEGIN
    DELETE FROM inv.plain_roles WHERE tenant_id = inv.toggle_b() AND principal_id = v;
    IF FOUND THEN
        RETURN 'delete';
    END IF;
    INSERT INTO inv.plain_roles VALUES (inv.toggle_b(), v, bench.role_id(3));
    RETURN 'insert';
END
$$;

-- ---------------------------------------------------------------- the protected table
SELECT format('CREATE ROLE %I NOLOGIN', r)
  FROM unnest(ARRAY['bench_inv_owner', 'bench_inv_app']) r
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) \gexec
GRANT EXECUTE ON FUNCTION zenml_rbac.set_principal(uuid) TO bench_inv_app;
GRANT SELECT ON inv.reader TO bench_inv_app;

CREATE TABLE inv.items (
    id         uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id  uuid        NOT NULL,
    name       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX items_tenant ON inv.items (tenant_id);
INSERT INTO inv.items (id, tenant_id, name, created_at)
SELECT bench.id('item', i), bench.id('tenant', (i % (p.tenants / 2)) * 2), 'item ' || i,
       timestamptz '2026-01-01' + i * interval '1 second'
  FROM bench.params p, generate_series(0, :items * (p.tenants / 2) - 1) i;
CREATE TABLE inv.items_plain (LIKE inv.items INCLUDING ALL);
INSERT INTO inv.items_plain SELECT * FROM inv.items;
ALTER TABLE inv.items OWNER TO bench_inv_owner;
ALTER TABLE inv.items_plain OWNER TO bench_inv_owner;
GRANT SELECT, INSERT ON inv.items, inv.items_plain TO bench_inv_app;
SET client_min_messages = warning;   -- protect()'s notice: the owner bypasses the policies
SELECT zenml_rbac.protect('inv.items', 'model', 'tenant_id', 'id');   -- registers every row
RESET client_min_messages;

-- ---------------------------------------------------------------- timing helpers
-- The warm statement, timed (EXPLAIN ANALYZE execution time), with the cache
-- entries it loaded.  Called as a top-level SELECT: the statement accepts
-- the invalidations committed before it, then the query runs.
CREATE FUNCTION inv.timed(OUT ms float8, OUT loads bigint, OUT allowed bigint) LANGUAGE plpgsql AS $$
DECLARE
    l0 bigint := (SELECT s.loads FROM zenml_rbac.cache_stats() s);
BEGIN
    ms := bench.exec_ms('SELECT count(*) FILTER (WHERE zenml_rbac.rbac_can(p, t, ''model'', ''read'')) FROM inv.rows');
    loads := (SELECT s.loads FROM zenml_rbac.cache_stats() s) - l0;
    allowed := (SELECT count(*) FILTER (WHERE zenml_rbac.rbac_can(p, t, 'model', 'read')) FROM inv.rows);
END
$$;

-- One check of warm user k (in its own tenant t), timed with clock_timestamp():
-- microseconds and cache entries loaded.
CREATE FUNCTION inv.one(k int, OUT us float8, OUT loads bigint, OUT allowed boolean) LANGUAGE plpgsql AS $$
DECLARE
    v_p uuid;
    v_t uuid;
    l0 bigint;
    t0 timestamptz;
BEGIN
    SELECT p, t INTO v_p, v_t FROM inv.warm WHERE warm.k = one.k;
    l0 := (SELECT s.loads FROM zenml_rbac.cache_stats() s);
    t0 := clock_timestamp();
    allowed := zenml_rbac.rbac_can(v_p, v_t, 'model', 'read');
    us := extract(epoch FROM clock_timestamp() - t0) * 1e6;
    loads := (SELECT s.loads FROM zenml_rbac.cache_stats() s) - l0;
END
$$;

-- n warm checks in a loop, each of another warm user (the call-site memo of
-- the last pair never answers): microseconds per check, clock reads included
-- once per loop, not per check.
CREATE FUNCTION inv.loop(n int, OUT us float8, OUT loads bigint) LANGUAGE plpgsql AS $$
DECLARE
    ps uuid[];
    ts uuid[];
    m int;
    l0 bigint;
    t0 timestamptz;
    ok boolean;
BEGIN
    SELECT array_agg(p ORDER BY k), array_agg(t ORDER BY k) INTO ps, ts FROM inv.warm;
    m := cardinality(ps);
    l0 := (SELECT s.loads FROM zenml_rbac.cache_stats() s);
    t0 := clock_timestamp();
    FOR i IN 0 .. n - 1 LOOP
        ok := zenml_rbac.rbac_can(ps[i % m + 1], ts[i % m + 1], 'model', 'read');
    END LOOP;
    us := extract(epoch FROM clock_timestamp() - t0) * 1e6 / n;
    loads := (SELECT s.loads FROM zenml_rbac.cache_stats() s) - l0;
END
$$;

-- The readers of parts (b) and (c) note their cache loads here now and then.
CREATE TABLE inv.reader_loads (pid int, at timestamptz, n bigint, loads bigint);

-- A reader of part (c) warms its cache in its first transaction: every
-- reader principal reads its tenant once (principal and instance entries).
-- Arrays, not a query loop: a loop's cursor would forbid set_principal.
CREATE FUNCTION inv.warm_rls() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    ps uuid[];
    ts uuid[];
    l0 bigint := (SELECT s.loads FROM zenml_rbac.cache_stats() s);
BEGIN
    SELECT array_agg(p ORDER BY u), array_agg(t1 ORDER BY u) INTO ps, ts FROM inv.reader;
    FOR i IN 1 .. cardinality(ps) LOOP
        PERFORM zenml_rbac.set_principal(ps[i]);
        PERFORM count(*) FROM inv.items WHERE tenant_id = ts[i];
    END LOOP;
    PERFORM zenml_rbac.set_principal(NULL);
    RETURN (SELECT s.loads FROM zenml_rbac.cache_stats() s) - l0;
END
$$;
GRANT EXECUTE ON FUNCTION inv.warm_rls() TO bench_inv_app;

-- ---------------------------------------------------------------- the expected loads
-- A model of what the warm statement of part (a) reloads after a change.
-- The invalidation key of a value is computed as src/invalidation.c does:
-- hash_bytes_extended of the uuid seeded with the kind's letter
-- (uuid_hash_extended is the same hash), bits 32 and up with the top bit
-- set (keys below 2^31 + 256 move up by 256).  A warm user's entry depends
-- on the keys of itself ('p'), of its teams ('p') and of the custom roles
-- it holds, own or through a team, with their chains ('r'); the predefined
-- roles are fixed in C and never stale (none of the fixture's roles is
-- custom).  A custom role's entry depends on its chain.  A change of one
-- tenant_role_assignment row hits the key of its principal.
CREATE FUNCTION inv.inval_key(k text, key uuid) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN x < 2147483904 THEN x + 256 ELSE x END
      FROM (SELECT ((uuid_hash_extended(key, ascii(k)) >> 32) & 4294967295) | 2147483648 AS x) h $$;

-- the custom roles the warm users hold (own or through a team), each with every role of its chain
CREATE TABLE inv.warm_custom_roles AS
WITH RECURSIVE held AS (
    SELECT DISTINCT w.k, a.role_id
      FROM inv.warm w
      JOIN zenml_rbac.tenant_role_assignment a
        ON a.principal_id = w.p
        OR a.principal_id IN (SELECT m.team_id FROM zenml_rbac.team_member m WHERE m.member_id = w.p)
      JOIN zenml_rbac.role r ON r.id = a.role_id AND r.tenant_id IS NOT NULL
), chain AS (
    SELECT h.k, h.role_id, h.role_id AS member FROM held h
    UNION
    SELECT c.k, c.role_id, r.base_role_id FROM chain c JOIN zenml_rbac.role r ON r.id = c.member
     WHERE r.base_role_id IS NOT NULL
)
SELECT * FROM chain;
-- the keys every warm user's entry depends on
CREATE TABLE inv.warm_keys AS
SELECT k, kind, key, inv.inval_key(kind, key) AS b
  FROM (SELECT k, 'p' AS kind, p AS key FROM inv.warm
        UNION
        SELECT w.k, 'p', m.team_id FROM inv.warm w JOIN zenml_rbac.team_member m ON m.member_id = w.p
        UNION
        SELECT k, 'r', member FROM inv.warm_custom_roles) x;
-- per key: the entries a hit on it makes the warm statement reload
CREATE TABLE inv.key_loads AS
SELECT b, sum(n)::bigint AS n
  FROM (SELECT b, count(DISTINCT k) AS n FROM inv.warm_keys GROUP BY b
        UNION ALL
        SELECT inv.inval_key('r', member), count(DISTINCT role_id) FROM inv.warm_custom_roles GROUP BY 1) x
 GROUP BY b;
ALTER TABLE inv.key_loads ADD PRIMARY KEY (b);

-- The users of B whose key is none of A's teams': a change of one of
-- them costs A's principals only key collisions (BENCH_INVAL_MODES=...
-- clean, a diagnostic of part (b)).
CREATE TABLE inv.other_clean AS
SELECT (row_number() OVER (ORDER BY o.j) - 1)::int AS j, o.p
  FROM inv.other o
 WHERE inv.inval_key('p', o.p) NOT IN (SELECT inv.inval_key('p', t.id) FROM zenml_rbac.principal t
                                     WHERE t.kind = 'team' AND t.org_id = bench.id('org', 0));
ALTER TABLE inv.other_clean ADD PRIMARY KEY (j);
CREATE FUNCTION inv.unrelated_clean(j int) RETURNS text LANGUAGE sql AS $$
    SELECT inv.toggle_viewer(inv.toggle_b(), (SELECT p FROM inv.other_clean o WHERE o.j = unrelated_clean.j)) $$;

-- entries the warm statement reloads after a change of the principal's assignments
CREATE FUNCTION inv.expected_loads(principal uuid) RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT coalesce((SELECT l.n FROM inv.key_loads l WHERE l.b = inv.inval_key('p', principal)), 0) $$;
CREATE FUNCTION inv.expected(change text, n int) RETURNS bigint LANGUAGE sql STABLE AS $$
    SELECT CASE change
           WHEN 'plain' THEN 0
           WHEN 'control' THEN 0
           WHEN 'unrelated' THEN (SELECT inv.expected_loads(p) FROM inv.other WHERE j = n)
           WHEN 'affecting' THEN (SELECT inv.expected_loads(p) FROM inv.warm WHERE k = n)
           END $$;

VACUUM (FREEZE, ANALYZE);
