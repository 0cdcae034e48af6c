-- zenml_rbac install script, assembled by the Makefile from src/sql/*.sql.
-- Edit the parts in src/sql/, never the generated file.

\echo Use "CREATE EXTENSION zenml_rbac" to load this file. \quit

-- Catalog tables: the single source of truth that the C decision engine
-- caches.  Every table fires a statement-level trigger that invalidates the
-- backend caches of every session at commit (see src/catalog.c).

CREATE TABLE zenml_rbac.organization (
    id          uuid        PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    name        text        NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE zenml_rbac.organization IS
    'Organizations: the top-level scope; a name is unique across the database.';

CREATE TABLE zenml_rbac.tenant (
    id          uuid        PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    org_id      uuid        NOT NULL REFERENCES zenml_rbac.organization ON DELETE CASCADE,
    name        text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    UNIQUE (org_id, name)
);
COMMENT ON TABLE zenml_rbac.tenant IS
    'Tenants (ZenML workspaces): belong to one organization; name unique within it.';

CREATE TABLE zenml_rbac.principal (
    id          uuid        PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    kind        text        NOT NULL CHECK (kind IN ('user', 'service_account', 'team')),
    name        text        NOT NULL,
    org_id      uuid        REFERENCES zenml_rbac.organization ON DELETE CASCADE,
    active      boolean     NOT NULL DEFAULT true,
    pg_role     name        UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT principal_scope CHECK ((kind = 'user') = (org_id IS NULL)),
    CONSTRAINT team_is_not_a_login CHECK (kind <> 'team' OR (pg_role IS NULL AND active))
);
CREATE UNIQUE INDEX principal_user_name ON zenml_rbac.principal (name) WHERE kind = 'user';
CREATE UNIQUE INDEX principal_org_name ON zenml_rbac.principal (org_id, kind, name) WHERE kind <> 'user';
COMMENT ON TABLE zenml_rbac.principal IS
    'Users (global), service accounts and teams (both of one organization): everything a role can be assigned to.';
COMMENT ON COLUMN zenml_rbac.principal.active IS
    'false once deactivated: the principal keeps its roles, teams and grants but has no permission anywhere.';
COMMENT ON COLUMN zenml_rbac.principal.pg_role IS
    'PostgreSQL login role whose sessions act as this principal when none is set for the transaction.';

CREATE TABLE zenml_rbac.org_role_assignment (
    org_id       uuid NOT NULL REFERENCES zenml_rbac.organization ON DELETE CASCADE,
    principal_id uuid NOT NULL REFERENCES zenml_rbac.principal ON DELETE CASCADE,
    role         text NOT NULL CHECK (role IN ('org_admin', 'org_editor', 'org_viewer')),
    PRIMARY KEY (org_id, principal_id)
);
CREATE INDEX org_role_assignment_principal ON zenml_rbac.org_role_assignment (principal_id);
COMMENT ON TABLE zenml_rbac.org_role_assignment IS
    'Organization membership: one organization role per user or service account (teams may hold one too).';

CREATE TABLE zenml_rbac.team_member (
    team_id   uuid NOT NULL REFERENCES zenml_rbac.principal ON DELETE CASCADE,
    member_id uuid NOT NULL REFERENCES zenml_rbac.principal ON DELETE CASCADE,
    PRIMARY KEY (team_id, member_id)
);
CREATE INDEX team_member_member ON zenml_rbac.team_member (member_id);
COMMENT ON TABLE zenml_rbac.team_member IS
    'Team membership: users and service accounts of the team''s organization; teams do not nest.';

CREATE TABLE zenml_rbac.resource_type (
    name          text        PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$'),
    kind          text        NOT NULL DEFAULT 'data' CHECK (kind IN ('data', 'administration')),
    builtin       boolean     NOT NULL DEFAULT false,
    registered_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE zenml_rbac.resource_type IS
    'Vocabulary of tenant resource types: the seeded ZenML types plus registered ones.';
COMMENT ON COLUMN zenml_rbac.resource_type.kind IS
    'data: covered by editor''s create/read/share; administration: member, role, tenant.';

INSERT INTO zenml_rbac.resource_type (name, kind, builtin) VALUES
    ('artifact', 'data', true), ('model', 'data', true),
    ('model_version', 'data', true), ('pipeline', 'data', true),
    ('pipeline_run', 'data', true), ('stack', 'data', true),
    ('stack_component', 'data', true), ('secret', 'data', true),
    ('service_connector', 'data', true),
    ('member', 'administration', true), ('role', 'administration', true),
    ('tenant', 'administration', true);

CREATE TABLE zenml_rbac.role (
    id           uuid        PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    tenant_id    uuid        REFERENCES zenml_rbac.tenant ON DELETE CASCADE,
    name         text        NOT NULL,
    description  text        NOT NULL DEFAULT '',
    base_role_id uuid        REFERENCES zenml_rbac.role,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    CONSTRAINT custom_role_has_base CHECK ((tenant_id IS NULL) = (base_role_id IS NULL))
);
CREATE UNIQUE INDEX role_predefined_name ON zenml_rbac.role (name) WHERE tenant_id IS NULL;
CREATE UNIQUE INDEX role_tenant_name ON zenml_rbac.role (tenant_id, name);
CREATE INDEX role_base ON zenml_rbac.role (base_role_id);
COMMENT ON TABLE zenml_rbac.role IS
    'Tenant roles: the predefined admin, editor and viewer (no tenant; permissions fixed in C) and custom roles of one tenant built on a base role.';

-- Fixed ids keep custom roles' base references stable across dump/restore.
INSERT INTO zenml_rbac.role (id, name, description) VALUES
    ('00000000-0000-4000-8000-000000000001', 'admin',  'Every action on every data and administration type.'),
    ('00000000-0000-4000-8000-000000000002', 'editor', 'create, read and share on data types; read on administration types.'),
    ('00000000-0000-4000-8000-000000000003', 'viewer', 'read on every type.');

CREATE TABLE zenml_rbac.role_permission (
    role_id       uuid    NOT NULL REFERENCES zenml_rbac.role ON DELETE CASCADE,
    resource_type text    NOT NULL REFERENCES zenml_rbac.resource_type,
    action        text    NOT NULL CHECK (action IN ('create', 'read', 'update', 'delete', 'share')),
    allowed       boolean NOT NULL,
    PRIMARY KEY (role_id, resource_type, action)
);
COMMENT ON TABLE zenml_rbac.role_permission IS
    'Permission edits of custom roles: effective(role) = (effective(base) + allowed) - disallowed, computed live.';

CREATE TABLE zenml_rbac.tenant_role_assignment (
    tenant_id    uuid NOT NULL REFERENCES zenml_rbac.tenant ON DELETE CASCADE,
    principal_id uuid NOT NULL REFERENCES zenml_rbac.principal ON DELETE CASCADE,
    role_id      uuid NOT NULL REFERENCES zenml_rbac.role ON DELETE CASCADE,
    PRIMARY KEY (tenant_id, principal_id, role_id)
);
CREATE INDEX tenant_role_assignment_principal ON zenml_rbac.tenant_role_assignment (principal_id);
CREATE INDEX tenant_role_assignment_role ON zenml_rbac.tenant_role_assignment (role_id);
COMMENT ON TABLE zenml_rbac.tenant_role_assignment IS
    'Tenant roles held by users, service accounts and teams; holding one makes the principal a member of the tenant.';

CREATE TABLE zenml_rbac.resource (
    tenant_id     uuid        NOT NULL REFERENCES zenml_rbac.tenant ON DELETE CASCADE,
    resource_type text        NOT NULL REFERENCES zenml_rbac.resource_type,
    resource_id   uuid        NOT NULL,
    owner_id      uuid        REFERENCES zenml_rbac.principal ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT pg_catalog.now(),
    PRIMARY KEY (tenant_id, resource_type, resource_id)
);
CREATE INDEX resource_owner ON zenml_rbac.resource (owner_id);
COMMENT ON TABLE zenml_rbac.resource IS
    'Registered resource instances (''type/uuid'') of a tenant with their owner.';

CREATE TABLE zenml_rbac.resource_grant (
    tenant_id     uuid   NOT NULL,
    resource_type text   NOT NULL,
    resource_id   uuid   NOT NULL,
    principal_id  uuid   NOT NULL REFERENCES zenml_rbac.principal ON DELETE CASCADE,
    actions       text[] NOT NULL
        CHECK (pg_catalog.cardinality(actions) > 0
               AND actions <@ ARRAY['read', 'update', 'delete', 'share']::text[]),
    PRIMARY KEY (tenant_id, resource_type, resource_id, principal_id),
    FOREIGN KEY (tenant_id, resource_type, resource_id)
        REFERENCES zenml_rbac.resource ON DELETE CASCADE
);
CREATE INDEX resource_grant_principal ON zenml_rbac.resource_grant (principal_id);
COMMENT ON TABLE zenml_rbac.resource_grant IS
    'Shares: the set of actions a principal (or team) holds on one resource instance.';

-- pg_dump keeps the rows the users created; seeded rows come from CREATE EXTENSION.
SELECT pg_catalog.pg_extension_config_dump('zenml_rbac.organization', '');
SELECT pg_catalog.pg_extension_config_dump('zenml_rbac.tenant', '');
SELECT pg_catalog.pg_extension_config_dump('zenml_rbac.principal', '');
SELECT pg_catalog.pg_extension_config_dump('zenml_rbac.org_role_assignment', '');
SELECT pg_catalog.pg_extension_config_dump('zenml_rbac.team_member', '');
SELECT pg_catalog.pg_extension_config_dump('zenml_rbac.resource_type', 'WHERE NOT builtin');
SELECT pg_catalog.pg_extension_config_dump('zenml_rbac.role', 'WHERE tenant_id IS NOT NULL');
SELECT pg_catalog.pg_extension_config_dump('zenml_rbac.role_permission', '');
SELECT pg_catalog.pg_extension_config_dump('zenml_rbac.tenant_role_assignment', '');
SELECT pg_catalog.pg_extension_config_dump('zenml_rbac.resource', '');
SELECT pg_catalog.pg_extension_config_dump('zenml_rbac.resource_grant', '');

-- Cache invalidation: any committed change to a catalog table resets the
-- matching backend caches in every session (and on hot standbys).
CREATE FUNCTION zenml_rbac.catalog_changed() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'catalog_changed';
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
            'CREATE TRIGGER zz_invalidate_cache AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE '
            'ON zenml_rbac.%I FOR EACH STATEMENT EXECUTE FUNCTION zenml_rbac.catalog_changed()', t);
        -- fire for TRUNCATE and the initial copy of logical replication too
        EXECUTE pg_catalog.format('ALTER TABLE zenml_rbac.%I ENABLE ALWAYS TRIGGER zz_invalidate_cache', t);
        -- a logical replication apply worker fires row triggers only, and
        -- only those enabled for session_replication_role = replica
        EXECUTE pg_catalog.format(
            'CREATE TRIGGER zz_invalidate_cache_replica AFTER INSERT OR UPDATE OR DELETE '
            'ON zenml_rbac.%I FOR EACH ROW EXECUTE FUNCTION zenml_rbac.catalog_changed()', t);
        EXECUTE pg_catalog.format('ALTER TABLE zenml_rbac.%I ENABLE REPLICA TRIGGER zz_invalidate_cache_replica', t);
    END LOOP;
END
$$;

-- A publication of the catalog leaves out the seeded rows every database
-- already has (WHERE NOT builtin, WHERE tenant_id IS NOT NULL); a row filter
-- on updates and deletes may only use replica identity columns.
ALTER TABLE zenml_rbac.resource_type REPLICA IDENTITY FULL;
ALTER TABLE zenml_rbac.role REPLICA IDENTITY FULL;
-- The decision engine (src/decision.c).  STABLE: the answer does not change
-- within a statement; PARALLEL RESTRICTED: the caches and the acting
-- principal live in the leader backend.

CREATE FUNCTION zenml_rbac.rbac_can(principal uuid, tenant uuid, resource text, action text)
    RETURNS boolean LANGUAGE c STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'rbac_can';
COMMENT ON FUNCTION zenml_rbac.rbac_can(uuid, uuid, text, text) IS
    'May the principal do the action on ''type'' (roles) or ''type/uuid'' (roles, ownership, shares) in the tenant? Unknown type or action names are errors (22023).';

CREATE FUNCTION zenml_rbac.rbac_can(principal text, tenant text, resource text, action text)
    RETURNS boolean LANGUAGE c STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'rbac_can_by_name';
COMMENT ON FUNCTION zenml_rbac.rbac_can(text, text, text, text) IS
    'rbac_can by name: principal is a uuid or a user name, tenant a uuid or ''organization/tenant''.';

CREATE FUNCTION zenml_rbac.rbac_can(tenant uuid, resource text, action text)
    RETURNS boolean LANGUAGE c STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'rbac_can_current';
COMMENT ON FUNCTION zenml_rbac.rbac_can(uuid, text, text) IS
    'rbac_can for current_principal(); false when there is none.';

CREATE FUNCTION zenml_rbac.rbac_can(tenant text, resource text, action text)
    RETURNS boolean LANGUAGE c STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'rbac_can_current_by_name';
COMMENT ON FUNCTION zenml_rbac.rbac_can(text, text, text) IS
    'rbac_can for current_principal(), tenant as a uuid or ''organization/tenant''.';

CREATE FUNCTION zenml_rbac.rbac_org_can(principal uuid, org uuid, capability text, action text)
    RETURNS boolean LANGUAGE c STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'rbac_org_can';
COMMENT ON FUNCTION zenml_rbac.rbac_org_can(uuid, uuid, text, text) IS
    'May the principal use the organization capability (organization, billing, member, tenant, team) with the action?';

CREATE FUNCTION zenml_rbac.rbac_org_can(principal text, org text, capability text, action text)
    RETURNS boolean LANGUAGE c STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'rbac_org_can_by_name';
COMMENT ON FUNCTION zenml_rbac.rbac_org_can(text, text, text, text) IS
    'rbac_org_can by name: principal is a uuid or a user name, org a uuid or a name.';

CREATE FUNCTION zenml_rbac.role_permissions(role_id uuid)
    RETURNS TABLE (resource_type text, action text)
    LANGUAGE c STABLE PARALLEL RESTRICTED ROWS 30
    AS 'MODULE_PATHNAME', 'role_permissions';
COMMENT ON FUNCTION zenml_rbac.role_permissions(uuid) IS
    'Effective permissions of a tenant role, with custom roles expanded through their base chain.';

CREATE FUNCTION zenml_rbac.parse_resource(resource text, OUT resource_type text, OUT resource_id uuid)
    LANGUAGE c STABLE STRICT PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'parse_resource';
COMMENT ON FUNCTION zenml_rbac.parse_resource(text) IS
    'Splits ''type'' or ''type/uuid'' into its parts, with the errors rbac_can gives (22P02 malformed, 22023 unknown type).';

CREATE FUNCTION zenml_rbac.cache_stats(OUT principals bigint, OUT resources bigint,
                                       OUT roles bigint, OUT memory_bytes bigint)
    LANGUAGE c VOLATILE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'cache_stats';
COMMENT ON FUNCTION zenml_rbac.cache_stats() IS
    'What this backend''s decision cache holds now: entries and bytes.';

CREATE FUNCTION zenml_rbac._role_missing_permissions(actor uuid, tenant uuid, role_id uuid)
    RETURNS text[] LANGUAGE c STABLE STRICT PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'role_missing_permissions';
COMMENT ON FUNCTION zenml_rbac._role_missing_permissions(uuid, uuid, uuid) IS
    'Internal: the type:action pairs of a role the actor does not hold in the tenant (no-escalation rule).';
-- Who is asking (src/identity.c).

CREATE FUNCTION zenml_rbac.set_principal(principal uuid) RETURNS void
    LANGUAGE c VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'set_principal';
COMMENT ON FUNCTION zenml_rbac.set_principal(uuid) IS
    'Acts as this active user or service account until the transaction ends (28000 otherwise). Granted by the DBA to the application''s pool role only.';

CREATE FUNCTION zenml_rbac.current_principal() RETURNS uuid
    LANGUAGE c STABLE PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'current_principal';
COMMENT ON FUNCTION zenml_rbac.current_principal() IS
    'The principal of this transaction: set by set_principal(), else the user linked to session_user, else NULL.';

CREATE FUNCTION zenml_rbac._acting_principal() RETURNS uuid
    LANGUAGE c VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'acting_principal';
COMMENT ON FUNCTION zenml_rbac._acting_principal() IS
    'Internal: the principal a management call is authorized as; NULL for the system (superuser or extension owner without a principal); 42501 for anyone else.';

CREATE FUNCTION zenml_rbac._refresh_after_lock() RETURNS void
    LANGUAGE c VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'refresh_after_lock';
COMMENT ON FUNCTION zenml_rbac._refresh_after_lock() IS
    'Internal: after a management call got its organization''s lock, decide from what is committed now (a permission revoked while it waited is not used).';
-- Internal helpers of the management API: looking objects up with clear
-- errors, authorizing the acting principal, and membership transitions.
-- None is executable by PUBLIC; the SECURITY DEFINER API functions call them.

CREATE FUNCTION zenml_rbac._check_name(kind text, name text) RETURNS void
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
COMMENT ON FUNCTION zenml_rbac._check_name(text, text) IS 'Internal: validates an object name (22004, 22023).';

CREATE FUNCTION zenml_rbac._not_null(what text, value anyelement) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF value IS NULL THEN
        RAISE EXCEPTION '% must not be null', what USING ERRCODE = '22004';
    END IF;
END
$$;
COMMENT ON FUNCTION zenml_rbac._not_null(text, anyelement) IS 'Internal: 22004 for a NULL argument.';

-- How messages name a principal: kind and name, e.g. user "alice".
CREATE FUNCTION zenml_rbac._principal_label(principal uuid) RETURNS text
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce((SELECT format('%s "%s"', replace(p.kind, '_', ' '), p.name)
                       FROM zenml_rbac.principal p WHERE p.id = principal),
                    format('principal %s', principal));
$$;
COMMENT ON FUNCTION zenml_rbac._principal_label(uuid) IS
    'Internal: how error messages name a principal (kind and name, or the id when unknown).';

-- Locks the organization row: management changes within one organization
-- are serialized, so membership transitions see a stable picture.  Then the
-- decision cache is refreshed (what was revoked while we waited is gone).
-- A principal that is not a member of the organization learns nothing about
-- it, not even whether it exists: a generic 42501.
CREATE FUNCTION zenml_rbac._lock_org(org uuid) RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_name text;
BEGIN
    PERFORM zenml_rbac._not_null('organization', org);
    SELECT o.name INTO v_name FROM zenml_rbac.organization o WHERE o.id = org FOR NO KEY UPDATE;
    PERFORM zenml_rbac._refresh_after_lock();
    IF v_actor IS NOT NULL AND NOT zenml_rbac.rbac_org_can(v_actor, org, 'organization', 'read') THEN
        RAISE EXCEPTION 'permission denied for organization %', org
            USING ERRCODE = '42501', DETAIL = 'The acting principal is not a member of it.';
    END IF;
    IF v_name IS NULL THEN
        RAISE EXCEPTION 'organization % does not exist', org USING ERRCODE = '42704';
    END IF;
    RETURN v_name;
END
$$;
COMMENT ON FUNCTION zenml_rbac._lock_org(uuid) IS
    'Internal: locks an organization for a management change and refreshes the decision cache; 42501 for non-members, 42704 if missing.';

CREATE FUNCTION zenml_rbac._lock_tenant(tenant uuid, OUT org_id uuid, OUT name text)
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM zenml_rbac._not_null('tenant', tenant);
    SELECT t.org_id, t.name INTO org_id, name FROM zenml_rbac.tenant t WHERE t.id = tenant;
    IF NOT FOUND THEN
        IF zenml_rbac._acting_principal() IS NOT NULL THEN
            RAISE EXCEPTION 'permission denied for tenant %', tenant
                USING ERRCODE = '42501', DETAIL = 'The acting principal is not a member of its organization.';
        END IF;
        RAISE EXCEPTION 'tenant % does not exist', tenant USING ERRCODE = '42704';
    END IF;
    PERFORM zenml_rbac._lock_org(org_id);
END
$$;
COMMENT ON FUNCTION zenml_rbac._lock_tenant(uuid) IS 'Internal: locks a tenant''s organization for a management change; 42704 if missing.';

CREATE FUNCTION zenml_rbac._require_org(actor uuid, org uuid, capability text, action text, what text)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF actor IS NOT NULL AND NOT zenml_rbac.rbac_org_can(actor, org, capability, action) THEN
        RAISE EXCEPTION 'permission denied to % in organization "%"', what,
            (SELECT o.name FROM zenml_rbac.organization o WHERE o.id = org)
            USING ERRCODE = '42501',
                  DETAIL = format('It requires "%s:%s" in the organization.', capability, action);
    END IF;
END
$$;
COMMENT ON FUNCTION zenml_rbac._require_org(uuid, uuid, text, text, text) IS
    'Internal: 42501 naming the missing organization capability.';

CREATE FUNCTION zenml_rbac._is_org_admin(actor uuid, org uuid) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    -- billing:update is held by org_admin alone
    SELECT actor IS NULL OR zenml_rbac.rbac_org_can(actor, org, 'billing', 'update');
$$;
COMMENT ON FUNCTION zenml_rbac._is_org_admin(uuid, uuid) IS
    'Internal: is the actor the system or an org_admin of the organization?';

CREATE FUNCTION zenml_rbac._require_org_admin(actor uuid, org uuid, what text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT zenml_rbac._is_org_admin(actor, org) THEN
        RAISE EXCEPTION 'permission denied to % in organization "%"', what,
            (SELECT o.name FROM zenml_rbac.organization o WHERE o.id = org)
            USING ERRCODE = '42501', DETAIL = 'It requires the org_admin role.';
    END IF;
END
$$;
COMMENT ON FUNCTION zenml_rbac._require_org_admin(uuid, uuid, text) IS 'Internal: 42501 unless org_admin.';

CREATE FUNCTION zenml_rbac._require_tenant(actor uuid, tenant uuid, resource text, actions text[], what text)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    a text;
BEGIN
    IF actor IS NULL THEN
        RETURN;
    END IF;
    FOREACH a IN ARRAY actions LOOP
        IF zenml_rbac.rbac_can(actor, tenant, resource, a) THEN
            RETURN;
        END IF;
    END LOOP;
    RAISE EXCEPTION 'permission denied to % in tenant "%"', what,
        (SELECT t.name FROM zenml_rbac.tenant t WHERE t.id = tenant)
        USING ERRCODE = '42501',
              DETAIL = format('It requires %s on "%s".',
                              (SELECT string_agg(format('"%s"', x), ' or ') FROM unnest(actions) x),
                              resource);
END
$$;
COMMENT ON FUNCTION zenml_rbac._require_tenant(uuid, uuid, text, text[], text) IS
    'Internal: 42501 unless the actor holds one of the actions on the resource in the tenant.';

-- A user or service account that is a member of the organization, or a team
-- of it: the principals that may hold roles and shares there.
CREATE FUNCTION zenml_rbac._require_org_principal(org uuid, principal uuid, allow_team boolean)
RETURNS text LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_kind text;
    v_org uuid;
BEGIN
    PERFORM zenml_rbac._not_null('principal', principal);
    SELECT p.kind, p.org_id INTO v_kind, v_org FROM zenml_rbac.principal p WHERE p.id = principal;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'principal % does not exist', principal USING ERRCODE = '22023';
    END IF;
    IF v_kind = 'team' THEN
        IF NOT allow_team THEN
            RAISE EXCEPTION '% cannot be a team member', zenml_rbac._principal_label(principal)
                USING ERRCODE = '22023', DETAIL = 'Teams do not nest and hold no organization membership of their own.';
        ELSIF v_org <> org THEN
            RAISE EXCEPTION '% belongs to another organization', zenml_rbac._principal_label(principal)
                USING ERRCODE = '22023';
        END IF;
    ELSIF NOT EXISTS (SELECT 1 FROM zenml_rbac.org_role_assignment m
                      WHERE m.org_id = org AND m.principal_id = principal) THEN
        RAISE EXCEPTION '% is not a member of organization "%"', zenml_rbac._principal_label(principal),
            (SELECT o.name FROM zenml_rbac.organization o WHERE o.id = org)
            USING ERRCODE = '22023', HINT = 'Give it an organization role with zenml_rbac.set_org_role() first.';
    END IF;
    RETURN v_kind;
END
$$;
COMMENT ON FUNCTION zenml_rbac._require_org_principal(uuid, uuid, boolean) IS
    'Internal: 22023 unless the principal is a member (or, if allowed, a team) of the organization.';

CREATE FUNCTION zenml_rbac._tenant_role(tenant uuid, role text) RETURNS uuid
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_id uuid;
BEGIN
    PERFORM zenml_rbac._not_null('role', role);
    SELECT r.id INTO v_id FROM zenml_rbac.role r
     WHERE r.name = role AND (r.tenant_id IS NULL OR r.tenant_id = tenant);
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown tenant role "%"', left(role, 64)
            USING ERRCODE = '22023',
                  HINT = 'Valid roles are: ' || (SELECT string_agg(r.name, ', ' ORDER BY r.tenant_id IS NOT NULL, r.created_at, r.name)
                                                FROM zenml_rbac.role r
                                               WHERE r.tenant_id IS NULL OR r.tenant_id = tenant) || '.';
    END IF;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION zenml_rbac._tenant_role(uuid, text) IS
    'Internal: id of a predefined or custom role of the tenant; 22023 listing valid names.';

CREATE FUNCTION zenml_rbac._custom_role(tenant uuid, role text) RETURNS uuid
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_id uuid := zenml_rbac._tenant_role(tenant, role);
BEGIN
    IF EXISTS (SELECT 1 FROM zenml_rbac.role r WHERE r.id = v_id AND r.tenant_id IS NULL) THEN
        RAISE EXCEPTION 'predefined role "%" cannot be changed', role
            USING ERRCODE = '22023', HINT = 'Create a custom role based on it with zenml_rbac.create_role().';
    END IF;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION zenml_rbac._custom_role(uuid, text) IS
    'Internal: id of a custom role of the tenant; predefined roles are refused (22023).';

CREATE FUNCTION zenml_rbac._check_vocabulary(resource_type text, action text) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM zenml_rbac._not_null('resource type', resource_type);
    PERFORM zenml_rbac._not_null('action', action);
    IF strpos(resource_type, '/') > 0 THEN
        RAISE EXCEPTION 'unknown resource type "%"', left(resource_type, 64)
            USING ERRCODE = '22023', DETAIL = 'Role permissions name a type, not an instance.';
    END IF;
    -- rbac_can validates both names with the engine's own errors and hints
    PERFORM zenml_rbac.rbac_can(NULL::uuid, NULL::uuid, resource_type, action);
END
$$;
COMMENT ON FUNCTION zenml_rbac._check_vocabulary(text, text) IS
    'Internal: 22023 with a hint for an unknown resource type or action.';

-- Membership (SPEC section 7): holding a tenant role directly or via a team.
CREATE FUNCTION zenml_rbac._tenant_members(tenant uuid, candidates uuid[]) RETURNS uuid[]
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(array_agg(c), '{}') FROM unnest(candidates) c
     WHERE EXISTS (SELECT 1 FROM zenml_rbac.tenant_role_assignment a
                    WHERE a.tenant_id = tenant AND a.principal_id = c)
        OR EXISTS (SELECT 1 FROM zenml_rbac.team_member m
                     JOIN zenml_rbac.tenant_role_assignment a ON a.principal_id = m.team_id
                    WHERE m.member_id = c AND a.tenant_id = tenant);
$$;
COMMENT ON FUNCTION zenml_rbac._tenant_members(uuid, uuid[]) IS
    'Internal: which of the candidates are members of the tenant now.';

CREATE FUNCTION zenml_rbac._with_team_members(principals uuid[]) RETURNS uuid[]
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(array_agg(DISTINCT x), '{}') FROM (
        SELECT unnest(principals) AS x
        UNION ALL
        SELECT m.member_id FROM zenml_rbac.team_member m WHERE m.team_id = ANY (principals)) s;
$$;
COMMENT ON FUNCTION zenml_rbac._with_team_members(uuid[]) IS
    'Internal: the principals plus the members of those that are teams.';

CREATE TYPE zenml_rbac._tenant_members_before AS (tenant_id uuid, members uuid[]);
COMMENT ON TYPE zenml_rbac._tenant_members_before IS
    'Internal: the members of a tenant among some principals, taken before a change.';

-- Called after a change with the members from before it: whoever stopped
-- being a member loses every share it held in the tenant.
CREATE FUNCTION zenml_rbac._drop_departed_grants(tenant uuid, members_before uuid[]) RETURNS void
LANGUAGE sql SET search_path = pg_catalog, pg_temp AS $$
    DELETE FROM zenml_rbac.resource_grant g
     WHERE g.tenant_id = tenant
       AND g.principal_id = ANY (members_before)
       AND NOT g.principal_id = ANY (zenml_rbac._tenant_members(tenant, members_before));
$$;
COMMENT ON FUNCTION zenml_rbac._drop_departed_grants(uuid, uuid[]) IS
    'Internal: membership transition: drops the shares of those who stopped being tenant members.';

-- What an actor (not an org_admin) lacks to assign a tenant role: member:create
-- or member:update in the tenant, and every permission of the role.
CREATE FUNCTION zenml_rbac._grant_missing(actor uuid, tenant uuid, role_id uuid) RETURNS text[]
LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT CASE WHEN zenml_rbac.rbac_can(actor, tenant, 'member', 'create')
                  OR zenml_rbac.rbac_can(actor, tenant, 'member', 'update')
                THEN '{}'::text[]
                ELSE ARRAY['member:create or member:update'] END
           || zenml_rbac._role_missing_permissions(actor, tenant, role_id);
$$;
COMMENT ON FUNCTION zenml_rbac._grant_missing(uuid, uuid, uuid) IS
    'Internal: the no-escalation rule for assigning a tenant role: what the actor is missing (empty when nothing).';

-- Team membership changes hand out (or take away) whatever the team holds:
-- a team holding org_admin is changed by org_admins only; for each tenant
-- role of the team, adding a member needs what grant_tenant_role needs and
-- removing one what revoke_tenant_role needs.
CREATE FUNCTION zenml_rbac._require_team_change(actor uuid, team uuid, org uuid, adding boolean)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    a record;
    v_missing text[];
BEGIN
    IF zenml_rbac._is_org_admin(actor, org) THEN
        RETURN;
    END IF;
    IF EXISTS (SELECT 1 FROM zenml_rbac.org_role_assignment m
                WHERE m.org_id = org AND m.principal_id = team AND m.role = 'org_admin') THEN
        PERFORM zenml_rbac._require_org_admin(actor, org, format('change the members of %s, which holds org_admin',
                                                                 zenml_rbac._principal_label(team)));
    END IF;
    FOR a IN SELECT r.tenant_id, r.role_id, ro.name AS role, t.name AS tenant
               FROM zenml_rbac.tenant_role_assignment r
               JOIN zenml_rbac.role ro ON ro.id = r.role_id
               JOIN zenml_rbac.tenant t ON t.id = r.tenant_id
              WHERE r.principal_id = team ORDER BY t.name, ro.name
    LOOP
        IF adding THEN
            v_missing := zenml_rbac._grant_missing(actor, a.tenant_id, a.role_id);
            IF cardinality(v_missing) > 0 THEN
                RAISE EXCEPTION 'permission denied to add a member to %, which holds role "%" in tenant "%"',
                    zenml_rbac._principal_label(team), a.role, a.tenant
                    USING ERRCODE = '42501',
                          DETAIL = format('Joining hands out the role: it requires what granting it does; missing: %s.',
                                          array_to_string(v_missing, ', '));
            END IF;
        ELSE
            PERFORM zenml_rbac._require_tenant(actor, a.tenant_id, 'member', ARRAY['update', 'delete'],
                format('remove a member of %s, which holds role "%s"', zenml_rbac._principal_label(team), a.role));
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION zenml_rbac._require_team_change(uuid, uuid, uuid, boolean) IS
    'Internal: no escalation through teams: changing a team''s members needs what granting or revoking its roles needs.';
-- Organizations, tenants and organization membership.

CREATE FUNCTION zenml_rbac.create_organization(name text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_id uuid;
BEGIN
    PERFORM zenml_rbac._check_name('organization', name);
    IF v_actor IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM zenml_rbac.principal p WHERE p.id = v_actor AND p.kind = 'user' AND p.active) THEN
        RAISE EXCEPTION 'permission denied to create organization "%"', name
            USING ERRCODE = '42501', DETAIL = 'Only active users and the system create organizations.';
    END IF;
    IF EXISTS (SELECT 1 FROM zenml_rbac.organization o WHERE o.name = create_organization.name) THEN
        RAISE EXCEPTION 'organization "%" already exists', name USING ERRCODE = '42710';
    END IF;
    INSERT INTO zenml_rbac.organization (name) VALUES (name) RETURNING id INTO v_id;
    IF v_actor IS NOT NULL THEN
        INSERT INTO zenml_rbac.org_role_assignment (org_id, principal_id, role)
        VALUES (v_id, v_actor, 'org_admin');
    END IF;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION zenml_rbac.create_organization(text) IS
    'Creates an organization; a user creating it becomes its org_admin. Allowed to the system and to active users.';

CREATE FUNCTION zenml_rbac.delete_organization(org uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
BEGIN
    PERFORM zenml_rbac._lock_org(org);
    PERFORM zenml_rbac._require_org(v_actor, org, 'organization', 'delete', 'delete the organization');
    DELETE FROM zenml_rbac.organization o WHERE o.id = org;
END
$$;
COMMENT ON FUNCTION zenml_rbac.delete_organization(uuid) IS
    'Deletes an organization with its tenants, service accounts, teams, roles, resources and shares. Needs organization:delete (org_admin).';

CREATE FUNCTION zenml_rbac.create_tenant(org uuid, name text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_id uuid;
BEGIN
    PERFORM zenml_rbac._lock_org(org);
    PERFORM zenml_rbac._check_name('tenant', name);
    PERFORM zenml_rbac._require_org(v_actor, org, 'tenant', 'create', format('create tenant "%s"', name));
    IF EXISTS (SELECT 1 FROM zenml_rbac.tenant t WHERE t.org_id = org AND t.name = create_tenant.name) THEN
        RAISE EXCEPTION 'tenant "%" already exists in the organization', name USING ERRCODE = '42710';
    END IF;
    INSERT INTO zenml_rbac.tenant (org_id, name) VALUES (org, name) RETURNING id INTO v_id;
    IF v_actor IS NOT NULL THEN
        INSERT INTO zenml_rbac.tenant_role_assignment (tenant_id, principal_id, role_id)
        VALUES (v_id, v_actor, '00000000-0000-4000-8000-000000000001');
    END IF;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION zenml_rbac.create_tenant(uuid, text) IS
    'Creates a tenant; its creator becomes its admin. Needs tenant:create in the organization (org_admin, org_editor).';

CREATE FUNCTION zenml_rbac.delete_tenant(tenant uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_tenant record := zenml_rbac._lock_tenant(tenant);
BEGIN
    PERFORM zenml_rbac._require_org(v_actor, v_tenant.org_id, 'tenant', 'delete',
                                    format('delete tenant "%s"', v_tenant.name));
    DELETE FROM zenml_rbac.tenant t WHERE t.id = tenant;
END
$$;
COMMENT ON FUNCTION zenml_rbac.delete_tenant(uuid) IS
    'Deletes a tenant with its roles, assignments, resources and shares. Needs tenant:delete in the organization (org_admin).';

CREATE FUNCTION zenml_rbac.set_org_role(org uuid, principal uuid, role text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_kind text;
    v_porg uuid;
    v_current text;
BEGIN
    PERFORM zenml_rbac._lock_org(org);
    PERFORM zenml_rbac._not_null('principal', principal);
    PERFORM zenml_rbac._not_null('role', role);
    IF role NOT IN ('org_admin', 'org_editor', 'org_viewer') THEN
        RAISE EXCEPTION 'unknown organization role "%"', left(role, 64)
            USING ERRCODE = '22023', HINT = 'Valid roles are: org_admin, org_editor, org_viewer.';
    END IF;
    SELECT p.kind, p.org_id INTO v_kind, v_porg FROM zenml_rbac.principal p WHERE p.id = principal;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'principal % does not exist', principal USING ERRCODE = '22023';
    END IF;
    IF v_porg IS NOT NULL AND v_porg <> org THEN
        RAISE EXCEPTION '% belongs to another organization', zenml_rbac._principal_label(principal)
            USING ERRCODE = '22023';
    END IF;
    SELECT m.role INTO v_current FROM zenml_rbac.org_role_assignment m
     WHERE m.org_id = org AND m.principal_id = principal;
    IF v_current IS NULL THEN
        PERFORM zenml_rbac._require_org(v_actor, org, 'member', 'create', 'add a member');
    ELSE
        PERFORM zenml_rbac._require_org(v_actor, org, 'member', 'update', 'change a member''s role');
    END IF;
    IF role = 'org_admin' OR v_current = 'org_admin' THEN
        PERFORM zenml_rbac._require_org_admin(v_actor, org,
            CASE WHEN role = 'org_admin' THEN 'grant org_admin' ELSE 'revoke org_admin' END);
    END IF;
    INSERT INTO zenml_rbac.org_role_assignment AS m (org_id, principal_id, role)
    VALUES (org, principal, role)
    ON CONFLICT (org_id, principal_id) DO UPDATE SET role = excluded.role
        WHERE m.role IS DISTINCT FROM excluded.role;
END
$$;
COMMENT ON FUNCTION zenml_rbac.set_org_role(uuid, uuid, text) IS
    'Makes the principal a member of the organization with this role, replacing its previous one. Needs member:create (new member) or member:update; to or from org_admin needs org_admin.';

CREATE FUNCTION zenml_rbac.remove_org_member(org uuid, principal uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_current text;
BEGIN
    PERFORM zenml_rbac._lock_org(org);
    PERFORM zenml_rbac._not_null('principal', principal);
    PERFORM zenml_rbac._require_org(v_actor, org, 'member', 'delete', 'remove a member');
    SELECT m.role INTO v_current FROM zenml_rbac.org_role_assignment m
     WHERE m.org_id = org AND m.principal_id = principal;
    IF v_current = 'org_admin' THEN
        PERFORM zenml_rbac._require_org_admin(v_actor, org, 'remove an org_admin');
    END IF;
    DELETE FROM zenml_rbac.team_member m
     USING zenml_rbac.principal t
     WHERE t.id = m.team_id AND t.org_id = org AND m.member_id = principal;
    DELETE FROM zenml_rbac.tenant_role_assignment a
     USING zenml_rbac.tenant t
     WHERE t.id = a.tenant_id AND t.org_id = org AND a.principal_id = principal;
    DELETE FROM zenml_rbac.resource_grant g
     USING zenml_rbac.tenant t
     WHERE t.id = g.tenant_id AND t.org_id = org AND g.principal_id = principal;
    DELETE FROM zenml_rbac.org_role_assignment m
     WHERE m.org_id = org AND m.principal_id = principal;
END
$$;
COMMENT ON FUNCTION zenml_rbac.remove_org_member(uuid, uuid) IS
    'Removes the principal from the organization: its org role, team memberships, tenant roles and shares there. Owned resources keep their owner. Needs member:delete; removing an org_admin needs org_admin.';
-- Users and service accounts.

CREATE FUNCTION zenml_rbac.create_user(name text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_id uuid;
BEGIN
    PERFORM zenml_rbac._check_name('user', name);
    IF v_actor IS NOT NULL AND NOT EXISTS (
        SELECT 1 FROM zenml_rbac.org_role_assignment m
         WHERE m.principal_id = v_actor
           AND zenml_rbac.rbac_org_can(v_actor, m.org_id, 'member', 'create')) THEN
        RAISE EXCEPTION 'permission denied to create user "%"', name
            USING ERRCODE = '42501', DETAIL = 'It requires "member:create" in some organization.';
    END IF;
    IF EXISTS (SELECT 1 FROM zenml_rbac.principal p WHERE p.kind = 'user' AND p.name = create_user.name) THEN
        RAISE EXCEPTION 'user "%" already exists', name USING ERRCODE = '42710';
    END IF;
    INSERT INTO zenml_rbac.principal (kind, name) VALUES ('user', name) RETURNING id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION zenml_rbac.create_user(text) IS
    'Creates a user (global, a member of nothing yet). Allowed to the system and to whoever holds member:create in some organization.';

CREATE FUNCTION zenml_rbac.create_service_account(org uuid, name text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_id uuid;
BEGIN
    PERFORM zenml_rbac._lock_org(org);
    PERFORM zenml_rbac._check_name('service account', name);
    PERFORM zenml_rbac._require_org(v_actor, org, 'member', 'create',
                                    format('create service account "%s"', name));
    IF EXISTS (SELECT 1 FROM zenml_rbac.principal p
                WHERE p.kind = 'service_account' AND p.org_id = org AND p.name = create_service_account.name) THEN
        RAISE EXCEPTION 'service account "%" already exists in the organization', name USING ERRCODE = '42710';
    END IF;
    INSERT INTO zenml_rbac.principal (kind, name, org_id) VALUES ('service_account', name, org)
    RETURNING id INTO v_id;
    INSERT INTO zenml_rbac.org_role_assignment (org_id, principal_id, role) VALUES (org, v_id, 'org_viewer');
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION zenml_rbac.create_service_account(uuid, text) IS
    'Creates a service account of the organization, a member with org_viewer. Needs member:create.';

CREATE FUNCTION zenml_rbac.deactivate_user(principal uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_kind text;
    v_org uuid;
BEGIN
    PERFORM zenml_rbac._not_null('principal', principal);
    SELECT p.kind, p.org_id INTO v_kind, v_org FROM zenml_rbac.principal p WHERE p.id = principal;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no user or service account has id %', principal USING ERRCODE = '42704';
    ELSIF v_kind = 'team' THEN
        RAISE EXCEPTION '% is not a user or service account', zenml_rbac._principal_label(principal)
            USING ERRCODE = '22023';
    END IF;
    IF v_kind = 'service_account' THEN
        PERFORM zenml_rbac._lock_org(v_org);
        PERFORM zenml_rbac._require_org(v_actor, v_org, 'member', 'delete', 'deactivate a service account');
    ELSIF v_actor IS NOT NULL AND v_actor <> principal AND (
          NOT EXISTS (SELECT 1 FROM zenml_rbac.org_role_assignment m WHERE m.principal_id = principal)
          OR EXISTS (SELECT 1 FROM zenml_rbac.org_role_assignment m
                      WHERE m.principal_id = principal AND NOT zenml_rbac._is_org_admin(v_actor, m.org_id))) THEN
        RAISE EXCEPTION 'permission denied to deactivate %', zenml_rbac._principal_label(principal)
            USING ERRCODE = '42501',
                  DETAIL = 'A user is deactivated by itself, the system, or an org_admin of every organization it belongs to.';
    END IF;
    UPDATE zenml_rbac.principal p SET active = false WHERE p.id = principal AND p.active;
END
$$;
COMMENT ON FUNCTION zenml_rbac.deactivate_user(uuid) IS
    'Deactivates a user or service account: it keeps roles, teams and shares but has no permission anywhere, at once.';

CREATE FUNCTION zenml_rbac.link_pg_role(principal uuid, pg_role name) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
BEGIN
    PERFORM zenml_rbac._not_null('principal', principal);
    IF v_actor IS NOT NULL THEN
        RAISE EXCEPTION 'permission denied to link a PostgreSQL role'
            USING ERRCODE = '42501', DETAIL = 'Only the system (a superuser or the extension owner without a principal) links roles.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM zenml_rbac.principal p WHERE p.id = principal) THEN
        RAISE EXCEPTION 'no user or service account has id %', principal USING ERRCODE = '42704';
    ELSIF EXISTS (SELECT 1 FROM zenml_rbac.principal p WHERE p.id = principal AND p.kind = 'team') THEN
        RAISE EXCEPTION '% is not a user or service account', zenml_rbac._principal_label(principal)
            USING ERRCODE = '22023';
    END IF;
    IF pg_role IS NOT NULL AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolname = pg_role) THEN
        RAISE EXCEPTION 'role "%" does not exist', pg_role USING ERRCODE = '42704';
    END IF;
    IF EXISTS (SELECT 1 FROM zenml_rbac.principal p WHERE p.pg_role = link_pg_role.pg_role AND p.id <> principal) THEN
        RAISE EXCEPTION 'role "%" is already linked to another principal', pg_role USING ERRCODE = '42710';
    END IF;
    UPDATE zenml_rbac.principal p SET pg_role = link_pg_role.pg_role
     WHERE p.id = principal AND p.pg_role IS DISTINCT FROM link_pg_role.pg_role;
END
$$;
COMMENT ON FUNCTION zenml_rbac.link_pg_role(uuid, name) IS
    'Sessions whose session_user is this PostgreSQL role act as the principal when none is set (NULL unlinks). System only.';
-- Teams: groups of users and service accounts of one organization.

CREATE FUNCTION zenml_rbac.create_team(org uuid, name text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_id uuid;
BEGIN
    PERFORM zenml_rbac._lock_org(org);
    PERFORM zenml_rbac._check_name('team', name);
    PERFORM zenml_rbac._require_org(v_actor, org, 'team', 'create', format('create team "%s"', name));
    IF EXISTS (SELECT 1 FROM zenml_rbac.principal p
                WHERE p.kind = 'team' AND p.org_id = org AND p.name = create_team.name) THEN
        RAISE EXCEPTION 'team "%" already exists in the organization', name USING ERRCODE = '42710';
    END IF;
    INSERT INTO zenml_rbac.principal (kind, name, org_id) VALUES ('team', name, org) RETURNING id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION zenml_rbac.create_team(uuid, text) IS
    'Creates a team in the organization. Needs team:create (org_admin, org_editor).';

CREATE FUNCTION zenml_rbac._team_org(team uuid) RETURNS uuid
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_org uuid;
BEGIN
    PERFORM zenml_rbac._not_null('team', team);
    SELECT p.org_id INTO v_org FROM zenml_rbac.principal p WHERE p.id = team AND p.kind = 'team';
    IF NOT FOUND THEN
        IF zenml_rbac._acting_principal() IS NOT NULL THEN
            RAISE EXCEPTION 'permission denied for team %', team
                USING ERRCODE = '42501', DETAIL = 'The acting principal is not a member of its organization.';
        END IF;
        IF EXISTS (SELECT 1 FROM zenml_rbac.principal p WHERE p.id = team) THEN
            RAISE EXCEPTION '% is not a team', zenml_rbac._principal_label(team) USING ERRCODE = '22023';
        END IF;
        RAISE EXCEPTION 'team % does not exist', team USING ERRCODE = '42704';
    END IF;
    PERFORM zenml_rbac._lock_org(v_org);
    RETURN v_org;
END
$$;
COMMENT ON FUNCTION zenml_rbac._team_org(uuid) IS 'Internal: a team''s organization, locked; 42704 if no such team.';

-- The tenants where a team holds a role, with their members before a change.
CREATE FUNCTION zenml_rbac._team_tenants(team uuid, principals uuid[])
RETURNS SETOF zenml_rbac._tenant_members_before LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT t.tenant_id, zenml_rbac._tenant_members(t.tenant_id, principals)
      FROM (SELECT DISTINCT a.tenant_id FROM zenml_rbac.tenant_role_assignment a
             WHERE a.principal_id = team) t;
$$;
COMMENT ON FUNCTION zenml_rbac._team_tenants(uuid, uuid[]) IS
    'Internal: tenants where the team holds a role, and which of the principals are members there now.';

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

CREATE FUNCTION zenml_rbac.delete_team(team uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_org uuid := zenml_rbac._team_org(team);
    v_members uuid[];
    v_before zenml_rbac._tenant_members_before;
    v_snapshot zenml_rbac._tenant_members_before[];
BEGIN
    PERFORM zenml_rbac._require_org(v_actor, v_org, 'team', 'delete', 'delete a team');
    PERFORM zenml_rbac._require_team_change(v_actor, team, v_org, false);
    SELECT coalesce(array_agg(m.member_id), '{}') INTO v_members
      FROM zenml_rbac.team_member m WHERE m.team_id = team;
    SELECT coalesce(array_agg(s), '{}') INTO v_snapshot FROM zenml_rbac._team_tenants(team, v_members) s;
    DELETE FROM zenml_rbac.principal p WHERE p.id = team;
    FOREACH v_before IN ARRAY v_snapshot LOOP
        PERFORM zenml_rbac._drop_departed_grants(v_before.tenant_id, v_before.members);
    END LOOP;
END
$$;
COMMENT ON FUNCTION zenml_rbac.delete_team(uuid) IS
    'Deletes a team with its roles and shares; members who stop being tenant members lose their shares there. Needs team:delete.';

CREATE FUNCTION zenml_rbac.add_team_member(team uuid, principal uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_org uuid := zenml_rbac._team_org(team);
BEGIN
    PERFORM zenml_rbac._require_org(v_actor, v_org, 'team', 'update', 'add a team member');
    PERFORM zenml_rbac._require_org_principal(v_org, principal, false);
    PERFORM zenml_rbac._require_team_change(v_actor, team, v_org, true);
    INSERT INTO zenml_rbac.team_member (team_id, member_id) VALUES (team, principal)
    ON CONFLICT DO NOTHING;
END
$$;
COMMENT ON FUNCTION zenml_rbac.add_team_member(uuid, uuid) IS
    'Adds a user or service account of the team''s organization to the team. Needs team:update.';

CREATE FUNCTION zenml_rbac.remove_team_member(team uuid, principal uuid) RETURNS void
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
COMMENT ON FUNCTION zenml_rbac.remove_team_member(uuid, uuid) IS
    'Removes a member from a team; if that ends its membership of a tenant, its shares there go. Needs team:update.';
-- Tenant role assignments.

CREATE FUNCTION zenml_rbac.grant_tenant_role(tenant uuid, principal uuid, role text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_tenant record := zenml_rbac._lock_tenant(tenant);
    v_role uuid := zenml_rbac._tenant_role(tenant, role);
    v_missing text[];
BEGIN
    PERFORM zenml_rbac._require_org_principal(v_tenant.org_id, principal, true);
    IF NOT zenml_rbac._is_org_admin(v_actor, v_tenant.org_id) THEN
        v_missing := zenml_rbac._grant_missing(v_actor, tenant, v_role);
        IF cardinality(v_missing) > 0 THEN
            RAISE EXCEPTION 'permission denied to grant role "%" in tenant "%"', role, v_tenant.name
                USING ERRCODE = '42501',
                      DETAIL = format('Granting it requires "member:create" or "member:update" and every permission of the role; missing: %s.',
                                      array_to_string(v_missing, ', '));
        END IF;
    END IF;
    INSERT INTO zenml_rbac.tenant_role_assignment (tenant_id, principal_id, role_id)
    VALUES (tenant, principal, v_role)
    ON CONFLICT DO NOTHING;
END
$$;
COMMENT ON FUNCTION zenml_rbac.grant_tenant_role(uuid, uuid, text) IS
    'Gives a member (user or service account) or team of the tenant''s organization a predefined or custom tenant role. Needs member:create or member:update plus every permission of the role, unless org_admin.';

CREATE FUNCTION zenml_rbac.revoke_tenant_role(tenant uuid, principal uuid, role text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_tenant record := zenml_rbac._lock_tenant(tenant);
    v_role uuid := zenml_rbac._tenant_role(tenant, role);
    v_affected uuid[];
    v_before uuid[];
BEGIN
    PERFORM zenml_rbac._not_null('principal', principal);
    IF NOT zenml_rbac._is_org_admin(v_actor, v_tenant.org_id) THEN
        PERFORM zenml_rbac._require_tenant(v_actor, tenant, 'member', ARRAY['update', 'delete'],
                                           format('revoke role "%s"', role));
    END IF;
    v_affected := zenml_rbac._with_team_members(ARRAY[principal]);
    v_before := zenml_rbac._tenant_members(tenant, v_affected);
    DELETE FROM zenml_rbac.tenant_role_assignment a
     WHERE a.tenant_id = tenant AND a.principal_id = principal AND a.role_id = v_role;
    PERFORM zenml_rbac._drop_departed_grants(tenant, v_before);
END
$$;
COMMENT ON FUNCTION zenml_rbac.revoke_tenant_role(uuid, uuid, text) IS
    'Takes a tenant role back; whoever stops being a member of the tenant (the principal, or members of a team) loses its shares there. Needs member:update or member:delete, unless org_admin.';
-- Custom roles: a tenant's own roles built on a base role with edits.

-- Guards the role table against direct DML too: a custom role's base is a
-- predefined role or a role of the same tenant, and chains have no cycles.
CREATE FUNCTION zenml_rbac._role_integrity() RETURNS trigger
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
COMMENT ON FUNCTION zenml_rbac._role_integrity() IS
    'Internal trigger: custom roles build on a predefined role or one of their tenant, with no cycle.';

-- Checked at the end of the statement, when all its rows are in: pg_dump
-- copies the table in physical order, which may put a role before its base.
CREATE CONSTRAINT TRIGGER role_integrity AFTER INSERT OR UPDATE OF tenant_id, name, base_role_id
    ON zenml_rbac.role FOR EACH ROW EXECUTE FUNCTION zenml_rbac._role_integrity();

CREATE FUNCTION zenml_rbac.create_role(tenant uuid, name text, description text, base_role text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_tenant record := zenml_rbac._lock_tenant(tenant);
    v_base uuid;
    v_missing text[];
    v_id uuid;
BEGIN
    PERFORM zenml_rbac._check_name('role', name);
    IF name IN ('org_admin', 'org_editor', 'org_viewer')
       OR EXISTS (SELECT 1 FROM zenml_rbac.role r WHERE r.name = create_role.name AND r.tenant_id IS NULL) THEN
        RAISE EXCEPTION 'role "%" already exists', name
            USING ERRCODE = '42710', DETAIL = 'Predefined role names cannot be reused.';
    END IF;
    IF EXISTS (SELECT 1 FROM zenml_rbac.role r WHERE r.name = create_role.name AND r.tenant_id = tenant) THEN
        RAISE EXCEPTION 'role "%" already exists in tenant "%"', name, v_tenant.name USING ERRCODE = '42710';
    END IF;
    v_base := zenml_rbac._tenant_role(tenant, base_role);
    IF NOT zenml_rbac._is_org_admin(v_actor, v_tenant.org_id) THEN
        PERFORM zenml_rbac._require_tenant(v_actor, tenant, 'role', ARRAY['create'],
                                           format('create role "%s"', name));
        v_missing := zenml_rbac._role_missing_permissions(v_actor, tenant, v_base);
        IF cardinality(v_missing) > 0 THEN
            RAISE EXCEPTION 'permission denied to create role "%" in tenant "%"', name, v_tenant.name
                USING ERRCODE = '42501',
                      DETAIL = format('A role may only hand out what its creator holds; missing: %s.',
                                      array_to_string(v_missing, ', '));
        END IF;
    END IF;
    INSERT INTO zenml_rbac.role (tenant_id, name, description, base_role_id)
    VALUES (tenant, name, coalesce(description, ''), v_base)
    RETURNING id INTO v_id;
    RETURN v_id;
END
$$;
COMMENT ON FUNCTION zenml_rbac.create_role(uuid, text, text, text) IS
    'Creates a custom role of the tenant on a base role (predefined or custom); it inherits the base live. Needs role:create and every permission of the base, unless org_admin.';

CREATE FUNCTION zenml_rbac._edit_role(tenant uuid, role text, resource_type text, action text, allowed boolean)
RETURNS void LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_tenant record := zenml_rbac._lock_tenant(tenant);
    v_role uuid;
BEGIN
    PERFORM zenml_rbac._check_vocabulary(resource_type, action);
    v_role := zenml_rbac._custom_role(tenant, role);
    IF NOT zenml_rbac._is_org_admin(v_actor, v_tenant.org_id) THEN
        PERFORM zenml_rbac._require_tenant(v_actor, tenant, 'role', ARRAY['update'],
                                           format('edit role "%s"', role));
        IF allowed AND NOT zenml_rbac.rbac_can(v_actor, tenant, resource_type, action) THEN
            RAISE EXCEPTION 'permission denied to allow "%:%" in role "%"', resource_type, action, role
                USING ERRCODE = '42501',
                      DETAIL = format('A role may only hand out what its editor holds; missing: %s:%s.',
                                      resource_type, action);
        END IF;
    END IF;
    INSERT INTO zenml_rbac.role_permission AS p (role_id, resource_type, action, allowed)
    VALUES (v_role, resource_type, action, allowed)
    ON CONFLICT ON CONSTRAINT role_permission_pkey DO UPDATE SET allowed = excluded.allowed
        WHERE p.allowed IS DISTINCT FROM excluded.allowed;
END
$$;
COMMENT ON FUNCTION zenml_rbac._edit_role(uuid, text, text, text, boolean) IS
    'Internal: sets one permission edit of a custom role.';

CREATE FUNCTION zenml_rbac.role_allow(tenant uuid, role text, resource_type text, action text) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT zenml_rbac._edit_role(tenant, role, resource_type, action, true);
$$;
COMMENT ON FUNCTION zenml_rbac.role_allow(uuid, text, text, text) IS
    'Custom role edit: allow (type, action), replacing an earlier edit of the pair. Needs role:update and the permission itself, unless org_admin.';

CREATE FUNCTION zenml_rbac.role_disallow(tenant uuid, role text, resource_type text, action text) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT zenml_rbac._edit_role(tenant, role, resource_type, action, false);
$$;
COMMENT ON FUNCTION zenml_rbac.role_disallow(uuid, text, text, text) IS
    'Custom role edit: disallow (type, action) whatever the base holds, replacing an earlier edit of the pair. Needs role:update, unless org_admin.';

CREATE FUNCTION zenml_rbac.drop_role(tenant uuid, role text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_tenant record := zenml_rbac._lock_tenant(tenant);
    v_role uuid := zenml_rbac._custom_role(tenant, role);
    v_dependent text;
    v_before uuid[];
BEGIN
    IF NOT zenml_rbac._is_org_admin(v_actor, v_tenant.org_id) THEN
        PERFORM zenml_rbac._require_tenant(v_actor, tenant, 'role', ARRAY['delete'],
                                           format('drop role "%s"', role));
    END IF;
    SELECT string_agg(format('"%s"', r.name), ', ' ORDER BY r.name) INTO v_dependent
      FROM zenml_rbac.role r WHERE r.base_role_id = v_role;
    IF v_dependent IS NOT NULL THEN
        RAISE EXCEPTION 'cannot drop role "%" because other roles build on it', role
            USING ERRCODE = '2BP01', DETAIL = format('Roles based on it: %s.', v_dependent),
                  HINT = 'Drop those roles first.';
    END IF;
    v_before := zenml_rbac._tenant_members(tenant, zenml_rbac._with_team_members(
        ARRAY(SELECT a.principal_id FROM zenml_rbac.tenant_role_assignment a WHERE a.role_id = v_role)));
    DELETE FROM zenml_rbac.role r WHERE r.id = v_role;
    PERFORM zenml_rbac._drop_departed_grants(tenant, v_before);
END
$$;
COMMENT ON FUNCTION zenml_rbac.drop_role(uuid, text) IS
    'Drops a custom role, revoking it from every holder (membership transitions apply); refused (2BP01) while another role builds on it. Needs role:delete, unless org_admin.';
-- Resource types, registered resource instances, and sharing.

CREATE FUNCTION zenml_rbac.register_resource_type(name text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
BEGIN
    PERFORM zenml_rbac._not_null('resource type', name);
    IF v_actor IS NOT NULL THEN
        RAISE EXCEPTION 'permission denied to register resource type "%"', left(name, 64)
            USING ERRCODE = '42501', DETAIL = 'The vocabulary is global: only the system registers types.';
    END IF;
    IF name !~ '^[a-z][a-z0-9_]{0,62}$' THEN
        RAISE EXCEPTION 'invalid resource type name "%"', left(name, 64)
            USING ERRCODE = '22023',
                  DETAIL = 'A type name is a lowercase letter followed by up to 62 lowercase letters, digits or underscores.';
    END IF;
    INSERT INTO zenml_rbac.resource_type (name) VALUES (name) ON CONFLICT DO NOTHING;
END
$$;
COMMENT ON FUNCTION zenml_rbac.register_resource_type(text) IS
    'Adds a data resource type to the vocabulary (no-op if it exists); predefined roles cover it at once. System only.';

-- 'type/uuid' with the engine's errors; a bare 'type' is refused here.
CREATE FUNCTION zenml_rbac._resource_instance(resource text, OUT resource_type text, OUT resource_id uuid)
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM zenml_rbac._not_null('resource', resource);
    SELECT r.resource_type, r.resource_id INTO resource_type, resource_id
      FROM zenml_rbac.parse_resource(resource) r;
    IF resource_id IS NULL THEN
        RAISE EXCEPTION 'resource "%" names a type, not an instance', resource
            USING ERRCODE = '22023', HINT = format('Write it as "%s/<uuid>".', resource);
    END IF;
END
$$;
COMMENT ON FUNCTION zenml_rbac._resource_instance(text) IS
    'Internal: parses ''type/uuid'' (22P02, 22023), refusing a bare type.';

CREATE FUNCTION zenml_rbac.register_resource(tenant uuid, resource text, owner uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_tenant record := zenml_rbac._lock_tenant(tenant);
    v_ref record := zenml_rbac._resource_instance(resource);
    v_owner uuid;
BEGIN
    IF owner IS NOT NULL THEN
        PERFORM zenml_rbac._require_org_principal(v_tenant.org_id, owner, false);
    END IF;
    PERFORM zenml_rbac._require_tenant(v_actor, tenant, v_ref.resource_type, ARRAY['create'],
                                       format('register a %s', v_ref.resource_type));
    SELECT r.owner_id INTO v_owner FROM zenml_rbac.resource r
     WHERE r.tenant_id = tenant AND r.resource_type = v_ref.resource_type AND r.resource_id = v_ref.resource_id;
    IF FOUND THEN
        IF v_owner IS DISTINCT FROM owner THEN
            RAISE EXCEPTION 'resource "%" is already registered in tenant "%" with another owner', resource, v_tenant.name
                USING ERRCODE = '42710';
        END IF;
        RETURN;
    END IF;
    INSERT INTO zenml_rbac.resource (tenant_id, resource_type, resource_id, owner_id)
    VALUES (tenant, v_ref.resource_type, v_ref.resource_id, owner);
END
$$;
COMMENT ON FUNCTION zenml_rbac.register_resource(uuid, text, uuid) IS
    'Registers a resource instance (''type/uuid'') of the tenant with its owner (a member of the organization, or NULL). Needs create on the type.';

CREATE FUNCTION zenml_rbac.delete_resource(tenant uuid, resource text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_tenant record := zenml_rbac._lock_tenant(tenant);
    v_ref record := zenml_rbac._resource_instance(resource);
BEGIN
    PERFORM zenml_rbac._require_tenant(v_actor, tenant, resource, ARRAY['delete'],
                                       format('delete "%s"', resource));
    DELETE FROM zenml_rbac.resource r
     WHERE r.tenant_id = tenant AND r.resource_type = v_ref.resource_type AND r.resource_id = v_ref.resource_id;
END
$$;
COMMENT ON FUNCTION zenml_rbac.delete_resource(uuid, text) IS
    'Unregisters a resource instance and removes its shares. Needs delete on it (type-level, owner, or shared).';

CREATE FUNCTION zenml_rbac.share_resource(tenant uuid, resource text, principal uuid, actions text[]) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_tenant record := zenml_rbac._lock_tenant(tenant);
    v_ref record := zenml_rbac._resource_instance(resource);
    v_actions text[];
    v_missing text[];
    a text;
BEGIN
    PERFORM zenml_rbac._not_null('actions', actions);
    IF array_position(actions, NULL) IS NOT NULL THEN
        RAISE EXCEPTION 'actions must not contain null' USING ERRCODE = '22004';
    END IF;
    FOREACH a IN ARRAY actions LOOP
        PERFORM zenml_rbac._check_vocabulary(v_ref.resource_type, a);
        IF a = 'create' THEN
            RAISE EXCEPTION 'action "create" cannot be shared'
                USING ERRCODE = '22023',
                      DETAIL = 'Creating is a type-level permission that only roles give.',
                      HINT = 'Share read, update, delete or share.';
        END IF;
    END LOOP;
    SELECT coalesce(array_agg(DISTINCT x ORDER BY x), '{}') INTO v_actions FROM unnest(actions) x;
    PERFORM zenml_rbac._require_org_principal(v_tenant.org_id, principal, true);
    IF NOT EXISTS (SELECT 1 FROM zenml_rbac.resource r
                    WHERE r.tenant_id = tenant AND r.resource_type = v_ref.resource_type
                      AND r.resource_id = v_ref.resource_id) THEN
        RAISE EXCEPTION 'resource "%" is not registered in tenant "%"', resource, v_tenant.name
            USING ERRCODE = '42704', HINT = 'Register it with zenml_rbac.register_resource() first.';
    END IF;
    IF v_actor IS NOT NULL THEN
        SELECT array_agg(x ORDER BY x) INTO v_missing
          FROM unnest(ARRAY['share'] || v_actions) x
         WHERE NOT zenml_rbac.rbac_can(v_actor, tenant, resource, x);
        IF v_missing IS NOT NULL THEN
            RAISE EXCEPTION 'permission denied to share "%" in tenant "%"', resource, v_tenant.name
                USING ERRCODE = '42501',
                      DETAIL = format('Sharing requires "share" and every action handed out; missing: %s.',
                                      (SELECT string_agg(DISTINCT x, ', ') FROM unnest(v_missing) x));
        END IF;
    END IF;
    IF cardinality(v_actions) = 0 THEN
        DELETE FROM zenml_rbac.resource_grant g
         WHERE g.tenant_id = tenant AND g.resource_type = v_ref.resource_type
           AND g.resource_id = v_ref.resource_id AND g.principal_id = principal;
    ELSE
        INSERT INTO zenml_rbac.resource_grant AS g (tenant_id, resource_type, resource_id, principal_id, actions)
        VALUES (tenant, v_ref.resource_type, v_ref.resource_id, principal, v_actions)
        ON CONFLICT ON CONSTRAINT resource_grant_pkey
        DO UPDATE SET actions = excluded.actions WHERE g.actions IS DISTINCT FROM excluded.actions;
    END IF;
END
$$;
COMMENT ON FUNCTION zenml_rbac.share_resource(uuid, text, uuid, text[]) IS
    'Sets the actions (read, update, delete, share) a principal or team holds on one resource, replacing its previous set; an empty array unshares. Needs share and every action handed out.';
-- Service-account API keys: shown once at creation, stored as SHA-256 only,
-- optional expiry, rotation with a retention window, revocation at once.

CREATE TABLE zenml_rbac.api_key (
    id           uuid        PRIMARY KEY DEFAULT pg_catalog.gen_random_uuid(),
    principal_id uuid        NOT NULL REFERENCES zenml_rbac.principal ON DELETE CASCADE,
    key_hash     bytea       NOT NULL UNIQUE CHECK (pg_catalog.length(key_hash) = 32),
    key_prefix   text        NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT pg_catalog.now(),
    expires_at   timestamptz,
    retired_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz
);
CREATE INDEX api_key_principal ON zenml_rbac.api_key (principal_id);
COMMENT ON TABLE zenml_rbac.api_key IS
    'API keys of service accounts: only the SHA-256 of a key is kept.';
COMMENT ON COLUMN zenml_rbac.api_key.key_prefix IS
    'The first characters of the key, to tell keys apart; not enough to use one.';
COMMENT ON COLUMN zenml_rbac.api_key.retired_at IS
    'Set by rotate_api_key: the old key works until then (the retention window).';
COMMENT ON COLUMN zenml_rbac.api_key.last_used_at IS
    'Last successful authenticate(), recorded at most once a minute and never on a standby.';
SELECT pg_catalog.pg_extension_config_dump('zenml_rbac.api_key', '');

CREATE FUNCTION zenml_rbac._new_api_key() RETURNS text
    LANGUAGE c VOLATILE STRICT PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'new_api_key';
COMMENT ON FUNCTION zenml_rbac._new_api_key() IS
    'Internal: a new random API key ("zrk_" and 256 bits in hex).';

-- The service account whose keys are managed, its organization locked, and
-- the caller authorized (member:update in that organization).
CREATE FUNCTION zenml_rbac._key_owner(principal uuid, what text) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_actor uuid := zenml_rbac._acting_principal();
    v_kind text;
    v_org uuid;
BEGIN
    PERFORM zenml_rbac._not_null('principal', principal);
    SELECT p.kind, p.org_id INTO v_kind, v_org FROM zenml_rbac.principal p WHERE p.id = principal;
    IF NOT FOUND THEN
        IF v_actor IS NOT NULL THEN
            RAISE EXCEPTION 'permission denied for principal %', principal USING ERRCODE = '42501';
        END IF;
        RAISE EXCEPTION 'no service account has id %', principal USING ERRCODE = '42704';
    END IF;
    IF v_kind <> 'service_account' THEN
        RAISE EXCEPTION '% cannot have API keys', zenml_rbac._principal_label(principal)
            USING ERRCODE = '22023', HINT = 'API keys belong to service accounts; users authenticate through PostgreSQL or set_principal().';
    END IF;
    PERFORM zenml_rbac._lock_org(v_org);
    PERFORM zenml_rbac._require_org(v_actor, v_org, 'member', 'update', what);
END
$$;
COMMENT ON FUNCTION zenml_rbac._key_owner(uuid, text) IS
    'Internal: checks a service account''s keys may be managed by the caller (member:update).';

CREATE FUNCTION zenml_rbac._issue_api_key(principal uuid, expires_at timestamptz) RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_key text := zenml_rbac._new_api_key();
BEGIN
    INSERT INTO zenml_rbac.api_key (principal_id, key_hash, key_prefix, expires_at)
    VALUES (principal, sha256(convert_to(v_key, 'UTF8')), left(v_key, 12), expires_at);
    RETURN v_key;
END
$$;
COMMENT ON FUNCTION zenml_rbac._issue_api_key(uuid, timestamptz) IS
    'Internal: stores the hash of a new key and returns the key.';

CREATE FUNCTION zenml_rbac.create_api_key(principal uuid, expires_at timestamptz DEFAULT NULL) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM zenml_rbac._key_owner(principal, 'create an API key');
    IF expires_at <= now() THEN
        RAISE EXCEPTION 'expires_at must be in the future' USING ERRCODE = '22023';
    END IF;
    RETURN zenml_rbac._issue_api_key(principal, expires_at);
END
$$;
COMMENT ON FUNCTION zenml_rbac.create_api_key(uuid, timestamptz) IS
    'Creates an API key for a service account and returns it; only its hash is kept, so this is the only time it is shown. Needs member:update in the organization.';

CREATE FUNCTION zenml_rbac.rotate_api_key(principal uuid, retain interval DEFAULT '0') RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM zenml_rbac._key_owner(principal, 'rotate an API key');
    PERFORM zenml_rbac._not_null('retain', retain);
    IF retain < interval '0' THEN
        RAISE EXCEPTION 'retain must not be negative' USING ERRCODE = '22023';
    END IF;
    UPDATE zenml_rbac.api_key k SET retired_at = now() + retain
     WHERE k.principal_id = principal AND k.revoked_at IS NULL
       AND (k.retired_at IS NULL OR k.retired_at > now() + retain);
    RETURN zenml_rbac._issue_api_key(principal, NULL);
END
$$;
COMMENT ON FUNCTION zenml_rbac.rotate_api_key(uuid, interval) IS
    'Issues a new key; the service account''s current keys keep working for the retention period (0: stop at once). Needs member:update.';

CREATE FUNCTION zenml_rbac.revoke_api_key(principal uuid) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM zenml_rbac._key_owner(principal, 'revoke API keys');
    UPDATE zenml_rbac.api_key k SET revoked_at = now()
     WHERE k.principal_id = principal AND k.revoked_at IS NULL;
END
$$;
COMMENT ON FUNCTION zenml_rbac.revoke_api_key(uuid) IS
    'Revokes every key of the service account, effective at once. Needs member:update.';

CREATE FUNCTION zenml_rbac.authenticate(api_key text) RETURNS uuid
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_key zenml_rbac.api_key;
BEGIN
    IF api_key IS NOT NULL AND api_key ~ '^zrk_[0-9a-f]{64}$' THEN
        SELECT k.* INTO v_key FROM zenml_rbac.api_key k
          JOIN zenml_rbac.principal p ON p.id = k.principal_id
         WHERE k.key_hash = sha256(convert_to(api_key, 'UTF8'))
           AND k.revoked_at IS NULL
           AND (k.expires_at IS NULL OR k.expires_at > now())
           AND (k.retired_at IS NULL OR k.retired_at > now())
           AND p.active AND p.kind = 'service_account';
    END IF;
    -- one answer for every failure: which part was wrong helps only an attacker
    IF v_key.id IS NULL THEN
        RAISE EXCEPTION 'invalid API key' USING ERRCODE = '28P01';
    END IF;
    PERFORM zenml_rbac.set_principal(v_key.principal_id);
    -- bookkeeping only where writing is possible: not on a standby, not in
    -- a READ ONLY transaction
    IF NOT pg_is_in_recovery() AND NOT current_setting('transaction_read_only')::boolean
       AND (v_key.last_used_at IS NULL OR v_key.last_used_at < now() - interval '1 minute') THEN
        UPDATE zenml_rbac.api_key k SET last_used_at = now() WHERE k.id = v_key.id;
    END IF;
    RETURN v_key.principal_id;
END
$$;
COMMENT ON FUNCTION zenml_rbac.authenticate(text) IS
    'Acts, until the transaction ends, as the service account the API key belongs to; 28P01 for any wrong, expired, retired, revoked or malformed key.';
-- Protecting application tables with row-level security (src/protect.c).

CREATE TABLE zenml_rbac.protected_table (
    relid         regclass    PRIMARY KEY,
    resource_type text        NOT NULL REFERENCES zenml_rbac.resource_type,
    tenant_column name        NOT NULL,
    id_column     name        NOT NULL,
    owner_column  name,
    protected_at  timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE zenml_rbac.protected_table IS
    'Tables protected by protect(): the resource type their rows are and the columns holding tenant, id and owner.';
SELECT pg_catalog.pg_extension_config_dump('zenml_rbac.protected_table', '');

CREATE FUNCTION zenml_rbac._require_system(what text) RETURNS void
    LANGUAGE c VOLATILE PARALLEL UNSAFE
    AS 'MODULE_PATHNAME', 'require_system';
COMMENT ON FUNCTION zenml_rbac._require_system(text) IS
    'Internal: 42501 unless the caller is a superuser or the extension owner (outside maintenance code).';

-- What the generated policies call.  Their names and arguments are part of
-- every dump of a protected table: they stay as they are across versions.
CREATE FUNCTION zenml_rbac.rls_tenants(resource_type text, action text) RETURNS uuid[]
    LANGUAGE c STABLE STRICT PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'rls_tenants';
COMMENT ON FUNCTION zenml_rbac.rls_tenants(text, text) IS
    'Tenants where the current principal''s roles give the action on the type (padded with repeats); NULL for none. Called once per query by the policies of protected tables.';

CREATE FUNCTION zenml_rbac.rls_instances(resource_type text, action text) RETURNS uuid[]
    LANGUAGE c STABLE STRICT PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'rls_instances';
COMMENT ON FUNCTION zenml_rbac.rls_instances(text, text) IS
    'Instances of the type the current principal reaches with the action by ownership or shares outside rls_tenants(), as id, tenant, id, tenant, ... sorted (padded with repeats); NULL for none.';

CREATE FUNCTION zenml_rbac.rls_owner_tenants(resource_type text, action text) RETURNS uuid[]
    LANGUAGE c STABLE STRICT PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'rls_owner_tenants';
COMMENT ON FUNCTION zenml_rbac.rls_owner_tenants(text, text) IS
    'Tenants the current principal is a member of without the action on the type (padded with repeats); NULL for none. With an owner column, the SELECT policy passes the principal''s own rows there.';

CREATE FUNCTION zenml_rbac.rls_instance_match(tenant uuid, id uuid, pairs uuid[]) RETURNS boolean
    LANGUAGE c IMMUTABLE STRICT PARALLEL SAFE
    AS 'MODULE_PATHNAME', 'rls_instance_match';
COMMENT ON FUNCTION zenml_rbac.rls_instance_match(uuid, uuid, uuid[]) IS
    'Whether (id, tenant) is one of the pairs of an rls_instances() result.';

CREATE FUNCTION zenml_rbac.rls_registered(tenant uuid, id uuid, resource_type text) RETURNS boolean
    LANGUAGE c STABLE STRICT PARALLEL RESTRICTED
    AS 'MODULE_PATHNAME', 'rls_registered';
COMMENT ON FUNCTION zenml_rbac.rls_registered(uuid, uuid, text) IS
    'Whether the instance is registered in the tenant, answered only where the current principal is a member or holds a share of it: lets the UPDATE policy tell a row that stays in its tenant from one moved elsewhere.';

CREATE FUNCTION zenml_rbac.protect_check() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'protect_check';
COMMENT ON FUNCTION zenml_rbac.protect_check() IS
    'Trigger of protected tables: fills the owner column and refuses a write with an error naming the table and the missing permission.';

CREATE FUNCTION zenml_rbac.protect_sync() RETURNS trigger
    LANGUAGE c AS 'MODULE_PATHNAME', 'protect_sync';
COMMENT ON FUNCTION zenml_rbac.protect_sync() IS
    'Trigger of protected tables: registers inserted rows as resources, unregisters deleted ones, follows tenant/id/owner changes; refuses TRUNCATE under row-level security.';

-- The policy text for one action.  The first conjunct is what indexes serve
-- (a BitmapOr of the tenant index and the id's); the second makes it exact,
-- and costs one test of an InitPlan's value per row for a principal with no
-- owned or shared instances beyond its tenants (the common case).
CREATE FUNCTION zenml_rbac._policy_expression(resource_type text, action text,
                                              tenant_column name, id_column name)
RETURNS text LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
    SELECT format('((%1$I = ANY ((SELECT zenml_rbac.rls_tenants(%3$L, %4$L))::uuid[])'
                  ' OR %2$I = ANY ((SELECT zenml_rbac.rls_instances(%3$L, %4$L))::uuid[]))'
                  ' AND ((SELECT zenml_rbac.rls_instances(%3$L, %4$L)) IS NULL'
                  ' OR %1$I = ANY ((SELECT zenml_rbac.rls_tenants(%3$L, %4$L))::uuid[])'
                  ' OR zenml_rbac.rls_instance_match(%1$I, %2$I,'
                  ' (SELECT zenml_rbac.rls_instances(%3$L, %4$L)))))',
                  tenant_column, id_column, resource_type, action)
$$;
COMMENT ON FUNCTION zenml_rbac._policy_expression(text, text, name, name) IS
    'Internal: the condition a row passes for an action: a tenant where roles give it, or an owned or shared instance.';

-- Drops what protect() creates on a table (policies and triggers).
CREATE FUNCTION zenml_rbac._drop_protection(tbl regclass) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_name name;
BEGIN
    FOREACH v_name IN ARRAY ARRAY['zenml_rbac_select', 'zenml_rbac_insert',
                                  'zenml_rbac_update', 'zenml_rbac_delete']::name[]
    LOOP
        IF EXISTS (SELECT FROM pg_policy WHERE polrelid = tbl AND polname = v_name) THEN
            EXECUTE format('DROP POLICY %I ON %s', v_name, tbl);
        END IF;
    END LOOP;
    FOREACH v_name IN ARRAY ARRAY['zz_zenml_rbac_check', 'zz_zenml_rbac_register',
                                  'zz_zenml_rbac_reregister', 'zz_zenml_rbac_unregister',
                                  'zz_zenml_rbac_truncate']::name[]
    LOOP
        IF EXISTS (SELECT FROM pg_trigger WHERE tgrelid = tbl AND tgname = v_name) THEN
            EXECUTE format('DROP TRIGGER %I ON %s', v_name, tbl);
        END IF;
    END LOOP;
END
$$;
COMMENT ON FUNCTION zenml_rbac._drop_protection(regclass) IS
    'Internal: drops the policies and triggers protect() created on a table.';

CREATE FUNCTION zenml_rbac._require_uuid_column(tbl regclass, role text, col name) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_type regtype;
BEGIN
    SELECT a.atttypid::regtype INTO v_type
      FROM pg_attribute a
     WHERE a.attrelid = tbl AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'column "%" of table % does not exist', col, tbl
            USING ERRCODE = '42703', HINT = format('Name the table''s %s column.', role);
    END IF;
    IF v_type <> 'uuid'::regtype THEN
        RAISE EXCEPTION '% column "%" of table % is of type %, not uuid', role, col, tbl, v_type
            USING ERRCODE = '42804';
    END IF;
END
$$;
COMMENT ON FUNCTION zenml_rbac._require_uuid_column(regclass, text, name) IS
    'Internal: 42703 unless the table has the column, 42804 unless it is a uuid.';

CREATE FUNCTION zenml_rbac.protect(tbl regclass, resource_type text, tenant_column name,
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
COMMENT ON FUNCTION zenml_rbac.protect(regclass, text, name, name, name) IS
    'Turns on row-level security for a table whose rows are resources of a type: policies per command, triggers that check writes and register rows. System only; run it again to change it.';

CREATE FUNCTION zenml_rbac.unprotect(tbl regclass) RETURNS void
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
COMMENT ON FUNCTION zenml_rbac.unprotect(regclass) IS
    'Removes what protect() made (policies, triggers) and turns row-level security off unless other policies remain. Registered resources stay. System only.';

-- A dropped table takes its protection with it.
CREATE FUNCTION zenml_rbac._forget_dropped_tables() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    DELETE FROM zenml_rbac.protected_table p
     WHERE NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = p.relid);
END
$$;
COMMENT ON FUNCTION zenml_rbac._forget_dropped_tables() IS
    'Internal: event trigger removing the protection rows of dropped tables.';
CREATE EVENT TRIGGER zenml_rbac_forget_dropped_tables ON sql_drop
    WHEN TAG IN ('DROP TABLE', 'DROP SCHEMA', 'DROP OWNED')
    EXECUTE FUNCTION zenml_rbac._forget_dropped_tables();
COMMENT ON EVENT TRIGGER zenml_rbac_forget_dropped_tables IS
    'Removes the protected_table rows of dropped tables.';

CREATE VIEW zenml_rbac.protected_tables AS
SELECT p.relid AS table_name,
       p.resource_type,
       p.tenant_column,
       p.id_column,
       p.owner_column,
       c.relrowsecurity AS rls_enabled,
       c.relforcerowsecurity AS rls_forced,
       pg_catalog.pg_get_userbyid(c.relowner) AS table_owner,
       ARRAY(SELECT pol.polname FROM pg_catalog.pg_policy pol
              WHERE pol.polrelid = p.relid ORDER BY pol.polname) AS policies,
       ARRAY(SELECT tg.tgname FROM pg_catalog.pg_trigger tg
              WHERE tg.tgrelid = p.relid AND NOT tg.tgisinternal ORDER BY tg.tgname) AS triggers,
       ARRAY(SELECT problem FROM (VALUES
                (NOT c.relrowsecurity, 'row level security is disabled'),
                ((SELECT count(*) FROM pg_catalog.pg_policy pol WHERE pol.polrelid = p.relid
                   AND pol.polname IN ('zenml_rbac_select', 'zenml_rbac_insert',
                                       'zenml_rbac_update', 'zenml_rbac_delete')) < 4,
                 'a zenml_rbac policy is missing'),
                (EXISTS (SELECT FROM pg_catalog.pg_policy pol WHERE pol.polrelid = p.relid
                          AND pol.polpermissive AND pol.polname NOT LIKE 'zenml\_rbac\_%'),
                 'other permissive policies widen access'),
                ((SELECT count(*) FROM pg_catalog.pg_trigger tg WHERE tg.tgrelid = p.relid
                   AND tg.tgname LIKE 'zz\_zenml\_rbac\_%' AND tg.tgenabled <> 'D') < 5,
                 'a zenml_rbac trigger is missing or disabled'),
                (EXISTS (SELECT FROM unnest(ARRAY[p.tenant_column, p.id_column, p.owner_column]) col(name)
                          WHERE col.name IS NOT NULL AND NOT EXISTS (
                                SELECT FROM pg_catalog.pg_attribute a WHERE a.attrelid = p.relid
                                   AND a.attname = col.name AND NOT a.attisdropped)),
                 'a protected column no longer exists'),
                (EXISTS (SELECT FROM pg_catalog.pg_inherits i WHERE i.inhparent = p.relid OR i.inhrelid = p.relid),
                 'the table takes part in inheritance: other tables reach its rows or it theirs')) v(failed, problem)
              WHERE failed) AS problems,
       p.protected_at
  FROM zenml_rbac.protected_table p
  JOIN pg_catalog.pg_class c ON c.oid = p.relid;
COMMENT ON VIEW zenml_rbac.protected_tables IS
    'Protected tables, what protects them (type, columns, policies, triggers, RLS flags), and any problem found: an empty problems array means the protection is complete.';
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

DO $$
DECLARE
    t text;
    spec text[];
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

    -- table, key columns, organization / tenant / subject columns, never recorded
    FOREACH spec SLICE 1 IN ARRAY ARRAY[
        ['organization',           'id',                                        'id',     '',          '',             ''],
        ['tenant',                 'id',                                        'org_id', 'id',        '',             ''],
        ['principal',              'id',                                        'org_id', '',          'id',           ''],
        ['org_role_assignment',    'org_id,principal_id',                       'org_id', '',          'principal_id', ''],
        ['team_member',            'team_id,member_id',                         '',       '',          'member_id',    ''],
        ['resource_type',          'name',                                      '',       '',          '',             ''],
        ['role',                   'id',                                        '',       'tenant_id', '',             ''],
        ['role_permission',        'role_id,resource_type,action',              '',       '',          '',             ''],
        ['tenant_role_assignment', 'tenant_id,principal_id,role_id',            '',       'tenant_id', 'principal_id', ''],
        ['resource',               'tenant_id,resource_type,resource_id',       '',       'tenant_id', 'owner_id',     ''],
        ['resource_grant',         'tenant_id,resource_type,resource_id,principal_id', '', 'tenant_id', 'principal_id', ''],
        ['api_key',                'id',                                        '',       '',          'principal_id', 'key_hash'],
        ['protected_table',        'relid',                                     '',       '',          '',             '']]
    LOOP
        EXECUTE pg_catalog.format(
            'CREATE TRIGGER audit_capture AFTER INSERT OR DELETE%s ON zenml_rbac.%I '
            'FOR EACH ROW EXECUTE FUNCTION zenml_rbac.audit_capture(%L, %L, %L, %L, %L, %L)',
            CASE WHEN spec[1] = 'api_key' THEN '' ELSE ' OR UPDATE' END,
            spec[1], spec[1], spec[2], spec[3], spec[4], spec[5], spec[6]);
        EXECUTE pg_catalog.format(
            'CREATE TRIGGER audit_capture_truncate BEFORE TRUNCATE ON zenml_rbac.%I '
            'FOR EACH STATEMENT EXECUTE FUNCTION zenml_rbac.audit_capture(%L, %L, %L, %L, %L, %L)',
            spec[1], spec[1], spec[2], spec[3], spec[4], spec[5], spec[6]);
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
-- Views for reporting tools: plain SELECTs with stable column names
-- (README, "Format").  No one may read them until the DBA grants SELECT,
-- e.g. to an auditor role; they need no access to the catalog itself.

CREATE VIEW zenml_rbac.audit_events AS
SELECT a.chain,
       a.seq,
       a.event_time,
       a.transaction_id,
       a.principal_id     AS actor_id,
       actor.name         AS actor_name,
       a.session_user_name,
       a.role_name,
       a.application_name,
       a.client_addr,
       a.operation,
       a.object_kind,
       a.object_id,
       a.org_id,
       a.tenant_id,
       a.subject_id,
       a.before,
       a.after,
       pg_catalog.encode(a.prev_hash, 'hex') AS prev_hash,
       pg_catalog.encode(a.hash, 'hex')      AS hash
  FROM zenml_rbac.audit_log a
  LEFT JOIN zenml_rbac.principal actor ON actor.id = a.principal_id;
COMMENT ON VIEW zenml_rbac.audit_events IS
    'Audit events, one per changed catalog row (and one per purge), with who, when, from where, and the row before and after. Order by event_time or (chain, seq).';

CREATE VIEW zenml_rbac.tenant_members AS
SELECT t.org_id, t.id AS tenant_id, t.name AS tenant_name,
       p.id AS principal_id, p.name AS principal_name, p.kind AS principal_kind, p.active,
       r.id AS role_id, r.name AS role_name,
       NULL::uuid AS team_id, NULL::text AS team_name
  FROM zenml_rbac.tenant_role_assignment a
  JOIN zenml_rbac.tenant t ON t.id = a.tenant_id
  JOIN zenml_rbac.principal p ON p.id = a.principal_id
  JOIN zenml_rbac.role r ON r.id = a.role_id
UNION ALL
SELECT t.org_id, t.id, t.name,
       p.id, p.name, p.kind, p.active,
       r.id, r.name,
       team.id, team.name
  FROM zenml_rbac.tenant_role_assignment a
  JOIN zenml_rbac.team_member m ON m.team_id = a.principal_id
  JOIN zenml_rbac.principal team ON team.id = m.team_id
  JOIN zenml_rbac.principal p ON p.id = m.member_id
  JOIN zenml_rbac.tenant t ON t.id = a.tenant_id
  JOIN zenml_rbac.role r ON r.id = a.role_id;
COMMENT ON VIEW zenml_rbac.tenant_members IS
    'Members of each tenant: one row per tenant role a principal (user, service account or team) holds, directly (team_id NULL) or through a team.';

CREATE VIEW zenml_rbac.role_permissions AS
SELECT r.id AS role_id, r.name AS role_name, r.tenant_id, t.name AS tenant_name,
       base.name AS base_role_name, rp.resource_type, rp.action,
       CASE WHEN r.tenant_id IS NULL THEN 'predefined'
            WHEN edit.allowed THEN 'allowed'
            ELSE 'inherited' END AS origin
  FROM zenml_rbac.role r
  LEFT JOIN zenml_rbac.tenant t ON t.id = r.tenant_id
  LEFT JOIN zenml_rbac.role base ON base.id = r.base_role_id
  CROSS JOIN LATERAL zenml_rbac.role_permissions(r.id) rp
  LEFT JOIN zenml_rbac.role_permission edit
         ON edit.role_id = r.id AND edit.resource_type = rp.resource_type AND edit.action = rp.action;
COMMENT ON VIEW zenml_rbac.role_permissions IS
    'Effective permissions of every role, custom roles expanded through their base chain: origin is predefined, allowed (an edit of this role) or inherited (from its base).';

CREATE VIEW zenml_rbac.effective_permissions AS
WITH paths AS (
    -- every tenant role a principal holds, directly or through a team
    SELECT m.principal_id, m.tenant_id, m.role_id, m.team_id,
           CASE WHEN m.team_id IS NULL THEN 'role' ELSE 'team_role' END AS source_kind,
           pg_catalog.format('%s/%s/%s', m.tenant_id, coalesce(m.team_id, m.principal_id), m.role_id) AS assignment_key,
           CASE WHEN m.team_id IS NOT NULL
                THEN pg_catalog.format('%s/%s', m.team_id, m.principal_id) END AS membership_key
      FROM zenml_rbac.tenant_members m
), members AS (
    -- one membership per principal and tenant: a direct role if any
    SELECT DISTINCT ON (principal_id, tenant_id) principal_id, tenant_id, assignment_key, membership_key
      FROM paths
     ORDER BY principal_id, tenant_id, source_kind, assignment_key
), role_rows AS (
    SELECT p.principal_id, p.tenant_id, rp.resource_type, NULL::uuid AS resource_id, rp.action,
           p.source_kind, p.role_id, p.team_id, p.assignment_key, p.membership_key,
           NULL::text AS grant_key
      FROM paths p
      CROSS JOIN LATERAL zenml_rbac.role_permissions(p.role_id) rp
), share_rows AS (
    -- shares to the principal, or to a team it belongs to
    SELECT g.principal_id, g.tenant_id, g.resource_type, g.resource_id, act.action,
           'share'::text AS source_kind, NULL::uuid AS role_id, NULL::uuid AS team_id,
           NULL::text AS assignment_key, NULL::text AS membership_key,
           pg_catalog.format('%s/%s/%s/%s', g.tenant_id, g.resource_type, g.resource_id, g.principal_id) AS grant_key
      FROM zenml_rbac.resource_grant g
      CROSS JOIN LATERAL pg_catalog.unnest(g.actions) AS act(action)
    UNION ALL
    SELECT m.member_id, g.tenant_id, g.resource_type, g.resource_id, act.action,
           'team_share', NULL, g.principal_id,
           NULL, pg_catalog.format('%s/%s', m.team_id, m.member_id),
           pg_catalog.format('%s/%s/%s/%s', g.tenant_id, g.resource_type, g.resource_id, g.principal_id)
      FROM zenml_rbac.resource_grant g
      JOIN zenml_rbac.team_member m ON m.team_id = g.principal_id
      CROSS JOIN LATERAL pg_catalog.unnest(g.actions) AS act(action)
), owner_rows AS (
    -- owners have every action on their resources while members of the tenant
    SELECT r.owner_id, r.tenant_id, r.resource_type, r.resource_id, act.action,
           'owner'::text, NULL::uuid, NULL::uuid, mb.assignment_key, mb.membership_key,
           pg_catalog.format('%s/%s/%s', r.tenant_id, r.resource_type, r.resource_id)
      FROM zenml_rbac.resource r
      JOIN members mb ON mb.principal_id = r.owner_id AND mb.tenant_id = r.tenant_id
      CROSS JOIN LATERAL pg_catalog.unnest(ARRAY['create', 'read', 'update', 'delete', 'share']) AS act(action)
), all_rows AS (
    SELECT * FROM role_rows
    UNION ALL SELECT * FROM share_rows
    UNION ALL SELECT * FROM owner_rows
)
SELECT x.principal_id, p.name AS principal_name, p.kind AS principal_kind,
       t.org_id, x.tenant_id, t.name AS tenant_name,
       x.resource_type, x.resource_id, x.action,
       CASE x.source_kind
            WHEN 'role' THEN 'role ' || r.name
            WHEN 'team_role' THEN pg_catalog.format('team %s: role %s', team.name, r.name)
            WHEN 'share' THEN 'share'
            WHEN 'team_share' THEN pg_catalog.format('team %s: share', team.name)
            ELSE 'owner' END AS source,
       x.source_kind, x.role_id, r.name AS role_name, x.team_id, team.name AS team_name,
       w.at AS granted_at, w.by_id AS granted_by, w.by_name AS granted_by_name
  FROM all_rows x
  JOIN zenml_rbac.principal p ON p.id = x.principal_id AND p.active
  JOIN zenml_rbac.tenant t ON t.id = x.tenant_id
  LEFT JOIN zenml_rbac.role r ON r.id = x.role_id
  LEFT JOIN zenml_rbac.principal team ON team.id = x.team_id
  -- who completed the path, when: the latest write of its assignment, team
  -- membership, share or registration (for ownership: the registration or
  -- the membership that makes it count, a direct role preferred) (inline: a function here would be
  -- checked against the reader, who has no access to the log table)
  LEFT JOIN LATERAL (
      SELECT e.event_time AS at, e.principal_id AS by_id,
             coalesce(actor.name, e.session_user_name::text || ' (system)') AS by_name
        FROM zenml_rbac.audit_log e
        LEFT JOIN zenml_rbac.principal actor ON actor.id = e.principal_id
       WHERE e.operation IN ('INSERT', 'UPDATE')
         AND ((e.object_kind = 'tenant_role_assignment' AND e.object_id = x.assignment_key)
           OR (e.object_kind = 'team_member' AND e.object_id = x.membership_key)
           OR (e.object_kind = CASE WHEN x.source_kind = 'owner' THEN 'resource' ELSE 'resource_grant' END
               AND e.object_id = x.grant_key))
       ORDER BY e.event_time DESC, e.seq DESC
       LIMIT 1) w ON true;
COMMENT ON VIEW zenml_rbac.effective_permissions IS
    'What every active principal may do: one row per principal, tenant, resource type, action and path (a role, a team''s role, a share, a team''s share, ownership); resource_id is NULL for the whole type. granted_at/granted_by: the latest audit event that completed the path.';

CREATE VIEW zenml_rbac.access_review AS
-- organization admins
SELECT 'org_admin'::text AS finding, a.org_id, NULL::uuid AS tenant_id,
       p.id AS principal_id, p.name AS principal_name, p.kind AS principal_kind,
       'org_admin'::text AS role_name,
       CASE WHEN p.kind = 'team' THEN 'team holds org_admin' ELSE 'holds org_admin' END AS detail
  FROM zenml_rbac.org_role_assignment a
  JOIN zenml_rbac.principal p ON p.id = a.principal_id
 WHERE a.role = 'org_admin'
UNION ALL
-- tenant admins, directly or through a team
SELECT 'tenant_admin', m.org_id, m.tenant_id, m.principal_id, m.principal_name, m.principal_kind,
       m.role_name,
       CASE WHEN m.team_id IS NULL THEN 'holds admin' ELSE 'holds admin through team ' || m.team_name END
  FROM zenml_rbac.tenant_members m
 WHERE m.role_id = '00000000-0000-4000-8000-000000000001'  -- the predefined admin
UNION ALL
-- deactivated principals that still hold roles, teams or shares
SELECT 'deactivated_with_access', held.org_id, held.tenant_id, p.id, p.name, p.kind,
       held.role_name, 'deactivated, still ' || held.what
  FROM zenml_rbac.principal p
  JOIN LATERAL (
      SELECT a.org_id, NULL::uuid AS tenant_id, a.role AS role_name, 'holds org role ' || a.role AS what
        FROM zenml_rbac.org_role_assignment a WHERE a.principal_id = p.id
      UNION ALL
      SELECT t.org_id, a.tenant_id, r.name, 'holds tenant role ' || r.name
        FROM zenml_rbac.tenant_role_assignment a
        JOIN zenml_rbac.tenant t ON t.id = a.tenant_id
        JOIN zenml_rbac.role r ON r.id = a.role_id
       WHERE a.principal_id = p.id
      UNION ALL
      SELECT team.org_id, NULL, NULL, 'member of team ' || team.name
        FROM zenml_rbac.team_member m JOIN zenml_rbac.principal team ON team.id = m.team_id
       WHERE m.member_id = p.id
      UNION ALL
      SELECT t.org_id, g.tenant_id, NULL,
             pg_catalog.format('shared %s/%s (%s)', g.resource_type, g.resource_id,
                               pg_catalog.array_to_string(g.actions, ', '))
        FROM zenml_rbac.resource_grant g JOIN zenml_rbac.tenant t ON t.id = g.tenant_id
       WHERE g.principal_id = p.id) held ON true
 WHERE NOT p.active
UNION ALL
-- active users and service accounts holding tenant roles (directly or
-- through a team) with no sign of use in 90 days (no API key used, no
-- catalog change made), and older than that
SELECT 'unused_with_access', m.org_id, m.tenant_id, m.principal_id, m.principal_name, m.principal_kind,
       m.role_name,
       pg_catalog.format('no activity since %s%s', coalesce(act.last_activity::text, 'creation'),
                         CASE WHEN m.team_id IS NULL THEN '' ELSE ', holds it through team ' || m.team_name END)
  FROM zenml_rbac.tenant_members m
  JOIN zenml_rbac.principal p ON p.id = m.principal_id AND p.active AND p.kind <> 'team'
  CROSS JOIN LATERAL (
      SELECT GREATEST(
                 (SELECT max(k.last_used_at) FROM zenml_rbac.api_key k WHERE k.principal_id = p.id),
                 (SELECT max(e.event_time) FROM zenml_rbac.audit_log e WHERE e.principal_id = p.id)) AS last_activity
  ) act
 WHERE p.created_at < pg_catalog.now() - interval '90 days'
   AND (act.last_activity IS NULL OR act.last_activity < pg_catalog.now() - interval '90 days')
UNION ALL
-- shares to principals that are not members of the tenant (implicit membership)
SELECT 'share_to_non_member', t.org_id, g.tenant_id, p.id, p.name, p.kind, NULL,
       pg_catalog.format('shared %s/%s (%s) without a tenant role', g.resource_type, g.resource_id,
                         pg_catalog.array_to_string(g.actions, ', '))
  FROM zenml_rbac.resource_grant g
  JOIN zenml_rbac.principal p ON p.id = g.principal_id
  JOIN zenml_rbac.tenant t ON t.id = g.tenant_id
 WHERE NOT EXISTS (SELECT 1 FROM zenml_rbac.tenant_members m
                    WHERE m.tenant_id = g.tenant_id AND m.principal_id = g.principal_id)
UNION ALL
-- custom roles that give more than their base role
SELECT 'custom_role_broader_than_base', t.org_id, r.tenant_id, NULL, NULL, NULL, r.name,
       pg_catalog.format('adds to %s: %s', base.name,
                         pg_catalog.string_agg(rp.resource_type || ':' || rp.action, ', '
                                               ORDER BY rp.resource_type, rp.action))
  FROM zenml_rbac.role r
  JOIN zenml_rbac.role base ON base.id = r.base_role_id
  JOIN zenml_rbac.tenant t ON t.id = r.tenant_id
  CROSS JOIN LATERAL zenml_rbac.role_permissions(r.id) rp
 WHERE NOT EXISTS (SELECT 1 FROM zenml_rbac.role_permissions(base.id) bp
                    WHERE bp.resource_type = rp.resource_type AND bp.action = rp.action)
 GROUP BY t.org_id, r.tenant_id, r.name, base.name;
COMMENT ON VIEW zenml_rbac.access_review IS
    'Findings for an access review: org_admin, tenant_admin, deactivated_with_access, unused_with_access (90 days without API-key use or catalog changes), share_to_non_member, custom_role_broader_than_base.';
-- Privileges: nothing for PUBLIC but what each kind of caller needs.
-- Catalog tables are written only through the SECURITY DEFINER functions.

REVOKE ALL ON ALL TABLES IN SCHEMA zenml_rbac FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA zenml_rbac FROM PUBLIC;
REVOKE ALL ON SCHEMA zenml_rbac FROM PUBLIC;
GRANT USAGE ON SCHEMA zenml_rbac TO PUBLIC;

-- Checks and who-am-I: any role may ask.
GRANT EXECUTE ON FUNCTION
    zenml_rbac.rbac_can(uuid, uuid, text, text),
    zenml_rbac.rbac_can(text, text, text, text),
    zenml_rbac.rbac_can(uuid, text, text),
    zenml_rbac.rbac_can(text, text, text),
    zenml_rbac.rbac_org_can(uuid, uuid, text, text),
    zenml_rbac.rbac_org_can(text, text, text, text),
    zenml_rbac.role_permissions(uuid),
    zenml_rbac.parse_resource(text),
    zenml_rbac.cache_stats(),
    zenml_rbac.current_principal()
TO PUBLIC;

-- The management API authorizes its caller itself (the acting principal,
-- or the system), so any role may call it.
GRANT EXECUTE ON FUNCTION
    zenml_rbac.create_organization(text),
    zenml_rbac.delete_organization(uuid),
    zenml_rbac.create_tenant(uuid, text),
    zenml_rbac.delete_tenant(uuid),
    zenml_rbac.set_org_role(uuid, uuid, text),
    zenml_rbac.remove_org_member(uuid, uuid),
    zenml_rbac.create_user(text),
    zenml_rbac.create_service_account(uuid, text),
    zenml_rbac.deactivate_user(uuid),
    zenml_rbac.link_pg_role(uuid, name),
    zenml_rbac.create_team(uuid, text),
    zenml_rbac.delete_team(uuid),
    zenml_rbac.add_team_member(uuid, uuid),
    zenml_rbac.remove_team_member(uuid, uuid),
    zenml_rbac.grant_tenant_role(uuid, uuid, text),
    zenml_rbac.revoke_tenant_role(uuid, uuid, text),
    zenml_rbac.create_role(uuid, text, text, text),
    zenml_rbac.role_allow(uuid, text, text, text),
    zenml_rbac.role_disallow(uuid, text, text, text),
    zenml_rbac.drop_role(uuid, text),
    zenml_rbac.register_resource_type(text),
    zenml_rbac.register_resource(uuid, text, uuid),
    zenml_rbac.delete_resource(uuid, text),
    zenml_rbac.share_resource(uuid, text, uuid, text[]),
    zenml_rbac.create_api_key(uuid, timestamptz),
    zenml_rbac.rotate_api_key(uuid, interval),
    zenml_rbac.revoke_api_key(uuid)
TO PUBLIC;

-- Protected tables: their policies run these as whoever queries the table;
-- protect() and unprotect() authorize their caller (the system) themselves.
GRANT EXECUTE ON FUNCTION
    zenml_rbac.rls_tenants(text, text),
    zenml_rbac.rls_instances(text, text),
    zenml_rbac.rls_owner_tenants(text, text),
    zenml_rbac.rls_instance_match(uuid, uuid, uuid[]),
    zenml_rbac.rls_registered(uuid, uuid, text),
    zenml_rbac.protect(regclass, text, name, name, name),
    zenml_rbac.unprotect(regclass)
TO PUBLIC;
GRANT SELECT ON zenml_rbac.protected_tables TO PUBLIC;

-- Purging authorizes its caller (the system) itself.  Reading the log and
-- the reporting views is for whom the DBA grants it (README, "Audit"), e.g.
--   GRANT SELECT ON zenml_rbac.audit_events, zenml_rbac.effective_permissions,
--         zenml_rbac.access_review, zenml_rbac.tenant_members,
--         zenml_rbac.role_permissions TO auditor;
--   GRANT EXECUTE ON FUNCTION zenml_rbac.verify_audit_log(), zenml_rbac.audit_head() TO auditor;
GRANT EXECUTE ON FUNCTION zenml_rbac.purge_audit_log(timestamptz) TO PUBLIC;

-- Possessing a valid key is the credential: any role may present one.
GRANT EXECUTE ON FUNCTION zenml_rbac.authenticate(text) TO PUBLIC;

-- set_principal is deliberately not granted: the DBA grants it to the
-- application's pool role, e.g.
--   GRANT EXECUTE ON FUNCTION zenml_rbac.set_principal(uuid) TO app_pool;
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
