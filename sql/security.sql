-- Attacks by a login role (and by code it plants), one per finding of the
-- security review; every one must fail.
\set VERBOSITY terse

CREATE ROLE regress_sec_attacker LOGIN;
CREATE ROLE regress_sec_pool LOGIN;
GRANT EXECUTE ON FUNCTION zenml_rbac.set_principal(uuid) TO regress_sec_pool;
CREATE SCHEMA regress_sec AUTHORIZATION regress_sec_attacker;

SELECT zenml_rbac.create_organization('sec_org') AS org \gset
SELECT zenml_rbac.create_organization('sec_other') AS other \gset
SELECT zenml_rbac.create_tenant(:'org', 'prod') AS prod \gset
SELECT zenml_rbac.create_tenant(:'other', 'secret-merger') AS other_tenant \gset
SELECT zenml_rbac.create_user('sec_mallory') AS mallory \gset
SELECT zenml_rbac.create_user('sec_alice') AS alice \gset
SELECT zenml_rbac.set_org_role(:'org', :'mallory', 'org_editor');
SELECT zenml_rbac.set_org_role(:'org', :'alice', 'org_admin');
SELECT zenml_rbac.link_pg_role(:'mallory', 'regress_sec_attacker');

-- 1. Maintenance runs index expressions as the table owner while the outer
--    user is whoever started it (a superuser here, or autovacuum): the
--    attacker's code must not be taken for the system.
SET ROLE regress_sec_attacker;
CREATE FUNCTION regress_sec.escalate() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
    BEGIN
        PERFORM zenml_rbac.register_resource_type('pwned');
    EXCEPTION WHEN insufficient_privilege THEN
        RAISE NOTICE 'refused: %', SQLERRM;
    END;
    RETURN 0;
END $$;
CREATE FUNCTION regress_sec.trap(int) RETURNS int LANGUAGE plpgsql IMMUTABLE
    AS $$ BEGIN RETURN $1 + regress_sec.escalate(); END $$;
CREATE TABLE regress_sec.t (a int);
INSERT INTO regress_sec.t VALUES (1), (2);
CREATE INDEX ON regress_sec.t (regress_sec.trap(a));
RESET ROLE;
ANALYZE regress_sec.t;
SELECT count(*) AS pwned_types FROM zenml_rbac.resource_type WHERE name = 'pwned';

-- 2. No escalation through teams: an org_editor may manage teams, but not
--    join (or change) a team that holds org_admin or tenant roles it cannot
--    hand out.
SELECT zenml_rbac.create_team(:'org', 'admins') AS admins \gset
SELECT zenml_rbac.set_org_role(:'org', :'admins', 'org_admin');
SELECT zenml_rbac.create_team(:'org', 'prod-admins') AS prod_admins \gset
SELECT zenml_rbac.grant_tenant_role(:'prod', :'prod_admins', 'admin');
SELECT zenml_rbac.create_team(:'org', 'plain') AS plain_team \gset
SELECT zenml_rbac.add_team_member(:'admins', :'alice');
SET SESSION AUTHORIZATION regress_sec_attacker;
SELECT zenml_rbac.add_team_member(:'admins', :'mallory');
SELECT zenml_rbac.add_team_member(:'prod_admins', :'mallory');
SELECT zenml_rbac.remove_team_member(:'admins', :'alice');
SELECT zenml_rbac.delete_team(:'admins');
SELECT zenml_rbac.add_team_member(:'plain_team', :'mallory');   -- a team holding nothing: allowed
RESET SESSION AUTHORIZATION;
SELECT zenml_rbac.rbac_org_can(:'mallory'::uuid, :'org'::uuid, 'billing', 'update') AS mallory_org_admin,
       zenml_rbac.rbac_can(:'mallory'::uuid, :'prod'::uuid, 'secret', 'delete') AS mallory_tenant_admin;

-- 3. A role chain deeper than the engine computes cannot be built, and a
--    cut chain never poisons the cache of the roles in it.
DO $$
DECLARE
    t uuid := (SELECT id FROM zenml_rbac.tenant WHERE name = 'prod');
BEGIN
    PERFORM zenml_rbac.create_role(t, 'c1', '', 'admin');
    FOR i IN 2..32 LOOP
        PERFORM zenml_rbac.create_role(t, 'c' || i, '', 'c' || (i - 1));
    END LOOP;
END $$;
SELECT zenml_rbac.create_role(:'prod', 'c33', '', 'c32');
-- built by direct DML past the trigger's limit (a superuser can), the engine
-- fails closed for the deep role and stays right for the others
ALTER TABLE zenml_rbac.role DISABLE TRIGGER role_integrity;
INSERT INTO zenml_rbac.role (tenant_id, name, base_role_id)
SELECT :'prod', 'd' || i, '00000000-0000-4000-8000-000000000001' FROM generate_series(33, 70) i;
UPDATE zenml_rbac.role d SET base_role_id = b.id
  FROM zenml_rbac.role b
 WHERE d.tenant_id = :'prod' AND b.tenant_id = :'prod' AND d.name ~ '^d[0-9]+$'
   AND b.name = CASE WHEN d.name = 'd33' THEN 'c32' ELSE 'd' || (substr(d.name, 2)::int - 1) END;
ALTER TABLE zenml_rbac.role ENABLE TRIGGER role_integrity;
SELECT count(*) AS d70_permissions FROM zenml_rbac.role_permissions((SELECT id FROM zenml_rbac.role WHERE name = 'd70'));
SELECT count(*) = (SELECT count(*) FROM zenml_rbac.role_permissions('00000000-0000-4000-8000-000000000001'))
       AS d40_within_reach_is_admin
  FROM zenml_rbac.role_permissions((SELECT id FROM zenml_rbac.role WHERE name = 'd40'));
SELECT count(*) = (SELECT count(*) FROM zenml_rbac.role_permissions('00000000-0000-4000-8000-000000000001'))
       AS c2_still_admin
  FROM zenml_rbac.role_permissions((SELECT id FROM zenml_rbac.role WHERE name = 'c2' AND tenant_id = :'prod'));
DELETE FROM zenml_rbac.role WHERE tenant_id = :'prod' AND name ~ '^d[0-9]+$';

-- 4. Rolling back a subtransaction undoes a set_principal made in it.
SET ROLE regress_sec_pool;
BEGIN;
SAVEPOINT s;
SELECT zenml_rbac.set_principal(:'alice');
ROLLBACK TO SAVEPOINT s;
SELECT zenml_rbac.current_principal() IS NULL AS undone_by_rollback_to;
SAVEPOINT s2;
SELECT zenml_rbac.set_principal(:'mallory');
RELEASE SAVEPOINT s2;
SELECT zenml_rbac.current_principal() = :'mallory' AS kept_by_release;
COMMIT;
RESET ROLE;
DO $$
BEGIN
    BEGIN
        PERFORM zenml_rbac.set_principal((SELECT id FROM zenml_rbac.principal WHERE name = 'sec_alice'));
        RAISE EXCEPTION 'undo';
    EXCEPTION WHEN raise_exception THEN NULL;
    END;
    RAISE NOTICE 'after the EXCEPTION block: %', coalesce(zenml_rbac.current_principal()::text, 'no principal');
END $$;

-- 5. A non-member learns nothing about another organization: not its
--    names, its roles, nor whether an id exists.
SET SESSION AUTHORIZATION regress_sec_attacker;
\set VERBOSITY sqlstate
SELECT zenml_rbac.grant_tenant_role(:'other_tenant', :'mallory', 'viewer');
SELECT zenml_rbac.create_team(:'other', 'x');
\set VERBOSITY terse
SELECT zenml_rbac.create_tenant('e0000000-0000-0000-0000-0000000000ee', 'x');
SELECT zenml_rbac.delete_team('e0000000-0000-0000-0000-0000000000ee');
RESET SESSION AUTHORIZATION;

-- 6. The acting principal is never read in a parallel worker (a wrapper
--    mislabelled PARALLEL SAFE gets an error, not another principal's answer).
CREATE FUNCTION regress_sec.whoami(int) RETURNS uuid LANGUAGE sql PARALLEL SAFE
    AS 'SELECT zenml_rbac.current_principal()';
CREATE TABLE regress_sec.many AS SELECT g FROM generate_series(1, 1000) g;
DO $$BEGIN PERFORM set_config(CASE WHEN current_setting('server_version_num')::int >= 160000 THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END, 'on', false); END$$;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SELECT count(regress_sec.whoami(g)) FROM regress_sec.many;
DO $$BEGIN PERFORM set_config(CASE WHEN current_setting('server_version_num')::int >= 160000 THEN 'debug_parallel_query' ELSE 'force_parallel_mode' END, 'off', false); END$$;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;

-- 7. The system is the extension owner or a superuser: a schema owned by
--    someone else is refused rather than trusted.
ALTER SCHEMA zenml_rbac OWNER TO regress_sec_attacker;
SELECT zenml_rbac.rbac_can(:'alice'::uuid, :'prod'::uuid, 'model', 'read');
ALTER SCHEMA zenml_rbac OWNER TO CURRENT_USER;
SELECT zenml_rbac.rbac_org_can(:'alice'::uuid, :'org'::uuid, 'organization', 'read') AS works_again;

-- 8. Checking many made-up principals does not grow the cache without bound.
SET zenml_rbac.principal_cache_entries = 5;
SELECT count(*) AS allowed
  FROM generate_series(1, 50) g
 WHERE zenml_rbac.rbac_can(gen_random_uuid(), :'prod'::uuid, 'model', 'read');
SELECT principals <= 5 AS capped FROM zenml_rbac.cache_stats();
SELECT zenml_rbac.rbac_org_can(:'alice'::uuid, :'org'::uuid, 'organization', 'read') AS still_right;
RESET zenml_rbac.principal_cache_entries;

-- 9. Nor do made-up role ids: the role cache counts against the same cap.
SET zenml_rbac.principal_cache_entries = 5;
SELECT count(*) AS permissions
  FROM generate_series(1, 200) g, zenml_rbac.role_permissions(gen_random_uuid());
SELECT principals + roles <= 5 AS capped FROM zenml_rbac.cache_stats();
SELECT count(*) > 0 AS predefined_still_answers FROM zenml_rbac.role_permissions('00000000-0000-4000-8000-000000000003');
RESET zenml_rbac.principal_cache_entries;

-- 10. Nor do savepoints: what set_principal saves per subtransaction is freed with it.
BEGIN;
SELECT zenml_rbac.set_principal(:'alice');
SELECT sum(total_bytes) AS before_bytes FROM pg_backend_memory_contexts WHERE name = 'TopTransactionContext' \gset
DO $$
BEGIN
    FOR i IN 1 .. 20000 LOOP
        BEGIN
            PERFORM 1;
        EXCEPTION WHEN OTHERS THEN NULL;
        END;
    END LOOP;
END
$$;
SELECT sum(total_bytes) - :before_bytes < 256 * 1024 AS bounded
  FROM pg_backend_memory_contexts WHERE name = 'TopTransactionContext';
ROLLBACK;

SELECT zenml_rbac.delete_organization(:'org');
SELECT zenml_rbac.delete_organization(:'other');
DELETE FROM zenml_rbac.principal WHERE name LIKE 'sec\_%';
DROP SCHEMA regress_sec CASCADE;
REVOKE ALL ON FUNCTION zenml_rbac.set_principal(uuid) FROM regress_sec_pool;
DROP ROLE regress_sec_attacker;
DROP ROLE regress_sec_pool;

-- a superuser acting as a principal is that principal, not the system: the
-- system-only operations refuse it
SELECT zenml_rbac.create_user('sec_acting_superuser') AS acting \gset
CREATE TABLE sec_probe (id uuid PRIMARY KEY, tenant_id uuid);
BEGIN;
SELECT zenml_rbac.set_principal(:'acting');
SELECT zenml_rbac.protect('sec_probe', 'model', 'tenant_id');
ROLLBACK;
BEGIN;
SELECT zenml_rbac.set_principal(:'acting');
SELECT zenml_rbac.register_resource_type('sec_probe_type');
ROLLBACK;
-- without the principal it is the system again
SELECT zenml_rbac.protect('sec_probe', 'model', 'tenant_id');
SELECT zenml_rbac.unprotect('sec_probe');
DROP TABLE sec_probe;
DELETE FROM zenml_rbac.principal WHERE name = 'sec_acting_superuser';
