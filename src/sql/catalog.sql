-- Catalog tables: the single source of truth that the C decision engine
-- caches.  Every table fires a row trigger that invalidates, at commit, the
-- backend cache entries its rows can affect (see src/invalidation.c).

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
    'Tenant roles: the predefined admin, editor and viewer (no tenant; permissions in predefined_role_permission) and custom roles of one tenant built on a base role.';

-- Fixed ids keep custom roles' base references stable across dump/restore.
INSERT INTO zenml_rbac.role (id, name, description) VALUES
    ('00000000-0000-4000-8000-000000000001', 'admin',  'Every action on every data and administration type.'),
    ('00000000-0000-4000-8000-000000000002', 'editor', 'create, read and share on data types; read on administration types.'),
    ('00000000-0000-4000-8000-000000000003', 'viewer', 'read on every type.');

-- What each predefined role may do on every type of a kind, so that types
-- registered later are covered; changed only by upgrade steps (the library
-- reads it, so one library serves databases at every version).
CREATE TABLE zenml_rbac.predefined_role_permission (
    role_id uuid   NOT NULL REFERENCES zenml_rbac.role ON DELETE CASCADE,
    kind    text   NOT NULL CHECK (kind IN ('data', 'administration')),
    actions text[] NOT NULL CHECK (actions <@ ARRAY['create', 'read', 'update', 'delete', 'share']),
    PRIMARY KEY (role_id, kind)
);
COMMENT ON TABLE zenml_rbac.predefined_role_permission IS
    'The predefined tenant roles'' actions on every resource type of a kind (data, administration); changed only by upgrade steps.';
INSERT INTO zenml_rbac.predefined_role_permission (role_id, kind, actions) VALUES
    ('00000000-0000-4000-8000-000000000001', 'data', '{create,read,update,delete,share}'),
    ('00000000-0000-4000-8000-000000000001', 'administration', '{create,read,update,delete,share}'),
    ('00000000-0000-4000-8000-000000000002', 'data', '{create,read,share}'),
    ('00000000-0000-4000-8000-000000000002', 'administration', '{read}'),
    ('00000000-0000-4000-8000-000000000003', 'data', '{read}'),
    ('00000000-0000-4000-8000-000000000003', 'administration', '{read}');

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

-- A publication of the catalog leaves out the seeded rows every database
-- already has (WHERE NOT builtin, WHERE tenant_id IS NOT NULL); a row filter
-- on updates and deletes may only use replica identity columns.
ALTER TABLE zenml_rbac.resource_type REPLICA IDENTITY FULL;
ALTER TABLE zenml_rbac.role REPLICA IDENTITY FULL;

-- Who may use these: catalog tables are written only through the SECURITY
-- DEFINER functions; nothing for PUBLIC.
REVOKE ALL ON
    zenml_rbac.org_role_assignment,
    zenml_rbac.organization,
    zenml_rbac.predefined_role_permission,
    zenml_rbac.principal,
    zenml_rbac.resource,
    zenml_rbac.resource_grant,
    zenml_rbac.resource_type,
    zenml_rbac.role,
    zenml_rbac.role_permission,
    zenml_rbac.team_member,
    zenml_rbac.tenant,
    zenml_rbac.tenant_role_assignment
    FROM PUBLIC;
