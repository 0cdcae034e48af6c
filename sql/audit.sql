-- The audit log (README: Audit): one hash-chained event per changed catalog
-- row, written at commit; verification, append-only guard, and purging.
-- Runs in a database of its own, so the chain starts empty.
\set VERBOSITY terse
\set regress_db :DBNAME
CREATE DATABASE regress_audit;
\c regress_audit
CREATE EXTENSION zenml_rbac;
SET application_name = 'audit_regress';

CREATE ROLE audit_app;          -- the application's pool role (acts as principals)
CREATE ROLE audit_writer;       -- granted SELECT, INSERT, UPDATE, DELETE, TRUNCATE on the log tables
CREATE ROLE audit_reader;       -- granted nothing
CREATE ROLE audit_auditor;      -- granted the view and verification only
GRANT EXECUTE ON FUNCTION zenml_rbac.set_principal(uuid) TO audit_app;

-- fresh state: no event, anchor at 0 with a zero hash, and a valid (empty) chain
SELECT count(*) AS events FROM zenml_rbac.audit_log;
SELECT anchor_seq, anchor_hash = decode(repeat('00', 32), 'hex') AS zero_anchor
  FROM zenml_rbac.audit_chain;
SELECT (SELECT count(*) FROM zenml_rbac.audit_local_chain l JOIN zenml_rbac.audit_chain c ON c.id = l.chain) AS local_chains;
SELECT valid, events_checked, chain IS NULL AS no_chain, broken_seq, problem FROM zenml_rbac.verify_audit_log();
SELECT h.chain = l.chain AS local, h.seq, h.hash = decode(repeat('00', 32), 'hex') AS zero_hash
  FROM zenml_rbac.audit_head() h, zenml_rbac.audit_local_chain l;

-- Helpers: uuids are shown as labels; ev lists events readably (role is
-- role_name, or '=session' when that is the session user; su: session_user_name
-- is the session user).
CREATE TEMP TABLE lbl (id uuid PRIMARY KEY, name text NOT NULL);
INSERT INTO lbl VALUES ('00000000-0000-4000-8000-000000000001', 'admin'),
                       ('00000000-0000-4000-8000-000000000002', 'editor'),
                       ('00000000-0000-4000-8000-000000000003', 'viewer'),
                       ('11111111-1111-4111-8111-111111111111', 'w1'),
                       ('22222222-2222-4222-8222-222222222222', 'w2'),
                       ('33333333-3333-4333-8333-333333333333', 'w3');
CREATE FUNCTION pg_temp.l(id uuid) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN id IS NULL THEN NULL
                ELSE coalesce((SELECT name FROM lbl WHERE lbl.id = l.id), '?') END
$$;
-- an object key with every uuid part replaced by its label
CREATE FUNCTION pg_temp.lk(k text) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT string_agg(coalesce((SELECT name FROM lbl WHERE lbl.id::text = p), p), '/' ORDER BY o)
      FROM unnest(string_to_array(k, '/')) WITH ORDINALITY u(p, o)
$$;
CREATE TEMP VIEW ev AS
SELECT seq, operation AS op, object_kind AS kind, pg_temp.lk(object_id) AS object,
       pg_temp.l(org_id) AS org, pg_temp.l(tenant_id) AS tenant, pg_temp.l(subject_id) AS subject,
       pg_temp.l(actor_id) AS actor,
       CASE WHEN role_name = session_user THEN '=session' ELSE role_name::text END AS role,
       session_user_name = session_user AS su
  FROM zenml_rbac.audit_events;
-- ":mark \gset" notes the last seq in m; "seq > :m" is what came after
\set mark 'SELECT coalesce(max(seq), 0) AS m FROM zenml_rbac.audit_log'

------------------------------------------------------------------------------
-- 1. The management API, as the system (no principal): actor NULL
------------------------------------------------------------------------------
:mark \gset
SELECT zenml_rbac.create_organization('audit_org') AS org \gset
SELECT zenml_rbac.create_tenant(:'org', 'prod') AS prod \gset
SELECT zenml_rbac.create_user('audit_alice') AS alice \gset
SELECT zenml_rbac.create_user('audit_bob') AS bob \gset
SELECT zenml_rbac.create_service_account(:'org', 'audit_bot') AS bot \gset
INSERT INTO lbl VALUES (:'org', 'org'), (:'prod', 'prod'), (:'alice', 'alice'), (:'bob', 'bob'), (:'bot', 'bot');
SELECT seq - :m AS n, op, kind, object, org, tenant, subject, actor, role, su FROM ev WHERE seq > :m ORDER BY seq;
-- what the rows were, and from where
SELECT seq - :m AS n, after->>'name' AS name, after->>'kind' AS principal_kind, after->>'role' AS org_role,
       before IS NULL AS no_before, application_name,
       client_addr IS NOT DISTINCT FROM inet_client_addr() AS client_addr, actor_name
  FROM zenml_rbac.audit_events WHERE seq > :m ORDER BY seq;
-- each autocommitted call is its own transaction; seq follows commit order
SELECT count(DISTINCT transaction_id) AS transactions,
       bool_and(transaction_id::text::bigint > 0) AS xids_set,
       count(*) = count(DISTINCT seq) AS seq_unique
  FROM zenml_rbac.audit_events WHERE seq > :m;

-- set_org_role: a new member is an INSERT, a changed role an UPDATE (before
-- and after), the same role again no event
:mark \gset
SELECT zenml_rbac.set_org_role(:'org', :'alice', 'org_admin');
SELECT zenml_rbac.set_org_role(:'org', :'bob', 'org_viewer');
SELECT zenml_rbac.set_org_role(:'org', :'bob', 'org_editor');
SELECT zenml_rbac.set_org_role(:'org', :'bob', 'org_editor');
SELECT seq - :m AS n, op, kind, object, org, subject, actor,
       before->>'role' AS before_role, after->>'role' AS after_role
  FROM ev JOIN zenml_rbac.audit_events USING (seq) WHERE seq > :m ORDER BY seq;

------------------------------------------------------------------------------
-- 2. A principal acting through the pool role (SET ROLE): actor, role_name,
--    session_user_name, application_name, transaction id, event time
------------------------------------------------------------------------------
:mark \gset
SET ROLE audit_app;
SET application_name = 'audit_app_pool';
BEGIN;
SELECT zenml_rbac.set_principal(:'alice');
SELECT pg_current_xact_id() AS xid, clock_timestamp() AS t0 \gset
SELECT zenml_rbac.create_team(:'org', 'ops') AS ops \gset
SELECT zenml_rbac.add_team_member(:'ops', :'bob');
SELECT zenml_rbac.add_team_member(:'ops', :'bob');              -- already a member: nothing
SELECT zenml_rbac.grant_tenant_role(:'prod', :'bob', 'viewer');
SELECT zenml_rbac.create_role(:'prod', 'custom', 'a custom role', 'viewer') AS custom \gset
SELECT zenml_rbac.role_allow(:'prod', 'custom', 'model', 'update');
SELECT zenml_rbac.role_disallow(:'prod', 'custom', 'model', 'update');   -- allowed true -> false
SELECT zenml_rbac.role_disallow(:'prod', 'custom', 'secret', 'read');
SELECT zenml_rbac.role_disallow(:'prod', 'custom', 'secret', 'read');    -- same edit: nothing
SELECT zenml_rbac.grant_tenant_role(:'prod', :'bob', 'custom');
SELECT zenml_rbac.revoke_tenant_role(:'prod', :'bob', 'viewer');
SELECT zenml_rbac.revoke_tenant_role(:'prod', :'bob', 'viewer');        -- not held: nothing
SELECT zenml_rbac.drop_role(:'prod', 'custom');   -- the role, its 2 edits, bob's assignment
SELECT zenml_rbac.remove_team_member(:'ops', :'bob');
-- nothing is in the log before the commit (read as the superuser)
RESET ROLE;
SELECT count(*) AS visible_before_commit FROM zenml_rbac.audit_log WHERE seq > :m;
SELECT clock_timestamp() AS t1 \gset
COMMIT;
SET application_name = 'audit_regress';
INSERT INTO lbl VALUES (:'ops', 'ops'), (:'custom', 'custom');
SELECT seq - :m AS n, op, kind, object, org, tenant, subject, actor, role, su FROM ev WHERE seq > :m ORDER BY seq;
SELECT seq - :m AS n, operation AS op, object_kind AS kind,
       coalesce(after, before) ->> 'kind' AS principal_kind,
       coalesce(after, before) ->> 'name' AS name,
       before->>'allowed' AS before_allowed, after->>'allowed' AS after_allowed,
       pg_temp.lk(coalesce(after, before) ->> 'role_id') AS role_id
  FROM zenml_rbac.audit_events WHERE seq > :m ORDER BY seq;
-- one transaction, its id; event times inside it; the acting principal's name;
-- the pool role's application_name
SELECT count(*) AS events,
       bool_and(transaction_id = :'xid'::xid8) AS same_xid,
       bool_and(event_time BETWEEN :'t0'::timestamptz AND :'t1'::timestamptz) AS during_transaction,
       bool_and(actor_id = :'alice' AND actor_name = 'audit_alice') AS alice_acted,
       bool_and(role_name = 'audit_app' AND role_name <> session_user_name) AS role_differs,
       bool_and(session_user_name = session_user) AS session_user_recorded,
       bool_and(application_name = 'audit_app_pool') AS application
  FROM zenml_rbac.audit_events WHERE seq > :m;

-- a principal creating an organization becomes its org_admin: two events
:mark \gset
SET ROLE audit_app;
BEGIN;
SELECT zenml_rbac.set_principal(:'alice');
SELECT zenml_rbac.create_organization('audit_alice_org') AS aorg \gset
COMMIT;
RESET ROLE;
INSERT INTO lbl VALUES (:'aorg', 'aorg');
SELECT seq - :m AS n, op, kind, object, org, subject, actor, role FROM ev WHERE seq > :m ORDER BY seq;

------------------------------------------------------------------------------
-- 3. Resource types, resources and shares (system)
------------------------------------------------------------------------------
:mark \gset
SELECT zenml_rbac.register_resource_type('audit_widget');
SELECT zenml_rbac.register_resource_type('audit_widget');                -- exists: nothing
SELECT zenml_rbac.register_resource(:'prod', 'audit_widget/11111111-1111-4111-8111-111111111111', :'bob');
SELECT zenml_rbac.register_resource(:'prod', 'audit_widget/11111111-1111-4111-8111-111111111111', :'bob');  -- same: nothing
SELECT zenml_rbac.share_resource(:'prod', 'audit_widget/11111111-1111-4111-8111-111111111111', :'bot', ARRAY['read']);
SELECT zenml_rbac.share_resource(:'prod', 'audit_widget/11111111-1111-4111-8111-111111111111', :'bot', ARRAY['update', 'read']);
SELECT zenml_rbac.share_resource(:'prod', 'audit_widget/11111111-1111-4111-8111-111111111111', :'bot', ARRAY['read', 'update']);  -- same set: nothing
SELECT zenml_rbac.share_resource(:'prod', 'audit_widget/11111111-1111-4111-8111-111111111111', :'bot', ARRAY[]::text[]);          -- unshare
SELECT zenml_rbac.share_resource(:'prod', 'audit_widget/11111111-1111-4111-8111-111111111111', :'alice', ARRAY['delete']);
SELECT zenml_rbac.delete_resource(:'prod', 'audit_widget/11111111-1111-4111-8111-111111111111');  -- with alice's share
SELECT zenml_rbac.delete_resource(:'prod', 'audit_widget/11111111-1111-4111-8111-111111111111');  -- gone: nothing
SELECT seq - :m AS n, op, kind, object, org, tenant, subject, actor FROM ev WHERE seq > :m ORDER BY seq;
SELECT seq - :m AS n, operation AS op, object_kind AS kind, before->'actions' AS before_actions, after->'actions' AS after_actions,
       pg_temp.l((coalesce(after, before) ->> 'owner_id')::uuid) AS owner,
       coalesce(after, before) ->> 'kind' AS type_kind
  FROM zenml_rbac.audit_events WHERE seq > :m ORDER BY seq;

------------------------------------------------------------------------------
-- 4. API keys: create, rotate, revoke; never a key hash in an event
------------------------------------------------------------------------------
:mark \gset
SELECT zenml_rbac.create_api_key(:'bot') AS key1 \gset
SELECT id AS k1 FROM zenml_rbac.api_key WHERE key_prefix = left(:'key1', 12) \gset
SELECT zenml_rbac.rotate_api_key(:'bot') AS key2 \gset
SELECT id AS k2 FROM zenml_rbac.api_key WHERE key_prefix = left(:'key2', 12) \gset
SELECT zenml_rbac.revoke_api_key(:'bot');
INSERT INTO lbl VALUES (:'k1', 'key1'), (:'k2', 'key2');
CREATE TEMP TABLE key_hashes AS SELECT encode(key_hash, 'hex') AS h FROM zenml_rbac.api_key;
SELECT seq - :m AS n, op, kind, object, subject, actor,
       (coalesce(after, before) ->> 'key_prefix') IN (left(:'key1', 12), left(:'key2', 12)) AS prefix_shown,
       before->>'retired_at' IS NOT NULL AS before_retired, after->>'retired_at' IS NOT NULL AS after_retired,
       before->>'revoked_at' IS NOT NULL AS before_revoked, after->>'revoked_at' IS NOT NULL AS after_revoked
  FROM ev JOIN zenml_rbac.audit_events USING (seq) WHERE seq > :m ORDER BY seq;
-- authenticate() recording last_used_at is not an event
SELECT zenml_rbac.create_api_key(:'bot') AS key3 \gset
SELECT id AS k3 FROM zenml_rbac.api_key WHERE key_prefix = left(:'key3', 12) \gset
INSERT INTO lbl VALUES (:'k3', 'key3');
INSERT INTO key_hashes SELECT encode(key_hash, 'hex') FROM zenml_rbac.api_key WHERE id = :'k3';
:mark \gset
BEGIN;
SELECT zenml_rbac.authenticate(:'key3') = :'bot' AS authenticated;
COMMIT;
SELECT last_used_at IS NOT NULL AS use_recorded FROM zenml_rbac.api_key WHERE key_prefix = left(:'key3', 12);
SELECT count(*) AS events_for_use FROM zenml_rbac.audit_log WHERE seq > :m;
-- ... while a change of another column with it is
UPDATE zenml_rbac.api_key SET last_used_at = NULL, expires_at = now() + interval '1 year'
 WHERE key_prefix = left(:'key3', 12);
SELECT op, kind, subject, (SELECT after ? 'last_used_at' FROM zenml_rbac.audit_events e WHERE e.seq = ev.seq) AS has_last_used
  FROM ev WHERE seq > :m ORDER BY seq;
-- TRUNCATE records each key, without its hash
:mark \gset
TRUNCATE zenml_rbac.api_key;
SELECT op, kind, object, subject, actor FROM ev WHERE seq > :m ORDER BY object;
-- no event, of any kind, carries a key hash or a key; the api_key images
-- have every column but key_hash
SELECT count(*) FILTER (WHERE before ? 'key_hash' OR after ? 'key_hash') AS with_key_hash_column,
       count(*) FILTER (WHERE EXISTS (SELECT FROM key_hashes k
                                       WHERE strpos(coalesce(e.before::text, '') || coalesce(e.after::text, ''), k.h) > 0)) AS with_hash_value,
       count(*) FILTER (WHERE strpos(coalesce(e.before::text, '') || coalesce(e.after::text, ''), substr(:'key1', 13)) > 0
                           OR strpos(coalesce(e.before::text, '') || coalesce(e.after::text, ''), substr(:'key2', 13)) > 0
                           OR strpos(coalesce(e.before::text, '') || coalesce(e.after::text, ''), substr(:'key3', 13)) > 0) AS with_key
  FROM zenml_rbac.audit_events e;
SELECT DISTINCT (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(coalesce(after, before)) k) AS api_key_image
  FROM zenml_rbac.audit_events WHERE object_kind = 'api_key';

------------------------------------------------------------------------------
-- 5. Deactivation; protect() / unprotect()
------------------------------------------------------------------------------
:mark \gset
SELECT zenml_rbac.deactivate_user(:'bob');
SELECT zenml_rbac.deactivate_user(:'bob');                   -- already inactive: nothing
SELECT op, kind, object, subject, actor, before->>'active' AS before_active, after->>'active' AS after_active
  FROM ev JOIN zenml_rbac.audit_events USING (seq) WHERE seq > :m ORDER BY seq;

CREATE TABLE audit_things (tenant_id uuid NOT NULL, id uuid PRIMARY KEY, label text);
CREATE INDEX ON audit_things (tenant_id);
INSERT INTO audit_things VALUES (:'prod', '22222222-2222-4222-8222-222222222222', 'existing row');
:mark \gset
SELECT zenml_rbac.protect('audit_things', 'audit_widget', 'tenant_id');
INSERT INTO audit_things VALUES (:'prod', '33333333-3333-4333-8333-333333333333', 'new row');   -- registered
SELECT zenml_rbac.unprotect('audit_things');
SELECT seq - :m AS n, op, kind, CASE WHEN kind = 'resource' THEN object END AS object, tenant, subject,
       coalesce(after, before) ->> 'resource_type' AS resource_type,
       coalesce(after, before) ->> 'tenant_column' AS tenant_column
  FROM ev JOIN zenml_rbac.audit_events USING (seq) WHERE seq > :m ORDER BY seq;
SELECT count(DISTINCT object_id) AS protected_table_ids,
       bool_and((coalesce(after, before) ->> 'relid')::regclass = 'audit_things'::regclass) AS names_the_table
  FROM zenml_rbac.audit_events WHERE seq > :m AND object_kind = 'protected_table';

------------------------------------------------------------------------------
-- 6. Direct DML by a superuser on the catalog is audited; TRUNCATE records
--    each row; an UPDATE changing nothing is no event
------------------------------------------------------------------------------
:mark \gset
INSERT INTO zenml_rbac.organization (name) VALUES ('audit_direct') RETURNING id AS dorg \gset
INSERT INTO lbl VALUES (:'dorg', 'dorg');
UPDATE zenml_rbac.organization SET name = 'audit_direct2' WHERE id = :'dorg';
UPDATE zenml_rbac.organization SET name = name WHERE id = :'dorg';          -- no-op
UPDATE zenml_rbac.organization SET name = 'audit_direct2' WHERE id = :'dorg'; -- same value: no-op
DELETE FROM zenml_rbac.organization WHERE id = :'dorg';
SELECT seq - :m AS n, op, kind, object, org, actor, role,
       before->>'name' AS before_name, after->>'name' AS after_name
  FROM ev JOIN zenml_rbac.audit_events USING (seq) WHERE seq > :m ORDER BY seq;

SELECT zenml_rbac.register_resource(:'prod', 'audit_widget/11111111-1111-4111-8111-111111111111', :'alice');
SELECT zenml_rbac.share_resource(:'prod', 'audit_widget/11111111-1111-4111-8111-111111111111', :'bot', ARRAY['read']);
SELECT zenml_rbac.share_resource(:'prod', 'audit_widget/22222222-2222-4222-8222-222222222222', :'alice', ARRAY['read', 'share']);
SELECT count(*) AS grants FROM zenml_rbac.resource_grant \gset
:mark \gset
TRUNCATE zenml_rbac.resource_grant;
SELECT :grants AS grants_before, count(*) AS truncate_events,
       count(*) FILTER (WHERE after IS NULL AND before IS NOT NULL) AS before_images
  FROM zenml_rbac.audit_events WHERE seq > :m AND operation = 'TRUNCATE' AND object_kind = 'resource_grant';
SELECT op, kind, object, tenant, subject, actor, before->'actions' AS actions
  FROM ev JOIN zenml_rbac.audit_events USING (seq) WHERE seq > :m ORDER BY object;

------------------------------------------------------------------------------
-- 7. Rolled back changes leave no event
------------------------------------------------------------------------------
:mark \gset
BEGIN;
SELECT zenml_rbac.create_user('audit_ghost') IS NOT NULL AS created;
ROLLBACK;
SELECT count(*) AS after_rollback FROM zenml_rbac.audit_log WHERE seq > :m;
-- a rolled-back savepoint loses its events, the rest of the transaction keeps them
BEGIN;
SELECT zenml_rbac.create_user('audit_kept1') AS kept1 \gset
SAVEPOINT a;
SELECT zenml_rbac.create_user('audit_ghost2') IS NOT NULL AS created;
SAVEPOINT b;
SELECT zenml_rbac.create_user('audit_ghost3') IS NOT NULL AS created;
ROLLBACK TO SAVEPOINT a;
SAVEPOINT c;
SELECT zenml_rbac.create_user('audit_kept2') AS kept2 \gset
RELEASE SAVEPOINT c;
SAVEPOINT d;
SELECT zenml_rbac.create_user('audit_ghost4') IS NOT NULL AS created;
ROLLBACK TO SAVEPOINT d;
COMMIT;
INSERT INTO lbl VALUES (:'kept1', 'kept1'), (:'kept2', 'kept2');
SELECT seq - :m AS n, op, kind, object, after->>'name' AS name
  FROM ev JOIN zenml_rbac.audit_events USING (seq) WHERE seq > :m ORDER BY seq;
-- a PL/pgSQL exception block is a subtransaction too
:mark \gset
DO $$
BEGIN
    BEGIN
        PERFORM zenml_rbac.create_user('audit_ghost5');
        RAISE EXCEPTION 'undo';
    EXCEPTION WHEN raise_exception THEN
        NULL;
    END;
    PERFORM zenml_rbac.create_user('audit_kept3');
END
$$;
SELECT op, kind, after->>'name' AS name FROM ev JOIN zenml_rbac.audit_events USING (seq) WHERE seq > :m ORDER BY seq;
-- a failing statement's partial work leaves nothing
:mark \gset
INSERT INTO zenml_rbac.organization (name) VALUES ('audit_dup'), ('audit_dup');
SELECT count(*) AS after_failed_statement FROM zenml_rbac.audit_log WHERE seq > :m;

------------------------------------------------------------------------------
-- 8. Cascades: one event per deleted row
------------------------------------------------------------------------------
SELECT zenml_rbac.create_organization('audit_doomed') AS dorg2 \gset
SELECT zenml_rbac.create_tenant(:'dorg2', 't2') AS t2 \gset
SELECT zenml_rbac.create_tenant(:'dorg2', 't3') AS t3 \gset
SELECT zenml_rbac.create_service_account(:'dorg2', 'sa2') AS sa2 \gset
SELECT zenml_rbac.create_team(:'dorg2', 'team2') AS team2 \gset
SELECT zenml_rbac.set_org_role(:'dorg2', :'alice', 'org_editor');
SELECT zenml_rbac.add_team_member(:'team2', :'alice');
SELECT zenml_rbac.add_team_member(:'team2', :'sa2');
SELECT zenml_rbac.create_role(:'t2', 'r2', '', 'editor') AS r2 \gset
SELECT zenml_rbac.role_allow(:'t2', 'r2', 'model', 'delete');
SELECT zenml_rbac.role_disallow(:'t2', 'r2', 'secret', 'create');
SELECT zenml_rbac.grant_tenant_role(:'t2', :'alice', 'r2');
SELECT zenml_rbac.grant_tenant_role(:'t2', :'sa2', 'viewer');
SELECT zenml_rbac.grant_tenant_role(:'t2', :'team2', 'editor');
SELECT zenml_rbac.grant_tenant_role(:'t3', :'alice', 'admin');
SELECT zenml_rbac.register_resource(:'t2', 'audit_widget/11111111-1111-4111-8111-111111111111', :'alice');
SELECT zenml_rbac.register_resource(:'t2', 'model/22222222-2222-4222-8222-222222222222', :'sa2');
SELECT zenml_rbac.share_resource(:'t2', 'audit_widget/11111111-1111-4111-8111-111111111111', :'sa2', ARRAY['read']);
SELECT zenml_rbac.share_resource(:'t2', 'model/22222222-2222-4222-8222-222222222222', :'team2', ARRAY['read', 'update']);
SELECT zenml_rbac.register_resource(:'t3', 'model/33333333-3333-4333-8333-333333333333', :'sa2');
SELECT zenml_rbac.create_api_key(:'sa2') IS NOT NULL AS key_created;
INSERT INTO key_hashes SELECT encode(key_hash, 'hex') FROM zenml_rbac.api_key WHERE principal_id = :'sa2';
INSERT INTO lbl VALUES (:'dorg2', 'dorg2'), (:'t2', 't2'), (:'t3', 't3'), (:'sa2', 'sa2'),
                       (:'team2', 'team2'), (:'r2', 'r2');
-- the rows a tenant's deletion takes with it
CREATE TEMP TABLE doomed AS
SELECT 'tenant' AS kind, count(*) AS n FROM zenml_rbac.tenant WHERE id = :'t2'
UNION ALL SELECT 'role', count(*) FROM zenml_rbac.role WHERE tenant_id = :'t2'
UNION ALL SELECT 'role_permission', count(*) FROM zenml_rbac.role_permission
           WHERE role_id IN (SELECT id FROM zenml_rbac.role WHERE tenant_id = :'t2')
UNION ALL SELECT 'tenant_role_assignment', count(*) FROM zenml_rbac.tenant_role_assignment WHERE tenant_id = :'t2'
UNION ALL SELECT 'resource', count(*) FROM zenml_rbac.resource WHERE tenant_id = :'t2'
UNION ALL SELECT 'resource_grant', count(*) FROM zenml_rbac.resource_grant WHERE tenant_id = :'t2';
:mark \gset
SELECT zenml_rbac.delete_tenant(:'t2');
SELECT d.kind, d.n AS rows_before, count(e.seq) AS delete_events,
       count(e.seq) FILTER (WHERE e.tenant = 't2') AS in_t2
  FROM doomed d LEFT JOIN ev e ON e.kind = d.kind AND e.seq > :m AND e.op = 'DELETE'
 GROUP BY d.kind, d.n ORDER BY d.kind;
SELECT count(*) FILTER (WHERE op <> 'DELETE') AS other_events,
       count(DISTINCT (kind, object)) = count(*) AS one_event_per_row
  FROM ev WHERE seq > :m;
-- an organization's deletion: its tenants, service accounts, teams, members, keys ...
DROP TABLE doomed;
CREATE TEMP TABLE doomed AS
SELECT 'organization' AS kind, count(*) AS n FROM zenml_rbac.organization WHERE id = :'dorg2'
UNION ALL SELECT 'tenant', count(*) FROM zenml_rbac.tenant WHERE org_id = :'dorg2'
UNION ALL SELECT 'principal', count(*) FROM zenml_rbac.principal WHERE org_id = :'dorg2'
UNION ALL SELECT 'org_role_assignment', count(*) FROM zenml_rbac.org_role_assignment WHERE org_id = :'dorg2'
UNION ALL SELECT 'team_member', count(*) FROM zenml_rbac.team_member WHERE team_id = :'team2'
UNION ALL SELECT 'tenant_role_assignment', count(*) FROM zenml_rbac.tenant_role_assignment WHERE tenant_id = :'t3'
UNION ALL SELECT 'resource', count(*) FROM zenml_rbac.resource WHERE tenant_id = :'t3'
UNION ALL SELECT 'api_key', count(*) FROM zenml_rbac.api_key WHERE principal_id = :'sa2';
:mark \gset
SELECT zenml_rbac.delete_organization(:'dorg2');
SELECT d.kind, d.n AS rows_before, count(e.seq) AS delete_events
  FROM doomed d LEFT JOIN ev e ON e.kind = d.kind AND e.seq > :m AND e.op = 'DELETE'
 GROUP BY d.kind, d.n ORDER BY d.kind;
SELECT op, kind, count(*) FROM ev WHERE seq > :m GROUP BY op, kind ORDER BY op, kind;
SELECT count(DISTINCT (object_kind, object_id)) = count(*) AS one_event_per_row,
       count(*) FILTER (WHERE before ? 'key_hash'
                           OR EXISTS (SELECT FROM key_hashes k WHERE strpos(before::text, k.h) > 0)) AS key_hashes
  FROM zenml_rbac.audit_events WHERE seq > :m;
SELECT op, kind, object, org, tenant, subject FROM ev
 WHERE seq > :m AND kind IN ('organization', 'tenant', 'principal', 'team_member') ORDER BY kind, object;

------------------------------------------------------------------------------
-- 9. A bulk load (10,000 events) is appended before the commit; a savepoint
--    rolled back afterwards still loses its own events, and a rollback of
--    the whole transaction takes the early appended ones with it
------------------------------------------------------------------------------
:mark \gset
BEGIN;
INSERT INTO zenml_rbac.resource_type (name) SELECT 'audit_bulk_' || g FROM generate_series(1, 10000) g;
SELECT count(*) AS appended_early FROM zenml_rbac.audit_log WHERE seq > :m;
SAVEPOINT s;
INSERT INTO zenml_rbac.resource_type (name) VALUES ('audit_bulk_ghost1'), ('audit_bulk_ghost2');
ROLLBACK TO SAVEPOINT s;
SELECT count(*) AS still_appended FROM zenml_rbac.audit_log WHERE seq > :m;
INSERT INTO zenml_rbac.resource_type (name) VALUES ('audit_bulk_last');
COMMIT;
SELECT count(*) AS events, min(seq) = :m + 1 AS contiguous_from, max(seq) - :m AS span,
       count(*) FILTER (WHERE object_id LIKE 'audit_bulk_ghost%') AS ghosts,
       count(DISTINCT transaction_id) AS transactions,
       (SELECT object_id FROM zenml_rbac.audit_log ORDER BY seq DESC LIMIT 1) AS last
  FROM zenml_rbac.audit_log WHERE seq > :m;
:mark \gset
BEGIN;
INSERT INTO zenml_rbac.resource_type (name) SELECT 'audit_bulk2_' || g FROM generate_series(1, 10001) g;
ROLLBACK;
SELECT zenml_rbac.register_resource_type('audit_after_bulk');
SELECT seq - :m AS n, op, kind, object FROM ev WHERE seq > :m ORDER BY seq;

------------------------------------------------------------------------------
-- 10. The chain: 1..N without gaps, each event linked to the one before
------------------------------------------------------------------------------
SELECT count(*) AS n, min(seq) AS first, count(*) = max(seq) AS no_gaps FROM zenml_rbac.audit_log;
SELECT count(*) FILTER (WHERE prev_hash IS DISTINCT FROM coalesce(prev, decode(repeat('00', 32), 'hex'))) AS broken_links,
       count(*) FILTER (WHERE length(hash) <> 32) AS bad_hashes,
       count(DISTINCT hash) = count(*) AS hashes_distinct,
       count(DISTINCT chain) AS chains
  FROM (SELECT seq, prev_hash, hash, chain, lag(hash) OVER (ORDER BY seq) AS prev FROM zenml_rbac.audit_log) s;
SELECT valid, events_checked = (SELECT count(*) FROM zenml_rbac.audit_log) AS all_checked,
       broken_seq, problem FROM zenml_rbac.verify_audit_log();
SELECT h.seq = (SELECT max(seq) FROM zenml_rbac.audit_log) AS head_is_last,
       h.hash = (SELECT hash FROM zenml_rbac.audit_log ORDER BY seq DESC LIMIT 1) AS head_hash
  FROM zenml_rbac.audit_head() h;
-- the hash covers every other column: recomputed here from the documented
-- content, it matches for every event
CREATE FUNCTION pg_temp.f(b bytea) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN b IS NULL THEN '\x00'::bytea ELSE '\x01'::bytea || int4send(length(b)) || b END
$$;
CREATE FUNCTION pg_temp.t(s text) RETURNS bytea LANGUAGE sql IMMUTABLE AS $$
    SELECT pg_temp.f(convert_to(s, 'UTF8'))
$$;
CREATE FUNCTION pg_temp.event_hash(a zenml_rbac.audit_log) RETURNS bytea LANGUAGE sql STABLE AS $$
    SELECT sha256(pg_temp.t('zenml_rbac audit event v1')
        || pg_temp.f(uuid_send(a.chain)) || pg_temp.f(int8send(a.seq))
        || pg_temp.f(timestamptz_send(a.event_time)) || pg_temp.f(xid8send(a.transaction_id))
        || pg_temp.f(uuid_send(a.principal_id))
        || pg_temp.t(a.session_user_name::text) || pg_temp.t(a.role_name::text)
        || pg_temp.t(a.application_name)
        || pg_temp.t(CASE WHEN a.client_addr IS NOT NULL THEN format('%s', a.client_addr) END)
        || pg_temp.t(a.operation) || pg_temp.t(a.object_kind) || pg_temp.t(a.object_id)
        || pg_temp.f(uuid_send(a.org_id)) || pg_temp.f(uuid_send(a.tenant_id)) || pg_temp.f(uuid_send(a.subject_id))
        || pg_temp.t(a.before::text) || pg_temp.t(a.after::text)
        || pg_temp.f(a.prev_hash))
$$;
SELECT count(*) FILTER (WHERE pg_temp.event_hash(a) = a.hash) AS recomputed_match, count(*) AS n
  FROM zenml_rbac.audit_log a;

-- Tampering (as a superuser, whom the guard lets through): each is reported,
-- and the restored log verifies again.  k is bob's promotion to org_editor.
SELECT seq AS k, seq + 1 AS k1 FROM zenml_rbac.audit_log
 WHERE object_kind = 'org_role_assignment' AND operation = 'UPDATE' \gset
CREATE TEMP TABLE saved AS SELECT * FROM zenml_rbac.audit_log WHERE seq IN (:k, :k1);
\set verify 'SELECT valid, broken_seq - :k AS broken_at, replace(problem, chain::text, \'<chain>\') AS problem, events_checked FROM zenml_rbac.verify_audit_log();'
-- an edited event (bob made org_admin in the history)
UPDATE zenml_rbac.audit_log SET after = jsonb_set(after, '{role}', '"org_admin"') WHERE seq = :k;
:verify
UPDATE zenml_rbac.audit_log a SET after = s.after FROM saved s WHERE a.seq = :k AND s.seq = :k;
:verify
-- an edited column other than the images (the acting principal)
UPDATE zenml_rbac.audit_log SET principal_id = :'alice' WHERE seq = :k;
:verify
UPDATE zenml_rbac.audit_log a SET principal_id = s.principal_id FROM saved s WHERE a.seq = :k AND s.seq = :k;
-- a deleted event
DELETE FROM zenml_rbac.audit_log WHERE seq = :k;
:verify
INSERT INTO zenml_rbac.audit_log SELECT * FROM saved WHERE seq = :k;
:verify
-- two events swapped
UPDATE zenml_rbac.audit_log SET seq = 1000000 WHERE seq = :k;
UPDATE zenml_rbac.audit_log SET seq = :k WHERE seq = :k1;
UPDATE zenml_rbac.audit_log SET seq = :k1 WHERE seq = 1000000;
:verify
UPDATE zenml_rbac.audit_log SET seq = 1000000 WHERE seq = :k;
UPDATE zenml_rbac.audit_log SET seq = :k WHERE seq = :k1;
UPDATE zenml_rbac.audit_log SET seq = :k1 WHERE seq = 1000000;
:verify
-- an edited event whose own hash is recomputed: the next link breaks
UPDATE zenml_rbac.audit_log SET after = jsonb_set(after, '{role}', '"org_admin"') WHERE seq = :k;
UPDATE zenml_rbac.audit_log a SET hash = pg_temp.event_hash(a) WHERE seq = :k;
SELECT pg_temp.event_hash(a) = a.hash AS own_hash_consistent FROM zenml_rbac.audit_log a WHERE seq = :k;
:verify
UPDATE zenml_rbac.audit_log a SET after = s.after, hash = s.hash FROM saved s WHERE a.seq = :k AND s.seq = :k;
:verify
SELECT count(*) AS restored FROM zenml_rbac.audit_log a JOIN saved s USING (chain, seq)
 WHERE (a.*)::text = (s.*)::text;

------------------------------------------------------------------------------
-- 11. Append-only: no one but a superuser changes the log tables, whatever
--     the grants; a role without grants cannot even read them
------------------------------------------------------------------------------
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE
   ON zenml_rbac.audit_log, zenml_rbac.audit_chain, zenml_rbac.audit_local_chain TO audit_writer;
SELECT count(*) AS n FROM zenml_rbac.audit_log \gset
SET ROLE audit_writer;
SELECT count(*) = :n AS can_read FROM zenml_rbac.audit_log;
UPDATE zenml_rbac.audit_log SET after = NULL WHERE seq = 1;
\echo :SQLSTATE
DELETE FROM zenml_rbac.audit_log WHERE seq = 1;
\echo :SQLSTATE
DELETE FROM zenml_rbac.audit_log;
\echo :SQLSTATE
TRUNCATE zenml_rbac.audit_log;
\echo :SQLSTATE
INSERT INTO zenml_rbac.audit_log SELECT chain, seq + 1000000, event_time, transaction_id, principal_id,
       session_user_name, role_name, application_name, client_addr, operation, object_kind, object_id,
       org_id, tenant_id, subject_id, before, after, prev_hash, hash
  FROM zenml_rbac.audit_log WHERE seq = 1;
\echo :SQLSTATE
UPDATE zenml_rbac.audit_chain SET anchor_seq = 0;
\echo :SQLSTATE
INSERT INTO zenml_rbac.audit_chain (id) VALUES (gen_random_uuid());
\echo :SQLSTATE
DELETE FROM zenml_rbac.audit_local_chain;
\echo :SQLSTATE
-- nor switch the guard off (only the owner may)
ALTER TABLE zenml_rbac.audit_log DISABLE TRIGGER audit_guard;
\echo :SQLSTATE
-- nor through the management functions or purge
SELECT zenml_rbac.purge_audit_log(now());
\echo :SQLSTATE
RESET ROLE;
SET ROLE audit_reader;
SELECT count(*) FROM zenml_rbac.audit_log;
\echo :SQLSTATE
SELECT count(*) FROM zenml_rbac.audit_events;
\echo :SQLSTATE
UPDATE zenml_rbac.audit_log SET after = NULL;
\echo :SQLSTATE
SELECT valid FROM zenml_rbac.verify_audit_log();
\echo :SQLSTATE
RESET ROLE;
-- an auditor granted the view and verification reads the log without the tables
GRANT SELECT ON zenml_rbac.audit_events TO audit_auditor;
GRANT EXECUTE ON FUNCTION zenml_rbac.verify_audit_log(), zenml_rbac.audit_head() TO audit_auditor;
SET ROLE audit_auditor;
SELECT count(*) = :n AS reads_view FROM zenml_rbac.audit_events;
SELECT valid, events_checked = :n AS all_checked FROM zenml_rbac.verify_audit_log();
SELECT seq = :n AS head FROM zenml_rbac.audit_head();
SELECT count(*) FROM zenml_rbac.audit_log;
\echo :SQLSTATE
RESET ROLE;
-- nothing changed
SELECT count(*) = :n AS intact, (SELECT valid FROM zenml_rbac.verify_audit_log()) AS valid,
       (SELECT anchor_seq FROM zenml_rbac.audit_chain) AS anchor_seq,
       (SELECT count(*) FROM zenml_rbac.audit_local_chain) AS local_chain
  FROM zenml_rbac.audit_log;

------------------------------------------------------------------------------
-- 12. Purging: system only; removes exactly the events before the cutoff,
--     moves the anchor, records a PURGE event, and the chain still verifies
------------------------------------------------------------------------------
SELECT zenml_rbac.create_user('audit_before_cut') AS before_cut \gset
SELECT seq AS last_before, encode(hash, 'hex') AS last_before_hash
  FROM zenml_rbac.audit_log ORDER BY seq DESC LIMIT 1 \gset
SELECT clock_timestamp() AS cut \gset
SELECT zenml_rbac.create_user('audit_after_cut') AS after_cut \gset
SELECT count(*) AS total FROM zenml_rbac.audit_log \gset
-- not the system (the pool role, with or without a principal): refused
SET ROLE audit_app;
SELECT zenml_rbac.purge_audit_log(:'cut');
\echo :SQLSTATE
BEGIN;
SELECT zenml_rbac.set_principal(:'alice');
SELECT zenml_rbac.purge_audit_log(:'cut');
\echo :SQLSTATE
ROLLBACK;
RESET ROLE;
SELECT zenml_rbac.purge_audit_log(NULL);
\echo :SQLSTATE
SELECT count(*) = :total AS nothing_purged FROM zenml_rbac.audit_log;
-- the system purges
SELECT zenml_rbac.purge_audit_log(:'cut') = :last_before AS removed_all_before_cut;
SELECT count(*) AS remaining, min(seq) = :last_before + 1 AS starts_after_cut,
       bool_and(event_time >= :'cut'::timestamptz) AS all_at_or_after_cut
  FROM zenml_rbac.audit_log;
SELECT anchor_seq = :last_before AS anchor_moved, encode(anchor_hash, 'hex') = :'last_before_hash' AS anchor_hash
  FROM zenml_rbac.audit_chain;
-- the PURGE event follows, with the anchor it left
SELECT seq = :total + 1 AS next_seq, operation, object_kind, object_id, actor_id IS NULL AS by_system,
       before IS NULL AS no_before, (after->>'before')::timestamptz = :'cut'::timestamptz AS cutoff,
       jsonb_array_length(after->'chains') AS chains,
       (after->'chains'->0->>'anchor_seq')::bigint = :last_before AS anchor_seq,
       after->'chains'->0->>'anchor_hash' = :'last_before_hash' AS anchor_hash,
       (after->'chains'->0->>'removed')::bigint = :last_before AS removed,
       (after->'chains'->0->>'chain')::uuid = chain AS chain
  FROM zenml_rbac.audit_events WHERE operation = 'PURGE';
SELECT valid, events_checked, broken_seq, problem FROM zenml_rbac.verify_audit_log();
-- purging again with the same cutoff removes nothing and records nothing
SELECT zenml_rbac.purge_audit_log(:'cut') AS removed_again;
SELECT count(*) AS remaining, count(*) FILTER (WHERE operation = 'PURGE') AS purge_events FROM zenml_rbac.audit_log;
-- a hand-moved anchor is reported (hiding events, or pretending none were purged)
UPDATE zenml_rbac.audit_chain SET anchor_seq = anchor_seq + 1;
SELECT valid, broken_seq - :last_before AS broken_at, replace(problem, chain::text, '<chain>') AS problem
  FROM zenml_rbac.verify_audit_log();
UPDATE zenml_rbac.audit_chain SET anchor_seq = anchor_seq - 1;
SELECT valid FROM zenml_rbac.verify_audit_log();
UPDATE zenml_rbac.audit_chain SET anchor_hash = sha256('forged');
SELECT valid, broken_seq - :last_before AS broken_at, replace(problem, chain::text, '<chain>') AS problem
  FROM zenml_rbac.verify_audit_log();
UPDATE zenml_rbac.audit_chain SET anchor_seq = 0, anchor_hash = decode(repeat('00', 32), 'hex');
SELECT valid, broken_seq, replace(problem, chain::text, '<chain>') AS problem FROM zenml_rbac.verify_audit_log();
UPDATE zenml_rbac.audit_chain SET anchor_seq = :last_before, anchor_hash = decode(:'last_before_hash', 'hex');
SELECT valid FROM zenml_rbac.verify_audit_log();
-- purging everything (the earlier PURGE event too) still leaves a verifiable chain
SELECT clock_timestamp() AS cut2 \gset
SELECT max(seq) AS last2 FROM zenml_rbac.audit_log \gset
SELECT zenml_rbac.purge_audit_log(:'cut2') AS removed_all;
SELECT count(*) AS remaining, min(seq) = :last2 + 1 AS purge_event_next, min(operation) AS op FROM zenml_rbac.audit_log;
SELECT valid, events_checked, broken_seq, problem FROM zenml_rbac.verify_audit_log();
SELECT seq = :last2 + 1 AS head FROM zenml_rbac.audit_head();
-- and the chain goes on from there
SELECT zenml_rbac.create_user('audit_after_purge') IS NOT NULL AS created;
SELECT seq - :last2 AS n, operation, object_kind, prev_hash = (SELECT prev.hash FROM zenml_rbac.audit_events prev WHERE prev.seq = a.seq - 1) AS linked
  FROM zenml_rbac.audit_events a ORDER BY seq;
SELECT valid, events_checked, broken_seq, problem FROM zenml_rbac.verify_audit_log();

------------------------------------------------------------------------------
-- an owner removed by deleting its principal: the resource's UPDATE (owner
-- set NULL) is still about that principal
------------------------------------------------------------------------------
SELECT zenml_rbac.create_organization('audit_owner_org') AS oo \gset
SELECT zenml_rbac.create_tenant(:'oo', 'audit_owner_t') AS ot \gset
SELECT zenml_rbac.create_user('audit_zed') AS zed \gset
SELECT zenml_rbac.set_org_role(:'oo', :'zed', 'org_viewer');
SELECT zenml_rbac.grant_tenant_role(:'ot', :'zed', 'editor');
SELECT zenml_rbac.register_resource(:'ot', 'model/44444444-4444-4444-8444-444444444444', :'zed');
SELECT max(seq) AS mark FROM zenml_rbac.audit_log \gset
DELETE FROM zenml_rbac.principal WHERE id = :'zed';
SELECT operation, object_kind, subject_id = :'zed' AS about_zed,
       before->>'owner_id' = :'zed' AS owner_before, after->>'owner_id' IS NULL AS owner_after
  FROM zenml_rbac.audit_log WHERE seq > :mark AND object_kind = 'resource';

------------------------------------------------------------------------------
-- clean up the roles (cluster-wide) and the table
------------------------------------------------------------------------------
DROP TABLE audit_things;
REVOKE ALL ON zenml_rbac.audit_log, zenml_rbac.audit_chain, zenml_rbac.audit_local_chain FROM audit_writer;
REVOKE ALL ON zenml_rbac.audit_events FROM audit_auditor;
REVOKE ALL ON FUNCTION zenml_rbac.verify_audit_log(), zenml_rbac.audit_head() FROM audit_auditor;
REVOKE ALL ON FUNCTION zenml_rbac.set_principal(uuid) FROM audit_app;
DROP ROLE audit_app;
DROP ROLE audit_writer;
DROP ROLE audit_reader;
DROP ROLE audit_auditor;

\c :regress_db
DROP DATABASE regress_audit;
