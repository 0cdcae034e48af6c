-- Hostile input: every function of schema zenml_rbac, found in pg_proc (so a
-- function added later is swept too), called with a matrix of hostile
-- arguments generated per argument type: NULL in each position and all NULL;
-- empty, 100 kB, control-character, malformed-resource, unicode and
-- injection strings; unknown, nil and wrong-kind uuids; arrays with NULL
-- elements, 100k elements, two dimensions or odd bounds; infinite
-- timestamps; negative and huge intervals; relations that are not plain
-- tables.  Each call runs in a subtransaction that is always rolled back,
-- as the system (superuser), as a login role granted nothing, and as a pool
-- role acting as a tenant viewer and as a tenant admin.  What is asserted:
-- no internal error (class XX, 58), no unclear SQLSTATE (P0001, 42601, ...),
-- no success where none may be, no error message that echoes a 100 kB
-- input, no identity, catalog, cache or audit state leaking out of a
-- rolled-back call, and the server never restarts.  The summary then pins
-- each function's outcomes.  sql/errors.sql shows the messages one by one.
\set VERBOSITY terse

-- A backend crash restarts every backend and resets the shared statistics
-- (pg_postmaster_start_time() does not change on such a restart).
SELECT pg_postmaster_start_time() AS hx_started,
       coalesce((SELECT stats_reset::text FROM pg_stat_archiver), 'never') AS hx_stats_reset,
       pg_backend_pid() AS hx_pid \gset

CREATE ROLE regress_hostile_nobody LOGIN;
CREATE ROLE regress_hostile_pool LOGIN;
GRANT EXECUTE ON FUNCTION zenml_rbac.set_principal(uuid) TO regress_hostile_pool;

-- ---------------------------------------------------------------------
-- Fixture: an organization with a tenant, users, a service account with an
-- API key, a team, a custom role, a registered resource, a share, a
-- deactivated user; relations of every kind for the regclass arguments.
-- ---------------------------------------------------------------------
CREATE TEMP TABLE hx_fx (name text PRIMARY KEY, val text NOT NULL);
DO $$
DECLARE
    v_org uuid := zenml_rbac.create_organization('hx_org');
    v_tenant uuid := zenml_rbac.create_tenant(v_org, 'hx_prod');
    v_alice uuid := zenml_rbac.create_user('hx_alice');
    v_viewer uuid := zenml_rbac.create_user('hx_viewer');
    v_admin uuid := zenml_rbac.create_user('hx_admin');
    v_gone uuid := zenml_rbac.create_user('hx_gone');
    v_bot uuid;
    v_team uuid;
    v_role uuid;
    v_res uuid := 'c0ffee00-0000-4000-8000-000000000001';
    v_newres uuid := 'c0ffee00-0000-4000-8000-000000000002';
BEGIN
    PERFORM zenml_rbac.set_org_role(v_org, v_alice, 'org_viewer');
    PERFORM zenml_rbac.set_org_role(v_org, v_viewer, 'org_viewer');
    PERFORM zenml_rbac.set_org_role(v_org, v_admin, 'org_editor');
    PERFORM zenml_rbac.set_org_role(v_org, v_gone, 'org_viewer');
    v_bot := zenml_rbac.create_service_account(v_org, 'hx_bot');
    v_team := zenml_rbac.create_team(v_org, 'hx_team');
    PERFORM zenml_rbac.add_team_member(v_team, v_alice);
    PERFORM zenml_rbac.grant_tenant_role(v_tenant, v_alice, 'viewer');
    PERFORM zenml_rbac.grant_tenant_role(v_tenant, v_viewer, 'viewer');
    PERFORM zenml_rbac.grant_tenant_role(v_tenant, v_admin, 'admin');
    PERFORM zenml_rbac.grant_tenant_role(v_tenant, v_gone, 'viewer');
    PERFORM zenml_rbac.grant_tenant_role(v_tenant, v_team, 'editor');
    PERFORM zenml_rbac.grant_tenant_role(v_tenant, v_bot, 'editor');
    v_role := zenml_rbac.create_role(v_tenant, 'hx_custom', 'custom', 'viewer');
    PERFORM zenml_rbac.role_allow(v_tenant, 'hx_custom', 'model', 'create');
    PERFORM zenml_rbac.register_resource(v_tenant, 'model/' || v_res, v_alice);
    PERFORM zenml_rbac.share_resource(v_tenant, 'model/' || v_res, v_viewer, '{read}');
    PERFORM zenml_rbac.deactivate_user(v_gone);
    INSERT INTO hx_fx VALUES
        ('org', v_org), ('tenant', v_tenant), ('alice', v_alice), ('viewer', v_viewer),
        ('admin', v_admin), ('gone', v_gone), ('bot', v_bot), ('team', v_team),
        ('role', v_role), ('res', v_res), ('newres', v_newres),
        ('api_key', zenml_rbac.create_api_key(v_bot));
END
$$;
SELECT val AS viewer FROM hx_fx WHERE name = 'viewer' \gset
SELECT val AS admin FROM hx_fx WHERE name = 'admin' \gset

CREATE TABLE hx_models (id uuid PRIMARY KEY, tenant_id uuid NOT NULL, owner_id uuid, name text);
CREATE INDEX hx_models_tenant ON hx_models (tenant_id);
CREATE VIEW hx_view AS SELECT * FROM hx_models;
CREATE SEQUENCE hx_seq;
CREATE MATERIALIZED VIEW hx_matview AS SELECT 1 AS one;
CREATE TYPE hx_composite AS (id uuid, tenant_id uuid);
CREATE TABLE hx_parted (id uuid, tenant_id uuid, owner_id uuid) PARTITION BY LIST (tenant_id);
CREATE TABLE "hx ""odd""; DROP TABLE hx_models; --" (id uuid PRIMARY KEY, tenant_id uuid, owner_id uuid);
CREATE TEMP TABLE hx_temp (id uuid PRIMARY KEY, tenant_id uuid, owner_id uuid);

-- ---------------------------------------------------------------------
-- The hostile values, per argument type: (type, label, SQL expression).
-- {tenant}, {res}, ... stand for the fixture's ids.
-- ---------------------------------------------------------------------
CREATE TEMP TABLE hx_case (typ regtype, ord int, label text, expr text, PRIMARY KEY (typ, label));
INSERT INTO hx_case
SELECT t.typ, c.ord, c.label, replace(c.expr, '::T', '::' || t.typ::text)
  FROM (VALUES ('text'::regtype), ('name'::regtype)) t(typ),
       (VALUES (1, 'empty', $x$''::T$x$),
               (2, 'space', $x$' '::T$x$),
               (3, 'padded', $x$' model '::T$x$),
               (4, '100kB', $x$repeat('x', 100000)::T$x$),
               (5, '100kB_utf8', $x$repeat(U&'\00E9', 50000)::T$x$),
               (6, 'ctrl', $x$E'mo\x01del'::T$x$),
               (7, 'newline', $x$E'model\n'::T$x$),
               (8, 'tab', $x$E'\tmodel'::T$x$),
               (9, 'del', $x$('model' || chr(127))::T$x$),
               (10, 'unknown', $x$'nosuch'::T$x$),
               (11, 'upper', $x$'MODEL'::T$x$),
               (12, 'reserved', $x$'org_admin'::T$x$),
               (13, 'bad_uuid', $x$'model/not-a-uuid'::T$x$),
               (14, 'no_id', $x$'model/'::T$x$),
               (15, 'slash', $x$'/'::T$x$),
               (16, 'no_type', $x$'/c0ffee00-0000-4000-8000-000000000001'::T$x$),
               (17, 'extra', $x$('model/' || {res} || '/extra')::T$x$),
               (18, 'nil_id', $x$'model/00000000-0000-0000-0000-000000000000'::T$x$),
               (19, 'other_type', $x$('pipeline/' || {res})::T$x$),
               (20, 'type_63', $x$repeat('a', 63)::T$x$),
               (21, 'type_64', $x$repeat('a', 64)::T$x$),
               (22, 'inject', $x$$i$x'); DROP TABLE hx_models; --$i$::T$x$),
               (23, 'quotes', $x$'"model"'::T$x$),
               (24, 'format', $x$'%s%n%x%%'::T$x$),
               (25, 'backslash', $x$E'model\\'::T$x$),
               (26, 'latin', $x$U&'m\00F6del'::T$x$),
               (27, 'emoji', $x$U&'\+01F525'::T$x$),
               (28, 'u_ffff', $x$chr(65535)::T$x$),
               (29, 'combining', $x$('model' || chr(769))::T$x$),
               (30, 'bidi', $x$(chr(8238) || 'model')::T$x$),
               (31, 'bom', $x$(chr(65279) || 'model')::T$x$),
               (32, 'mb_cut', $x$(repeat('x', 63) || U&'\20AC\20AC')::T$x$)) c(ord, label, expr);
INSERT INTO hx_case VALUES
    ('uuid', 1, 'random', 'gen_random_uuid()'),
    ('uuid', 2, 'nil', $x$'00000000-0000-0000-0000-000000000000'::uuid$x$),
    ('uuid', 3, 'max', $x$'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid$x$),
    ('uuid', 4, 'role_admin', $x$'00000000-0000-4000-8000-000000000001'::uuid$x$),
    ('uuid', 5, 'org', $x${org}$x$),
    ('uuid', 6, 'tenant', $x${tenant}$x$),
    ('uuid', 7, 'team', $x${team}$x$),
    ('uuid', 8, 'service_acct', $x${bot}$x$),
    ('uuid', 9, 'deactivated', $x${gone}$x$),
    ('uuid', 10, 'resource', $x${res}$x$),
    ('uuid[]', 1, 'empty', $x$'{}'::uuid[]$x$),
    ('uuid[]', 2, 'null_elem', 'ARRAY[NULL]::uuid[]'),
    ('uuid[]', 3, 'mixed_null', 'ARRAY[{alice}, NULL]'),
    ('uuid[]', 4, '100k', 'ARRAY(SELECT gen_random_uuid() FROM generate_series(1, 100000))'),
    ('uuid[]', 5, '2d', 'ARRAY[[{alice}, {tenant}], [{res}, {tenant}]]'),
    ('uuid[]', 6, 'lbound', $x$('[0:1]={' || {alice} || ',' || {tenant} || '}')::uuid[]$x$),
    ('uuid[]', 7, 'odd', 'ARRAY[{res}, {tenant}, {res}]'),
    ('uuid[]', 8, 'dup', 'ARRAY[{alice}, {alice}]'),
    ('text[]', 1, 'empty', $x$'{}'::text[]$x$),
    ('text[]', 2, 'null_elem', 'ARRAY[NULL]::text[]'),
    ('text[]', 3, 'mixed_null', $x$'{read,NULL}'::text[]$x$),
    ('text[]', 4, '100k', $x$array_fill('read'::text, ARRAY[100000])$x$),
    ('text[]', 5, '100k_distinct', $x$ARRAY(SELECT 'x' || g FROM generate_series(1, 100000) g)$x$),
    ('text[]', 6, '2d', $x$'{{read,update},{share,delete}}'::text[]$x$),
    ('text[]', 7, 'lbound', $x$'[0:1]={read,update}'::text[]$x$),
    ('text[]', 8, 'empty_elem', $x$'{""}'::text[]$x$),
    ('text[]', 9, 'unknown', $x$'{fly}'::text[]$x$),
    ('text[]', 10, 'create', $x$'{create}'::text[]$x$),
    ('text[]', 11, 'dup', $x$'{read,read}'::text[]$x$),
    ('text[]', 12, '100kB_elem', $x$ARRAY[repeat('x', 100000)]$x$),
    ('text[]', 13, 'all', $x$'{read,update,delete,share}'::text[]$x$),
    ('boolean', 1, 'true', 'true'),
    ('boolean', 2, 'false', 'false'),
    ('timestamptz', 1, 'infinity', $x$'infinity'::timestamptz$x$),
    ('timestamptz', 2, '-infinity', $x$'-infinity'::timestamptz$x$),
    ('timestamptz', 3, 'epoch', $x$'1970-01-01 00:00:00+00'::timestamptz$x$),
    ('timestamptz', 4, 'min', $x$'4714-11-24 00:00:00+00 BC'::timestamptz$x$),
    ('timestamptz', 5, 'max', $x$'294276-12-31 23:59:59+00'::timestamptz$x$),
    ('timestamptz', 6, 'now', 'now()'),
    -- PostgreSQL 15 has no infinite intervals: the extremes stand in
    ('interval', 1, 'negative', $x$'-1 day'::interval$x$),
    ('interval', 2, 'neg_micro', $x$'-1 microsecond'::interval$x$),
    ('interval', 3, 'zero', $x$'0'::interval$x$),
    ('interval', 4, 'huge', $x$'178000000 years'::interval$x$),
    ('interval', 5, 'neg_huge', $x$'-178000000 years'::interval$x$),
    ('interval', 6, 'mixed_sign', $x$'1 mon -31 days'::interval$x$),
    ('regclass', 1, 'view', $x$'hx_view'::regclass$x$),
    ('regclass', 2, 'sequence', $x$'hx_seq'::regclass$x$),
    ('regclass', 3, 'pg_class', $x$'pg_catalog.pg_class'::regclass$x$),
    ('regclass', 4, 'temp', $x$'pg_temp.hx_temp'::regclass$x$),
    ('regclass', 5, 'partitioned', $x$'hx_parted'::regclass$x$),
    ('regclass', 6, 'matview', $x$'hx_matview'::regclass$x$),
    ('regclass', 7, 'index', $x$'hx_models_pkey'::regclass$x$),
    ('regclass', 8, 'composite', $x$'hx_composite'::regclass$x$),
    ('regclass', 9, 'odd_name', $x$'"hx ""odd""; DROP TABLE hx_models; --"'::regclass$x$),
    ('regclass', 10, 'catalog', $x$'zenml_rbac.principal'::regclass$x$),
    ('regclass', 11, 'oid_0', '0::regclass'),
    ('regclass', 12, 'dangling', '4000000000::oid::regclass'),
    ('anyelement', 1, 'null_text', 'NULL::text'),
    ('anyelement', 2, 'null_uuid', 'NULL::uuid'),
    ('anyelement', 3, 'text', $x$'x'::text$x$),
    ('anyelement', 4, 'int', '1'),
    ('anyelement', 5, 'array', 'ARRAY[1]'),
    ('jsonb', 1, 'null', $x$'null'::jsonb$x$),
    ('jsonb', 2, 'empty', $x$'{}'::jsonb$x$),
    ('jsonb', 3, 'array', $x$'[]'::jsonb$x$),
    ('jsonb', 4, 'keys_null', $x$'{"keys": null}'::jsonb$x$),
    ('jsonb', 5, 'keys_null_elem', $x$'{"keys": [null]}'::jsonb$x$),
    ('jsonb', 6, 'keys_bad', $x$'{"keys": [{"kty": "oct"}]}'::jsonb$x$),
    ('jsonb', 7, '100kB', $x$jsonb_build_object('keys', repeat('x', 100000))$x$),
    ('integer', 1, 'zero', '0'),
    ('integer', 2, 'negative', '-1'),
    ('integer', 3, 'max', '2147483647'),
    ('bigint', 1, 'zero', '0::bigint'),
    ('bigint', 2, 'negative', '-1::bigint'),
    ('bigint', 3, 'max', '9223372036854775807'),
    ('bytea', 1, 'empty', $x$''::bytea$x$),
    ('bytea', 2, 'high', $x$'\xff00'::bytea$x$),
    ('bytea', 3, '100kB', $x$decode(repeat('ff', 100000), 'hex')$x$);

-- A valid value for each argument, so that only one argument is hostile at
-- a time: by function and argument name, else by argument name and type,
-- else by type.
CREATE TEMP TABLE hx_base (fn text, arg text, typ regtype, expr text, UNIQUE (fn, arg, typ));
INSERT INTO hx_base VALUES
    ('', 'org', 'uuid', '{org}'),
    ('', 'tenant', 'uuid', '{tenant}'),
    ('', 'principal', 'uuid', '{alice}'),
    ('create_api_key', 'principal', 'uuid', '{bot}'),
    ('rotate_api_key', 'principal', 'uuid', '{bot}'),
    ('revoke_api_key', 'principal', 'uuid', '{bot}'),
    ('_key_owner', 'principal', 'uuid', '{bot}'),
    ('_issue_api_key', 'principal', 'uuid', '{bot}'),
    ('', 'team', 'uuid', '{team}'),
    ('', 'owner', 'uuid', '{alice}'),
    ('', 'actor', 'uuid', '{alice}'),
    ('_require_org_admin', 'actor', 'uuid', 'NULL::uuid'),
    ('_require_team_change', 'actor', 'uuid', 'NULL::uuid'),
    ('', 'role_id', 'uuid', '{role}'),
    ('', 'id', 'uuid', '{res}'),
    ('', '', 'uuid', '{alice}'),
    ('', 'name', 'text', $x$'hx_new'$x$),
    ('register_resource_type', 'name', 'text', $x$'hx_newtype'$x$),
    ('', 'description', 'text', $x$'described'$x$),
    ('', 'base_role', 'text', $x$'viewer'$x$),
    ('', 'role', 'text', $x$'hx_custom'$x$),
    ('set_org_role', 'role', 'text', $x$'org_viewer'$x$),
    ('_require_uuid_column', 'role', 'text', $x$'tenant'$x$),
    ('', 'resource_type', 'text', $x$'model'$x$),
    ('', 'action', 'text', $x$'read'$x$),
    ('', 'resource', 'text', $x$'model/' || {res}$x$),
    ('register_resource', 'resource', 'text', $x$'model/' || {newres}$x$),
    ('', 'capability', 'text', $x$'organization'$x$),
    ('', 'principal', 'text', $x$'hx_alice'$x$),
    ('', 'tenant', 'text', $x$'hx_org/hx_prod'$x$),
    ('', 'org', 'text', $x$'hx_org'$x$),
    ('', 'api_key', 'text', '{api_key}'),
    ('', 'kind', 'text', $x$'user'$x$),
    ('', '', 'text', $x$'hx'$x$),
    ('', 'pg_role', 'name', $x$'regress_hostile_nobody'$x$),
    ('', 'tenant_column', 'name', $x$'tenant_id'$x$),
    ('', 'id_column', 'name', $x$'id'$x$),
    ('', 'owner_column', 'name', $x$'owner_id'$x$),
    ('', 'col', 'name', $x$'tenant_id'$x$),
    ('', '', 'name', $x$'hx'$x$),
    ('', 'actions', 'text[]', $x$'{read}'::text[]$x$),
    ('', 'pairs', 'uuid[]', 'ARRAY[{res}, {tenant}]'),
    ('', '', 'uuid[]', 'ARRAY[{alice}]'),
    ('', '', 'boolean', 'true'),
    ('', 'expires_at', 'timestamptz', $x$now() + interval '1 day'$x$),
    ('', '', 'timestamptz', $x$'1970-01-01 00:00:00+00'::timestamptz$x$),
    ('', '', 'interval', $x$'1 hour'::interval$x$),
    ('', '', 'regclass', $x$'hx_models'::regclass$x$),
    ('', '', 'anyelement', $x$'x'::text$x$),
    ('', '', 'jsonb', $x$'{"keys": []}'::jsonb$x$),
    ('', '', 'integer', '1'),
    ('', '', 'bigint', '1::bigint'),
    ('', '', 'bytea', $x$'\x00'::bytea$x$);

-- Calls not made, with the reason (a crash would take the server down for
-- every session).  Only the system reaches them: the others are refused by
-- the EXECUTE privilege check before the function runs.
CREATE TEMP TABLE hx_skip (sig text, arg text, label text, reason text);

-- Fills in the fixture's ids.
CREATE FUNCTION pg_temp.hx_fill(expr text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT name, val FROM pg_temp.hx_fx LOOP
        expr := replace(expr, '{' || r.name || '}', quote_literal(r.val) ||
                        CASE WHEN r.name = 'api_key' THEN '::text' ELSE '::uuid' END);
    END LOOP;
    RETURN expr;
END
$$;
UPDATE hx_case SET expr = pg_temp.hx_fill(expr);
UPDATE hx_base SET expr = pg_temp.hx_fill(expr);

-- The functions swept, read from pg_proc now: all but triggers and the
-- planner support function, whose internal argument no SQL call can give
-- (policy_scan.sql shows the refusal).
CREATE TEMP TABLE hx_function AS
SELECT p.oid AS fn, p.oid::regprocedure::text AS sig, p.prokind, p.provolatile,
       p.proisstrict AS strict, p.provariadic <> 0 AS variadic, p.pronargs
  FROM pg_proc p
 WHERE p.pronamespace = 'zenml_rbac'::regnamespace
   AND p.prorettype NOT IN ('trigger'::regtype, 'event_trigger'::regtype)
   AND NOT 'internal'::regtype = ANY (p.proargtypes::regtype[]);
-- Their input arguments, each with its baseline value.
CREATE TEMP TABLE hx_arg AS
SELECT p.oid AS fn, p.oid::regprocedure::text AS sig, a.n,
       coalesce(nullif(a.name, ''), 'arg' || a.n) AS arg, a.typ,
       coalesce((SELECT b.expr FROM hx_base b
                  WHERE b.typ = a.typ AND (b.fn, b.arg) IN ((p.proname::text, a.name), ('', a.name), ('', ''))
                  ORDER BY b.fn DESC, b.arg DESC LIMIT 1),
                'NULL::' || a.typ::text) AS base
  FROM pg_proc p
  CROSS JOIN LATERAL (
        SELECT u.n, u.name, (p.proargtypes::oid[])[u.n - 1]::regtype AS typ
          FROM (SELECT row_number() OVER (ORDER BY pos) AS n, name
                  FROM unnest(coalesce(p.proargnames, array_fill(''::text, ARRAY[p.pronargs])),
                              coalesce(p.proargmodes, array_fill('i'::"char", ARRAY[p.pronargs])))
                       WITH ORDINALITY u(name, mode, pos)
                 WHERE mode IN ('i', 'b', 'v')) u) a
 WHERE p.oid IN (SELECT fn FROM hx_function);

-- Inserts, updates and deletes of this transaction on the extension's tables.
CREATE FUNCTION pg_temp.hx_writes() RETURNS bigint LANGUAGE sql AS $$
    SELECT sum(pg_stat_get_xact_tuples_inserted(c.oid) + pg_stat_get_xact_tuples_updated(c.oid)
               + pg_stat_get_xact_tuples_deleted(c.oid))::bigint
      FROM pg_class c WHERE c.relnamespace = 'zenml_rbac'::regnamespace AND c.relkind = 'r';
$$;

-- Runs one statement as the caller and undoes it.  The outcome: its
-- SQLSTATE, 'ok', or 'ok+w' when it wrote rows of the extension's tables;
-- and the length of its message, detail and hint.
CREATE FUNCTION pg_temp.hx_try(stmt text, OUT outcome text, OUT msg_len int) LANGUAGE plpgsql AS $$
DECLARE
    w bigint;
    m text;
    d text;
    h text;
BEGIN
    w := pg_temp.hx_writes();
    EXECUTE stmt;
    RAISE EXCEPTION USING ERRCODE = 'ZZ000',
        MESSAGE = CASE WHEN pg_temp.hx_writes() = w THEN 'ok' ELSE 'ok+w' END;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS outcome = RETURNED_SQLSTATE, m = MESSAGE_TEXT,
                            d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
    IF outcome = 'ZZ000' THEN
        outcome := m;
        msg_len := 0;
    ELSE
        msg_len := length(m) + coalesce(length(d), 0) + coalesce(length(h), 0);
        -- a message quoting a clipped input must still be valid UTF-8
        BEGIN
            PERFORM convert_from(convert_to(concat(m, d, h), 'UTF8'), 'UTF8');
        EXCEPTION WHEN OTHERS THEN
            outcome := outcome || '!bad-utf8';
        END;
    END IF;
END
$$;

-- The calls: every function, every hostile argument set.
CREATE TEMP TABLE hx_call (ord int, sig text, arg text, label text, stmt text, skip text);
DO $$
DECLARE
    f record;
    c record;
    v_base text[];
    v_args text[];
    v_ord int := 0;
BEGIN
    FOR f IN SELECT * FROM pg_temp.hx_function ORDER BY sig COLLATE "C" LOOP
        IF f.prokind NOT IN ('f', 'p') THEN
            INSERT INTO pg_temp.hx_call VALUES (v_ord, f.sig, '-', 'kind ' || f.prokind, NULL, 'not swept');
            v_ord := v_ord + 1;
            CONTINUE;
        END IF;
        SELECT coalesce(array_agg(CASE WHEN f.variadic AND a.n = f.pronargs THEN 'VARIADIC ' ELSE '' END
                                  || a.base ORDER BY a.n), '{}')
          INTO v_base FROM pg_temp.hx_arg a WHERE a.fn = f.fn;
        FOR c IN
            SELECT 0 AS n, '-' AS arg, CASE WHEN f.pronargs = 0 THEN 'noargs' ELSE 'baseline' END AS label,
                   NULL AS expr, 0 AS ord
            UNION ALL
            SELECT -1, '*', 'all_null', NULL, 0 WHERE f.pronargs > 1
            UNION ALL
            SELECT a.n, a.arg, 'null', 'NULL::' || CASE WHEN a.typ = 'anyelement'::regtype THEN 'text' ELSE a.typ::text END, 0
              FROM pg_temp.hx_arg a WHERE a.fn = f.fn
            UNION ALL
            SELECT a.n, a.arg, k.label, k.expr, k.ord
              FROM pg_temp.hx_arg a JOIN pg_temp.hx_case k ON k.typ = a.typ WHERE a.fn = f.fn
            UNION ALL
            SELECT a.n, a.arg, 'no hostile cases for type ' || a.typ::text, NULL, 0
              FROM pg_temp.hx_arg a WHERE a.fn = f.fn AND NOT EXISTS (SELECT FROM pg_temp.hx_case k WHERE k.typ = a.typ)
            ORDER BY 1, 5, 3
        LOOP
            v_args := v_base;
            IF c.n = -1 THEN
                SELECT array_agg(CASE WHEN f.variadic AND a.n = f.pronargs THEN 'VARIADIC ' ELSE '' END
                                 || 'NULL::' || CASE WHEN a.typ = 'anyelement'::regtype THEN 'text' ELSE a.typ::text END
                                 ORDER BY a.n)
                  INTO v_args FROM pg_temp.hx_arg a WHERE a.fn = f.fn;
            ELSIF c.n > 0 THEN
                v_args[c.n] := CASE WHEN f.variadic AND c.n = f.pronargs THEN 'VARIADIC ' ELSE '' END || c.expr;
            END IF;
            INSERT INTO pg_temp.hx_call VALUES (v_ord, f.sig, c.arg, c.label,
                format(CASE WHEN f.prokind = 'p' THEN 'CALL %s(%s)' ELSE 'SELECT count(*) FROM %s(%s) AS r' END,
                       f.fn::regproc, array_to_string(v_args, ', ')),
                CASE WHEN c.label LIKE 'no hostile cases%' THEN 'uncovered'
                     WHEN EXISTS (SELECT FROM pg_temp.hx_skip s
                                   WHERE s.sig = f.sig AND s.arg = c.arg AND s.label = c.label) THEN 'SKIPPED' END);
            v_ord := v_ord + 1;
        END LOOP;
    END LOOP;
END
$$;

-- Makes the calls as the current identity.  No cursor is open meanwhile
-- (set_principal refuses to switch principals while one is).  Skipped
-- calls would crash the server, which only the system can reach.
CREATE FUNCTION pg_temp.hx_sweep()
RETURNS TABLE (sig text, arg text, label text, outcome text, msg_len int)
LANGUAGE plpgsql AS $$
DECLARE
    v_super boolean := (SELECT rolsuper FROM pg_roles WHERE rolname = current_user);
    v_sig text[];
    v_arg text[];
    v_label text[];
    v_stmt text[];
    v_skip text[];
BEGIN
    SELECT array_agg(c.sig ORDER BY c.ord), array_agg(c.arg ORDER BY c.ord), array_agg(c.label ORDER BY c.ord),
           array_agg(c.stmt ORDER BY c.ord), array_agg(c.skip ORDER BY c.ord)
      INTO v_sig, v_arg, v_label, v_stmt, v_skip FROM pg_temp.hx_call c;
    FOR i IN 1 .. cardinality(v_sig) LOOP
        sig := v_sig[i];
        arg := v_arg[i];
        label := v_label[i];
        msg_len := 0;
        IF v_skip[i] IN ('uncovered', 'not swept') OR (v_skip[i] = 'SKIPPED' AND v_super) THEN
            outcome := v_skip[i];
        ELSE
            SELECT t.outcome, t.msg_len INTO outcome, msg_len FROM pg_temp.hx_try(v_stmt[i]) t;
        END IF;
        RETURN NEXT;
    END LOOP;
END
$$;

CREATE TEMP TABLE hx_outcome (who text COLLATE "C", sig text COLLATE "C", arg text COLLATE "C",
                              label text COLLATE "C", outcome text COLLATE "C", msg_len int);
GRANT SELECT ON hx_call TO PUBLIC;
GRANT INSERT ON hx_outcome TO PUBLIC;

-- What must not change: the catalog, what the decision cache answers, the
-- audit log.
CREATE FUNCTION pg_temp.hx_catalog() RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    t text;
    h text := '';
    part text;
BEGIN
    FOR t IN SELECT c.relname FROM pg_class c
              WHERE c.relnamespace = 'zenml_rbac'::regnamespace AND c.relkind = 'r' ORDER BY 1 LOOP
        EXECUTE format('SELECT md5(coalesce(string_agg(x::text, '','' ORDER BY x::text), '''')) FROM zenml_rbac.%I x', t)
            INTO part;
        h := h || t || ':' || part || ' ';
    END LOOP;
    RETURN md5(h);
END
$$;
CREATE FUNCTION pg_temp.hx_decisions() RETURNS text LANGUAGE sql AS $$
    SELECT md5(string_agg(format('%s %s %s %s %s', p.name, r.res, a.act,
                                 zenml_rbac.rbac_can(p.id, t.id, r.res, a.act),
                                 zenml_rbac.rbac_org_can(p.id, t.org_id, 'member', a.act)),
                          ',' ORDER BY p.name, r.res, a.act))
      FROM zenml_rbac.principal p
      CROSS JOIN zenml_rbac.tenant t
      CROSS JOIN (SELECT unnest(ARRAY['model', 'member', 'role', 'model/' || (SELECT val FROM pg_temp.hx_fx WHERE name = 'res')])) r(res)
      CROSS JOIN unnest(ARRAY['create', 'read', 'update', 'delete', 'share']) a(act)
     WHERE p.name LIKE 'hx\_%' AND t.name = 'hx_prod';
$$;
SELECT pg_temp.hx_catalog() AS hx_catalog_before,
       pg_temp.hx_decisions() AS hx_decisions_before,
       (SELECT count(*) FROM zenml_rbac.audit_log) AS hx_audit_before \gset

-- ---------------------------------------------------------------------
-- The sweeps.  Notices and warnings of the calls (protect() explains
-- itself, set_principal() warns outside a transaction block) are not shown.
-- ---------------------------------------------------------------------
SET client_min_messages = error;
INSERT INTO hx_outcome SELECT 'system', * FROM pg_temp.hx_sweep();
SET SESSION AUTHORIZATION regress_hostile_nobody;
INSERT INTO hx_outcome SELECT 'nobody', * FROM pg_temp.hx_sweep();
RESET SESSION AUTHORIZATION;
SET SESSION AUTHORIZATION regress_hostile_pool;
BEGIN;
SELECT FROM zenml_rbac.set_principal(:'viewer');
INSERT INTO hx_outcome SELECT 'viewer', * FROM pg_temp.hx_sweep();
SELECT zenml_rbac.current_principal() = :'viewer' AS still_viewer;
COMMIT;
BEGIN;
SELECT FROM zenml_rbac.set_principal(:'admin');
INSERT INTO hx_outcome SELECT 'admin', * FROM pg_temp.hx_sweep();
SELECT zenml_rbac.current_principal() = :'admin' AS still_admin;
COMMIT;
RESET SESSION AUTHORIZATION;
RESET client_min_messages;

-- Nothing a rolled-back call did survives it: not in the catalog, not in
-- this backend's decision cache, not in the audit log; and no identity.
SELECT pg_temp.hx_catalog() = :'hx_catalog_before' AS catalog_unchanged,
       pg_temp.hx_decisions() = :'hx_decisions_before' AS decisions_unchanged,
       (SELECT count(*) FROM zenml_rbac.audit_log) = :hx_audit_before AS no_audit_events,
       zenml_rbac.current_principal() IS NULL AS no_principal;

-- The results are printed unaligned: one line per row, so that a change
-- (a new function, a fixed SQLSTATE) changes only its own lines.
\pset format unaligned
-- Coverage: calls per identity (the same matrix for each), functions swept.
SELECT who, count(*) AS calls, count(DISTINCT sig) AS functions
  FROM hx_outcome GROUP BY who ORDER BY who;

-- ---------------------------------------------------------------------
-- Assertions.  Each query lists what is wrong: no rows is a pass.  The
-- API is every function without a leading underscore; the internal ones
-- are executable by the system only (4.) and trust their callers' labels.
-- ---------------------------------------------------------------------
-- 1. No internal error, no I/O or system error, no resource exhaustion, no
--    message that is not valid UTF-8.
SELECT who, sig, arg, label, outcome FROM hx_outcome
 WHERE outcome ~ '^(XX|58|53)' OR outcome LIKE '%!bad-utf8' ORDER BY 1, 2, 3, 4;
-- 2. No unclear SQLSTATE: a bare RAISE (P0001), a failed assertion, a
--    syntax error in generated SQL, an undefined function, an ambiguous
--    column; nor, from the API, a raw constraint violation.
SELECT who, sig, arg, label, outcome FROM hx_outcome
 WHERE outcome IN ('P0001', 'P0004', '42601', '42883', '42702')
    OR (outcome LIKE '23%' AND sig NOT LIKE 'zenml\_rbac.\_%')
 ORDER BY 1, 2, 3, 4;
-- 3. No error of the API echoes a 100 kB input: message, detail and hint
--    stay short.
SELECT who, sig, arg, label, msg_len FROM hx_outcome
 WHERE msg_len > 1000 AND sig NOT LIKE 'zenml\_rbac.\_%' ORDER BY 1, 2, 3, 4;
-- 4. The internal functions are refused to everyone but the system.  (A
--    STRICT function given a NULL constant is not called at all: the
--    planner folds the call to NULL before any privilege check, which is
--    PostgreSQL's behaviour, not a way in.)
SELECT o.who, o.sig, o.arg, o.label, o.outcome FROM hx_outcome o JOIN hx_function f USING (sig)
 WHERE o.who <> 'system' AND o.sig LIKE 'zenml\_rbac.\_%' AND o.outcome <> '42501'
   AND NOT (f.strict AND o.label IN ('null', 'all_null') AND o.outcome = 'ok')
 ORDER BY 1, 2, 3, 4;
-- 5. A role granted nothing may only ask questions, and present a valid
--    API key (the key is the credential; authenticate notes its use).
SELECT o.sig, o.arg, o.label, o.outcome FROM hx_outcome o JOIN hx_function f USING (sig)
 WHERE o.who = 'nobody' AND o.outcome LIKE 'ok%'
   AND ((o.outcome = 'ok+w' AND o.sig <> 'zenml_rbac.authenticate(text)')
        OR (o.sig !~ '^zenml_rbac\.(rbac_can|rbac_org_can|role_permissions|parse_resource|cache_stats|current_principal|authenticate|rls_[a-z_]+)\('
            AND NOT (f.strict AND o.label IN ('null', 'all_null'))))
 ORDER BY 1, 2, 3;
-- 6. A tenant viewer changes nothing but what any active user may: create
--    an organization, deactivate itself (not swept: its id is no case),
--    present a valid API key.
SELECT sig, arg, label, outcome FROM hx_outcome
 WHERE who = 'viewer' AND outcome = 'ok+w'
   AND sig NOT IN ('zenml_rbac.create_organization(text)', 'zenml_rbac.authenticate(text)')
 ORDER BY 1, 2, 3;
-- 7. Functions that only answer (STABLE or IMMUTABLE) never write.
SELECT o.who, o.sig, o.arg, o.label FROM hx_outcome o JOIN hx_function f USING (sig)
 WHERE f.provolatile <> 'v' AND o.outcome = 'ok+w' ORDER BY 1, 2, 3, 4;
-- 8. Every function works with its baseline arguments for the system, so
--    the hostile values are what the errors above are about.
SELECT sig, outcome FROM hx_outcome
 WHERE who = 'system' AND label IN ('baseline', 'noargs') AND outcome NOT LIKE 'ok%' ORDER BY 1;
-- 9. Calls not made, and argument types without hostile cases.
SELECT DISTINCT o.who, o.sig, o.arg, o.label, o.outcome, s.reason FROM hx_outcome o
  LEFT JOIN hx_skip s ON s.sig = o.sig AND s.arg = o.arg AND s.label = o.label
 WHERE o.outcome IN ('SKIPPED', 'uncovered', 'not swept') ORDER BY 1, 2, 3, 4;

-- ---------------------------------------------------------------------
-- The summary: per function, the outcomes seen by each identity.
-- ---------------------------------------------------------------------
SELECT sig AS function,
       string_agg(DISTINCT outcome COLLATE "C", ' ' ORDER BY outcome COLLATE "C") FILTER (WHERE who = 'system') AS system,
       string_agg(DISTINCT outcome COLLATE "C", ' ' ORDER BY outcome COLLATE "C") FILTER (WHERE who = 'nobody') AS nobody,
       string_agg(DISTINCT outcome COLLATE "C", ' ' ORDER BY outcome COLLATE "C") FILTER (WHERE who = 'viewer') AS viewer,
       string_agg(DISTINCT outcome COLLATE "C", ' ' ORDER BY outcome COLLATE "C") FILTER (WHERE who = 'admin') AS admin
  FROM hx_outcome GROUP BY sig ORDER BY sig COLLATE "C";

-- And in detail for the system, which gets past every permission check:
-- per function and argument, the outcome of each hostile value.
SELECT sig AS function, arg, string_agg(outcome || ': ' || labels, '; ' ORDER BY outcome COLLATE "C") AS outcomes
  FROM (SELECT o.sig, o.arg, o.outcome,
               string_agg(o.label, ' ' ORDER BY coalesce(k.ord, 0), o.label COLLATE "C") AS labels,
               min(a.n) AS n
          FROM hx_outcome o
          LEFT JOIN hx_arg a ON a.sig = o.sig AND a.arg = o.arg
          LEFT JOIN hx_case k ON k.typ = a.typ AND k.label = o.label
         WHERE o.who = 'system' AND o.sig NOT LIKE 'zenml\_rbac.\_%'
         GROUP BY o.sig, o.arg, o.outcome) s
 GROUP BY sig, arg ORDER BY sig COLLATE "C", CASE arg WHEN '-' THEN -2 WHEN '*' THEN -1 ELSE min(n) END;

\pset format aligned

-- ---------------------------------------------------------------------
-- Trigger functions are not swept: called directly, each refuses.
-- ---------------------------------------------------------------------
SELECT p.oid::regprocedure AS trigger_function, (pg_temp.hx_try(format('SELECT %s()', p.oid::regproc))).outcome
  FROM pg_proc p
 WHERE p.pronamespace = 'zenml_rbac'::regnamespace
   AND p.prorettype IN ('trigger'::regtype, 'event_trigger'::regtype)
 ORDER BY p.oid::regprocedure::text COLLATE "C";

-- ---------------------------------------------------------------------
-- Invalid UTF-8.  In a UTF8 database the server refuses every way of
-- building a text value with invalid bytes or a NUL (22021), a surrogate
-- or out-of-range code point (54000; 42601 from the lexer): such a value
-- never reaches the extension's functions, which would have answered
-- 22023, 22P02, 28P01 or 42703.
-- ---------------------------------------------------------------------
SELECT getdatabaseencoding() AS database_encoding;
SELECT label, (pg_temp.hx_try(stmt)).outcome FROM (VALUES
    (1, 'convert_from 0xff', $s$SELECT convert_from('\xff'::bytea, 'UTF8')$s$),
    (2, 'convert_from truncated', $s$SELECT convert_from('\x6d6fc3'::bytea, 'UTF8')$s$),
    (3, 'convert_from overlong "/"', $s$SELECT convert_from('\xc0af'::bytea, 'UTF8')$s$),
    (4, 'convert_from surrogate', $s$SELECT convert_from('\xeda080'::bytea, 'UTF8')$s$),
    (5, 'convert_from beyond U+10FFFF', $s$SELECT convert_from('\xf4908080'::bytea, 'UTF8')$s$),
    (6, 'convert_from NUL', $s$SELECT convert_from('\x6d00'::bytea, 'UTF8')$s$),
    (7, 'convert_from as SQL_ASCII', $s$SELECT convert_from('\x6dff'::bytea, 'SQL_ASCII')$s$),
    (8, 'escape \xff', $s$SELECT E'\xff'$s$),
    (9, 'escape \377', $s$SELECT E'\377'$s$),
    (10, 'escape \x00', $s$SELECT E'\x00'$s$),
    (11, 'escape \uD800', $s$SELECT E'\uD800'$s$),
    (12, 'U&''\D800''', $s$SELECT U&'\D800'$s$),
    (13, 'chr(0)', 'SELECT chr(0)'),
    (14, 'chr(U+D800)', 'SELECT chr(55296)'),
    (15, 'chr(U+110000)', 'SELECT chr(1114112)'),
    (16, 'rbac_can(resource)', $s$SELECT zenml_rbac.rbac_can(NULL::uuid, NULL::uuid, convert_from('\x6d6f64656cff'::bytea, 'UTF8'), 'read')$s$),
    (17, 'rbac_can(action)', $s$SELECT zenml_rbac.rbac_can(NULL::uuid, NULL::uuid, 'model', E're\xffad')$s$),
    (18, 'parse_resource', $s$SELECT zenml_rbac.parse_resource(E'model/\xff')$s$),
    (19, 'rls_tenants', $s$SELECT zenml_rbac.rls_tenants(E'\xff', 'read')$s$),
    (20, 'create_organization', $s$SELECT zenml_rbac.create_organization(convert_from('\x6878ff'::bytea, 'UTF8'))$s$),
    (21, 'authenticate', $s$SELECT zenml_rbac.authenticate(E'zrk_\xff')$s$),
    (22, 'share_resource(actions)', $s$SELECT zenml_rbac.share_resource(NULL, NULL, NULL, ARRAY[E'\xff'])$s$),
    (23, 'protect(column name)', $s$SELECT zenml_rbac.protect('hx_models', 'model', convert_from('\x74ff'::bytea, 'UTF8')::name)$s$)
    ) v(ord, label, stmt) ORDER BY ord;

-- Valid but unusual characters pass through as given: stored unchanged,
-- not normalized, so two spellings of one name that look alike coexist.
BEGIN;
CREATE TEMP TABLE hx_names ON COMMIT DROP AS
SELECT ord, label, nm, zenml_rbac.create_organization(nm) AS id FROM (VALUES
    (1, 'U+FFFF', 'hx_' || chr(65535)),
    (2, 'precomposed e-acute', 'hx_caf' || chr(233)),
    (3, 'e + combining acute', 'hx_cafe' || chr(769)),
    (4, 'right-to-left override', 'hx_' || chr(8238) || 'gro'),
    (5, 'emoji', 'hx_' || U&'\+01F525'),
    (6, 'byte order mark', chr(65279) || 'hx'),
    (7, '255 multibyte characters', repeat(U&'\20AC', 255))) v(ord, label, nm);
SELECT n.label, o.name = n.nm AS stored_as_given, length(o.name) AS chars, octet_length(o.name) AS bytes
  FROM hx_names n JOIN zenml_rbac.organization o ON o.id = n.id ORDER BY n.ord;
SELECT count(DISTINCT o.name) AS names, count(DISTINCT normalize(o.name, NFC)) AS names_after_nfc
  FROM hx_names n JOIN zenml_rbac.organization o ON o.id = n.id WHERE n.ord IN (2, 3);
ROLLBACK;

-- Errors quote at most 64 bytes of an input and never cut a character in
-- two (what is cut is marked "..."); names are quoted by characters.
CREATE FUNCTION pg_temp.hx_message(stmt text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END
$$;
SELECT pg_temp.hx_message(stmt) AS message FROM (VALUES
    (1, $s$SELECT zenml_rbac.rbac_can(NULL::uuid, NULL::uuid, repeat('x', 63) || U&'\20AC\20AC', 'read')$s$),
    (2, $s$SELECT zenml_rbac.rbac_can(NULL::uuid, NULL::uuid, repeat(U&'\20AC', 30), 'read')$s$),
    (3, $s$SELECT zenml_rbac.rbac_can(NULL::uuid, NULL::uuid, 'model', repeat('x', 62) || U&'\+01F525')$s$),
    (4, $s$SELECT zenml_rbac.rbac_org_can(NULL::uuid, NULL::uuid, repeat(U&'\00E9', 40), 'read')$s$),
    (5, $s$SELECT zenml_rbac.create_organization('/' || repeat(U&'\20AC', 100))$s$),
    (6, $s$SELECT zenml_rbac.register_resource_type(repeat(U&'\20AC', 100))$s$)) v(ord, stmt) ORDER BY ord;

-- ---------------------------------------------------------------------
-- Hostile table and column names in protect(): quoted everywhere in the
-- policies and triggers it writes, which then work.
-- ---------------------------------------------------------------------
BEGIN;
SET LOCAL client_min_messages = error;
CREATE TABLE "hx ""cols""; --" ("i""d" uuid PRIMARY KEY, "te nant; DROP TABLE hx_models; --" uuid, "Owner" uuid);
INSERT INTO "hx ""cols""; --"
SELECT gen_random_uuid(), t, NULL FROM (VALUES (:'viewer'::uuid), ((SELECT val::uuid FROM hx_fx WHERE name = 'tenant'))) v(t);
SELECT FROM zenml_rbac.protect('"hx ""cols""; --"', 'model', 'te nant; DROP TABLE hx_models; --', 'i"d', 'Owner');
SELECT table_name, tenant_column, id_column, owner_column, problems FROM zenml_rbac.protected_tables
 WHERE table_name = '"hx ""cols""; --"'::regclass;
GRANT SELECT ON "hx ""cols""; --" TO regress_hostile_pool;
SET LOCAL SESSION AUTHORIZATION regress_hostile_pool;
SELECT FROM zenml_rbac.set_principal(:'viewer');
SELECT count(*) AS viewer_sees FROM "hx ""cols""; --";
ROLLBACK;
SELECT to_regclass('hx_models') IS NOT NULL AS hx_models_still_there;

-- unprotect() of a table that is not protected changes nothing: a table
-- with row-level security on and no policy (nobody but its owner sees a
-- row) stays that way.
BEGIN;
SET LOCAL client_min_messages = error;
CREATE TABLE hx_locked (id uuid);
ALTER TABLE hx_locked ENABLE ROW LEVEL SECURITY;
SELECT FROM zenml_rbac.unprotect('hx_locked');
SELECT relrowsecurity AS still_locked FROM pg_class WHERE oid = 'hx_locked'::regclass;
ROLLBACK;

-- ---------------------------------------------------------------------
-- Clean up; the audit chain verifies and the server never restarted.
-- ---------------------------------------------------------------------
SELECT FROM zenml_rbac.delete_organization((SELECT val::uuid FROM hx_fx WHERE name = 'org'));
DELETE FROM zenml_rbac.principal WHERE name LIKE 'hx\_%';
DROP TABLE hx_models, hx_parted, "hx ""odd""; DROP TABLE hx_models; --" CASCADE;
DROP SEQUENCE hx_seq;
DROP MATERIALIZED VIEW hx_matview;
DROP TYPE hx_composite;
REVOKE EXECUTE ON FUNCTION zenml_rbac.set_principal(uuid) FROM regress_hostile_pool;
DROP ROLE regress_hostile_nobody, regress_hostile_pool;
SELECT valid, problem FROM zenml_rbac.verify_audit_log();
SELECT pg_postmaster_start_time() = :'hx_started' AS same_postmaster,
       coalesce((SELECT stats_reset::text FROM pg_stat_archiver), 'never') = :'hx_stats_reset' AS no_crash_restart,
       pg_backend_pid() = :hx_pid AS same_backend;
