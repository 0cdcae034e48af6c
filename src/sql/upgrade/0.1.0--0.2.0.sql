-- zenml_rbac 0.1.0 -> 0.2.0: identity providers (OIDC tokens, appended from
-- src/sql/identity_providers.sql by the Makefile); the catalog can be
-- published with logical
-- replication (caches invalidated on subscribers, seeded rows filterable);
-- a dump whose custom role precedes its base role restores; protect()
-- refuses temporary tables and names a missing relation; unprotect() of a
-- table that is not protected leaves it alone; names may not look like
-- uuids.
-- The upgrade test checks the result equals a fresh 0.2.0 install.

\echo Use "ALTER EXTENSION zenml_rbac UPDATE TO '0.2.0'" to load this file. \quit

COMMENT ON FUNCTION zenml_rbac.catalog_changed() IS
    'Trigger: sends a relcache invalidation for its table so every backend''s rbac cache drops what is stale at commit.';

DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['organization', 'tenant', 'principal', 'org_role_assignment',
                             'team_member', 'resource_type', 'role', 'role_permission',
                             'tenant_role_assignment', 'resource', 'resource_grant']
    LOOP
        EXECUTE pg_catalog.format(
            'CREATE TRIGGER zz_invalidate_cache_replica AFTER INSERT OR UPDATE OR DELETE '
            'ON zenml_rbac.%I FOR EACH ROW EXECUTE FUNCTION zenml_rbac.catalog_changed()', t);
        EXECUTE pg_catalog.format('ALTER TABLE zenml_rbac.%I ENABLE REPLICA TRIGGER zz_invalidate_cache_replica', t);
    END LOOP;
END
$$;

ALTER TABLE zenml_rbac.resource_type REPLICA IDENTITY FULL;
ALTER TABLE zenml_rbac.role REPLICA IDENTITY FULL;

-- Checked at the end of the statement, when all its rows are in: pg_dump
-- copies the table in physical order, which may put a role before its base.
-- (and a cycle is looked for before the chain's length, which would go round it)
CREATE OR REPLACE FUNCTION zenml_rbac._role_integrity() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NEW.tenant_id IS NULL THEN
        RETURN NEW;
    END IF;
    IF NEW.name IN ('org_admin', 'org_editor', 'org_viewer')
       OR EXISTS (SELECT 1 FROM zenml_rbac.role r WHERE r.tenant_id IS NULL AND r.name = NEW.name) THEN
        RAISE EXCEPTION 'role "%" already exists', NEW.name
            USING ERRCODE = '42710', DETAIL = 'Predefined role names cannot be reused.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM zenml_rbac.role b
                    WHERE b.id = NEW.base_role_id
                      AND (b.tenant_id IS NULL OR b.tenant_id = NEW.tenant_id)) THEN
        RAISE EXCEPTION 'base of role "%" must be a predefined role or a role of the same tenant', NEW.name
            USING ERRCODE = '22023';
    END IF;
    -- a cycle first: the chain walk below would go round it
    IF EXISTS (WITH RECURSIVE chain(id) AS (
                   SELECT NEW.base_role_id
                   UNION
                   SELECT r.base_role_id FROM zenml_rbac.role r JOIN chain c ON r.id = c.id
                    WHERE r.base_role_id IS NOT NULL)
               SELECT 1 FROM chain WHERE id = NEW.id) THEN
        RAISE EXCEPTION 'role "%" cannot be based on itself', NEW.name
            USING ERRCODE = '22023', DETAIL = 'Role inheritance must not form a cycle.';
    END IF;
    -- the engine computes chains of up to 64 roles; keep well inside that
    IF (WITH RECURSIVE chain(id, depth) AS (
            SELECT NEW.base_role_id, 1
            UNION ALL
            SELECT r.base_role_id, c.depth + 1 FROM zenml_rbac.role r JOIN chain c ON r.id = c.id
             WHERE r.base_role_id IS NOT NULL AND c.depth <= 64)
        SELECT max(depth) FROM chain) > 32 THEN
        RAISE EXCEPTION 'role "%" would be based on a chain of more than 32 roles', NEW.name
            USING ERRCODE = '54000';
    END IF;
    RETURN NEW;
END
$$;
DROP TRIGGER role_integrity ON zenml_rbac.role;
CREATE CONSTRAINT TRIGGER role_integrity AFTER INSERT OR UPDATE OF tenant_id, name, base_role_id
    ON zenml_rbac.role FOR EACH ROW EXECUTE FUNCTION zenml_rbac._role_integrity();

-- protect(): 42P01 for a relation that does not exist, 0A000 for a
-- temporary table; unprotect(): a table that is not protected is left alone
CREATE OR REPLACE FUNCTION zenml_rbac.protect(tbl regclass, resource_type text, tenant_column name,
                                   id_column name DEFAULT 'id', owner_column name DEFAULT NULL)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_kind     "char";
    v_owner    regrole;
    v_kind_of_type text;
    v_changed  text;
    v_skipped  bigint;
    v_others   text;
BEGIN
    PERFORM zenml_rbac._require_system('protect tables');
    PERFORM zenml_rbac._not_null('table', tbl);
    PERFORM zenml_rbac._not_null('resource type', resource_type);
    PERFORM zenml_rbac._not_null('tenant column', tenant_column);
    PERFORM zenml_rbac._not_null('id column', id_column);

    SELECT c.relkind, c.relowner::regrole INTO v_kind, v_owner FROM pg_class c WHERE c.oid = tbl;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'relation with OID % does not exist', tbl::oid USING ERRCODE = '42P01';
    END IF;
    IF v_kind = 'p' THEN
        RAISE EXCEPTION 'cannot protect partitioned table %', tbl
            USING ERRCODE = '0A000',
                  DETAIL = 'Its partitions could be read and written directly, past the parent''s policies.';
    ELSIF v_kind <> 'r' THEN
        RAISE EXCEPTION '% is not a table', tbl USING ERRCODE = '42809';
    END IF;
    IF (SELECT c.relpersistence FROM pg_class c WHERE c.oid = tbl) = 't' THEN
        RAISE EXCEPTION 'cannot protect temporary table %', tbl
            USING ERRCODE = '0A000',
                  DETAIL = 'A temporary table goes away without a drop event, leaving its protection behind.';
    END IF;
    IF EXISTS (SELECT FROM pg_inherits WHERE inhrelid = tbl OR inhparent = tbl) THEN
        RAISE EXCEPTION 'cannot protect table %, which takes part in inheritance', tbl
            USING ERRCODE = '0A000',
                  DETAIL = 'Rows of a parent or child table could be reached past these policies.';
    END IF;
    SELECT t.kind INTO v_kind_of_type FROM zenml_rbac.resource_type t WHERE t.name = protect.resource_type;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown resource type "%"', left(protect.resource_type, 64)
            USING ERRCODE = '22023', HINT = 'Register it with zenml_rbac.register_resource_type() first.';
    END IF;
    IF v_kind_of_type <> 'data' THEN
        RAISE EXCEPTION 'resource type "%" is an administration type', protect.resource_type
            USING ERRCODE = '22023', DETAIL = 'Rows of application tables are data resources.';
    END IF;
    PERFORM zenml_rbac._require_uuid_column(tbl, 'tenant', tenant_column);
    PERFORM zenml_rbac._require_uuid_column(tbl, 'id', id_column);
    IF owner_column IS NOT NULL THEN
        PERFORM zenml_rbac._require_uuid_column(tbl, 'owner', owner_column);
    END IF;
    IF tenant_column = id_column OR tenant_column = owner_column OR id_column = owner_column THEN
        RAISE EXCEPTION 'the tenant, id and owner columns must be distinct' USING ERRCODE = '22023';
    END IF;

    -- Protecting again replaces what an earlier protect() made.
    PERFORM zenml_rbac._drop_protection(tbl);

    -- With an owner column, a third arm passes the principal's own rows in
    -- tenants where its roles do not give read: a row it just inserted is
    -- registered only at the end of the statement, and RETURNING needs it.
    EXECUTE format('CREATE POLICY zenml_rbac_select ON %s FOR SELECT USING (%s%s)', tbl,
                   zenml_rbac._policy_expression(resource_type, 'read', tenant_column, id_column),
                   CASE WHEN owner_column IS NULL THEN ''
                        ELSE format(' OR (%I = (SELECT zenml_rbac.current_principal())'
                                    ' AND %I = ANY ((SELECT zenml_rbac.rls_owner_tenants(%L, ''read''))::uuid[]))',
                                    owner_column, tenant_column, resource_type) END);
    EXECUTE format('CREATE POLICY zenml_rbac_insert ON %s FOR INSERT WITH CHECK'
                   ' (%I = ANY ((SELECT zenml_rbac.rls_tenants(%L, ''create''))::uuid[])%s)',
                   tbl, tenant_column, resource_type,
                   CASE WHEN owner_column IS NULL THEN ''
                        ELSE format(' AND %I = (SELECT zenml_rbac.current_principal())', owner_column) END);
    -- The new row passes for update (or as the owner the column names), and
    -- stays where it is registered or lands where the principal may create.
    EXECUTE format('CREATE POLICY zenml_rbac_update ON %s FOR UPDATE USING %s WITH CHECK'
                   ' ((%s%s) AND (%I = ANY ((SELECT zenml_rbac.rls_tenants(%L, ''create''))::uuid[])'
                   ' OR zenml_rbac.rls_registered(%I, %I, %L)))',
                   tbl,
                   zenml_rbac._policy_expression(resource_type, 'update', tenant_column, id_column),
                   zenml_rbac._policy_expression(resource_type, 'update', tenant_column, id_column),
                   CASE WHEN owner_column IS NULL THEN ''
                        ELSE format(' OR %I = (SELECT zenml_rbac.current_principal())', owner_column) END,
                   tenant_column, resource_type, tenant_column, id_column, resource_type);
    EXECUTE format('CREATE POLICY zenml_rbac_delete ON %s FOR DELETE USING %s', tbl,
                   zenml_rbac._policy_expression(resource_type, 'delete', tenant_column, id_column));

    EXECUTE format('CREATE TRIGGER zz_zenml_rbac_check BEFORE INSERT OR UPDATE ON %s'
                   ' FOR EACH ROW EXECUTE FUNCTION zenml_rbac.protect_check()', tbl);
    EXECUTE format('CREATE TRIGGER zz_zenml_rbac_register AFTER INSERT ON %s'
                   ' REFERENCING NEW TABLE AS zenml_rbac_new'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION zenml_rbac.protect_sync()', tbl);
    v_changed := format('OLD.%1$I IS DISTINCT FROM NEW.%1$I OR OLD.%2$I IS DISTINCT FROM NEW.%2$I',
                        tenant_column, id_column);
    IF owner_column IS NOT NULL THEN
        v_changed := v_changed || format(' OR OLD.%1$I IS DISTINCT FROM NEW.%1$I', owner_column);
    END IF;
    EXECUTE format('CREATE TRIGGER zz_zenml_rbac_reregister AFTER UPDATE ON %s'
                   ' FOR EACH ROW WHEN (%s) EXECUTE FUNCTION zenml_rbac.protect_sync()', tbl, v_changed);
    EXECUTE format('CREATE TRIGGER zz_zenml_rbac_unregister AFTER DELETE ON %s'
                   ' REFERENCING OLD TABLE AS zenml_rbac_old'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION zenml_rbac.protect_sync()', tbl);
    EXECUTE format('CREATE TRIGGER zz_zenml_rbac_truncate BEFORE TRUNCATE ON %s'
                   ' FOR EACH STATEMENT EXECUTE FUNCTION zenml_rbac.protect_sync()', tbl);
    EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', tbl);

    INSERT INTO zenml_rbac.protected_table AS p (relid, resource_type, tenant_column, id_column, owner_column)
    VALUES (tbl, protect.resource_type, tenant_column, id_column, owner_column)
    ON CONFLICT (relid) DO UPDATE
       SET resource_type = EXCLUDED.resource_type, tenant_column = EXCLUDED.tenant_column,
           id_column = EXCLUDED.id_column, owner_column = EXCLUDED.owner_column,
           protected_at = pg_catalog.now();

    -- Rows already there become resources (owner: the owner column, when it names a principal).
    EXECUTE format('INSERT INTO zenml_rbac.resource (tenant_id, resource_type, resource_id, owner_id)'
                   ' SELECT DISTINCT ON (r.%1$I, r.%2$I) r.%1$I, %3$L, r.%2$I, %4$s'
                   ' FROM %5$s r JOIN zenml_rbac.tenant t ON t.id = r.%1$I'
                   ' WHERE r.%2$I IS NOT NULL ON CONFLICT DO NOTHING',
                   tenant_column, id_column, resource_type,
                   CASE WHEN owner_column IS NULL THEN 'NULL::uuid'
                        ELSE format('(SELECT p.id FROM zenml_rbac.principal p WHERE p.id = r.%I)', owner_column) END,
                   tbl);
    EXECUTE format('SELECT count(*) FROM %s r WHERE r.%I IS NULL OR r.%I IS NULL'
                   ' OR NOT EXISTS (SELECT FROM zenml_rbac.tenant t WHERE t.id = r.%I)',
                   tbl, tenant_column, id_column, tenant_column) INTO v_skipped;
    IF v_skipped > 0 THEN
        RAISE WARNING '% rows of % name no existing tenant or have no id: nobody but the table owner sees them', v_skipped, tbl;
    END IF;

    SELECT string_agg(quote_ident(polname), ', ' ORDER BY polname) INTO v_others
      FROM pg_policy WHERE polrelid = tbl AND polpermissive AND polname NOT LIKE 'zenml\_rbac\_%';
    IF v_others IS NOT NULL THEN
        RAISE WARNING 'table % has other permissive policies (%), which widen what the protection allows', tbl, v_others
            USING HINT = 'Make them AS RESTRICTIVE, or drop them.';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_index i
                    WHERE i.indrelid = tbl AND i.indisunique AND i.indpred IS NULL
                      AND (SELECT attnum FROM pg_attribute WHERE attrelid = tbl AND attname = id_column)
                          = ANY (i.indkey::int2[])
                      AND i.indkey::int2[] <@ ARRAY(SELECT attnum FROM pg_attribute
                                                     WHERE attrelid = tbl
                                                       AND attname IN (tenant_column, id_column))::int2[]) THEN
        RAISE WARNING 'table % has no unique index on (%) or (%, %)', tbl, id_column, tenant_column, id_column
            USING DETAIL = 'Rows sharing an id share one registered resource: deleting one unregisters it for all.';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_index i WHERE i.indrelid = tbl
                      AND i.indkey[0] = (SELECT attnum FROM pg_attribute WHERE attrelid = tbl AND attname = tenant_column)) THEN
        RAISE NOTICE 'table % has no index leading with column %', tbl, tenant_column
            USING DETAIL = 'Principals that are members of few tenants would read the whole table.';
    END IF;
    IF NOT (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE oid = v_owner) THEN
        RAISE NOTICE 'the owner of %, role %, bypasses these policies', tbl, v_owner
            USING HINT = format('To subject it too: ALTER TABLE %s FORCE ROW LEVEL SECURITY;', tbl);
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION zenml_rbac.unprotect(tbl regclass) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM zenml_rbac._require_system('unprotect tables');
    PERFORM zenml_rbac._not_null('table', tbl);
    IF NOT EXISTS (SELECT FROM zenml_rbac.protected_table WHERE relid = tbl) THEN
        -- its row-level security, if any, is someone else's: leave it on
        RAISE NOTICE 'table % is not protected, skipping', tbl;
        RETURN;
    END IF;
    PERFORM zenml_rbac._drop_protection(tbl);
    DELETE FROM zenml_rbac.protected_table WHERE relid = tbl;
    -- Other policies the DBA wrote keep row-level security on.
    IF NOT EXISTS (SELECT FROM pg_policy WHERE polrelid = tbl) THEN
        EXECUTE format('ALTER TABLE %s DISABLE ROW LEVEL SECURITY', tbl);
    END IF;
END
$$;

-- A name spelled like a uuid would make a check by name answer for the
-- principal or organization with that id: new ones are refused, and the
-- update points out existing ones (rename them by recreating).
CREATE OR REPLACE FUNCTION zenml_rbac._check_name(kind text, name text) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF name IS NULL THEN
        RAISE EXCEPTION '% name must not be null', kind USING ERRCODE = '22004';
    END IF;
    IF name = '' OR length(name) > 255 OR name ~ '[/[:cntrl:]]' OR name <> btrim(name) THEN
        RAISE EXCEPTION 'invalid % name "%"', kind, left(name, 64)
            USING ERRCODE = '22023',
                  DETAIL = 'A name has 1 to 255 characters, no "/", no control characters and no leading or trailing spaces.';
    END IF;
    -- the checks take a principal or organization by name or by id: a name
    -- spelled like an id would answer for whoever has that id
    IF name ~* '^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})$' THEN
        RAISE EXCEPTION 'invalid % name "%"', kind, name
            USING ERRCODE = '22023', DETAIL = 'A name must not have the form of a uuid.';
    END IF;
END
$$;

DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT 'principal' AS kind, p.name FROM zenml_rbac.principal p
              WHERE p.name ~* '^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})$'
             UNION ALL
             SELECT 'organization', o.name FROM zenml_rbac.organization o
              WHERE o.name ~* '^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})$'
    LOOP
        RAISE WARNING '% name "%" has the form of a uuid: checks by that name answer for the % with that id',
            r.kind, r.name, r.kind;
    END LOOP;
END
$$;

-- A member leaves a team: where that ends its membership of a tenant, its
-- shares there go (the membership transition).
CREATE FUNCTION zenml_rbac._leave_team(team uuid, principal uuid) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_before zenml_rbac._tenant_members_before;
    v_snapshot zenml_rbac._tenant_members_before[];
BEGIN
    SELECT coalesce(array_agg(s), '{}') INTO v_snapshot
      FROM zenml_rbac._team_tenants(team, ARRAY[principal]) s;
    DELETE FROM zenml_rbac.team_member m WHERE m.team_id = team AND m.member_id = principal;
    FOREACH v_before IN ARRAY v_snapshot LOOP
        PERFORM zenml_rbac._drop_departed_grants(v_before.tenant_id, v_before.members);
    END LOOP;
END
$$;
COMMENT ON FUNCTION zenml_rbac._leave_team(uuid, uuid) IS
    'Internal: removes a team member, dropping its shares in tenants it thereby leaves.';

REVOKE ALL ON FUNCTION zenml_rbac._leave_team(uuid, uuid) FROM PUBLIC;

-- remove_team_member leaves through it (as group sync does)
CREATE OR REPLACE FUNCTION zenml_rbac.remove_team_member(team uuid, principal uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_org uuid := zenml_rbac._team_org(team);
BEGIN
    PERFORM zenml_rbac._require_org(v_actor, v_org, 'team', 'update', 'remove a team member');
    PERFORM zenml_rbac._not_null('principal', principal);
    PERFORM zenml_rbac._require_team_change(v_actor, team, v_org, false);
    PERFORM zenml_rbac._leave_team(team, principal);
END
$$;
-- Identity providers (OIDC): tokens verified in C (src/jwt.c) against each
-- provider's JWKS, external identities linked to principals, just-in-time
-- users, and team membership that follows the token's groups.  Added in
-- 0.2.0; this file is also part of the 0.1.0 -> 0.2.0 upgrade, so it grants
-- and audits its own objects.

CREATE TABLE zenml_rbac.identity_provider (
    id                 uuid        PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    name               text        NOT NULL UNIQUE,
    issuer             text        NOT NULL UNIQUE,
    audience           text        NOT NULL,
    keys               jsonb       NOT NULL,
    enabled            boolean     NOT NULL DEFAULT true,
    groups_claim       text        NOT NULL DEFAULT 'groups'
        CHECK (groups_claim NOT IN ('iss', 'sub', 'aud', 'exp', 'nbf', 'iat')),
    provision_org      uuid        REFERENCES zenml_rbac.organization ON DELETE SET NULL,
    provision_org_role text        CHECK (provision_org_role IN ('org_admin', 'org_editor', 'org_viewer')),
    created_at         timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT provisioning_has_role CHECK ((provision_org IS NULL) OR (provision_org_role IS NOT NULL))
);
COMMENT ON TABLE zenml_rbac.identity_provider IS
    'OIDC identity providers whose tokens authenticate_jwt() accepts: issuer, audience, JWKS public keys (or HS256 secrets), groups claim, just-in-time provisioning. Readable by no application role.';
COMMENT ON COLUMN zenml_rbac.identity_provider.keys IS
    'JWKS document {"keys": [...]}: RSA (RS256), EC P-256 (ES256) or oct (HS256) keys, chosen by kid. Never in the audit log.';
COMMENT ON COLUMN zenml_rbac.identity_provider.provision_org IS
    'When set, an unknown (iss, sub) becomes a new user, member of this organization with provision_org_role.';

CREATE TABLE zenml_rbac.external_identity (
    issuer       text NOT NULL,
    subject      text NOT NULL,
    principal_id uuid NOT NULL REFERENCES zenml_rbac.principal ON DELETE CASCADE,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX external_identity_principal ON zenml_rbac.external_identity (principal_id);
COMMENT ON TABLE zenml_rbac.external_identity IS
    'Which principal a token''s (iss, sub) authenticates as.';

CREATE TABLE zenml_rbac.group_team_map (
    provider_id uuid NOT NULL REFERENCES zenml_rbac.identity_provider ON DELETE CASCADE,
    grp         text NOT NULL,
    team_id     uuid NOT NULL REFERENCES zenml_rbac.principal ON DELETE CASCADE,
    PRIMARY KEY (provider_id, grp, team_id)
);
CREATE INDEX group_team_map_team ON zenml_rbac.group_team_map (team_id);
COMMENT ON TABLE zenml_rbac.group_team_map IS
    'A provider''s group whose members belong to a team: at every authenticate_jwt() the team''s membership follows the token''s groups claim.';

SELECT pg_catalog.pg_extension_config_dump('zenml_rbac.identity_provider', '');
SELECT pg_catalog.pg_extension_config_dump('zenml_rbac.external_identity', '');
SELECT pg_catalog.pg_extension_config_dump('zenml_rbac.group_team_map', '');

-- Audited like the catalog; the keys never reach the log.
DO $$
DECLARE
    spec text[];
BEGIN
    FOREACH spec SLICE 1 IN ARRAY ARRAY[
        ['identity_provider', 'id',                       'provision_org', '', '',             'keys'],
        ['external_identity', 'issuer,subject',           '',              '', 'principal_id', ''],
        ['group_team_map',    'provider_id,grp,team_id',  '',              '', 'team_id',      '']]
    LOOP
        EXECUTE pg_catalog.format(
            'CREATE TRIGGER audit_capture AFTER INSERT OR DELETE OR UPDATE ON zenml_rbac.%I '
            'FOR EACH ROW EXECUTE FUNCTION zenml_rbac.audit_capture(%L, %L, %L, %L, %L, %L)',
            spec[1], spec[1], spec[2], spec[3], spec[4], spec[5], spec[6]);
        EXECUTE pg_catalog.format(
            'CREATE TRIGGER audit_capture_truncate BEFORE TRUNCATE ON zenml_rbac.%I '
            'FOR EACH STATEMENT EXECUTE FUNCTION zenml_rbac.audit_capture(%L, %L, %L, %L, %L, %L)',
            spec[1], spec[1], spec[2], spec[3], spec[4], spec[5], spec[6]);
    END LOOP;
END
$$;

CREATE FUNCTION zenml_rbac._jwt_verify(token text, OUT provider uuid, OUT issuer text,
                                       OUT subject text, OUT groups text[])
    LANGUAGE c VOLATILE PARALLEL UNSAFE AS 'MODULE_PATHNAME', 'jwt_verify';
COMMENT ON FUNCTION zenml_rbac._jwt_verify(text) IS
    'Internal: the verified identity a token carries, or 28000 "invalid token" (the reason goes to the log with zenml_rbac.log_denials).';

CREATE FUNCTION zenml_rbac._refuse_token(reason text, issuer text, subject text) RETURNS void
    LANGUAGE c VOLATILE AS 'MODULE_PATHNAME', 'jwt_refuse';
COMMENT ON FUNCTION zenml_rbac._refuse_token(text, text, text) IS
    'Internal: 28000 "invalid token" for a verified token whose identity cannot act, logged with zenml_rbac.log_denials.';

CREATE FUNCTION zenml_rbac._jwk_check(kid text, kty text, alg text, crv text, n text, e text,
                                      x text, y text, k text) RETURNS void
    LANGUAGE c IMMUTABLE PARALLEL SAFE AS 'MODULE_PATHNAME', 'jwk_check';
COMMENT ON FUNCTION zenml_rbac._jwk_check(text, text, text, text, text, text, text, text, text) IS
    'Internal: 22023 naming what is wrong with one key of a JWKS (type, size, curve, encoding).';

-- A JWKS as we keep it: public keys (and HS256 secrets) only, each usable.
CREATE FUNCTION zenml_rbac._check_jwks(keys jsonb) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    k jsonb;
    n int;
BEGIN
    PERFORM zenml_rbac._not_null('keys', keys);
    IF jsonb_typeof(keys) <> 'object' OR jsonb_typeof(keys->'keys') IS DISTINCT FROM 'array' THEN
        RAISE EXCEPTION 'keys must be a JWKS document' USING ERRCODE = '22023',
            HINT = 'Write it as {"keys": [{"kty": ..., "kid": ..., ...}]}.';
    END IF;
    n := jsonb_array_length(keys->'keys');
    IF n = 0 THEN
        RAISE EXCEPTION 'keys holds no key' USING ERRCODE = '22023';
    END IF;
    FOR k IN SELECT * FROM jsonb_array_elements(keys->'keys') LOOP
        IF jsonb_typeof(k) <> 'object' THEN
            RAISE EXCEPTION 'every key must be a JSON object' USING ERRCODE = '22023';
        END IF;
        IF k ?| ARRAY['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth'] THEN
            RAISE EXCEPTION 'key "%" holds private key material', left(k->>'kid', 64) USING ERRCODE = '22023',
                HINT = 'Register the provider''s public keys only.';
        END IF;
        IF n > 1 AND (k->>'kid') IS NULL THEN
            RAISE EXCEPTION 'with several keys every key needs a "kid"' USING ERRCODE = '22023';
        END IF;
        IF k ? 'use' AND k->>'use' <> 'sig' THEN
            RAISE EXCEPTION 'key "%" is not for signatures', left(k->>'kid', 64) USING ERRCODE = '22023';
        END IF;
        PERFORM zenml_rbac._jwk_check(k->>'kid', k->>'kty', k->>'alg', k->>'crv', k->>'n',
                                      k->>'e', k->>'x', k->>'y', k->>'k');
    END LOOP;
    IF (SELECT count(DISTINCT j->>'kid') FROM jsonb_array_elements(keys->'keys') j) < n AND n > 1 THEN
        RAISE EXCEPTION 'two keys have the same "kid"' USING ERRCODE = '22023';
    END IF;
END
$$;
COMMENT ON FUNCTION zenml_rbac._check_jwks(jsonb) IS 'Internal: validates a JWKS document (22004, 22023).';

CREATE FUNCTION zenml_rbac._provider(name text) RETURNS uuid
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_id uuid;
BEGIN
    PERFORM zenml_rbac._not_null('identity provider', name);
    SELECT p.id INTO v_id FROM zenml_rbac.identity_provider p WHERE p.name = _provider.name;
    IF v_id IS NULL THEN
        RAISE EXCEPTION 'identity provider "%" does not exist', left(name, 64) USING ERRCODE = '42704';
    END IF;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION zenml_rbac._provider(text) IS 'Internal: a provider''s id by name (42704).';

CREATE FUNCTION zenml_rbac.register_identity_provider(name text, issuer text, audience text, keys jsonb)
    RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_id uuid;
BEGIN
    PERFORM zenml_rbac._require_system('register identity providers');
    PERFORM zenml_rbac._check_name('identity provider', name);
    PERFORM zenml_rbac._not_null('issuer', issuer);
    PERFORM zenml_rbac._not_null('audience', audience);
    IF issuer = '' OR audience = '' OR length(issuer) > 1024 OR length(audience) > 1024 THEN
        RAISE EXCEPTION 'issuer and audience must have 1 to 1024 characters' USING ERRCODE = '22023';
    END IF;
    PERFORM zenml_rbac._check_jwks(keys);
    IF EXISTS (SELECT FROM zenml_rbac.identity_provider p
                WHERE p.name = register_identity_provider.name OR p.issuer = register_identity_provider.issuer) THEN
        RAISE EXCEPTION 'an identity provider with this name or issuer already exists' USING ERRCODE = '42710';
    END IF;
    INSERT INTO zenml_rbac.identity_provider (name, issuer, audience, keys)
    VALUES (name, issuer, audience, keys) RETURNING id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION zenml_rbac.register_identity_provider(text, text, text, jsonb) IS
    'Registers an OIDC provider: its issuer (the iss of its tokens), the audience tokens must name, and its JWKS. System only.';

CREATE FUNCTION zenml_rbac.set_identity_provider_keys(name text, keys jsonb) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_id uuid;
BEGIN
    PERFORM zenml_rbac._require_system('change identity provider keys');
    v_id := zenml_rbac._provider(name);
    PERFORM zenml_rbac._check_jwks(keys);
    UPDATE zenml_rbac.identity_provider p SET keys = set_identity_provider_keys.keys WHERE p.id = v_id;
END
$$;
COMMENT ON FUNCTION zenml_rbac.set_identity_provider_keys(text, jsonb) IS
    'Rotation: replaces the provider''s key set; tokens signed by a key no longer in it are refused from the next statement. System only.';

CREATE FUNCTION zenml_rbac.disable_identity_provider(name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_id uuid;
BEGIN
    PERFORM zenml_rbac._require_system('disable identity providers');
    v_id := zenml_rbac._provider(name);
    UPDATE zenml_rbac.identity_provider p SET enabled = false WHERE p.id = v_id AND p.enabled;
END
$$;
COMMENT ON FUNCTION zenml_rbac.disable_identity_provider(text) IS
    'Refuses every token of the provider until enable_identity_provider(). System only.';

CREATE FUNCTION zenml_rbac.enable_identity_provider(name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_id uuid;
BEGIN
    PERFORM zenml_rbac._require_system('enable identity providers');
    v_id := zenml_rbac._provider(name);
    UPDATE zenml_rbac.identity_provider p SET enabled = true WHERE p.id = v_id AND NOT p.enabled;
END
$$;
COMMENT ON FUNCTION zenml_rbac.enable_identity_provider(text) IS
    'Accepts the provider''s tokens again. System only.';

CREATE FUNCTION zenml_rbac.set_identity_provider_groups_claim(provider text, claim text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_id uuid;
BEGIN
    PERFORM zenml_rbac._require_system('configure identity providers');
    v_id := zenml_rbac._provider(provider);
    PERFORM zenml_rbac._not_null('claim', claim);
    IF claim = '' OR claim IN ('iss', 'sub', 'aud', 'exp', 'nbf', 'iat') THEN
        RAISE EXCEPTION 'invalid groups claim "%"', left(claim, 64) USING ERRCODE = '22023';
    END IF;
    UPDATE zenml_rbac.identity_provider p SET groups_claim = claim WHERE p.id = v_id;
END
$$;
COMMENT ON FUNCTION zenml_rbac.set_identity_provider_groups_claim(text, text) IS
    'The token claim (an array of strings) that map_group_to_team() groups are read from; default "groups". System only.';

CREATE FUNCTION zenml_rbac.set_identity_provider_provisioning(provider text, org uuid, org_role text)
    RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_id uuid;
BEGIN
    PERFORM zenml_rbac._require_system('configure identity providers');
    v_id := zenml_rbac._provider(provider);
    IF org IS NOT NULL THEN
        IF NOT EXISTS (SELECT FROM zenml_rbac.organization o WHERE o.id = org) THEN
            RAISE EXCEPTION 'organization % does not exist', org USING ERRCODE = '42704';
        END IF;
        IF org_role IS NULL OR org_role NOT IN ('org_admin', 'org_editor', 'org_viewer') THEN
            RAISE EXCEPTION 'unknown organization role "%"', left(org_role, 64) USING ERRCODE = '22023',
                HINT = 'Valid roles are: org_admin, org_editor, org_viewer.';
        END IF;
    END IF;
    UPDATE zenml_rbac.identity_provider p
       SET provision_org = org, provision_org_role = CASE WHEN org IS NULL THEN NULL ELSE org_role END
     WHERE p.id = v_id;
END
$$;
COMMENT ON FUNCTION zenml_rbac.set_identity_provider_provisioning(text, uuid, text) IS
    'Just-in-time users: an unknown (iss, sub) with a valid token becomes user "<provider>:<sub>", member of org with org_role. NULL org turns it off. System only.';

CREATE FUNCTION zenml_rbac.link_external_identity(principal uuid, issuer text, subject text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM zenml_rbac._require_system('link external identities');
    PERFORM zenml_rbac._not_null('principal', principal);
    PERFORM zenml_rbac._not_null('issuer', issuer);
    PERFORM zenml_rbac._not_null('subject', subject);
    IF NOT EXISTS (SELECT FROM zenml_rbac.principal p WHERE p.id = principal AND p.kind <> 'team') THEN
        RAISE EXCEPTION 'no user or service account has id %', principal USING ERRCODE = '22023';
    END IF;
    -- OIDC subjects have at most 255 characters
    IF issuer = '' OR length(issuer) > 1024 OR subject = '' OR length(subject) > 255 THEN
        RAISE EXCEPTION 'issuer must have 1 to 1024 characters and subject 1 to 255' USING ERRCODE = '22023';
    END IF;
    INSERT INTO zenml_rbac.external_identity AS x (issuer, subject, principal_id)
    VALUES (issuer, subject, principal)
    ON CONFLICT ON CONSTRAINT external_identity_pkey DO UPDATE SET principal_id = EXCLUDED.principal_id
     WHERE x.principal_id IS DISTINCT FROM EXCLUDED.principal_id;
END
$$;
COMMENT ON FUNCTION zenml_rbac.link_external_identity(uuid, text, text) IS
    'Tokens with this (iss, sub) authenticate as the principal (a user or service account); relinking moves the identity. System only.';

CREATE FUNCTION zenml_rbac.map_group_to_team(provider text, grp text, team uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_id uuid;
BEGIN
    PERFORM zenml_rbac._require_system('map groups to teams');
    v_id := zenml_rbac._provider(provider);
    PERFORM zenml_rbac._not_null('group', grp);
    PERFORM zenml_rbac._team_org(team);
    INSERT INTO zenml_rbac.group_team_map (provider_id, grp, team_id) VALUES (v_id, grp, team)
    ON CONFLICT DO NOTHING;
END
$$;
COMMENT ON FUNCTION zenml_rbac.map_group_to_team(text, text, uuid) IS
    'Members of the provider''s group belong to the team: at each authenticate_jwt() the team membership follows the token''s groups. System only.';

CREATE FUNCTION zenml_rbac.unmap_group_from_team(provider text, grp text, team uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_id uuid;
BEGIN
    PERFORM zenml_rbac._require_system('map groups to teams');
    v_id := zenml_rbac._provider(provider);
    DELETE FROM zenml_rbac.group_team_map m WHERE m.provider_id = v_id AND m.grp = unmap_group_from_team.grp
       AND m.team_id = team;
END
$$;
COMMENT ON FUNCTION zenml_rbac.unmap_group_from_team(text, text, uuid) IS
    'Ends a group-to-team mapping; current members stay. System only.';

-- Team membership of the mapped teams follows the token's groups.
CREATE FUNCTION zenml_rbac._sync_groups(provider uuid, principal uuid, groups text[]) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    m record;
BEGIN
    FOR m IN SELECT DISTINCT g.team_id, t.org_id,
                    bool_or(g.grp = ANY (coalesce(groups, '{}'))) OVER (PARTITION BY g.team_id) AS wanted,
                    EXISTS (SELECT FROM zenml_rbac.team_member tm
                             WHERE tm.team_id = g.team_id AND tm.member_id = principal) AS member
               FROM zenml_rbac.group_team_map g JOIN zenml_rbac.principal t ON t.id = g.team_id
              WHERE g.provider_id = provider
    LOOP
        IF m.wanted AND NOT m.member THEN
            -- only members of the team's organization may join its teams
            IF EXISTS (SELECT FROM zenml_rbac.org_role_assignment a
                        WHERE a.org_id = m.org_id AND a.principal_id = principal) THEN
                INSERT INTO zenml_rbac.team_member (team_id, member_id) VALUES (m.team_id, principal)
                ON CONFLICT DO NOTHING;
            END IF;
        ELSIF m.member AND NOT m.wanted THEN
            PERFORM zenml_rbac._leave_team(m.team_id, principal);
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION zenml_rbac._sync_groups(uuid, uuid, text[]) IS
    'Internal: adds and removes team memberships of the provider''s mapped teams to match the token''s groups.';

CREATE FUNCTION zenml_rbac.authenticate_jwt(token text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v record;
    v_provider zenml_rbac.identity_provider;
    v_principal uuid;
    v_name text;
BEGIN
    v := zenml_rbac._jwt_verify(token);
    SELECT x.principal_id INTO v_principal FROM zenml_rbac.external_identity x
     WHERE x.issuer = v.issuer AND x.subject = v.subject;
    SELECT p.* INTO v_provider FROM zenml_rbac.identity_provider p WHERE p.id = v.provider;
    IF v_principal IS NULL AND v_provider.provision_org IS NOT NULL THEN
        v_name := v_provider.name || ':' || v.subject;
        IF v_name ~ '[/[:cntrl:]]' OR length(v_name) > 255 OR v_name <> btrim(v_name) THEN
            PERFORM zenml_rbac._refuse_token('subject cannot be a user name', v.issuer, v.subject);
        END IF;
        -- a first login of the same subject in another session may be
        -- creating the user too: whoever loses uses the winner's link
        INSERT INTO zenml_rbac.principal (kind, name) VALUES ('user', v_name)
        ON CONFLICT (name) WHERE kind = 'user' DO NOTHING
        RETURNING id INTO v_principal;
        IF v_principal IS NOT NULL THEN
            INSERT INTO zenml_rbac.org_role_assignment (org_id, principal_id, role)
            VALUES (v_provider.provision_org, v_principal, v_provider.provision_org_role);
            INSERT INTO zenml_rbac.external_identity (issuer, subject, principal_id)
            VALUES (v.issuer, v.subject, v_principal);
        ELSE
            SELECT x.principal_id INTO v_principal FROM zenml_rbac.external_identity x
             WHERE x.issuer = v.issuer AND x.subject = v.subject;
            IF v_principal IS NULL THEN
                PERFORM zenml_rbac._refuse_token('subject cannot be a user name', v.issuer, v.subject);
            END IF;
        END IF;
    END IF;
    IF v_principal IS NULL THEN
        PERFORM zenml_rbac._refuse_token('subject not linked', v.issuer, v.subject);
    END IF;
    IF NOT EXISTS (SELECT FROM zenml_rbac.principal p
                    WHERE p.id = v_principal AND p.active AND p.kind <> 'team') THEN
        PERFORM zenml_rbac._refuse_token('principal deactivated', v.issuer, v.subject);
    END IF;
    PERFORM zenml_rbac.set_principal(v_principal);
    IF EXISTS (SELECT FROM zenml_rbac.group_team_map g WHERE g.provider_id = v.provider) THEN
        PERFORM zenml_rbac._sync_groups(v.provider, v_principal, v.groups);
    END IF;
    RETURN v_principal;
EXCEPTION
    WHEN invalid_authorization_specification THEN
        -- raised again from one place: the error's context must not tell
        -- which check failed
        RAISE EXCEPTION 'invalid token' USING ERRCODE = '28000';
END
$$;
COMMENT ON FUNCTION zenml_rbac.authenticate_jwt(text) IS
    'Verifies an OIDC token of a registered provider and sets its linked (or just-provisioned) principal for this transaction, like authenticate(); mapped teams follow its groups. 28000 "invalid token" for every failure.';

REVOKE ALL ON zenml_rbac.identity_provider, zenml_rbac.external_identity, zenml_rbac.group_team_map FROM PUBLIC;
REVOKE ALL ON FUNCTION
    zenml_rbac._jwt_verify(text), zenml_rbac._refuse_token(text, text, text),
    zenml_rbac._jwk_check(text, text, text, text, text, text, text, text, text),
    zenml_rbac._check_jwks(jsonb), zenml_rbac._provider(text), zenml_rbac._sync_groups(uuid, uuid, text[]),
    zenml_rbac.register_identity_provider(text, text, text, jsonb),
    zenml_rbac.set_identity_provider_keys(text, jsonb), zenml_rbac.disable_identity_provider(text),
    zenml_rbac.enable_identity_provider(text), zenml_rbac.set_identity_provider_groups_claim(text, text),
    zenml_rbac.set_identity_provider_provisioning(text, uuid, text),
    zenml_rbac.link_external_identity(uuid, text, text), zenml_rbac.map_group_to_team(text, text, uuid),
    zenml_rbac.unmap_group_from_team(text, text, uuid), zenml_rbac.authenticate_jwt(text)
    FROM PUBLIC;
-- The management functions refuse all but the system themselves; a token
-- is its own credential, so anyone may present one.
GRANT EXECUTE ON FUNCTION
    zenml_rbac.register_identity_provider(text, text, text, jsonb),
    zenml_rbac.set_identity_provider_keys(text, jsonb), zenml_rbac.disable_identity_provider(text),
    zenml_rbac.enable_identity_provider(text), zenml_rbac.set_identity_provider_groups_claim(text, text),
    zenml_rbac.set_identity_provider_provisioning(text, uuid, text),
    zenml_rbac.link_external_identity(uuid, text, text), zenml_rbac.map_group_to_team(text, text, uuid),
    zenml_rbac.unmap_group_from_team(text, text, uuid), zenml_rbac.authenticate_jwt(text)
    TO PUBLIC;
