-- Fills the zenml_rbac catalog with a consistent, deterministic organization
-- chart, set-based and as superuser (straight into the catalog tables, not
-- through the management API, which checks the caller row by row).
-- psql variables (run.sh sets them): orgs, tenants, users, roles_per_user,
-- teams, team_roles, resources, grants_per_resource.
--
-- Shape: user i belongs to organization i % orgs (an org_role_assignment
-- row) and holds roles_per_user roles (admin/editor/viewer in turn) in
-- distinct tenants of that organization; it is a member of one team of its
-- organization, and each team holds team_roles tenant roles there.  Each
-- resource of tenant j is owned by a user of j's organization and shared
-- with grants_per_resource distinct users of that organization.

\set ON_ERROR_STOP 1

CREATE TABLE bench.params AS
SELECT :orgs::int AS orgs, :tenants::int AS tenants, :users::int AS users,
       :roles_per_user::int AS roles_per_user, :teams::int AS teams,
       :team_roles::int AS team_roles, :resources::int AS resources,
       :grants_per_resource::int AS grants_per_resource,
       :tenants::int / :orgs AS tenants_per_org,
       :users::int / :orgs AS users_per_org,
       :teams::int / :orgs AS teams_per_org;

DO $$
DECLARE
    p bench.params;
BEGIN
    SELECT * INTO p FROM bench.params;
    IF p.tenants % p.orgs <> 0 OR p.users % p.orgs <> 0 OR p.teams % p.orgs <> 0 THEN
        RAISE EXCEPTION 'tenants (%), users (%) and teams (%) must be multiples of orgs (%)',
            p.tenants, p.users, p.teams, p.orgs;
    END IF;
    IF p.roles_per_user > p.tenants_per_org OR p.team_roles > p.tenants_per_org
       OR p.grants_per_resource > p.users_per_org THEN
        RAISE EXCEPTION 'an organization has too few tenants or users for the roles and grants asked';
    END IF;
END
$$;

-- Index arithmetic: tenant j and team m belong to organization j % orgs;
-- slot s of organization o is tenant s * orgs + o (likewise users, teams).
-- (Plain expressions with every size passed in: the planner inlines them.)
CREATE FUNCTION bench.user_tenant(i bigint, k int, orgs int, tenants int, roles_per_user int)
    RETURNS int LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT (((i / orgs) * 7 + k * (tenants / orgs / roles_per_user)) % (tenants / orgs)
                  * orgs + i % orgs)::int $$;
COMMENT ON FUNCTION bench.user_tenant(bigint, int, int, int, int) IS
    'Tenant index of user i''s k-th role (k < roles_per_user): distinct tenants of its organization.';

INSERT INTO zenml_rbac.organization (id, name)
SELECT bench.id('org', o), 'org' || o
FROM generate_series(0, :orgs - 1) o;

INSERT INTO zenml_rbac.tenant (id, org_id, name)
SELECT bench.id('tenant', j), bench.id('org', j % :orgs), 'tenant' || j
FROM generate_series(0, :tenants - 1) j;

INSERT INTO zenml_rbac.principal (id, kind, name)
SELECT bench.id('user', i), 'user', 'user' || i
FROM generate_series(0, :users - 1) i;

INSERT INTO zenml_rbac.principal (id, kind, name, org_id)
SELECT bench.id('team', m), 'team', 'team' || m, bench.id('org', m % :orgs)
FROM generate_series(0, :teams - 1) m;

INSERT INTO zenml_rbac.org_role_assignment (org_id, principal_id, role)
SELECT bench.id('org', i % :orgs), bench.id('user', i),
       CASE WHEN i % 10 = 0 THEN 'org_admin' WHEN i % 10 < 4 THEN 'org_editor' ELSE 'org_viewer' END
FROM generate_series(0, :users - 1) i;

INSERT INTO zenml_rbac.team_member (team_id, member_id)
SELECT bench.id('team', ((i / :orgs) % (:teams / :orgs)) * :orgs + i % :orgs), bench.id('user', i)
FROM generate_series(0, :users - 1) i;

INSERT INTO zenml_rbac.tenant_role_assignment (tenant_id, principal_id, role_id)
SELECT bench.id('tenant', bench.user_tenant(i, k, :orgs, :tenants, :roles_per_user)), bench.id('user', i), bench.role_id((i + k)::int % 3 + 1)
FROM generate_series(0, :users - 1) i, generate_series(0, :roles_per_user - 1) k;

INSERT INTO zenml_rbac.tenant_role_assignment (tenant_id, principal_id, role_id)
SELECT bench.id('tenant', ((m / :orgs * 13 + k * (:tenants / :orgs / :team_roles)) % (:tenants / :orgs)) * :orgs + m % :orgs),
       bench.id('team', m), bench.role_id(3 - (m + k)::int % 3)
FROM generate_series(0, :teams - 1) m, generate_series(0, :team_roles - 1) k;

CREATE FUNCTION bench.resource_type(r bigint) RETURNS text
    LANGUAGE sql IMMUTABLE AS $$
    SELECT (ARRAY['artifact', 'model', 'model_version', 'pipeline', 'pipeline_run', 'stack',
                  'stack_component', 'secret', 'service_connector'])[r % 9 + 1] $$;

INSERT INTO zenml_rbac.resource (tenant_id, resource_type, resource_id, owner_id)
SELECT bench.id('tenant', r % :tenants), bench.resource_type(r), bench.id('resource', r),
       bench.id('user', ((r * 17) % (:users / :orgs)) * :orgs + (r % :tenants) % :orgs)
FROM generate_series(0, :resources - 1) r;

INSERT INTO zenml_rbac.resource_grant (tenant_id, resource_type, resource_id, principal_id, actions)
SELECT bench.id('tenant', r % :tenants), bench.resource_type(r), bench.id('resource', r),
       bench.id('user', ((r * 31 + k * (:users / :orgs / :grants_per_resource)) % (:users / :orgs)) * :orgs
                        + (r % :tenants) % :orgs),
       (ARRAY['{read}', '{read,update}', '{read,share}', '{read,update,delete}'])[k % 4 + 1]::text[]
FROM generate_series(0, :resources - 1) r, generate_series(0, :grants_per_resource - 1) k;

VACUUM (ANALYZE) zenml_rbac.organization, zenml_rbac.tenant, zenml_rbac.principal,
    zenml_rbac.org_role_assignment, zenml_rbac.team_member,
    zenml_rbac.tenant_role_assignment, zenml_rbac.resource, zenml_rbac.resource_grant;
