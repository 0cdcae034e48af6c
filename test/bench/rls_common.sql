-- Helpers of the row-level security benchmark (rls.sh), installed after
-- common.sql (bench.wall_ms): each query runs after its own setup (the role
-- it runs as, planner switches), all inside one transaction that has set
-- the principal.

-- Undoes what a setup may have changed.
CREATE FUNCTION bench.rls_reset() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    RESET ROLE;
    RESET enable_indexonlyscan;
    RESET enable_indexscan;
    RESET enable_bitmapscan;
    RESET enable_seqscan;
    RESET zenml_rbac.policy_arms;
END
$$;

-- Like bench.measure (common.sql), with a setup statement per query, timed
-- by the wall clock (bench.wall_ms: planning included): one warm-up pass
-- (each query run twice, the second run kept), then `reps` rounds that run
-- every query once in turn -- forwards in odd rounds, backwards in even
-- ones, so that no query always runs right after the same other one.  A
-- query whose warm-up took under `prerun_ms` is timed in the steady state of
-- repeated runs: first untimed runs of itself lasting about 5 ms (at least
-- one), then the mean of runs lasting about 2 ms (at least one, at most 50).
-- Otherwise a short query times the CPU-cache state the previous query left:
-- a 0.3 ms page after a count(*) over another table takes 1.2 ms, then
-- 0.5, 0.33, 0.29, 0.27 ms in the runs that follow.
CREATE FUNCTION bench.measure_as(names text[], setups text[], queries text[], reps int,
                                 prerun_ms float8 DEFAULT 20)
    RETURNS TABLE (name text, median_ms float8, samples text, warmup_ms float8, iters int)
    LANGUAGE plpgsql AS $$
DECLARE
    times float8[] := array_fill(NULL::float8, ARRAY[cardinality(queries), reps]);
    warmup float8[] := array_fill(NULL::float8, ARRAY[cardinality(queries)]);
    pre int[] := array_fill(0, ARRAY[cardinality(queries)]);
    batch int[] := array_fill(1, ARRAY[cardinality(queries)]);
    n int := cardinality(queries);
    q int;
    t float8;
BEGIN
    FOR r IN 0 .. reps LOOP
        FOR i IN 1 .. n LOOP
            q := CASE WHEN r % 2 = 1 OR r = 0 THEN i ELSE n + 1 - i END;
            EXECUTE setups[q];
            IF r = 0 THEN
                PERFORM bench.wall_ms(queries[q]);
                t := bench.wall_ms(queries[q]);
                warmup[q] := t;
                IF t < prerun_ms THEN
                    pre[q] := least(20, greatest(1, ceil(5 / greatest(t, 0.001))::int));
                    batch[q] := least(50, greatest(1, ceil(2 / greatest(t, 0.001))::int));
                END IF;
            ELSE
                IF pre[q] > 0 THEN
                    PERFORM bench.wall_ms(queries[q], pre[q]);
                END IF;
                times[q][r] := bench.wall_ms(queries[q], batch[q]);
            END IF;
            PERFORM bench.rls_reset();
        END LOOP;
    END LOOP;
    FOR q IN 1 .. cardinality(queries) LOOP
        name := names[q];
        warmup_ms := warmup[q];
        iters := batch[q];
        SELECT m.median, m.samples INTO median_ms, samples FROM bench.summary(times, q) m;
        RETURN NEXT;
    END LOOP;
END
$$;

-- The answer of a query run after its setup, for comparing with another
-- query's: a single value as itself (a count), several rows as their number
-- and the md5 of their text in id order (a page).
CREATE FUNCTION bench.rls_answer(setup text, query text) RETURNS text
    LANGUAGE plpgsql AS $$
DECLARE
    r record;
    rows text[] := '{}';
    one text;
BEGIN
    EXECUTE setup;
    FOR r IN EXECUTE query LOOP
        rows := rows || r::text;
    END LOOP;
    PERFORM bench.rls_reset();
    IF cardinality(rows) = 1 AND query LIKE 'SELECT count(*)%' THEN
        one := rows[1];
        RETURN btrim(one, '()');
    END IF;
    RETURN cardinality(rows) || ' rows, md5 '
           || left(md5(array_to_string(ARRAY(SELECT x FROM unnest(rows) x ORDER BY x), ';')), 12);
END
$$;

-- The plan of a query run after its setup, with EXPLAIN options; constant
-- uuid arrays longer than a few elements shortened to their count.
CREATE FUNCTION bench.rls_explain(setup text, query text, options text)
    RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    line text;
    m text;
BEGIN
    EXECUTE setup;
    FOR line IN EXECUTE format('EXPLAIN (%s) %s', options, query) LOOP
        FOR m IN SELECT x[1] FROM regexp_matches(line, '''\{[0-9a-f,-]{200,}\}''', 'g') x LOOP
            line := replace(line, m, format('''{%s uuids}''', cardinality(trim(both '''' FROM m)::uuid[])));
        END LOOP;
        RETURN NEXT line;
    END LOOP;
    PERFORM bench.rls_reset();
END
$$;

-- ---------------------------------------------------------------- loops
-- Point lookups and inserts, timed as loops of `iters` statements inside
-- PL/pgSQL: per-call microseconds, and how many of the calls found (or
-- inserted) their row.

-- Planned each time: EXECUTE of `SELECT name FROM <table> WHERE id = '<id>'`
-- texts, cycling through qs.
CREATE FUNCTION bench.rls_point_planned(qs text[], iters int, OUT us float8, OUT n_found int)
    LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
    v text;
    n int := cardinality(qs);
BEGIN
    n_found := 0;
    t0 := clock_timestamp();
    FOR i IN 1 .. iters LOOP
        EXECUTE qs[i % n + 1] INTO v;
        IF v IS NOT NULL THEN
            n_found := n_found + 1;
        END IF;
    END LOOP;
    us := extract(epoch FROM clock_timestamp() - t0)::float8 * 1e6 / iters;
END
$$;

-- Through a prepared statement: bench.rls_point_prepared_<variant>(ids,
-- iters) runs `SELECT name FROM <table> WHERE id = $1` as PL/pgSQL's cached
-- plan (generic after five executions if the plan cache prefers it), one
-- function per variant so that each has a plan cache of its own.
CREATE FUNCTION bench.rls_make_point_prepared(variant text, tbl text) RETURNS void
    LANGUAGE plpgsql AS $mk$
BEGIN
    EXECUTE format($f$
CREATE FUNCTION bench.rls_point_prepared_%1$s(ids uuid[], iters int, OUT us float8, OUT n_found int)
    LANGUAGE plpgsql AS $b$
DECLARE
    t0 timestamptz;
    v text;
    x uuid;
    n int := cardinality(ids);
BEGIN
    n_found := 0;
    t0 := clock_timestamp();
    FOR i IN 1 .. iters LOOP
        x := ids[i %% n + 1];
        SELECT name INTO v FROM %2$s WHERE id = x;
        IF v IS NOT NULL THEN
            n_found := n_found + 1;
        END IF;
    END LOOP;
    us := extract(epoch FROM clock_timestamp() - t0)::float8 * 1e6 / iters;
END
$b$ $f$, variant, tbl);
END
$mk$;

-- Single-row inserts, planned each time (`INSERT ... VALUES
-- (gen_random_uuid(), ...)`), in a subtransaction rolled back at the end:
-- every round inserts into the same empty tenant.  n_found: the rows the
-- inserting principal then sees in that tenant (all of them).
CREATE FUNCTION bench.rls_insert_loop(tbl text, tenant uuid, iters int, OUT us float8, OUT n_found int)
    LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
    q text := format('INSERT INTO %s (id, tenant_id, name, created_at) VALUES (gen_random_uuid(), %L, ''new model'', now())',
                     tbl, tenant);
BEGIN
    BEGIN
        t0 := clock_timestamp();
        FOR i IN 1 .. iters LOOP
            EXECUTE q;
        END LOOP;
        us := extract(epoch FROM clock_timestamp() - t0)::float8 * 1e6 / iters;
        EXECUTE format('SELECT count(*) FROM %s WHERE tenant_id = %L', tbl, tenant) INTO n_found;
        RAISE EXCEPTION USING ERRCODE = 'ZR001', MESSAGE = 'roll back the inserts';
    EXCEPTION WHEN SQLSTATE 'ZR001' THEN
        NULL;
    END;
END
$$;

-- Interleaved rounds of loops, as bench.measure_as: each call is a query
-- returning (us, n_found), run after its setup.  One row per call: median
-- microseconds, the samples, and the fewest rows found in any round.
CREATE FUNCTION bench.measure_loops(names text[], setups text[], calls text[], reps int)
    RETURNS TABLE (name text, median_us float8, samples text, min_found int)
    LANGUAGE plpgsql AS $$
DECLARE
    times float8[] := array_fill(NULL::float8, ARRAY[cardinality(calls), reps]);
    found_min int[] := array_fill(NULL::int, ARRAY[cardinality(calls)]);
    n int := cardinality(calls);
    q int;
    t float8;
    f int;
BEGIN
    FOR r IN 0 .. reps LOOP
        FOR i IN 1 .. n LOOP
            q := CASE WHEN r % 2 = 1 OR r = 0 THEN i ELSE n + 1 - i END;
            EXECUTE setups[q];
            EXECUTE calls[q] INTO t, f;
            PERFORM bench.rls_reset();
            found_min[q] := least(found_min[q], f);
            IF r > 0 THEN
                times[q][r] := t;
            END IF;
        END LOOP;
    END LOOP;
    FOR q IN 1 .. n LOOP
        name := names[q];
        min_found := found_min[q];
        SELECT m.median, m.samples INTO median_us, samples FROM bench.summary(times, q) m;
        RETURN NEXT;
    END LOOP;
END
$$;

-- ---------------------------------------------------------------- concurrent writer
-- The writer of rls.sh's concurrent series (rls_writer.sql) reads `stop`
-- after each commit and counts its commits here; the first one tells the
-- series it has started.
CREATE TABLE bench.rls_writer (
    stop     boolean NOT NULL DEFAULT false,
    commits  bigint NOT NULL DEFAULT 0,
    updates  bigint NOT NULL DEFAULT 0,
    inserts  bigint NOT NULL DEFAULT 0,
    started  timestamptz,
    stopped  timestamptz
);
INSERT INTO bench.rls_writer DEFAULT VALUES;
