-- The concurrent writer of rls.sh (run in the background for the duration
-- of one series): as the table owner, one commit after another, each
-- updating the name of a random row of rls.items and, every tenth, also
-- inserting a row into the tenant no principal of the series reads (so no
-- answer changes).  The same change goes to the plain copy rls.items_sql in
-- the same commit, so that the v0.2 policy (and the plain-SQL ones) read a
-- table in the same state.  Stops at the first commit after rls.sh sets
-- bench.rls_writer.stop.  psql variables: rows (rows of rls.items).
\set ON_ERROR_STOP 1
GRANT SELECT, UPDATE ON bench.rls_writer TO bench_rls_owner;
UPDATE bench.rls_writer SET stop = false, commits = 0, updates = 0, inserts = 0, started = NULL, stopped = NULL;
SELECT set_config('bench.writer_rows', :'rows', false), set_config('bench.writer_tenant', id::text, false)
  FROM rls.tenant WHERE kind = 'extra' \g /dev/null
SET ROLE bench_rls_owner;
DO $$
DECLARE
    rows bigint := current_setting('bench.writer_rows')::bigint;
    tenant uuid := current_setting('bench.writer_tenant')::uuid;
    n bigint := 0;
    ins bigint := 0;
    target uuid;
BEGIN
    UPDATE bench.rls_writer SET started = clock_timestamp();
    LOOP
        target := md5('item:' || floor(random() * rows)::bigint)::uuid;   -- a constant for the index
        UPDATE rls.items SET name = 'model renamed ' || n WHERE id = target;
        UPDATE rls.items_sql SET name = 'model renamed ' || n WHERE id = target;
        IF n % 10 = 0 THEN
            target := gen_random_uuid();
            INSERT INTO rls.items (id, tenant_id, name, created_at)
            VALUES (target, tenant, 'written ' || n, clock_timestamp());
            INSERT INTO rls.items_sql (id, tenant_id, name, created_at)
            VALUES (target, tenant, 'written ' || n, clock_timestamp());
            ins := ins + 1;
        END IF;
        n := n + 1;
        UPDATE bench.rls_writer SET commits = n, updates = n, inserts = ins, stopped = clock_timestamp();
        COMMIT;
        EXIT WHEN (SELECT stop FROM bench.rls_writer);
    END LOOP;
END
$$;
