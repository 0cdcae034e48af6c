-- The planner path of protected tables (src/policy_scan.c): a read runs the
-- SELECT policy's OR as one scan per arm when that costs less.  Here: when
-- the planner takes it and when not, and that every plan kind answers
-- exactly what PostgreSQL's own plan of the same policy answers (the
-- setting zenml_rbac.policy_arms off) -- across principals, shares, teams,
-- owned rows, user conditions, leaky functions, joins, rescans, cursors,
-- cached plans, revokes and grants between executions.  And a page (ORDER BY
-- ... LIMIT, src/policy_page.c): the node holding the planner's two plans of
-- it chooses one when it starts, by the principal's arrays.
\set VERBOSITY terse

CREATE ROLE regress_ps_app;
GRANT EXECUTE ON FUNCTION zenml_rbac.set_principal(uuid) TO regress_ps_app;

SELECT zenml_rbac.create_organization('ps_org') AS org \gset
CREATE TABLE ps_tenant (n int PRIMARY KEY, id uuid NOT NULL);
INSERT INTO ps_tenant SELECT n, zenml_rbac.create_tenant(:'org', 'ps' || n) FROM generate_series(0, 19) n;
CREATE TABLE ps_who (name text PRIMARY KEY, id uuid);
INSERT INTO ps_who SELECT u, zenml_rbac.create_user('ps_' || u) FROM unnest(ARRAY['ann', 'bea', 'cid', 'own']) u;
INSERT INTO ps_who VALUES ('nobody', NULL);
SELECT id AS ann FROM ps_who WHERE name = 'ann' \gset
SELECT id AS bea FROM ps_who WHERE name = 'bea' \gset
SELECT id AS own FROM ps_who WHERE name = 'own' \gset
SELECT count(zenml_rbac.set_org_role(:'org', id, 'org_viewer')) AS org_members FROM ps_who WHERE id IS NOT NULL;
SELECT zenml_rbac.create_team(:'org', 'ps_team') AS team \gset
SELECT zenml_rbac.add_team_member(:'team', :'bea');
-- own: a role without model:read in tenants 7-9, where it owns rows
SELECT zenml_rbac.create_role(t.id, 'ps_blind', 'editor without read', 'editor') IS NOT NULL AS blind_role,
       zenml_rbac.role_disallow(t.id, 'ps_blind', 'model', 'read')
  FROM ps_tenant t WHERE t.n = 7;
SELECT count(zenml_rbac.grant_tenant_role(t.id, p.id, CASE p.name WHEN 'own' THEN 'ps_blind' ELSE 'viewer' END))
       AS tenant_roles
  FROM ps_tenant t JOIN ps_who p
    ON (p.name = 'ann' AND t.n BETWEEN 1 AND 3) OR (p.name = 'bea' AND t.n BETWEEN 4 AND 6)
    OR (p.name = 'own' AND t.n = 7);

-- 8,000 rows, 400 per tenant, spread over the heap; own owns 50 in tenant 7
CREATE TABLE ps_items (id uuid PRIMARY KEY, tenant_id uuid NOT NULL, owner_id uuid, name text NOT NULL);
INSERT INTO ps_items
SELECT md5('ps' || i)::uuid, t.id, CASE WHEN i % 20 = 7 AND i < 1000 THEN :'own'::uuid END, 'n' || i
  FROM generate_series(0, 7999) i JOIN ps_tenant t ON t.n = i % 20;
CREATE INDEX ps_items_tenant ON ps_items (tenant_id);
-- the same rows without an owner column
CREATE TABLE ps_plain (id uuid PRIMARY KEY, tenant_id uuid NOT NULL, name text NOT NULL);
INSERT INTO ps_plain SELECT id, tenant_id, name FROM ps_items;
CREATE INDEX ps_plain_tenant ON ps_plain (tenant_id);
CREATE TABLE ps_tags (item_id uuid, tag text);
INSERT INTO ps_tags SELECT id, 'tag' FROM ps_items WHERE name LIKE '%3';
SET client_min_messages = warning;
SELECT zenml_rbac.protect('ps_items', 'model', 'tenant_id', 'id', 'owner_id');
SELECT zenml_rbac.protect('ps_plain', 'model', 'tenant_id', 'id');
RESET client_min_messages;
-- bea: 3 rows shared in each of tenants 10-19, 5 more through its team in tenant 0
SELECT count(zenml_rbac.share_resource(i.tenant_id, 'model/' || i.id, :'bea', '{read}')) AS bea_shares
  FROM ps_tenant t, LATERAL (SELECT * FROM ps_items i WHERE i.tenant_id = t.id ORDER BY i.id LIMIT 3) i
 WHERE t.n BETWEEN 10 AND 19;
SELECT count(zenml_rbac.share_resource(i.tenant_id, 'model/' || i.id, :'team', '{read}')) AS team_shares
  FROM ps_tenant t, LATERAL (SELECT * FROM ps_items i WHERE i.tenant_id = t.id ORDER BY i.id DESC LIMIT 5) i
 WHERE t.n = 0;
VACUUM ANALYZE ps_items, ps_plain, ps_tags;
GRANT SELECT ON ps_items, ps_plain, ps_tags, ps_who TO regress_ps_app;
GRANT UPDATE ON ps_plain TO regress_ps_app;

-- The plan's nodes, InitPlans left out: "Node [provider] [using index] (children)".
CREATE FUNCTION ps_nodes(node json) RETURNS text LANGUAGE sql IMMUTABLE AS $$
    SELECT (node ->> 'Node Type') || coalesce(' ' || (node ->> 'Custom Plan Provider'), '')
           || coalesce(' using ' || (node ->> 'Index Name'), '')
           || coalesce(' (' || (SELECT string_agg(ps_nodes(c), ', ')
                                  FROM json_array_elements(node -> 'Plans') c
                                 WHERE c ->> 'Parent Relationship' <> 'InitPlan') || ')', '')
$$;
CREATE FUNCTION ps_plan(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    plan json;
BEGIN
    EXECUTE 'EXPLAIN (COSTS OFF, FORMAT JSON) ' || query INTO plan;
    RETURN ps_nodes(plan -> 0 -> 'Plan');
END
$$;
-- A query's answer (row count, digest of the sorted rows) and whether its
-- plan takes the path, then the same with the path off: "same" or not.
CREATE FUNCTION ps_answer(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    wrapped text := format('SELECT count(*), md5(coalesce(string_agg(r::text, '','' ORDER BY r::text), '''')) FROM (%s) r', query);
    n_on bigint;
    n_off bigint;
    d_on text;
    d_off text;
    plan text := ps_plan(wrapped);
BEGIN
    EXECUTE wrapped INTO n_on, d_on;
    PERFORM set_config('zenml_rbac.policy_arms', 'off', true);
    IF ps_plan(wrapped) LIKE '%ZenmlRbacPolicy%' THEN
        RAISE EXCEPTION 'a path is still taken with zenml_rbac.policy_arms off';
    END IF;
    EXECUTE wrapped INTO n_off, d_off;
    PERFORM set_config('zenml_rbac.policy_arms', 'on', true);
    RETURN format('%s rows, %s%s', n_on,
                  CASE WHEN plan LIKE '%ZenmlRbacPolicyPage%' THEN 'page'
                       WHEN plan LIKE '%ZenmlRbacPolicyArms%' THEN 'arms' ELSE 'own plan' END,
                  CASE WHEN n_on = n_off AND d_on = d_off THEN ''
                       ELSE format(', DIFFERENT without: %s rows', n_off) END);
END
$$;
-- The answers of a list of queries for each principal.
CREATE FUNCTION ps_answers(queries text[]) RETURNS TABLE (principal text, query int, answer text)
LANGUAGE plpgsql AS $$
DECLARE
    who ps_who[] := ARRAY(SELECT w FROM ps_who w ORDER BY name);
    p ps_who;
BEGIN
    -- (an array, not a loop over a query: set_principal refuses to switch
    -- while a cursor is open)
    FOREACH p IN ARRAY who LOOP
        PERFORM zenml_rbac.set_principal(p.id);
        FOR i IN 1 .. cardinality(queries) LOOP
            principal := p.name;
            query := i;
            answer := ps_answer(queries[i]);
            RETURN NEXT;
        END LOOP;
    END LOOP;
END
$$;
GRANT EXECUTE ON FUNCTION ps_nodes(json), ps_plan(text), ps_answer(text), ps_answers(text[]) TO regress_ps_app;

-- The plans: count(*) reads the tenant arm with an index-only scan and the
-- instances through the primary key; with an owner column a third child
-- reads the own rows.  A point lookup keeps the planner's own plan; a page
-- in id order gets the page node over the planner's two plans of it (the
-- primary key's order, a sort of what the BitmapOr reads).
SET ROLE regress_ps_app;
BEGIN;
SELECT zenml_rbac.set_principal(:'ann');
SELECT ps_plan('SELECT count(*) FROM ps_plain') ~ '^Aggregate \(Custom Scan ZenmlRbacPolicyArms \(Index Only Scan using ps_plain_tenant, .*using ps_plain_pkey\)*$' AS count_arms;
SELECT ps_plan('SELECT count(*) FROM ps_items') ~ '^Aggregate \(Custom Scan ZenmlRbacPolicyArms \(Index Only Scan using ps_items_tenant, .*ps_items_pkey.*, .*\)\)$' AS owner_column_three_arms;
SELECT ps_plan('SELECT * FROM ps_plain WHERE id = ''' || md5('ps5') || '''') AS point_lookup;
SELECT ps_plan('SELECT id FROM ps_plain ORDER BY id LIMIT 10') AS page;
SELECT ps_plan('SELECT * FROM ps_plain FOR SHARE') !~ 'ZenmlRbacPolicyArms' AS locking_read_own_plan;
SELECT ps_plan('UPDATE ps_plain SET name = name') !~ 'ZenmlRbacPolicyArms' AS update_own_plan;
SET LOCAL zenml_rbac.policy_arms = off;
SELECT ps_plan('SELECT count(*) FROM ps_plain') !~ 'ZenmlRbacPolicyArms' AS off_own_plan;
COMMIT;

-- The answers, for every principal (bea: shares and a team's; own: its
-- rows where its role does not give read; cid: nothing; nobody: no
-- principal), with and without the path: never different.
BEGIN;
SELECT * FROM ps_answers(ARRAY[
    'SELECT id FROM ps_plain',
    'SELECT id, name FROM ps_items',
    'SELECT count(*) FROM ps_items',
    'SELECT id FROM ps_plain WHERE name LIKE ''n1%''',
    'SELECT tenant_id, count(*) FROM ps_items GROUP BY tenant_id',
    'SELECT i.id, t.tag FROM ps_plain i JOIN ps_tags t ON t.item_id = i.id',
    'SELECT g, (SELECT count(*) FROM ps_plain p WHERE p.name < ''n'' || g) FROM generate_series(1, 9) g',
    'SELECT id FROM ps_plain UNION ALL SELECT id FROM ps_items',
    'SELECT ctid, * FROM ps_items WHERE lower(name) <> ''x''',
    'SELECT id FROM ps_plain ORDER BY id LIMIT 10',
    'SELECT p FROM ps_plain p',
    'SELECT v.x, s.k FROM (VALUES (1), (2)) v(x) LEFT JOIN (SELECT id, ''k'' || v2.y AS k FROM ps_plain, (VALUES (3)) v2(y)) s ON s.id IS NOT NULL',
    'SELECT * FROM ps_items ORDER BY id DESC LIMIT 7 OFFSET 30',
    'SELECT upper(name), id FROM ps_plain WHERE name > ''n3'' ORDER BY id LIMIT 25',
    'SELECT g, (SELECT p.id FROM ps_plain p WHERE p.name > ''n'' || g ORDER BY p.id LIMIT 1) FROM generate_series(1, 9) g'])
ORDER BY principal, query;
COMMIT;

-- The same, for queries whose own select list the node computes (the
-- planner hands the scan the query's final target after the children are
-- planned): each result stored as it comes, with and without the path.
RESET ROLE;
CREATE FUNCTION ps_stored(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    arms boolean := ps_plan(query) LIKE '%ZenmlRbacPolicyArms%';
    n bigint;
    missing bigint;
    extra bigint;
BEGIN
    EXECUTE 'CREATE TEMP TABLE ps_on AS ' || query;
    PERFORM set_config('zenml_rbac.policy_arms', 'off', true);
    EXECUTE 'CREATE TEMP TABLE ps_off AS ' || query;
    PERFORM set_config('zenml_rbac.policy_arms', 'on', true);
    SELECT count(*) INTO n FROM ps_on;
    SELECT count(*) INTO missing FROM (TABLE ps_off EXCEPT ALL TABLE ps_on) d;
    SELECT count(*) INTO extra FROM (TABLE ps_on EXCEPT ALL TABLE ps_off) d;
    DROP TABLE ps_on, ps_off;
    RETURN format('%s rows, %s%s', n, CASE WHEN arms THEN 'arms' ELSE 'own plan' END,
                  CASE WHEN missing + extra = 0 THEN '' ELSE format(', DIFFERENT: %s missing, %s extra', missing, extra) END);
END
$$;
GRANT EXECUTE ON FUNCTION ps_stored(text) TO regress_ps_app;
GRANT CREATE ON SCHEMA public TO regress_ps_app;
SET ROLE regress_ps_app;
BEGIN;
SELECT zenml_rbac.set_principal(:'bea');
SELECT q AS query, ps_stored(q) AS answer FROM unnest(ARRAY[
    'SELECT upper(name) AS u FROM ps_plain',
    'SELECT id::text AS i FROM ps_plain',
    'SELECT p::text AS r FROM ps_plain p',
    'SELECT id, tenant_id, name, upper(name) AS u FROM ps_items',
    'SELECT ctid::text AS c, tableoid::regclass::text AS t, * FROM ps_plain',
    'SELECT x FROM ps_plain, LATERAL (SELECT name || ''!'' AS x) l',
    'SELECT * FROM (SELECT * FROM ps_plain ORDER BY name) s']) q;
SELECT upper(name) AS first_names FROM ps_plain ORDER BY 1 LIMIT 3;
COMMIT;

-- With parallel workers planned at no cost: the path is not parallel, the
-- answers stay the same whichever plan wins.
BEGIN;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL min_parallel_index_scan_size = 0;
SELECT * FROM ps_answers(ARRAY['SELECT count(*) FROM ps_plain', 'SELECT id FROM ps_items'])
 WHERE principal IN ('ann', 'bea') ORDER BY principal, query;
COMMIT;

-- A function the user's query calls on every row (not leakproof, cheap, so
-- the planner would like to call it first) sees only rows the policy
-- passes, in every child.
RESET ROLE;
CREATE TABLE ps_seen (name text);
GRANT INSERT, SELECT, DELETE ON ps_seen TO regress_ps_app;
CREATE FUNCTION ps_peek(name text) RETURNS boolean LANGUAGE plpgsql COST 0.0001 AS $$
BEGIN
    INSERT INTO ps_seen VALUES (name);
    RETURN true;
END
$$;
SET ROLE regress_ps_app;
BEGIN;
SELECT zenml_rbac.set_principal(:'bea');
SELECT ps_plan('SELECT count(*) FROM ps_plain WHERE ps_peek(name)') LIKE '%ZenmlRbacPolicyArms%' AS arms;
SELECT count(*) AS visible FROM ps_plain WHERE ps_peek(name);
SELECT count(*) AS seen, count(*) FILTER (WHERE s.name NOT IN (SELECT name FROM ps_plain)) AS seen_invisible
  FROM ps_seen s;
ROLLBACK;

-- A page chooses its plan when it starts, from the principal's arrays: a
-- sort of the visible rows where few are (cid: none; own: its 50 rows), the
-- primary key's order where more are (ann: 3 of 20 tenants; cid given one:
-- 10 rows in about 200 read, against 400 to sort), in one cached generic
-- plan.  Its rows are always those of the planner's own plan, and a user's
-- function sees only visible rows.
RESET ROLE;
CREATE FUNCTION ps_page_read(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    plan jsonb;
BEGIN
    EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, FORMAT JSON) ' || query INTO plan;
    RETURN (SELECT string_agg(r #>> '{}', ', ') FROM jsonb_path_query(plan, 'strict $.**."Page Read"') r);
END
$$;
GRANT EXECUTE ON FUNCTION ps_page_read(text) TO regress_ps_app;
CREATE FUNCTION ps_page_sized() RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    RETURN (SELECT count(*) FROM (SELECT id FROM ps_items ORDER BY id LIMIT current_setting('ps.page')::int) p);
END
$$;
GRANT EXECUTE ON FUNCTION ps_page_sized() TO regress_ps_app;
SET plan_cache_mode = force_generic_plan;
SET ROLE regress_ps_app;
PREPARE ps_page AS SELECT * FROM ps_items ORDER BY id LIMIT 10;
BEGIN;
SELECT zenml_rbac.set_principal(:'ann');
SELECT ps_page_read('EXECUTE ps_page') AS ann_reads, ps_answer('SELECT * FROM ps_items ORDER BY id LIMIT 10') AS ann_page;
COMMIT;
BEGIN;
SELECT zenml_rbac.set_principal((SELECT id FROM ps_who WHERE name = 'cid'));
SELECT ps_page_read('EXECUTE ps_page') AS cid_reads, ps_answer('SELECT * FROM ps_items ORDER BY id LIMIT 10') AS cid_page;
COMMIT;
BEGIN;
SELECT zenml_rbac.set_principal(:'own');
SELECT ps_page_read('EXECUTE ps_page') AS own_reads, ps_answer('SELECT * FROM ps_items ORDER BY id LIMIT 10') AS own_page;
-- a sorted page keeps no more rows than the LIMIT takes for sure: not the
-- estimate for WITH TIES (all 50 of own's rows tie) or a stable expression
-- (a cached plan's LIMIT grows from 3 to 20)
SELECT ps_answer('SELECT tenant_id FROM ps_items ORDER BY tenant_id FETCH FIRST 3 ROWS WITH TIES') AS with_ties,
       ps_page_read('SELECT tenant_id FROM ps_items ORDER BY tenant_id FETCH FIRST 3 ROWS WITH TIES') AS reads;
SELECT set_config('ps.page', '3', true) AS page_size, ps_page_sized() AS first_call;
SELECT set_config('ps.page', '20', true) AS page_size, ps_page_sized() AS second_call,
       ps_page_read('SELECT * FROM ps_items ORDER BY id LIMIT current_setting(''ps.page'')::int') AS reads;
COMMIT;
RESET ROLE;
SELECT zenml_rbac.grant_tenant_role((SELECT id FROM ps_tenant WHERE n = 9), id, 'viewer') FROM ps_who WHERE name = 'cid';
SET ROLE regress_ps_app;
BEGIN;
SELECT zenml_rbac.set_principal((SELECT id FROM ps_who WHERE name = 'cid'));
SELECT ps_page_read('EXECUTE ps_page') AS cid_one_tenant_reads, ps_answer('SELECT * FROM ps_items ORDER BY id LIMIT 10') AS cid_page;
SELECT count(*) AS cid_rows FROM ps_items;
COMMIT;
SELECT generic_plans >= 4 AS generic_plan_reused, custom_plans = 0 AS no_custom_plan
  FROM pg_prepared_statements WHERE name = 'ps_page';
DEALLOCATE ps_page;
RESET ROLE;
SELECT zenml_rbac.revoke_tenant_role((SELECT id FROM ps_tenant WHERE n = 9), id, 'viewer') FROM ps_who WHERE name = 'cid';
RESET plan_cache_mode;
SET ROLE regress_ps_app;
BEGIN;
SELECT zenml_rbac.set_principal(:'bea');
SELECT ps_plan('SELECT id FROM ps_plain WHERE ps_peek(name) ORDER BY id LIMIT 50') LIKE '%ZenmlRbacPolicyPage%' AS page;
SELECT count(*) AS page_rows FROM (SELECT id FROM ps_plain WHERE ps_peek(name) ORDER BY id LIMIT 50) p;
SELECT count(*) > 0 AS seen, count(*) FILTER (WHERE s.name NOT IN (SELECT name FROM ps_plain)) AS seen_invisible
  FROM ps_seen s;
ROLLBACK;

-- Neither node scans backwards, even over index scans and a sort (turning
-- around inside a deduplicated btree posting list gives wrong rows in
-- PostgreSQL 15.20's own index scans): a SCROLL cursor gets a Materialize.
-- FETCH PRIOR after n rows (7, or past the end: back through every child)
-- returns those rows reversed, and reading on to the end gives every
-- visible row once.
RESET ROLE;
CREATE FUNCTION ps_back(query text, n int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    at_end boolean := false;
    c refcursor;
    r record;
    ahead text[] := '{}';
    back text[] := '{}';
    again text[] := '{}';
    visible text[];
    plan text := '';
    line text;
BEGIN
    FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) DECLARE ps_c SCROLL CURSOR FOR ' || query LOOP
        plan := plan || line;
    END LOOP;
    EXECUTE format('SELECT array_agg(id::text ORDER BY id::text) FROM (%s) q', query) INTO visible;
    OPEN c SCROLL FOR EXECUTE query;
    FOR i IN 1 .. n LOOP
        FETCH c INTO r;
        at_end := NOT FOUND;
        EXIT WHEN at_end;
        ahead := ahead || r.id::text;
    END LOOP;
    LOOP
        FETCH PRIOR FROM c INTO r;
        EXIT WHEN NOT FOUND;
        back := back || r.id::text;
    END LOOP;
    LOOP
        FETCH c INTO r;
        EXIT WHEN NOT FOUND;
        again := again || r.id::text;
    END LOOP;
    CLOSE c;
    RETURN format('%s%s: %s back %s, %s again, %s',
                  CASE WHEN plan LIKE '%ZenmlRbacPolicyPage%' THEN 'page'
                       WHEN plan LIKE '%ZenmlRbacPolicyArms%' THEN 'arms' ELSE 'own plan' END,
                  CASE WHEN plan LIKE '%Materialize%' THEN ' (materialized)' ELSE '' END,
                  cardinality(back),
                  CASE WHEN back = ARRAY(SELECT ahead[i] FROM generate_subscripts(ahead, 1) i
                                          ORDER BY i DESC OFFSET CASE WHEN at_end THEN 0 ELSE 1 END)
                       THEN 'reversed' ELSE 'NOT REVERSED' END,
                  cardinality(again),
                  CASE WHEN (SELECT array_agg(x ORDER BY x) FROM unnest(again) x) = visible
                       THEN 'the visible rows' ELSE 'OTHER ROWS' END);
END
$$;
GRANT EXECUTE ON FUNCTION ps_back(text, int) TO regress_ps_app;
SET ROLE regress_ps_app;
BEGIN;
SELECT zenml_rbac.set_principal(:'bea');
SELECT ps_back('SELECT id FROM ps_plain', 100000) AS scroll_cursor,
       ps_back('SELECT id FROM ps_plain ORDER BY id LIMIT 12', 7) AS page_walk;
SELECT zenml_rbac.set_principal(:'own');
SELECT ps_back('SELECT id FROM ps_items ORDER BY id LIMIT 12', 7) AS page_sorted,
       ps_page_read('SELECT id FROM ps_items ORDER BY id LIMIT 12') AS reads;
SELECT zenml_rbac.set_principal(:'bea');
SET LOCAL enable_bitmapscan = off;
SELECT ps_back('SELECT id FROM ps_plain', 7) AS arms_index_scans,
       ps_back('SELECT id FROM ps_plain', 100000) AS arms_from_the_end;
SELECT ps_back('SELECT id FROM ps_plain WHERE name > ''n7''', 100000) AS arms_filtered_from_the_end;
COMMIT;

-- A SCROLL cursor that turns around in the middle of the tenant arm (read
-- to the end, back 100 rows, forwards 5) returns rows 1137..1141 of its
-- forward order (what PostgreSQL 15.20's own index scans get wrong).
RESET ROLE;
CREATE FUNCTION ps_turn(query text, back int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    c refcursor;
    r record;
    ahead text[] := '{}';
    turned text[] := '{}';
BEGIN
    OPEN c SCROLL FOR EXECUTE query;
    LOOP
        FETCH c INTO r;
        EXIT WHEN NOT FOUND;
        ahead := ahead || r.id::text;
    END LOOP;
    EXECUTE format('MOVE BACKWARD %s FROM %I', back, c);
    FOR i IN 1 .. 5 LOOP
        FETCH c INTO r;
        turned := turned || r.id::text;
    END LOOP;
    CLOSE c;
    RETURN format('%s rows, %s', cardinality(ahead),
                  CASE WHEN turned = ahead[cardinality(ahead) - back + 2 : cardinality(ahead) - back + 6]
                       THEN 'the rows after the turn' ELSE 'OTHER ROWS' END);
END
$$;
GRANT EXECUTE ON FUNCTION ps_turn(text, int) TO regress_ps_app;
SET ROLE regress_ps_app;
BEGIN;
SELECT zenml_rbac.set_principal(:'bea');
SET LOCAL enable_bitmapscan = off;
SET LOCAL enable_seqscan = off;
SELECT ps_turn('SELECT id FROM ps_plain', 100) AS turned_in_tenant_arm;
COMMIT;

-- Cached plans (generic, forced), a PL/pgSQL function's, a SQL function's
-- and a view's answer for the principal of each execution, and follow a
-- revoke and a share from the next statement: nothing is decided when
-- planning.
RESET ROLE;
SET plan_cache_mode = force_generic_plan;
CREATE FUNCTION ps_count_plpgsql() RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
    RETURN (SELECT count(*) FROM ps_plain);
END
$$;
CREATE FUNCTION ps_count_sql() RETURNS bigint LANGUAGE sql STABLE AS $$ SELECT count(*) FROM ps_plain $$;
CREATE VIEW ps_view WITH (security_invoker) AS SELECT * FROM ps_plain;
GRANT SELECT ON ps_view TO regress_ps_app;
CREATE FUNCTION ps_counts(OUT prepared bigint, OUT plpgsql bigint, OUT sql bigint, OUT via_view bigint)
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE 'EXECUTE ps_count' INTO prepared;
    plpgsql := ps_count_plpgsql();
    sql := ps_count_sql();
    SELECT count(*) INTO via_view FROM ps_view;
END
$$;
SET ROLE regress_ps_app;
PREPARE ps_count AS SELECT count(*) FROM ps_plain;
BEGIN;
SELECT zenml_rbac.set_principal(:'ann');
SELECT ps_plan('EXECUTE ps_count') LIKE '%ZenmlRbacPolicyArms%' AS generic_plan_arms;
SELECT 'ann' AS principal, * FROM ps_counts();
COMMIT;
BEGIN;
SELECT zenml_rbac.set_principal(:'bea');
SELECT 'bea' AS principal, * FROM ps_counts();
COMMIT;
BEGIN;
SELECT zenml_rbac.set_principal((SELECT id FROM ps_who WHERE name = 'cid'));
SELECT 'cid' AS principal, * FROM ps_counts();
COMMIT;
-- ann loses tenant 1 (400 rows) and gets one row of tenant 15 shared
RESET ROLE;
SELECT zenml_rbac.revoke_tenant_role((SELECT id FROM ps_tenant WHERE n = 1), :'ann', 'viewer');
SELECT zenml_rbac.share_resource(tenant_id, 'model/' || id, :'ann', '{read}')
  FROM ps_plain WHERE tenant_id = (SELECT id FROM ps_tenant WHERE n = 15) ORDER BY id DESC LIMIT 1;
SET ROLE regress_ps_app;
BEGIN;
SELECT zenml_rbac.set_principal(:'ann');
SELECT 'ann' AS principal, * FROM ps_counts();
COMMIT;
SELECT generic_plans >= 4 AS generic_plan_reused, custom_plans = 0 AS no_custom_plan
  FROM pg_prepared_statements WHERE name = 'ps_count';
DEALLOCATE ps_count;
RESET ROLE;
RESET plan_cache_mode;

-- A table written faster than VACUUM runs: the arms are costed with the
-- visibility map's count of all-visible pages, not the last VACUUM's, so
-- the tenant arm leaves its index-only scan (which would now fetch the heap
-- for every row) once an UPDATE has cleared the map.
RESET ROLE;
-- a protected copy of ps_plain with its tenant index, out of autovacuum's reach
CREATE FUNCTION ps_copy(tbl name, fillfactor int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('CREATE TABLE %I (id uuid PRIMARY KEY, tenant_id uuid NOT NULL, name text NOT NULL)'
                   ' WITH (autovacuum_enabled = off, fillfactor = %s)', tbl, fillfactor);
    EXECUTE format('INSERT INTO %I SELECT * FROM ps_plain', tbl);
    EXECUTE format('CREATE INDEX %I ON %I (tenant_id)', tbl || '_tenant', tbl);
    PERFORM set_config('client_min_messages', 'warning', true);
    PERFORM zenml_rbac.protect(tbl::text::regclass, 'model', 'tenant_id', 'id');
    EXECUTE format('GRANT SELECT ON %I TO regress_ps_app', tbl);
END
$$;
SELECT ps_copy('ps_written', 100);
VACUUM ANALYZE ps_written;
SET ROLE regress_ps_app;
BEGIN;
SELECT zenml_rbac.set_principal(:'ann');
SELECT ps_plan('SELECT count(*) FROM ps_written') ~ 'ZenmlRbacPolicyArms \(Index Only Scan using ps_written_tenant' AS vacuumed_index_only;
COMMIT;
RESET ROLE;
UPDATE ps_written SET name = name;
SET ROLE regress_ps_app;
BEGIN;
SELECT zenml_rbac.set_principal(:'ann');
SELECT ps_plan('SELECT count(*) FROM ps_written') !~ 'Index Only Scan using ps_written_tenant' AS written_no_index_only,
       ps_answer('SELECT count(*) FROM ps_written') AS written_count;
COMMIT;
RESET ROLE;
DROP TABLE ps_written;

-- A read of no column (count(*)) takes an index-only child's rows after its
-- first from the index alone (src/visible_entries.c): an entry's row is
-- visible by the visibility map, else by the heap under the statement's
-- snapshot.  After VACUUM: rows deleted, updated (HOT: fillfactor 50) and
-- inserted, committed and by the reading transaction itself, and a
-- savepoint's changes rolled back (index entries of rows the snapshot does
-- not see, on pages the map no longer vouches for); rescans below a
-- one-time filter, after a LIMIT stopped a child midway, with a changed
-- parameter in the child's index condition (also midway), and as a nested
-- loop's inner side; a cursor whose snapshot is older than the changes
-- made between two of its fetches.  Each plan reads by entries ("entries":
-- the tenant arm's child an index-only scan with no filter), and the
-- counts are PostgreSQL's plan's.
RESET ROLE;
SELECT ps_copy('ps_counted', 50);
VACUUM ANALYZE ps_counted;
GRANT SELECT ON ps_tenant TO regress_ps_app;
-- whether a query's plan reads ps_counted by entries, and its answer
CREATE FUNCTION ps_entries(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    plan jsonb;
BEGIN
    EXECUTE 'EXPLAIN (COSTS OFF, FORMAT JSON) ' || query INTO plan;
    RETURN CASE WHEN jsonb_path_exists(plan, '$.** ? (@."Custom Plan Provider" == "ZenmlRbacPolicyArms").Plans[*]
                                                  ? (@."Node Type" == "Index Only Scan" && @."Index Name" == "ps_counted_tenant"
                                                     && !exists(@."Filter"))')
                THEN 'entries, ' ELSE 'NOT BY ENTRIES, ' END || ps_answer(query);
END
$$;
-- between two fetches of a cursor: a deleted page and 20 rows inserted in tenant 1
CREATE FUNCTION ps_counted_change() RETURNS void LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    DELETE FROM ps_counted WHERE ctid >= '(60,0)' AND ctid < '(61,0)';
    INSERT INTO ps_counted SELECT md5('psf' || i)::uuid, t.id, 'f' || i FROM generate_series(1, 20) i, ps_tenant t WHERE t.n = 1;
$$;
-- the rows a cursor of no column returns: 10, then the rest after the change
CREATE FUNCTION ps_cursor_rows() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    c refcursor;
    rest bigint;
BEGIN
    OPEN c NO SCROLL FOR SELECT FROM ps_counted;
    MOVE FORWARD 10 FROM c;
    PERFORM ps_counted_change();
    MOVE FORWARD ALL FROM c;
    GET DIAGNOSTICS rest = ROW_COUNT;
    CLOSE c;
    RETURN 10 + rest;
END
$$;
GRANT EXECUTE ON FUNCTION ps_entries(text), ps_counted_change(), ps_cursor_rows() TO regress_ps_app;
-- committed: the rows of 3 heap pages deleted, of 2 more updated, 30 inserted in ann's tenant 2
DELETE FROM ps_counted WHERE ctid >= '(10,0)' AND ctid < '(13,0)';
UPDATE ps_counted SET name = name || 'u' WHERE ctid >= '(20,0)' AND ctid < '(22,0)';
INSERT INTO ps_counted SELECT md5('psc' || i)::uuid, t.id, 'c' || i FROM generate_series(1, 30) i, ps_tenant t WHERE t.n = 2;
BEGIN;
-- this transaction's own: a page deleted, 2 updated in place (HOT), 5 rows
-- inserted; a savepoint's delete and insert rolled back
DELETE FROM ps_counted WHERE ctid >= '(30,0)' AND ctid < '(31,0)';
UPDATE ps_counted SET name = name || 'h' WHERE ctid >= '(50,0)' AND ctid < '(52,0)';
SELECT pg_stat_get_xact_tuples_hot_updated('ps_counted'::regclass) > 0 AS hot_updates;
INSERT INTO ps_counted SELECT md5('psd' || i)::uuid, t.id, 'd' || i FROM generate_series(1, 5) i, ps_tenant t WHERE t.n = 3;
SAVEPOINT s;
DELETE FROM ps_counted WHERE ctid >= '(40,0)' AND ctid < '(41,0)';
INSERT INTO ps_counted SELECT md5('pse' || i)::uuid, t.id, 'e' || i FROM generate_series(1, 5) i, ps_tenant t WHERE t.n = 1;
ROLLBACK TO s;
SET LOCAL ROLE regress_ps_app;
SELECT zenml_rbac.set_principal(:'ann');
SELECT q AS query, ps_entries(q) AS answer FROM unnest(ARRAY[
    'SELECT count(*) FROM ps_counted',
    'SELECT g, (SELECT count(*) FROM ps_counted WHERE g % 3 > 0) FROM generate_series(1, 6) g',
    'SELECT g, (SELECT count(*) FROM (SELECT FROM ps_counted LIMIT g * 150) s) FROM generate_series(1, 6) g',
    'SELECT t.n, (SELECT count(*) FROM ps_counted c WHERE c.tenant_id = t.id) FROM ps_tenant t',
    'SELECT t.n, (SELECT count(*) FROM (SELECT FROM ps_counted c WHERE c.tenant_id = t.id LIMIT 7) s) FROM ps_tenant t',
    'SELECT FROM ps_counted']) q;
SELECT count(*) AS ann_sees, count(*) FILTER (WHERE name LIKE '%u') AS updated, count(*) FILTER (WHERE name LIKE '%h') AS hot,
       count(*) FILTER (WHERE name LIKE 'c%') AS inserted, count(*) FILTER (WHERE name LIKE 'd%') AS own_inserted,
       count(*) FILTER (WHERE name LIKE 'e%') AS rolled_back
  FROM ps_counted;
-- the inner side of a nested loop, rescanned for each outer row
SET LOCAL enable_hashjoin = off;
SET LOCAL enable_mergejoin = off;
SET LOCAL enable_material = off;
SELECT ps_entries('SELECT count(*) FROM generate_series(1, 3) g, ps_counted') AS nested_loop;
RESET enable_hashjoin;
RESET enable_mergejoin;
RESET enable_material;
-- the cursor: the rows of its snapshot (the deleted page's included, the
-- inserted rows not), through the path and without it
SELECT ps_entries('SELECT FROM ps_counted') AS cursor_query;
SAVEPOINT c;
SELECT ps_cursor_rows() AS cursor_rows_arms;
ROLLBACK TO c;
SET LOCAL zenml_rbac.policy_arms = off;
SELECT ps_cursor_rows() AS cursor_rows_own_plan;
ROLLBACK TO c;
SET LOCAL zenml_rbac.policy_arms = on;
SELECT zenml_rbac.set_principal(:'bea');
SELECT ps_entries('SELECT count(*) FROM ps_counted') AS bea_count;
COMMIT;
RESET ROLE;
DROP TABLE ps_counted;
DROP FUNCTION ps_entries(text), ps_counted_change(), ps_cursor_rows(), ps_copy(name, int);

-- A new session's first statement already gets the path: planning the
-- policy's InitPlan calls the functions' planner support, which loads the
-- library (and its planner hook) before the table is planned.
\c
SET ROLE regress_ps_app;
SELECT ps_plan('SELECT count(*) FROM ps_plain') LIKE '%ZenmlRbacPolicyArms%' AS first_statement_arms;
RESET ROLE;
-- the support function cannot be called from SQL: no value has its type
SELECT zenml_rbac._policy_planner_support(NULL::internal);

-- clean up
DROP VIEW ps_view;
DROP TABLE ps_items, ps_plain, ps_tags, ps_seen, ps_who, ps_tenant;
REVOKE CREATE ON SCHEMA public FROM regress_ps_app;
DROP FUNCTION ps_nodes(json), ps_plan(text), ps_answer(text), ps_answers(text[]), ps_stored(text), ps_peek(text),
    ps_back(text, int), ps_turn(text, int), ps_page_read(text), ps_page_sized(), ps_count_plpgsql(), ps_count_sql(), ps_counts();
SELECT zenml_rbac.delete_organization(:'org');
DELETE FROM zenml_rbac.principal WHERE name LIKE 'ps\_%';
REVOKE ALL ON FUNCTION zenml_rbac.set_principal(uuid) FROM regress_ps_app;
DROP ROLE regress_ps_app;
