-- The workload of the crash-safety and load tests (test/t/006, 007) and of
-- test/bench/load.sh, on top of test/t/fixture.sql (run it first, as a
-- superuser, in the same database).
--
-- Every catalog change the workload makes is one toggle (grant or revoke a
-- tenant role; share, reshare or unshare a model; insert or delete a row of
-- the protected table public.models), and it is written down in a ledger in
-- the same transaction:
--   * begin_change() takes an advisory lock for the tenant (every workload
--     change of a tenant's catalog rows holds it until commit), sets the
--     acting principal, and remembers the tenant's role assignments and
--     shares and the resource rows the toggle may register or unregister;
--   * the change itself goes through the extension's API (or RLS);
--   * end_change() diffs those rows against what it remembered and
--     records each changed row in workload.ledger_change, keyed as the
--     audit log keys it ('/'-joined primary key), with the transaction id.
-- A ledger row thus commits exactly when its change does, and says which
-- rows that change touched: the audit log must hold exactly one event per
-- ledger_change row, the catalog must be the initial state plus the ledger,
-- and a database that starts from the initial state and replays the ledger's
-- intents must decide exactly alike (workload.replay_script()).
--
-- Everything is built to never raise: pgbench aborts a client on any error.
\set ON_ERROR_STOP 1
SET client_min_messages = warning;

CREATE SCHEMA workload;
GRANT USAGE ON SCHEMA workload TO fixture_app;

CREATE FUNCTION workload.id(text) RETURNS uuid LANGUAGE sql STABLE
    AS $$ SELECT id FROM public.fx WHERE name = $1 $$;

-- What the toggles work on.  kind role: grant/revoke (tenant, principal,
-- role) as an org_admin; share: cycle the actions the owner shares one model
-- with a principal through {read} -> {read,update} -> {} (unshared); model:
-- the owner inserts a row of public.models named `model`, or deletes it.
-- The actors keep their rights whatever the toggles do: u1 and u6 are org
-- admins, u2 and u8 own the models and keep their tenant roles.
CREATE TABLE workload.item (
    kind      text NOT NULL CHECK (kind IN ('role', 'share', 'model')),
    n         int  NOT NULL,
    tenant    uuid NOT NULL,
    actor     uuid NOT NULL,
    principal uuid,
    role      text,
    resource  text,
    model     text,
    PRIMARY KEY (kind, n)
);
INSERT INTO workload.item (kind, n, tenant, actor, principal, role)
SELECT 'role', row_number() OVER (), workload.id(t), workload.id(a), workload.id(p), r
  FROM (VALUES ('prod', 'u1', 'u3', 'auditor'), ('prod', 'u1', 'u4', 'viewer'), ('prod', 'u1', 'sa1', 'viewer'),
               ('prod', 'u1', 'ml', 'viewer'), ('prod', 'u1', 'u5', 'editor'),
               -- revoking ml's editor in dev makes u3 and u4 leave dev: their shares there go
               ('dev', 'u1', 'ml', 'editor'), ('dev', 'u1', 'u4', 'viewer'), ('dev', 'u1', 'sa1', 'curator'),
               ('main', 'u6', 'u7', 'viewer'), ('main', 'u6', 'u2', 'viewer')) v(t, a, p, r);
INSERT INTO workload.item (kind, n, tenant, actor, principal, resource)
SELECT 'share', row_number() OVER (), m.tenant_id, workload.id(a), workload.id(p), 'model/' || m.id
  FROM (VALUES ('prod-1', 'u2', 'u4'), ('prod-2', 'u2', 'u3'), ('prod-3', 'u2', 'sa1'), ('prod-1', 'u2', 'ml'),
               ('dev-2', 'u2', 'u3'), ('dev-1', 'u2', 'u4'), ('dev-3', 'u2', 'ml'),
               ('main-1', 'u8', 'u7'), ('main-2', 'u8', 'u2')) v(name, a, p)
  JOIN public.models m ON m.name = v.name;
INSERT INTO workload.item (kind, n, tenant, actor, model)
SELECT 'model', row_number() OVER (), workload.id(t), workload.id(a), 'w-' || t || '-' || g
  FROM (VALUES ('prod', 'u2'), ('dev', 'u2'), ('main', 'u8')) v(t, a), generate_series(1, 3) g;

-- Principals that can act (set_principal refuses teams and deactivated
-- users), tenants, and the cells the check script asks rbac_can about.
CREATE TABLE workload.reader (n int PRIMARY KEY, id uuid NOT NULL);
INSERT INTO workload.reader
SELECT row_number() OVER (ORDER BY p.name), p.id FROM zenml_rbac.principal p
 WHERE p.active AND p.kind <> 'team' AND p.id IN (SELECT id FROM public.fx);
CREATE TABLE workload.tenant (n int PRIMARY KEY, id uuid NOT NULL);
INSERT INTO workload.tenant SELECT row_number() OVER (ORDER BY name), id FROM public.fx
 WHERE name IN ('prod', 'dev', 'main');
CREATE TABLE workload.cell (n int PRIMARY KEY, principal uuid, tenant uuid, resource text, action text);
INSERT INTO workload.cell
SELECT row_number() OVER (ORDER BY random()), p.id, t.id, c.resource, a.action
  FROM zenml_rbac.principal p
 CROSS JOIN zenml_rbac.tenant t
 CROSS JOIN LATERAL (SELECT rt.name FROM zenml_rbac.resource_type rt
                     UNION ALL
                     SELECT 'model/' || m.id FROM public.models m WHERE m.tenant_id = t.id) c(resource)
 CROSS JOIN unnest(ARRAY['create', 'read', 'update', 'delete', 'share']) a(action)
 WHERE p.id IN (SELECT id FROM public.fx);
GRANT SELECT ON workload.reader, workload.tenant, workload.cell TO fixture_app;

-- pgbench draws a random number; these map it onto a row.
CREATE TABLE workload.size AS
SELECT (SELECT count(*) FROM workload.reader)::int AS readers,
       (SELECT count(*) FROM workload.tenant)::int AS tenants,
       (SELECT count(*) FROM workload.cell)::int AS cells;
GRANT SELECT ON workload.size TO fixture_app;
CREATE FUNCTION workload.reader(int) RETURNS uuid LANGUAGE sql STABLE
    AS $$ SELECT id FROM workload.reader WHERE n = 1 + $1 % (SELECT readers FROM workload.size) $$;
CREATE FUNCTION workload.tenant(int) RETURNS uuid LANGUAGE sql STABLE
    AS $$ SELECT id FROM workload.tenant WHERE n = 1 + $1 % (SELECT tenants FROM workload.size) $$;
CREATE FUNCTION workload.start(int) RETURNS int LANGUAGE sql STABLE
    AS $$ SELECT 1 + $1 % (SELECT cells FROM workload.size) $$;

-- The catalog rows the workload changes, of one tenant (or all: NULL),
-- keyed as audit_log.object_id keys them; content is what an UPDATE changes.
-- A toggle looks only at the resources it may register or unregister
-- (resources: NULL for all): anything else it changed shows as an audit
-- event without a ledger change, or as a difference of the whole catalog
-- from the initial state plus the ledger.
CREATE FUNCTION workload.state(t uuid, resources uuid[] DEFAULT NULL)
RETURNS TABLE (kind text, object_id text, content text)
LANGUAGE sql STABLE AS $$
    SELECT 'tenant_role_assignment', concat_ws('/', a.tenant_id, a.principal_id, a.role_id), ''
      FROM zenml_rbac.tenant_role_assignment a WHERE t IS NULL OR a.tenant_id = t
    UNION ALL
    SELECT 'resource_grant', concat_ws('/', g.tenant_id, g.resource_type, g.resource_id, g.principal_id),
           array_to_string(g.actions, ',')
      FROM zenml_rbac.resource_grant g WHERE t IS NULL OR g.tenant_id = t
    UNION ALL
    SELECT 'resource', concat_ws('/', r.tenant_id, r.resource_type, r.resource_id), coalesce(r.owner_id::text, '')
      FROM zenml_rbac.resource r
     WHERE (t IS NULL OR r.tenant_id = t) AND (resources IS NULL OR r.resource_id = ANY (resources))
$$;

-- Every other catalog table, one fingerprint each: the workload must not touch them.
CREATE FUNCTION workload.other_tables() RETURNS TABLE (tbl text, fingerprint text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT c.relname FROM pg_class c
              WHERE c.relnamespace = 'zenml_rbac'::regnamespace AND c.relkind = 'r'
                AND c.relname NOT IN ('tenant_role_assignment', 'resource_grant', 'resource',
                                      'audit_log', 'api_key')
              ORDER BY 1
    LOOP
        tbl := r.relname;
        EXECUTE format('SELECT md5(coalesce(string_agg(x::text, E''\n'' ORDER BY x::text), '''')) FROM zenml_rbac.%I x',
                       r.relname) INTO fingerprint;
        RETURN NEXT;
    END LOOP;
    -- api_key: authenticate() may note last use; every other column counts
    tbl := 'api_key';
    SELECT md5(coalesce(string_agg(concat_ws('|', k.id, k.principal_id, k.key_hash, k.key_prefix, k.created_at,
                                           k.expires_at, k.retired_at, k.revoked_at),
                                   E'\n' ORDER BY k.id), ''))
      INTO fingerprint FROM zenml_rbac.api_key k;
    RETURN NEXT;
END
$$;

-- The state before the workload: its rows, the other tables, the audit head.
CREATE TABLE workload.initial_state AS SELECT * FROM workload.state(NULL);
CREATE TABLE workload.initial_other AS SELECT * FROM workload.other_tables();
CREATE TABLE workload.initial_head AS SELECT seq FROM zenml_rbac.audit_head();

-- One row per committed toggle.  seq is drawn under the tenant's lock, so
-- for each tenant it orders the toggles as they committed.
CREATE TABLE workload.ledger (
    seq       bigserial PRIMARY KEY,
    xid       xid8        NOT NULL UNIQUE DEFAULT pg_current_xact_id(),
    op        text        NOT NULL CHECK (op IN ('grant', 'revoke', 'share', 'unshare', 'insert_model', 'delete_model')),
    tenant    uuid        NOT NULL,
    actor     uuid        NOT NULL,
    principal uuid,
    role      text,
    resource  text,
    actions   text[],
    model     text,
    changes   int         NOT NULL,
    at        timestamptz NOT NULL DEFAULT clock_timestamp()
);
-- One row per catalog row a toggle changed.
CREATE TABLE workload.ledger_change (
    xid       xid8 NOT NULL REFERENCES workload.ledger (xid),
    kind      text NOT NULL,
    object_id text NOT NULL,
    operation text NOT NULL CHECK (operation IN ('INSERT', 'UPDATE', 'DELETE')),
    content   text
);
CREATE INDEX ON workload.ledger_change (xid);
-- a toggle's parameters between begin_change() and end_change()
CREATE TABLE workload.pending (
    xid       xid8 PRIMARY KEY,
    tenant    uuid NOT NULL,
    actor     uuid NOT NULL,
    resources uuid[] NOT NULL,
    before    jsonb NOT NULL,
    model_id  uuid,
    model_op  text
);

-- Every workload change of a tenant's rows holds this lock until it commits,
-- so the rows a toggle reads after taking it are the ones it then changes.
CREATE FUNCTION workload.lock_tenant(p_tenant uuid) RETURNS void
LANGUAGE sql AS $$ SELECT pg_advisory_xact_lock(4242, hashtext(p_tenant::text)) $$;

CREATE FUNCTION workload.begin_change(p_tenant uuid, p_actor uuid, p_resources uuid[] DEFAULT '{}')
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM workload.lock_tenant(p_tenant);
    PERFORM zenml_rbac.set_principal(p_actor);
    INSERT INTO workload.pending (xid, tenant, actor, resources, before)
    SELECT pg_current_xact_id(), p_tenant, p_actor, p_resources,
           coalesce(jsonb_agg(jsonb_build_array(s.kind, s.object_id, s.content)), '[]')
      FROM workload.state(p_tenant, p_resources) s;
END
$$;

CREATE FUNCTION workload.end_change(p_op text, p_principal uuid, p_role text, p_resource text,
                                    p_actions text[], p_model text) RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    p workload.pending;
    n int;
BEGIN
    DELETE FROM workload.pending WHERE xid = pg_current_xact_id() RETURNING * INTO p;
    INSERT INTO workload.ledger (op, tenant, actor, principal, role, resource, actions, model, changes)
    VALUES (p_op, p.tenant, p.actor, p_principal, p_role, p_resource, p_actions, p_model, 0);
    WITH b AS (SELECT e->>0 AS kind, e->>1 AS object_id, e->>2 AS content FROM jsonb_array_elements(p.before) e),
    a AS (SELECT * FROM workload.state(p.tenant, p.resources))
    INSERT INTO workload.ledger_change (xid, kind, object_id, operation, content)
    SELECT pg_current_xact_id(), coalesce(a.kind, b.kind), coalesce(a.object_id, b.object_id),
           CASE WHEN b.kind IS NULL THEN 'INSERT' WHEN a.kind IS NULL THEN 'DELETE' ELSE 'UPDATE' END,
           a.content
      FROM a FULL JOIN b ON a.kind = b.kind AND a.object_id = b.object_id
     WHERE a.content IS DISTINCT FROM b.content OR a.kind IS NULL OR b.kind IS NULL;
    GET DIAGNOSTICS n = ROW_COUNT;
    UPDATE workload.ledger SET changes = n WHERE xid = pg_current_xact_id();
    RETURN n;
END
$$;

-- Grant the item's role if the principal lacks it, else revoke it.
CREATE FUNCTION workload.toggle_role(p_n int DEFAULT NULL) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    it workload.item;
    op text;
BEGIN
    SELECT * INTO it FROM workload.item i WHERE i.kind = 'role' AND (p_n IS NULL OR i.n = p_n)
     ORDER BY random() LIMIT 1;
    PERFORM workload.begin_change(it.tenant, it.actor);
    IF EXISTS (SELECT 1 FROM zenml_rbac.tenant_role_assignment a JOIN zenml_rbac.role r ON r.id = a.role_id
                WHERE a.tenant_id = it.tenant AND a.principal_id = it.principal AND r.name = it.role
                  AND (r.tenant_id IS NULL OR r.tenant_id = it.tenant)) THEN
        op := 'revoke';
        PERFORM zenml_rbac.revoke_tenant_role(it.tenant, it.principal, it.role);
    ELSE
        op := 'grant';
        PERFORM zenml_rbac.grant_tenant_role(it.tenant, it.principal, it.role);
    END IF;
    PERFORM workload.end_change(op, it.principal, it.role, NULL, NULL, NULL);
    RETURN op;
END
$$;

-- Move the item's share one step: none -> {read} -> {read,update} -> none.
CREATE FUNCTION workload.toggle_share(p_n int DEFAULT NULL) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    it workload.item;
    cur text[];
    nxt text[];
BEGIN
    SELECT * INTO it FROM workload.item i WHERE i.kind = 'share' AND (p_n IS NULL OR i.n = p_n)
     ORDER BY random() LIMIT 1;
    PERFORM workload.begin_change(it.tenant, it.actor);
    SELECT g.actions INTO cur FROM zenml_rbac.resource_grant g
     WHERE g.tenant_id = it.tenant AND g.resource_type || '/' || g.resource_id = it.resource
       AND g.principal_id = it.principal;
    nxt := CASE WHEN cur IS NULL THEN ARRAY['read']
                WHEN cur = ARRAY['read'] THEN ARRAY['read', 'update']
                ELSE '{}'::text[] END;
    PERFORM zenml_rbac.share_resource(it.tenant, it.resource, it.principal, nxt);
    PERFORM workload.end_change(CASE WHEN nxt = '{}' THEN 'unshare' ELSE 'share' END,
                                it.principal, NULL, it.resource, nxt, NULL);
    RETURN array_to_string(nxt, ',');
END
$$;

-- A row of a (protected) models table is inserted or deleted by its owner
-- through row-level security, as the application role:
--   SELECT workload.model_begin('public.models');          -- as anyone
--   SET LOCAL ROLE fixture_app;
--   INSERT INTO public.models SELECT * FROM workload.model_insert();
--   DELETE FROM public.models WHERE id = workload.model_delete();
--   SELECT workload.model_end();
-- model_begin() picks a slot and decides; exactly one of the two DML
-- statements then affects a row.
CREATE FUNCTION workload.model_begin(tbl regclass, p_n int DEFAULT NULL) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    it workload.item;
    existing uuid;
BEGIN
    SELECT * INTO it FROM workload.item i WHERE i.kind = 'model' AND (p_n IS NULL OR i.n = p_n)
     ORDER BY random() LIMIT 1;
    PERFORM workload.lock_tenant(it.tenant);
    EXECUTE format('SELECT id FROM %s WHERE tenant_id = $1 AND name = $2', tbl)
       INTO existing USING it.tenant, it.model;
    PERFORM workload.begin_change(it.tenant, it.actor, ARRAY[coalesce(existing, gen_random_uuid())]);
    UPDATE workload.pending
       SET model_id = resources[1],
           model_op = CASE WHEN existing IS NULL THEN 'insert_model' ELSE 'delete_model' END
     WHERE xid = pg_current_xact_id();
    PERFORM set_config('workload.model', it.model, true);
    RETURN CASE WHEN existing IS NULL THEN 'insert' ELSE 'delete' END;
END
$$;

CREATE FUNCTION workload.model_insert(OUT id uuid, OUT tenant_id uuid, OUT owner_id uuid, OUT name text)
RETURNS SETOF record
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT p.model_id, p.tenant, p.actor, current_setting('workload.model')
      FROM workload.pending p WHERE p.xid = pg_current_xact_id() AND p.model_op = 'insert_model'
$$;

CREATE FUNCTION workload.model_delete() RETURNS uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT p.model_id FROM workload.pending p
     WHERE p.xid = pg_current_xact_id() AND p.model_op = 'delete_model'
$$;

CREATE FUNCTION workload.model_end() RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    p workload.pending;
BEGIN
    SELECT * INTO p FROM workload.pending WHERE xid = pg_current_xact_id();
    RETURN workload.end_change(p.model_op, NULL, NULL, 'model/' || p.model_id, NULL,
                               current_setting('workload.model'));
END
$$;

-- The checks, one row each: a name, the number of problems (0 = holds), and
-- what was looked at.
CREATE FUNCTION workload.checks() RETURNS TABLE (name text, problems bigint, detail text)
LANGUAGE plpgsql AS $$
DECLARE
    base bigint := (SELECT seq FROM workload.initial_head);
    -- test/bench/load.sh also runs the workload on an unprotected copy:
    -- there the model toggles change no catalog row
    protected boolean := EXISTS (SELECT FROM zenml_rbac.protected_table WHERE relid = 'public.models'::regclass);
    n bigint;
    m bigint;
BEGIN
    -- exactly one audit event per changed row of a committed toggle (same
    -- transaction, row, operation, new content and acting principal), and
    -- no other event
    name := 'audit events = ledger changes';
    WITH ev AS (
        SELECT a.transaction_id AS xid, a.principal_id AS actor, a.object_kind AS kind, a.object_id, a.operation,
               CASE a.object_kind
                    WHEN 'resource_grant' THEN (SELECT string_agg(x, ',' ORDER BY o)
                                                  FROM jsonb_array_elements_text(a.after->'actions') WITH ORDINALITY e(x, o))
                    WHEN 'resource' THEN coalesce(a.after->>'owner_id', '')
                    ELSE '' END AS content
          FROM zenml_rbac.audit_log a
         WHERE a.chain = (SELECT chain FROM zenml_rbac.audit_local_chain) AND a.seq > base
    ), lc AS (
        SELECT c.xid, l.actor, c.kind, c.object_id, c.operation,
               CASE WHEN c.operation = 'DELETE' THEN NULL ELSE c.content END AS content
          FROM workload.ledger_change c JOIN workload.ledger l ON l.xid = c.xid
    ), evn AS (
        SELECT xid, actor, kind, object_id, operation, CASE WHEN operation = 'DELETE' THEN NULL ELSE content END AS content
          FROM ev
    ), only_ev AS (SELECT * FROM evn EXCEPT ALL SELECT * FROM lc),
       only_lc AS (SELECT * FROM lc EXCEPT ALL SELECT * FROM evn)
    SELECT (SELECT count(*) FROM only_ev) + (SELECT count(*) FROM only_lc),
           format('%s events after the fixture, %s ledger changes in %s toggles; %s events without a ledger change, %s ledger changes without an event',
                  (SELECT count(*) FROM ev), (SELECT count(*) FROM lc), (SELECT count(*) FROM workload.ledger),
                  (SELECT count(*) FROM only_ev), (SELECT count(*) FROM only_lc))
      INTO problems, detail;
    RETURN NEXT;

    -- each toggle changed what it meant to change, and nothing else (but a
    -- revoke also drops the shares of whoever left the tenant)
    name := 'toggles did what they meant';
    WITH l AS (
        SELECT l.*, r.id AS role_id FROM workload.ledger l
          LEFT JOIN zenml_rbac.role r ON r.name = l.role AND (r.tenant_id IS NULL OR r.tenant_id = l.tenant)
    ), want AS (
        SELECT l.xid,
               CASE WHEN l.op IN ('grant', 'revoke') THEN 'tenant_role_assignment'
                    WHEN l.op IN ('share', 'unshare') THEN 'resource_grant' ELSE 'resource' END AS kind,
               CASE WHEN l.op IN ('grant', 'revoke') THEN concat_ws('/', l.tenant, l.principal, l.role_id)
                    WHEN l.op IN ('share', 'unshare') THEN concat_ws('/', l.tenant, l.resource, l.principal)
                    ELSE concat_ws('/', l.tenant, l.resource) END AS object_id,
               l.op, l.actions, l.actor
          FROM l
    ), bad AS (
        SELECT w.xid FROM want w
         WHERE w.op IN ('insert_model', 'delete_model') AND NOT protected
           AND EXISTS (SELECT 1 FROM workload.ledger_change c WHERE c.xid = w.xid)
        UNION ALL
        SELECT w.xid FROM want w
         WHERE (protected OR w.op NOT IN ('insert_model', 'delete_model'))
           AND (NOT EXISTS (
                SELECT 1 FROM workload.ledger_change c
                 WHERE c.xid = w.xid AND c.kind = w.kind AND c.object_id = w.object_id
                   AND CASE w.op WHEN 'grant' THEN c.operation = 'INSERT'
                                 WHEN 'revoke' THEN c.operation = 'DELETE'
                                 WHEN 'share' THEN c.operation IN ('INSERT', 'UPDATE')
                                                   AND c.content = array_to_string(w.actions, ',')
                                 WHEN 'unshare' THEN c.operation = 'DELETE'
                                 WHEN 'insert_model' THEN c.operation = 'INSERT' AND c.content = w.actor::text
                                 WHEN 'delete_model' THEN c.operation = 'DELETE' END)
            OR EXISTS (
                SELECT 1 FROM workload.ledger_change c
                 WHERE c.xid = w.xid AND (c.kind, c.object_id) IS DISTINCT FROM (w.kind, w.object_id)
                   AND NOT (w.op = 'revoke' AND c.kind = 'resource_grant' AND c.operation = 'DELETE')))
    )
    SELECT count(*), format('%s toggles: %s; %s revokes also dropped shares of members who left',
                            (SELECT count(*) FROM workload.ledger),
                            (SELECT string_agg(op || ' ' || c, ', ' ORDER BY op)
                               FROM (SELECT op, count(*) AS c FROM workload.ledger GROUP BY op) s),
                            (SELECT count(DISTINCT l.xid) FROM workload.ledger l JOIN workload.ledger_change c ON c.xid = l.xid
                              WHERE l.op = 'revoke' AND c.kind = 'resource_grant'))
      INTO problems, detail FROM bad;
    RETURN NEXT;

    -- the catalog is the initial state with the ledger's changes applied in
    -- order (per tenant, ledger.seq is commit order)
    name := 'catalog = initial state + ledger';
    WITH last AS (
        SELECT DISTINCT ON (c.kind, c.object_id) c.kind, c.object_id, c.operation, c.content
          FROM workload.ledger_change c JOIN workload.ledger l ON l.xid = c.xid
         ORDER BY c.kind, c.object_id, l.seq DESC
    ), expected AS (
        SELECT i.kind, i.object_id, i.content FROM workload.initial_state i
         WHERE NOT EXISTS (SELECT 1 FROM last WHERE last.kind = i.kind AND last.object_id = i.object_id)
        UNION ALL
        SELECT kind, object_id, content FROM last WHERE operation <> 'DELETE'
    ), actual AS (SELECT * FROM workload.state(NULL)),
    d AS ((SELECT * FROM expected EXCEPT ALL SELECT * FROM actual)
          UNION ALL (SELECT * FROM actual EXCEPT ALL SELECT * FROM expected))
    SELECT count(*), format('%s rows expected, %s in the catalog (%s tenant roles, %s shares, %s resources)',
                            (SELECT count(*) FROM expected), (SELECT count(*) FROM actual),
                            (SELECT count(*) FROM actual WHERE kind = 'tenant_role_assignment'),
                            (SELECT count(*) FROM actual WHERE kind = 'resource_grant'),
                            (SELECT count(*) FROM actual WHERE kind = 'resource'))
      INTO problems, detail FROM d;
    RETURN NEXT;

    name := 'other catalog tables untouched';
    SELECT count(*), string_agg(o.tbl, ', ') INTO problems, detail
      FROM workload.initial_other o FULL JOIN workload.other_tables() c USING (tbl)
     WHERE o.fingerprint IS DISTINCT FROM c.fingerprint;
    detail := coalesce('changed: ' || detail, (SELECT count(*) FROM workload.initial_other) || ' tables compared');
    RETURN NEXT;

    -- every row of public.models is registered with its owner, and the
    -- workload's rows are there exactly when the ledger says so
    name := 'models rows = registered resources';
    SELECT count(*) INTO n FROM public.models m
     WHERE NOT EXISTS (SELECT 1 FROM zenml_rbac.resource r
                        WHERE r.tenant_id = m.tenant_id AND r.resource_type = 'model' AND r.resource_id = m.id
                          AND r.owner_id IS NOT DISTINCT FROM m.owner_id);
    SELECT count(*) INTO m FROM zenml_rbac.resource r
     WHERE r.resource_type = 'model' AND NOT EXISTS (SELECT 1 FROM public.models x WHERE x.id = r.resource_id);
    problems := n + m;
    detail := format('%s rows, %s unregistered, %s resources without a row', (SELECT count(*) FROM public.models), n, m);
    IF NOT protected THEN
        problems := 0;
        detail := 'public.models is not protected: not checked';
    END IF;
    RETURN NEXT;

    name := 'no toggle left half-done';
    SELECT count(*), count(*) || ' pending rows' INTO problems, detail FROM workload.pending;
    RETURN NEXT;
END
$$;

-- Foreign keys of the extension's schema, checked by hand: no orphans.
CREATE FUNCTION workload.fk_orphans() RETURNS TABLE (constraint_name text, orphans bigint)
LANGUAGE plpgsql AS $$
DECLARE
    c record;
    q text;
BEGIN
    FOR c IN
        SELECT con.conname, con.conrelid::regclass AS child, con.confrelid::regclass AS parent,
               array_agg(ca.attname ORDER BY k.ord) AS ccols, array_agg(pa.attname ORDER BY k.ord) AS pcols
          FROM pg_constraint con
          CROSS JOIN LATERAL unnest(con.conkey, con.confkey) WITH ORDINALITY k(ck, pk, ord)
          JOIN pg_attribute ca ON ca.attrelid = con.conrelid AND ca.attnum = k.ck
          JOIN pg_attribute pa ON pa.attrelid = con.confrelid AND pa.attnum = k.pk
         WHERE con.contype = 'f' AND con.connamespace = 'zenml_rbac'::regnamespace
         GROUP BY con.oid, con.conname, con.conrelid, con.confrelid
         ORDER BY con.conname
    LOOP
        -- MATCH SIMPLE: a row with any NULL key column references nothing
        q := format('SELECT count(*) FROM %s c WHERE %s AND NOT EXISTS (SELECT 1 FROM %s p WHERE %s)',
                    c.child,
                    (SELECT string_agg(format('c.%I IS NOT NULL', x), ' AND ') FROM unnest(c.ccols) x),
                    c.parent,
                    (SELECT string_agg(format('p.%I = c.%I', p, x), ' AND ')
                       FROM unnest(c.pcols, c.ccols) u(p, x)));
        constraint_name := c.child::text || '.' || c.conname;
        EXECUTE q INTO orphans;
        RETURN NEXT;
    END LOOP;
END
$$;

-- CHECK constraints of the extension's schema, evaluated again on every row.
CREATE FUNCTION workload.check_violations() RETURNS TABLE (constraint_name text, violations bigint)
LANGUAGE plpgsql AS $$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT con.conname, con.conrelid::regclass AS tbl, pg_get_expr(con.conbin, con.conrelid) AS expr
               FROM pg_constraint con
              WHERE con.contype = 'c' AND con.connamespace = 'zenml_rbac'::regnamespace
              ORDER BY 1
    LOOP
        constraint_name := c.tbl::text || '.' || c.conname;
        EXECUTE format('SELECT count(*) FROM %s WHERE NOT (%s)', c.tbl, c.expr) INTO violations;
        RETURN NEXT;
    END LOOP;
END
$$;

-- Unique indexes (primary keys and unique constraints included) of the
-- extension's schema, checked by hand: no two rows with the same non-NULL key.
CREATE FUNCTION workload.unique_violations() RETURNS TABLE (index_name text, duplicates bigint)
LANGUAGE plpgsql AS $$
DECLARE
    i record;
BEGIN
    FOR i IN SELECT x.indexrelid::regclass AS idx, x.indrelid::regclass AS tbl,
                    pg_get_expr(x.indpred, x.indrelid) AS pred,
                    array_agg(format('%I', a.attname) ORDER BY k.ord) AS cols
               FROM pg_index x
               JOIN pg_class c ON c.oid = x.indexrelid
              CROSS JOIN LATERAL unnest(x.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
               JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum
              WHERE x.indisunique AND c.relnamespace = 'zenml_rbac'::regnamespace AND x.indexprs IS NULL
              GROUP BY x.indexrelid, x.indrelid, x.indpred
              ORDER BY 1::text
    LOOP
        index_name := i.idx::text;
        EXECUTE format('SELECT count(*) FROM (SELECT 1 FROM %s WHERE %s AND (%s) GROUP BY %s HAVING count(*) > 1) d',
                       i.tbl,
                       (SELECT string_agg(col || ' IS NOT NULL', ' AND ') FROM unnest(i.cols) col),
                       coalesce(i.pred, 'true'), array_to_string(i.cols, ', '))
           INTO duplicates;
        RETURN NEXT;
    END LOOP;
END
$$;

-- rbac_can against effective_permissions on every principal x tenant x type
-- x action, and on every registered instance in its tenant (the regress
-- test reporting.sql's comparison).
CREATE FUNCTION workload.sweep() RETURNS TABLE (level text, cells bigint, allowed bigint, disagreements bigint)
LANGUAGE sql AS $$
    WITH ep AS MATERIALIZED (SELECT principal_id, tenant_id, resource_type, resource_id, action
                               FROM zenml_rbac.effective_permissions),
    ep_type AS MATERIALIZED (SELECT DISTINCT principal_id, tenant_id, resource_type, action
                               FROM ep WHERE resource_id IS NULL),
    ep_instance AS MATERIALIZED (SELECT DISTINCT principal_id, tenant_id, resource_type, resource_id, action
                                   FROM ep WHERE resource_id IS NOT NULL),
    actions(action) AS (VALUES ('create'), ('read'), ('update'), ('delete'), ('share')),
    type_cells AS (
        SELECT zenml_rbac.rbac_can(p.id, t.id, rt.name, a.action) AS can,
               et.principal_id IS NOT NULL AS in_view
          FROM zenml_rbac.principal p CROSS JOIN zenml_rbac.tenant t
         CROSS JOIN zenml_rbac.resource_type rt CROSS JOIN actions a
          LEFT JOIN ep_type et ON et.principal_id = p.id AND et.tenant_id = t.id
                              AND et.resource_type = rt.name AND et.action = a.action
    ), instance_cells AS (
        SELECT zenml_rbac.rbac_can(p.id, r.tenant_id, r.resource_type || '/' || r.resource_id, a.action) AS can,
               et.principal_id IS NOT NULL OR ei.principal_id IS NOT NULL AS in_view
          FROM zenml_rbac.principal p CROSS JOIN zenml_rbac.resource r CROSS JOIN actions a
          LEFT JOIN ep_type et ON et.principal_id = p.id AND et.tenant_id = r.tenant_id
                              AND et.resource_type = r.resource_type AND et.action = a.action
          LEFT JOIN ep_instance ei ON ei.principal_id = p.id AND ei.tenant_id = r.tenant_id
                                  AND ei.resource_type = r.resource_type AND ei.resource_id = r.resource_id
                                  AND ei.action = a.action
    )
    SELECT 'type', count(*), count(*) FILTER (WHERE can), count(*) FILTER (WHERE can <> in_view) FROM type_cells
    UNION ALL
    SELECT 'registered instance', count(*), count(*) FILTER (WHERE can), count(*) FILTER (WHERE can <> in_view)
      FROM instance_cells
$$;

-- The ledger's toggles as SQL: replayed in order in a copy of the database
-- taken before the workload (CREATE DATABASE ... TEMPLATE), they must
-- rebuild the same catalog.  One transaction per toggle, as its actor.
CREATE FUNCTION workload.replay_script() RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce(string_agg(
        format(E'BEGIN;\nSET LOCAL ROLE fixture_app;\nSELECT zenml_rbac.set_principal(%L);\n%s\nCOMMIT;',
               l.actor,
               CASE l.op
                    WHEN 'grant' THEN format('SELECT zenml_rbac.grant_tenant_role(%L, %L, %L);', l.tenant, l.principal, l.role)
                    WHEN 'revoke' THEN format('SELECT zenml_rbac.revoke_tenant_role(%L, %L, %L);', l.tenant, l.principal, l.role)
                    WHEN 'share' THEN format('SELECT zenml_rbac.share_resource(%L, %L, %L, %L);', l.tenant, l.resource, l.principal, l.actions)
                    WHEN 'unshare' THEN format('SELECT zenml_rbac.share_resource(%L, %L, %L, ''{}'');', l.tenant, l.resource, l.principal)
                    WHEN 'insert_model' THEN format('INSERT INTO public.models (id, tenant_id, owner_id, name) VALUES (%L, %L, %L, %L);',
                                                    split_part(l.resource, '/', 2), l.tenant, l.actor, l.model)
                    WHEN 'delete_model' THEN format('DELETE FROM public.models WHERE id = %L;', split_part(l.resource, '/', 2))
               END),
        E'\n' ORDER BY l.seq), '')
      FROM workload.ledger l
$$;
