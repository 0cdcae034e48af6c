-- The audit log (src/audit.c): every change of a catalog row, hash-chained.

CREATE TABLE zenml_rbac.audit_chain (
    id          uuid        PRIMARY KEY,
    started_at  timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
    anchor_seq  bigint      NOT NULL DEFAULT 0 CHECK (anchor_seq >= 0),
    anchor_hash bytea       NOT NULL DEFAULT pg_catalog.decode(pg_catalog.repeat('00', 32), 'hex')
                            CHECK (pg_catalog.length(anchor_hash) = 32)
);
COMMENT ON TABLE zenml_rbac.audit_chain IS
    'Audit chains: one per installation of the extension (a restored dump brings its source''s along). The anchor is the last purged event: the chain continues from its hash.';

CREATE TABLE zenml_rbac.audit_local_chain (
    chain    uuid    PRIMARY KEY REFERENCES zenml_rbac.audit_chain,
    only_one boolean NOT NULL DEFAULT true UNIQUE CHECK (only_one)
);
COMMENT ON TABLE zenml_rbac.audit_local_chain IS
    'The chain this database appends to. Not dumped: a restore starts a chain of its own.';

CREATE TABLE zenml_rbac.audit_log (
    chain             uuid        NOT NULL REFERENCES zenml_rbac.audit_chain,
    seq               bigint      NOT NULL CHECK (seq > 0),
    event_time        timestamptz NOT NULL,
    transaction_id    xid8        NOT NULL,
    principal_id      uuid,
    session_user_name name        NOT NULL,
    role_name         name        NOT NULL,
    application_name  text,
    client_addr       inet,
    operation         text        NOT NULL,
    object_kind       text        NOT NULL,
    object_id         text        NOT NULL,
    org_id            uuid,
    tenant_id         uuid,
    subject_id        uuid,
    before            jsonb,
    after             jsonb,
    prev_hash         bytea       NOT NULL,
    hash              bytea       NOT NULL,
    PRIMARY KEY (chain, seq)
);
CREATE INDEX audit_log_object ON zenml_rbac.audit_log (object_kind, object_id);
CREATE INDEX audit_log_time ON zenml_rbac.audit_log (event_time);
COMMENT ON TABLE zenml_rbac.audit_log IS
    'Append-only, hash-chained audit events: one per changed catalog row, written at commit. Read it through zenml_rbac.audit_events.';
COMMENT ON COLUMN zenml_rbac.audit_log.seq IS 'Position in the chain: 1, 2, 3, ... in commit order.';
COMMENT ON COLUMN zenml_rbac.audit_log.event_time IS 'When the row changed (clock time inside the transaction).';
COMMENT ON COLUMN zenml_rbac.audit_log.principal_id IS 'The acting principal (current_principal()); NULL for the system or a DBA without one.';
COMMENT ON COLUMN zenml_rbac.audit_log.session_user_name IS 'session_user of the connection.';
COMMENT ON COLUMN zenml_rbac.audit_log.role_name IS 'The role the session acted as (after SET ROLE; not the definer of a SECURITY DEFINER function).';
COMMENT ON COLUMN zenml_rbac.audit_log.operation IS 'INSERT, UPDATE, DELETE, TRUNCATE, or PURGE (purge_audit_log).';
COMMENT ON COLUMN zenml_rbac.audit_log.object_kind IS 'The catalog table the row belongs to.';
COMMENT ON COLUMN zenml_rbac.audit_log.object_id IS 'The row''s primary key, columns joined with ''/''.';
COMMENT ON COLUMN zenml_rbac.audit_log.subject_id IS 'The principal the change is about (the assignee, member, grantee, owner or key holder).';
COMMENT ON COLUMN zenml_rbac.audit_log.before IS 'The row before the change (no API-key hash, ever).';
COMMENT ON COLUMN zenml_rbac.audit_log.after IS 'The row after the change (no API-key hash, ever).';
COMMENT ON COLUMN zenml_rbac.audit_log.hash IS 'SHA-256 over every other column, prev_hash included.';

-- This installation's chain.
INSERT INTO zenml_rbac.audit_chain (id) VALUES (pg_catalog.gen_random_uuid());
INSERT INTO zenml_rbac.audit_local_chain (chain) SELECT id FROM zenml_rbac.audit_chain;

SELECT pg_catalog.pg_extension_config_dump('zenml_rbac.audit_chain', '');
SELECT pg_catalog.pg_extension_config_dump('zenml_rbac.audit_log', '');

CREATE FUNCTION zenml_rbac.audit_guard() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'audit_guard';
COMMENT ON FUNCTION zenml_rbac.audit_guard() IS
    'Trigger: the audit tables change only by appending and purging; superusers are let through, and verify_audit_log() reports what they edit.';

CREATE FUNCTION zenml_rbac.audit_capture() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'audit_capture';
COMMENT ON FUNCTION zenml_rbac.audit_capture() IS
    'Trigger: queues an audit event for each changed catalog row; arguments: kind, key columns, organization, tenant and subject columns, columns never recorded.';

-- The catalog tables' capture triggers come from their list, with the
-- invalidation triggers (src/sql/catalog_triggers.sql).
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['audit_chain', 'audit_local_chain', 'audit_log']
    LOOP
        EXECUTE pg_catalog.format(
            'CREATE TRIGGER audit_guard BEFORE INSERT OR UPDATE OR DELETE ON zenml_rbac.%I '
            'FOR EACH ROW EXECUTE FUNCTION zenml_rbac.audit_guard()', t);
        EXECUTE pg_catalog.format(
            'CREATE TRIGGER audit_guard_truncate BEFORE TRUNCATE ON zenml_rbac.%I '
            'FOR EACH STATEMENT EXECUTE FUNCTION zenml_rbac.audit_guard()', t);
    END LOOP;
END
$$;

-- authenticate() notes when a key was last used: usage, not a change, so
-- that column alone is not audited (every other column is; keep this list
-- whole when api_key gains a column).
CREATE TRIGGER audit_capture_update AFTER UPDATE ON zenml_rbac.api_key FOR EACH ROW
    WHEN ((OLD.id, OLD.principal_id, OLD.key_hash, OLD.key_prefix, OLD.created_at,
           OLD.expires_at, OLD.retired_at, OLD.revoked_at)
          IS DISTINCT FROM
          (NEW.id, NEW.principal_id, NEW.key_hash, NEW.key_prefix, NEW.created_at,
           NEW.expires_at, NEW.retired_at, NEW.revoked_at))
    EXECUTE FUNCTION zenml_rbac.audit_capture('api_key', 'id', '', '', 'principal_id', 'key_hash');

CREATE FUNCTION zenml_rbac.verify_audit_log(OUT valid boolean, OUT events_checked bigint,
                                            OUT chain uuid, OUT broken_seq bigint, OUT problem text)
    LANGUAGE c VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'verify_audit_log';
COMMENT ON FUNCTION zenml_rbac.verify_audit_log() IS
    'Walks every audit chain from its anchor, recomputing each hash. One row: valid, events checked, and the first broken or missing link (chain, seq, what is wrong), NULL when none.';

CREATE FUNCTION zenml_rbac.purge_audit_log(before timestamptz) RETURNS bigint
    LANGUAGE c VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'purge_audit_log';
COMMENT ON FUNCTION zenml_rbac.purge_audit_log(timestamptz) IS
    'Removes the events before the first one at or after `before`, leaving an anchor so the chain still verifies, and records a PURGE event. Returns the number removed. System only.';

CREATE FUNCTION zenml_rbac.audit_head(OUT chain uuid, OUT seq bigint, OUT hash bytea)
    LANGUAGE c VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'audit_head';
COMMENT ON FUNCTION zenml_rbac.audit_head() IS
    'The last committed event of this database''s chain. Keep it outside the database to show later that the chain was not rewritten wholesale.';

-- Who may call these: purging authorizes its caller (the system) itself.
-- Reading the log is for whom the DBA grants it (README, "Audit"), e.g.
--   GRANT SELECT ON zenml_rbac.audit_events TO auditor;
--   GRANT EXECUTE ON FUNCTION zenml_rbac.verify_audit_log(), zenml_rbac.audit_head() TO auditor;
REVOKE ALL ON
    zenml_rbac.audit_chain,
    zenml_rbac.audit_local_chain,
    zenml_rbac.audit_log
    FROM PUBLIC;
REVOKE ALL ON FUNCTION
    zenml_rbac.audit_capture(),
    zenml_rbac.audit_guard(),
    zenml_rbac.audit_head(),
    zenml_rbac.purge_audit_log(timestamp with time zone),
    zenml_rbac.verify_audit_log()
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    zenml_rbac.purge_audit_log(timestamp with time zone)
    TO PUBLIC;
