-- The comparison point: authorization the way an application would write it
-- without zenml_rbac, in plain SQL over ordinary tables holding the same
-- grants (copied from the zenml_rbac catalog): user -> role assignments,
-- team membership, role -> permission rows.  Every lookup has an index.

\set ON_ERROR_STOP 1

CREATE SCHEMA plain;

CREATE TABLE plain.principal (id uuid PRIMARY KEY, active boolean NOT NULL);
CREATE TABLE plain.team_member (
    member_id uuid NOT NULL, team_id uuid NOT NULL,
    PRIMARY KEY (member_id, team_id));
CREATE TABLE plain.role_assignment (
    principal_id uuid NOT NULL, tenant_id uuid NOT NULL, role_id uuid NOT NULL,
    PRIMARY KEY (principal_id, tenant_id, role_id));
CREATE TABLE plain.role_permission (
    role_id uuid NOT NULL, resource_type text NOT NULL, action text NOT NULL,
    PRIMARY KEY (role_id, resource_type, action));

INSERT INTO plain.principal SELECT id, active FROM zenml_rbac.principal;
INSERT INTO plain.team_member SELECT member_id, team_id FROM zenml_rbac.team_member;
INSERT INTO plain.role_assignment SELECT principal_id, tenant_id, role_id FROM zenml_rbac.tenant_role_assignment;
-- the effective permissions of every role (predefined ones are fixed in C)
INSERT INTO plain.role_permission
SELECT r.id, rp.resource_type, rp.action
FROM zenml_rbac.role r, zenml_rbac.role_permissions(r.id) rp;

VACUUM (FREEZE, ANALYZE) plain.principal, plain.team_member, plain.role_assignment, plain.role_permission;

-- Type-level check, the same question as rbac_can(principal, tenant, type,
-- action): an active principal holding, itself or through one of its
-- teams, a role in the tenant whose permissions include type:action.
CREATE FUNCTION plain.authorize(principal uuid, tenant uuid, resource_type text, action text)
    RETURNS boolean LANGUAGE sql STABLE
    AS $$
    SELECT EXISTS (SELECT 1 FROM plain.principal p WHERE p.id = $1 AND p.active)
       AND EXISTS (
           SELECT 1
           FROM plain.role_assignment a
           JOIN plain.role_permission rp
             ON rp.role_id = a.role_id AND rp.resource_type = $3 AND rp.action = $4
           WHERE a.tenant_id = $2
             AND a.principal_id IN (SELECT $1
                                    UNION ALL
                                    SELECT m.team_id FROM plain.team_member m WHERE m.member_id = $1))
$$;
