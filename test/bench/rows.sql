-- The rows the warm-check queries scan: `rows` rows cycling through `pairs`
-- principal/tenant pairs, so the backend cache holds every principal after
-- one pass.  Consecutive rows hold different pairs: rbac_can's per-call-site
-- memo of the last pair does not help, every row costs real cache lookups.
-- Half the pairs name a tenant where the user holds a role, half another
-- tenant (usually no role there).  psql variables: pairs, rows, plain_rows.

\set ON_ERROR_STOP 1

CREATE TABLE bench.pairs AS
WITH p AS (SELECT * FROM bench.params),
     k AS (SELECT k, least(p.users, :pairs) AS spread FROM p, generate_series(0, :pairs - 1) k),
     u AS (SELECT k.k, (k.k % k.spread) * greatest(1, p.users / :pairs) AS u, k.k / k.spread AS round
           FROM k, p)
SELECT u.k, bench.id('user', u.u) AS p,
       bench.id('tenant', CASE WHEN (u.round + u.k) % 2 = 0
                               THEN bench.user_tenant(u.u, ((u.round / 2 + u.k) % p.roles_per_user)::int,
                                                      p.orgs, p.tenants, p.roles_per_user)
                               ELSE (u.u * 11 + u.round * 3 + 1) % p.tenants END) AS t
FROM u, p;
CREATE UNIQUE INDEX ON bench.pairs (k);

-- Physical order = g order: a sequential scan returns the pairs in turn.
CREATE TABLE bench.rows (p uuid NOT NULL, t uuid NOT NULL);
INSERT INTO bench.rows
SELECT x.p, x.t FROM generate_series(0, :rows - 1) g JOIN bench.pairs x ON x.k = g % :pairs ORDER BY g;

CREATE TABLE bench.rows_plain (p uuid NOT NULL, t uuid NOT NULL);
INSERT INTO bench.rows_plain
SELECT x.p, x.t FROM generate_series(0, :plain_rows - 1) g JOIN bench.pairs x ON x.k = g % :pairs ORDER BY g;

VACUUM (FREEZE, ANALYZE) bench.pairs, bench.rows, bench.rows_plain;
