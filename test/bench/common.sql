-- Benchmark helpers, installed in every benchmark database by run.sh:
-- deterministic ids (so every run builds the same catalog) and the timer.

CREATE SCHEMA bench;

-- md5 of 'kind:n' read as a uuid: random-looking like gen_random_uuid(), but
-- the same in every run and computable from the index alone.
CREATE FUNCTION bench.id(kind text, n bigint) RETURNS uuid
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT pg_catalog.md5(kind || ':' || n)::uuid $$;

CREATE FUNCTION bench.role_id(n int) RETURNS uuid   -- 1 admin, 2 editor, 3 viewer
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT ('00000000-0000-4000-8000-00000000000' || n)::uuid $$;

-- Execution time (ms) of one query, from EXPLAIN (ANALYZE, TIMING OFF): it
-- leaves out parsing and planning and adds no clock reads per row.
CREATE FUNCTION bench.exec_ms(q text) RETURNS float8
    LANGUAGE plpgsql AS $$
DECLARE
    plan json;
BEGIN
    EXECUTE 'EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) ' || q INTO plan;
    RETURN (plan -> 0 ->> 'Execution Time')::float8;
END
$$;

-- The median of one query's samples (row q of a times[query][round]
-- array) and the samples as text in round order, to the digits they resolve.
CREATE FUNCTION bench.summary(times float8[], q int, OUT median float8, OUT samples text)
    LANGUAGE sql IMMUTABLE AS $$
    SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY s),
           string_agg(round(s::numeric, CASE WHEN s < 1 THEN 3 WHEN s < 10 THEN 2 ELSE 1 END)::text,
                      ' ' ORDER BY o)
      FROM generate_series(1, array_length(times, 2)) o, LATERAL (SELECT times[q][o] AS s) x
$$;

-- Runs each query once to warm up (not in the median), then `reps` rounds
-- that run every query once in turn, so slow phases of a noisy machine hit
-- all of them alike.  One row per query: its median, every sample, and the
-- warm-up time (the pass that filled the cache).
CREATE FUNCTION bench.measure(names text[], queries text[], reps int)
    RETURNS TABLE (name text, median_ms float8, samples text, warmup_ms float8)
    LANGUAGE plpgsql AS $$
DECLARE
    times float8[] := array_fill(NULL::float8, ARRAY[cardinality(queries), reps]);
    warmup float8[] := array_fill(NULL::float8, ARRAY[cardinality(queries)]);
BEGIN
    FOR q IN 1 .. cardinality(queries) LOOP
        warmup[q] := bench.exec_ms(queries[q]);
    END LOOP;
    FOR r IN 1 .. reps LOOP
        FOR q IN 1 .. cardinality(queries) LOOP
            times[q][r] := bench.exec_ms(queries[q]);
        END LOOP;
    END LOOP;
    FOR q IN 1 .. cardinality(queries) LOOP
        name := names[q];
        warmup_ms := warmup[q];
        SELECT m.median, m.samples INTO median_ms, samples FROM bench.summary(times, q) m;
        RETURN NEXT;
    END LOOP;
END
$$;

-- Wall-clock time (ms) of one query as a PL/pgSQL EXECUTE runs it: parsing,
-- rewriting, planning and execution, as an application that does not
-- prepare its statements pays (the rows are fetched and discarded).  With
-- iters > 1, the mean of that many executions in a row.  Without INTO, so
-- parallel plans run their workers (an EXECUTE ... INTO runs them in the
-- leader alone).
CREATE FUNCTION bench.wall_ms(q text, iters int DEFAULT 1) RETURNS float8
    LANGUAGE plpgsql AS $$
DECLARE
    t0 timestamptz;
BEGIN
    t0 := clock_timestamp();
    FOR i IN 1 .. iters LOOP
        EXECUTE q;
    END LOOP;
    RETURN extract(epoch FROM clock_timestamp() - t0)::float8 * 1000 / iters;
END
$$;
