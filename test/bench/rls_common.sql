-- Helpers of the row-level security benchmark (rls.sh), installed after
-- common.sql (bench.exec_ms): each query runs after its own setup (the role
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
END
$$;

-- Like bench.measure (common.sql), with a setup statement per query: one
-- warm-up pass, then `reps` rounds that run every query once in turn --
-- forwards in odd rounds, backwards in even ones, so that no query always
-- runs right after the same other one (a query that reads the pages the
-- previous one just read finds them in the CPU caches).  With `prerun`,
-- each timed run follows an untimed run of the same query, so that
-- sub-millisecond queries all find their pages in the CPU caches alike.
CREATE FUNCTION bench.measure_as(names text[], setups text[], queries text[], reps int,
                                 prerun boolean DEFAULT false)
    RETURNS TABLE (name text, median_ms float8, samples text, warmup_ms float8)
    LANGUAGE plpgsql AS $$
DECLARE
    times float8[] := array_fill(NULL::float8, ARRAY[cardinality(queries), reps]);
    warmup float8[] := array_fill(NULL::float8, ARRAY[cardinality(queries)]);
    n int := cardinality(queries);
    q int;
    t float8;
BEGIN
    FOR r IN 0 .. reps LOOP
        FOR i IN 1 .. n LOOP
            q := CASE WHEN r % 2 = 1 OR r = 0 THEN i ELSE n + 1 - i END;
            EXECUTE setups[q];
            IF prerun THEN
                PERFORM bench.exec_ms(queries[q]);
            END IF;
            t := bench.exec_ms(queries[q]);
            PERFORM bench.rls_reset();
            IF r = 0 THEN
                warmup[q] := t;
            ELSE
                times[q][r] := t;
            END IF;
        END LOOP;
    END LOOP;
    FOR q IN 1 .. cardinality(queries) LOOP
        name := names[q];
        warmup_ms := warmup[q];
        SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY s),
               string_agg(round(s::numeric, CASE WHEN s < 1 THEN 3 WHEN s < 10 THEN 2 ELSE 1 END)::text, ' ' ORDER BY o)
          INTO median_ms, samples
          FROM generate_series(1, reps) o, LATERAL (SELECT times[q][o] AS s) x;
        RETURN NEXT;
    END LOOP;
END
$$;

-- The single value a count(*) query returns, run after its setup.
CREATE FUNCTION bench.rls_count(setup text, query text) RETURNS bigint
    LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    EXECUTE setup;
    EXECUTE query INTO n;
    PERFORM bench.rls_reset();
    RETURN n;
END
$$;

-- The plan of a query run after its setup, with EXPLAIN options.
CREATE FUNCTION bench.rls_explain(setup text, query text, options text)
    RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE setup;
    RETURN QUERY EXECUTE format('EXPLAIN (%s) %s', options, query);
    PERFORM bench.rls_reset();
END
$$;
