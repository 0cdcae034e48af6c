-- Fine-grained invalidation within one session (src/invalidation.c): the
-- session's own changes reach its cache at its next command, an aborted
-- subtransaction's are undone, churn does not grow the cache, and while an
-- invalidation trigger is disabled nothing is kept across statements.
\set VERBOSITY terse

SELECT zenml_rbac.create_organization('inv_org') AS org \gset
SELECT zenml_rbac.create_tenant(:'org', 'prod') AS prod \gset
SELECT zenml_rbac.create_user('inv_u') AS u \gset
SELECT zenml_rbac.create_user('inv_v') AS v \gset
SELECT zenml_rbac.set_org_role(:'org', :'u', 'org_viewer');
SELECT zenml_rbac.set_org_role(:'org', :'v', 'org_viewer');
SELECT zenml_rbac.grant_tenant_role(:'prod', :'u', 'viewer');
SELECT zenml_rbac.grant_tenant_role(:'prod', :'v', 'viewer');
\set m 'model/c0000000-0000-4000-8000-000000000001'
SELECT zenml_rbac.register_resource(:'prod', :'m', :'v');

CREATE FUNCTION pg_temp.loads() RETURNS bigint LANGUAGE sql AS $$ SELECT loads FROM zenml_rbac.cache_stats() $$;

-- warm, then nothing changes: nothing is loaded again
SELECT zenml_rbac.rbac_can(:'u'::uuid, :'prod'::uuid, 'model', 'create') AS u_creates,
       zenml_rbac.rbac_can(:'v'::uuid, :'prod'::uuid, 'model', 'create') AS v_creates;
SELECT pg_temp.loads() AS l0 \gset
SELECT zenml_rbac.rbac_can(:'u'::uuid, :'prod'::uuid, 'model', 'create') AS u_creates,
       zenml_rbac.rbac_can(:'v'::uuid, :'prod'::uuid, 'model', 'create') AS v_creates;
SELECT pg_temp.loads() - :l0 AS reloaded_when_nothing_changed;

-- an own change, through a management call (which decides after taking its
-- lock from what is committed then): seen at the next statement, and only
-- u's entry is reloaded, with the editor role it now holds
SELECT zenml_rbac.grant_tenant_role(:'prod', :'u', 'editor');
SELECT pg_temp.loads() AS l0 \gset
SELECT zenml_rbac.rbac_can(:'u'::uuid, :'prod'::uuid, 'model', 'create') AS u_creates,
       zenml_rbac.rbac_can(:'v'::uuid, :'prod'::uuid, 'model', 'create') AS v_creates;
SELECT pg_temp.loads() - :l0 AS reloaded_after_a_grant_to_u;

-- in a transaction: a change in a subtransaction rolled back is undone in the cache too
BEGIN;
SELECT zenml_rbac.rbac_can(:'u'::uuid, :'prod'::uuid, 'model', 'create') AS before_savepoint;
SAVEPOINT s;
SELECT zenml_rbac.revoke_tenant_role(:'prod', :'u', 'editor');
SELECT zenml_rbac.rbac_can(:'u'::uuid, :'prod'::uuid, 'model', 'create') AS in_savepoint;
ROLLBACK TO SAVEPOINT s;
SELECT zenml_rbac.rbac_can(:'u'::uuid, :'prod'::uuid, 'model', 'create') AS after_rollback_to;
ROLLBACK;
SELECT zenml_rbac.rbac_can(:'u'::uuid, :'prod'::uuid, 'model', 'create') AS after_rollback;

-- and an own change inside one statement is seen by the engine calls after it
SELECT zenml_rbac.rbac_can(:'u'::uuid, :'prod'::uuid, 'model', 'create') AS creates,
       zenml_rbac.revoke_tenant_role(:'prod', :'u', 'editor') IS NOT NULL AS revoked,
       zenml_rbac.rbac_can(:'u'::uuid, :'prod'::uuid, 'model', 'create') AS then_creates;

-- churn: 4,000 changes to the same principal and the same resource, each
-- followed by a check, leave the cache's memory where it was
SELECT zenml_rbac.rbac_can(:'u'::uuid, :'prod'::uuid, :'m', 'update') AS warm;
SELECT memory_bytes AS mem0 FROM zenml_rbac.cache_stats() \gset
DO $$
DECLARE
    prod uuid := (SELECT id FROM zenml_rbac.tenant WHERE name = 'prod'
                   AND org_id = (SELECT id FROM zenml_rbac.organization WHERE name = 'inv_org'));
    u uuid := (SELECT id FROM zenml_rbac.principal WHERE name = 'inv_u');
    m text := 'model/c0000000-0000-4000-8000-000000000001';
BEGIN
    FOR i IN 1..1000 LOOP
        PERFORM zenml_rbac.grant_tenant_role(prod, u, 'editor');
        IF NOT zenml_rbac.rbac_can(u, prod, 'model', 'create') THEN RAISE 'grant not seen'; END IF;
        PERFORM zenml_rbac.share_resource(prod, m, u, ARRAY['update']);
        IF NOT zenml_rbac.rbac_can(u, prod, m, 'update') THEN RAISE 'share not seen'; END IF;
        PERFORM zenml_rbac.revoke_tenant_role(prod, u, 'editor');
        IF zenml_rbac.rbac_can(u, prod, 'model', 'create') THEN RAISE 'revoke not seen'; END IF;
        PERFORM zenml_rbac.share_resource(prod, m, u, ARRAY[]::text[]);
        IF zenml_rbac.rbac_can(u, prod, m, 'update') THEN RAISE 'unshare not seen'; END IF;
    END LOOP;
END
$$;
SELECT memory_bytes < 2 * :mem0 AS memory_did_not_grow, principals, resources
  FROM zenml_rbac.cache_stats();

-- distinct keys: every resource looked up leaves a record of its key in the
-- receiving side until a full reset; with small capacities 25,000 distinct
-- resources stay within a bounded memory (unbounded: about 2 MB of records)
SET zenml_rbac.principal_cache_entries = 100;
SET zenml_rbac.resource_cache_entries = 100;
CREATE FUNCTION pg_temp.touch(n int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    t uuid := (SELECT id FROM zenml_rbac.tenant WHERE name = 'prod'
                AND org_id = (SELECT id FROM zenml_rbac.organization WHERE name = 'inv_org'));
    u uuid := (SELECT id FROM zenml_rbac.principal WHERE name = 'inv_u');
BEGIN
    FOR i IN 1..n LOOP
        PERFORM zenml_rbac.rbac_can(u, t, pg_catalog.format('model/c1000000-0000-4000-8000-%s',
                                                            lpad(i::text, 12, '0')), 'delete');
    END LOOP;
END
$$;
SELECT pg_temp.touch(25000);
SELECT memory_bytes < 1000000 AS keys_bounded, principals <= 100 AS principals_capped,
       resources <= 100 AS resources_capped
  FROM zenml_rbac.cache_stats();
RESET zenml_rbac.principal_cache_entries;
RESET zenml_rbac.resource_cache_entries;

-- a disabled invalidation trigger: changes it misses are still seen, since
-- nothing is kept across statements meanwhile; enabled again, caching resumes
ALTER TABLE zenml_rbac.tenant_role_assignment DISABLE TRIGGER zz_invalidate_cache;
SELECT zenml_rbac.rbac_can(:'v'::uuid, :'prod'::uuid, 'model', 'read') AS v_reads;
DELETE FROM zenml_rbac.tenant_role_assignment WHERE principal_id = :'v';
SELECT pg_temp.loads() AS l0 \gset
SELECT zenml_rbac.rbac_can(:'v'::uuid, :'prod'::uuid, 'model', 'read') AS v_reads_after_untracked_delete;
SELECT pg_temp.loads() - :l0 > 0 AS reloaded_while_untracked;
ALTER TABLE zenml_rbac.tenant_role_assignment ENABLE ALWAYS TRIGGER zz_invalidate_cache;
SELECT zenml_rbac.rbac_can(:'v'::uuid, :'prod'::uuid, 'model', 'read') AS v_reads;
SELECT pg_temp.loads() AS l0 \gset
SELECT zenml_rbac.rbac_can(:'v'::uuid, :'prod'::uuid, 'model', 'read') AS v_reads;
SELECT pg_temp.loads() - :l0 AS reloaded_once_tracked_again;
-- enabled only for origin sessions is not enough either (replicas would miss changes)
ALTER TABLE zenml_rbac.role ENABLE TRIGGER zz_invalidate_cache;
SELECT pg_temp.loads() AS l0 \gset
SELECT zenml_rbac.rbac_can(:'v'::uuid, :'prod'::uuid, 'model', 'read') AS v_reads;
SELECT pg_temp.loads() - :l0 > 0 AS reloaded_while_trigger_is_origin_only;
ALTER TABLE zenml_rbac.role ENABLE ALWAYS TRIGGER zz_invalidate_cache;

-- a trigger replaced by one that misses events is not trusted either
CREATE OR REPLACE TRIGGER zz_invalidate_cache AFTER INSERT ON zenml_rbac.tenant_role_assignment
    FOR EACH ROW EXECUTE FUNCTION zenml_rbac.catalog_changed();
ALTER TABLE zenml_rbac.tenant_role_assignment ENABLE ALWAYS TRIGGER zz_invalidate_cache;
SELECT zenml_rbac.rbac_can(:'v'::uuid, :'prod'::uuid, 'model', 'read') AS v_reads;
SELECT pg_temp.loads() AS l0 \gset
SELECT zenml_rbac.rbac_can(:'v'::uuid, :'prod'::uuid, 'model', 'read') AS v_reads;
SELECT pg_temp.loads() - :l0 > 0 AS reloaded_while_trigger_misses_events;
CREATE OR REPLACE TRIGGER zz_invalidate_cache AFTER INSERT OR UPDATE OR DELETE ON zenml_rbac.tenant_role_assignment
    FOR EACH ROW EXECUTE FUNCTION zenml_rbac.catalog_changed();
ALTER TABLE zenml_rbac.tenant_role_assignment ENABLE ALWAYS TRIGGER zz_invalidate_cache;
SELECT zenml_rbac.rbac_can(:'v'::uuid, :'prod'::uuid, 'model', 'read') AS v_reads;
SELECT pg_temp.loads() AS l0 \gset
SELECT zenml_rbac.rbac_can(:'v'::uuid, :'prod'::uuid, 'model', 'read') AS v_reads;
SELECT pg_temp.loads() - :l0 AS reloaded_once_restored;

-- a predefined role's permissions are fixed in C: an edit row added by DML
-- counts neither directly nor under a custom role built on it
SELECT zenml_rbac.grant_tenant_role(:'prod', :'v', 'viewer');
SELECT zenml_rbac.create_role(:'prod', 'inv_reader', '', 'viewer') IS NOT NULL AS created;
SELECT zenml_rbac.grant_tenant_role(:'prod', :'u', 'inv_reader');
INSERT INTO zenml_rbac.role_permission VALUES ('00000000-0000-4000-8000-000000000003', 'model', 'delete', true);
SELECT zenml_rbac.rbac_can(:'u'::uuid, :'prod'::uuid, 'model', 'delete') AS u_deletes,
       zenml_rbac.rbac_can(:'v'::uuid, :'prod'::uuid, 'model', 'delete') AS v_deletes;
DELETE FROM zenml_rbac.role_permission WHERE role_id = '00000000-0000-4000-8000-000000000003';

-- own writes rolled back with an outer block of nested ones: the checks
-- after the rollback in the same statement see it (the rolled-back
-- messages were queued by the inner block)
SELECT zenml_rbac.revoke_tenant_role(:'prod', :'v', 'viewer');
CREATE FUNCTION pg_temp.nested_rollback(p uuid, t uuid) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    inside boolean;
    after boolean;
BEGIN
    BEGIN
        BEGIN
            INSERT INTO zenml_rbac.tenant_role_assignment (tenant_id, principal_id, role_id)
            VALUES (t, p, '00000000-0000-4000-8000-000000000003');
        EXCEPTION WHEN others THEN NULL;
        END;
        inside := zenml_rbac.rbac_can(p, t, 'model', 'read');
        RAISE EXCEPTION 'undo';
    EXCEPTION WHEN raise_exception THEN
        after := zenml_rbac.rbac_can(p, t, 'model', 'read');
    END;
    RETURN pg_catalog.format('inside %s, after the rollback %s', inside, after);
END
$$;
SELECT zenml_rbac.rbac_can(:'v'::uuid, :'prod'::uuid, 'model', 'read') AS v_reads;
SELECT pg_temp.nested_rollback(:'v', :'prod');

-- an own second change of the same key in a later command, with the entry
-- reloaded within that command (by the audit trigger of another row, which
-- looks up who acts): seen from the next call of the statement on
CREATE FUNCTION pg_temp.relink(p uuid, other uuid) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    linked uuid;
    unlinked uuid;
BEGIN
    UPDATE zenml_rbac.principal SET pg_role = session_user WHERE id = p;
    linked := zenml_rbac.current_principal();
    WITH x AS (UPDATE zenml_rbac.principal SET pg_role = NULL WHERE id = p RETURNING id)
    UPDATE zenml_rbac.principal SET name = name WHERE id = other AND EXISTS (SELECT FROM x);
    unlinked := zenml_rbac.current_principal();
    RETURN pg_catalog.format('linked %s, then %s', linked = p, coalesce(unlinked::text, 'nobody'));
END
$$;
SELECT pg_temp.relink(:'u', :'v');

-- a check brought into a parallel worker by a function declared PARALLEL
-- SAFE: in REPEATABLE READ the worker could read only the transaction's
-- snapshot, so it refuses (0A000)
CREATE FUNCTION pg_temp.wrapped(p uuid, t uuid) RETURNS boolean LANGUAGE plpgsql PARALLEL SAFE AS $$
BEGIN
    RETURN zenml_rbac.rbac_can(p, t, 'model', 'read');
END
$$;
CREATE TABLE public.inv_rows AS SELECT g FROM generate_series(1, 10) g;
ANALYZE public.inv_rows;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET parallel_leader_participation = off;
DO $$BEGIN PERFORM set_config(CASE WHEN current_setting('server_version_num')::int >= 160000 THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END, 'on', false); END$$;
\set VERBOSITY sqlstate
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) FILTER (WHERE pg_temp.wrapped(:'u', :'prod')) FROM public.inv_rows;
ROLLBACK;
\set VERBOSITY terse
SELECT count(*) FILTER (WHERE pg_temp.wrapped(:'u', :'prod')) AS read_committed_allowed FROM public.inv_rows;
DO $$BEGIN PERFORM set_config(CASE WHEN current_setting('server_version_num')::int >= 160000 THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END, 'off', false); END$$;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET parallel_leader_participation;
DROP TABLE public.inv_rows;

SELECT zenml_rbac.delete_organization(:'org');
DELETE FROM zenml_rbac.principal WHERE name IN ('inv_u', 'inv_v');
