-- pgTAP: the predefined tenant roles (README: Concepts) as a full matrix.
--
-- admin / editor / viewer x every resource type (the nine seeded data types,
-- one type registered here, the three administration types) x every action,
-- one assertion per cell, for principals holding the role directly, through a
-- team, and for principals that must get nothing at all.
--
-- The expectations below are the README's rules (Concepts, "Tenant roles") written down as data; they are
-- never read from the extension's catalog.
\set ON_ERROR_STOP 1
\set QUIET 1

BEGIN;
SELECT plan(1044);

-- ---------------------------------------------------------------------------
-- The expected matrix (README: Concepts, "Tenant roles")
-- ---------------------------------------------------------------------------

CREATE TEMP TABLE tap_type (ord int PRIMARY KEY, type text NOT NULL UNIQUE, kind text NOT NULL);
INSERT INTO tap_type VALUES
    ( 1, 'artifact',          'data'),
    ( 2, 'model',             'data'),
    ( 3, 'model_version',     'data'),
    ( 4, 'pipeline',          'data'),
    ( 5, 'pipeline_run',      'data'),
    ( 6, 'stack',             'data'),
    ( 7, 'stack_component',   'data'),
    ( 8, 'secret',            'data'),
    ( 9, 'service_connector', 'data'),
    (10, 'dataset',           'data'),            -- registered below
    (11, 'member',            'administration'),
    (12, 'role',              'administration'),
    (13, 'tenant',            'administration');

CREATE TEMP TABLE tap_action (ord int PRIMARY KEY, action text NOT NULL UNIQUE);
INSERT INTO tap_action VALUES (1, 'create'), (2, 'read'), (3, 'update'), (4, 'delete'), (5, 'share');

-- role x kind of type -> the actions the role holds on every type of that kind
CREATE TEMP TABLE tap_role_rule (role text, kind text, actions text[], PRIMARY KEY (role, kind));
INSERT INTO tap_role_rule VALUES
    ('admin',  'data',           '{create,read,update,delete,share}'),
    ('admin',  'administration', '{create,read,update,delete,share}'),
    ('editor', 'data',           '{create,read,share}'),
    ('editor', 'administration', '{read}'),
    ('viewer', 'data',           '{read}'),
    ('viewer', 'administration', '{read}');

-- Every cell of the matrix for a role; role NULL expects no permission at all.
CREATE FUNCTION pg_temp.tap_cells(who text, principal uuid, tenant uuid, role text)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    c record;
    label text;
BEGIN
    FOR c IN
        SELECT t.type, a.action, coalesce(a.action = ANY (r.actions), false) AS expected
          FROM tap_type t CROSS JOIN tap_action a
          LEFT JOIN tap_role_rule r ON r.role = tap_cells.role AND r.kind = t.kind
         ORDER BY t.ord, a.ord
    LOOP
        label := format('%s: %s:%s %s', who, c.type, c.action,
                        CASE WHEN c.expected THEN 'allowed' ELSE 'denied' END);
        BEGIN
            RETURN NEXT is(zenml_rbac.rbac_can(principal, tenant, c.type, c.action), c.expected, label);
        EXCEPTION WHEN OTHERS THEN
            RETURN NEXT fail(label) || E'\n' || diag('    rbac_can raised ' || SQLSTATE || ': ' || SQLERRM);
        END;
    END LOOP;
END
$$;

-- ---------------------------------------------------------------------------
-- Fixtures, created as the system (superuser, no principal set)
-- ---------------------------------------------------------------------------

CREATE TEMP TABLE fx (name text PRIMARY KEY, id uuid NOT NULL);
CREATE FUNCTION pg_temp.fx(n text) RETURNS uuid LANGUAGE sql STABLE AS
    $$ SELECT id FROM fx WHERE name = n $$;

INSERT INTO fx VALUES ('org', zenml_rbac.create_organization('tap_predef'));
INSERT INTO fx VALUES ('org2', zenml_rbac.create_organization('tap_predef_other'));
INSERT INTO fx VALUES ('tenant', zenml_rbac.create_tenant(pg_temp.fx('org'), 'tap_predef_t'));
INSERT INTO fx VALUES ('sibling', zenml_rbac.create_tenant(pg_temp.fx('org'), 'tap_predef_t2'));

INSERT INTO fx SELECT u, zenml_rbac.create_user('tap_predef_' || u)
  FROM unnest(ARRAY['admin', 'editor', 'viewer',
                    'team_admin_u', 'team_editor_u', 'team_viewer_u',
                    'union_u', 'nonmember', 'outsider', 'orgadmin',
                    'deactivated', 'deactivated_team_u', 'sibling_admin']) AS u;

-- every user but 'outsider' is a member of the organization
SELECT zenml_rbac.set_org_role(pg_temp.fx('org'), pg_temp.fx(u), 'org_viewer')
  FROM unnest(ARRAY['admin', 'editor', 'viewer',
                    'team_admin_u', 'team_editor_u', 'team_viewer_u',
                    'union_u', 'nonmember',
                    'deactivated', 'deactivated_team_u', 'sibling_admin']) AS u;
SELECT zenml_rbac.set_org_role(pg_temp.fx('org'), pg_temp.fx('orgadmin'), 'org_admin');
-- the outsider is an org_admin elsewhere, which must not matter either
SELECT zenml_rbac.set_org_role(pg_temp.fx('org2'), pg_temp.fx('outsider'), 'org_admin');

-- direct holders
SELECT zenml_rbac.grant_tenant_role(pg_temp.fx('tenant'), pg_temp.fx('admin'), 'admin');
SELECT zenml_rbac.grant_tenant_role(pg_temp.fx('tenant'), pg_temp.fx('editor'), 'editor');
SELECT zenml_rbac.grant_tenant_role(pg_temp.fx('tenant'), pg_temp.fx('viewer'), 'viewer');
SELECT zenml_rbac.grant_tenant_role(pg_temp.fx('tenant'), pg_temp.fx('deactivated'), 'admin');
SELECT zenml_rbac.grant_tenant_role(pg_temp.fx('tenant'), pg_temp.fx('union_u'), 'viewer');
SELECT zenml_rbac.grant_tenant_role(pg_temp.fx('sibling'), pg_temp.fx('sibling_admin'), 'admin');

-- teams holding each role; their members hold no role of their own
INSERT INTO fx SELECT 'team_' || r, zenml_rbac.create_team(pg_temp.fx('org'), 'tap_predef_team_' || r)
  FROM unnest(ARRAY['admin', 'editor', 'viewer']) AS r;
SELECT zenml_rbac.grant_tenant_role(pg_temp.fx('tenant'), pg_temp.fx('team_' || r), r)
  FROM unnest(ARRAY['admin', 'editor', 'viewer']) AS r;
SELECT zenml_rbac.add_team_member(pg_temp.fx('team_' || r), pg_temp.fx('team_' || r || '_u'))
  FROM unnest(ARRAY['admin', 'editor', 'viewer']) AS r;
SELECT zenml_rbac.add_team_member(pg_temp.fx('team_editor'), pg_temp.fx('union_u'));
SELECT zenml_rbac.add_team_member(pg_temp.fx('team_admin'), pg_temp.fx('deactivated_team_u'));

-- a type registered after the roles were granted: predefined roles cover it
-- as a data type at once
SELECT lives_ok($$SELECT zenml_rbac.register_resource_type('dataset')$$,
                'register_resource_type(''dataset'') succeeds for the system');

SELECT zenml_rbac.deactivate_user(pg_temp.fx('deactivated'));
SELECT zenml_rbac.deactivate_user(pg_temp.fx('deactivated_team_u'));

-- ---------------------------------------------------------------------------
-- The matrix, role held directly (3 x 65 cells)
-- ---------------------------------------------------------------------------

SELECT * FROM pg_temp.tap_cells('direct admin',  pg_temp.fx('admin'),  pg_temp.fx('tenant'), 'admin');
SELECT * FROM pg_temp.tap_cells('direct editor', pg_temp.fx('editor'), pg_temp.fx('tenant'), 'editor');
SELECT * FROM pg_temp.tap_cells('direct viewer', pg_temp.fx('viewer'), pg_temp.fx('tenant'), 'viewer');

-- ---------------------------------------------------------------------------
-- The same rows through a team (3 x 65 cells), and the union of a direct
-- viewer role with an editor role from a team (65 cells)
-- ---------------------------------------------------------------------------

SELECT * FROM pg_temp.tap_cells('team admin member',  pg_temp.fx('team_admin_u'),  pg_temp.fx('tenant'), 'admin');
SELECT * FROM pg_temp.tap_cells('team editor member', pg_temp.fx('team_editor_u'), pg_temp.fx('tenant'), 'editor');
SELECT * FROM pg_temp.tap_cells('team viewer member', pg_temp.fx('team_viewer_u'), pg_temp.fx('tenant'), 'viewer');
SELECT * FROM pg_temp.tap_cells('viewer + team editor', pg_temp.fx('union_u'), pg_temp.fx('tenant'), 'editor');

-- ---------------------------------------------------------------------------
-- Principals that get nothing (9 x 65 cells)
-- ---------------------------------------------------------------------------

SELECT * FROM pg_temp.tap_cells('org member, not tenant member', pg_temp.fx('nonmember'), pg_temp.fx('tenant'), NULL);
SELECT * FROM pg_temp.tap_cells('not an org member', pg_temp.fx('outsider'), pg_temp.fx('tenant'), NULL);
SELECT * FROM pg_temp.tap_cells('org_admin, not tenant member', pg_temp.fx('orgadmin'), pg_temp.fx('tenant'), NULL);
SELECT * FROM pg_temp.tap_cells('deactivated admin', pg_temp.fx('deactivated'), pg_temp.fx('tenant'), NULL);
SELECT * FROM pg_temp.tap_cells('deactivated team admin member', pg_temp.fx('deactivated_team_u'), pg_temp.fx('tenant'), NULL);
SELECT * FROM pg_temp.tap_cells('NULL principal', NULL, pg_temp.fx('tenant'), NULL);
SELECT * FROM pg_temp.tap_cells('unknown principal', 'a0a0a0a0-0000-4000-8000-00000000dead', pg_temp.fx('tenant'), NULL);
SELECT * FROM pg_temp.tap_cells('admin, unknown tenant', pg_temp.fx('admin'), 'a0a0a0a0-0000-4000-8000-00000000beef', NULL);
SELECT * FROM pg_temp.tap_cells('admin of sibling tenant', pg_temp.fx('sibling_admin'), pg_temp.fx('tenant'), NULL);

-- ---------------------------------------------------------------------------
-- Names are validated first, whoever asks (README: Concepts)
-- ---------------------------------------------------------------------------

SELECT throws_ok(format('SELECT zenml_rbac.rbac_can(%L::uuid, %L::uuid, %L, %L)',
                        pg_temp.fx('admin'), pg_temp.fx('tenant'), 'tap_predef_no_such_type', 'read'),
                 '22023', NULL, 'unknown resource type is an error (22023) for a tenant admin');
SELECT throws_ok(format('SELECT zenml_rbac.rbac_can(%L::uuid, %L::uuid, %L, %L)',
                        pg_temp.fx('admin'), pg_temp.fx('tenant'), 'dataset', 'approve'),
                 '22023', NULL, 'unknown action is an error (22023) for a tenant admin');
SELECT throws_ok(format('SELECT zenml_rbac.rbac_can(NULL::uuid, %L::uuid, %L, %L)',
                        'a0a0a0a0-0000-4000-8000-00000000beef', 'tap_predef_no_such_type', 'read'),
                 '22023', NULL, 'unknown resource type is an error (22023) even for a NULL principal and unknown tenant');

SELECT * FROM finish();
ROLLBACK;
