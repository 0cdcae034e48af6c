-- pgTAP: rbac_org_can(principal, org, capability, action), the full
-- organization matrix of the README (Reference, Checks).
--
-- Capabilities organization, billing, member, tenant, team x actions create,
-- read, update, delete, share x roles org_admin, org_editor, org_viewer, one
-- assertion per cell; every pair not in that table is false.  Principals
-- without a usable org role get false everywhere; unknown names are 22023.
--
-- The expectations are that table written down as data; they are never
-- read from the extension.
\set ON_ERROR_STOP 1
\set QUIET 1

BEGIN;
SELECT plan(280);

-- ---------------------------------------------------------------------------
-- The expected matrix (README: Reference, Checks)
-- ---------------------------------------------------------------------------

CREATE TEMP TABLE tap_capability (ord int PRIMARY KEY, capability text NOT NULL UNIQUE);
INSERT INTO tap_capability VALUES
    (1, 'organization'), (2, 'billing'), (3, 'member'), (4, 'tenant'), (5, 'team');

CREATE TEMP TABLE tap_action (ord int PRIMARY KEY, action text NOT NULL UNIQUE);
INSERT INTO tap_action VALUES (1, 'create'), (2, 'read'), (3, 'update'), (4, 'delete'), (5, 'share');

-- capability x action -> the org roles holding it; a pair not listed is held by none
CREATE TEMP TABLE tap_org_rule (capability text, action text, roles text[], PRIMARY KEY (capability, action));
INSERT INTO tap_org_rule VALUES
    ('organization', 'read',   '{org_admin,org_editor,org_viewer}'),
    ('organization', 'update', '{org_admin,org_editor}'),
    ('organization', 'delete', '{org_admin}'),
    ('billing',      'read',   '{org_admin}'),
    ('billing',      'update', '{org_admin}'),
    ('member',       'read',   '{org_admin,org_editor,org_viewer}'),
    ('member',       'create', '{org_admin,org_editor}'),
    ('member',       'update', '{org_admin,org_editor}'),
    ('member',       'delete', '{org_admin,org_editor}'),
    ('tenant',       'read',   '{org_admin,org_editor,org_viewer}'),
    ('tenant',       'create', '{org_admin,org_editor}'),
    ('tenant',       'update', '{org_admin,org_editor}'),
    ('tenant',       'delete', '{org_admin}'),
    ('team',         'read',   '{org_admin,org_editor,org_viewer}'),
    ('team',         'create', '{org_admin,org_editor}'),
    ('team',         'update', '{org_admin,org_editor}'),
    ('team',         'delete', '{org_admin,org_editor}');

-- Every cell of the matrix for an org role; role NULL expects no capability.
CREATE FUNCTION pg_temp.tap_org_cells(who text, principal uuid, org uuid, role text)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    c record;
    label text;
BEGIN
    FOR c IN
        SELECT k.capability, a.action, coalesce(tap_org_cells.role = ANY (r.roles), false) AS expected
          FROM tap_capability k CROSS JOIN tap_action a
          LEFT JOIN tap_org_rule r ON r.capability = k.capability AND r.action = a.action
         ORDER BY k.ord, a.ord
    LOOP
        label := format('%s: %s:%s %s', who, c.capability, c.action,
                        CASE WHEN c.expected THEN 'allowed' ELSE 'denied' END);
        BEGIN
            RETURN NEXT is(zenml_rbac.rbac_org_can(principal, org, c.capability, c.action), c.expected, label);
        EXCEPTION WHEN OTHERS THEN
            RETURN NEXT fail(label) || E'\n' || diag('    rbac_org_can raised ' || SQLSTATE || ': ' || SQLERRM);
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

INSERT INTO fx VALUES ('org', zenml_rbac.create_organization('tap_orgroles'));
INSERT INTO fx VALUES ('org_a', zenml_rbac.create_organization('tap_orgroles_a'));
INSERT INTO fx VALUES ('tenant', zenml_rbac.create_tenant(pg_temp.fx('org'), 'tap_orgroles_t'));

INSERT INTO fx SELECT u, zenml_rbac.create_user('tap_orgroles_' || u)
  FROM unnest(ARRAY['admin', 'editor', 'viewer', 'demoted', 'tenant_admin',
                    'outsider', 'admin_of_a', 'deactivated']) AS u;
INSERT INTO fx VALUES ('bot', zenml_rbac.create_service_account(pg_temp.fx('org'), 'tap_orgroles_bot'));

SELECT zenml_rbac.set_org_role(pg_temp.fx('org'), pg_temp.fx('admin'), 'org_admin');
SELECT zenml_rbac.set_org_role(pg_temp.fx('org'), pg_temp.fx('editor'), 'org_editor');
SELECT zenml_rbac.set_org_role(pg_temp.fx('org'), pg_temp.fx('viewer'), 'org_viewer');
-- set_org_role replaces: org_admin, then org_viewer
SELECT zenml_rbac.set_org_role(pg_temp.fx('org'), pg_temp.fx('demoted'), 'org_admin');
SELECT zenml_rbac.set_org_role(pg_temp.fx('org'), pg_temp.fx('demoted'), 'org_viewer');
-- a tenant admin gets no organization capability from it
SELECT zenml_rbac.set_org_role(pg_temp.fx('org'), pg_temp.fx('tenant_admin'), 'org_viewer');
SELECT zenml_rbac.grant_tenant_role(pg_temp.fx('tenant'), pg_temp.fx('tenant_admin'), 'admin');
-- org_admin of organization A only
SELECT zenml_rbac.set_org_role(pg_temp.fx('org_a'), pg_temp.fx('admin_of_a'), 'org_admin');
-- an org_admin, then deactivated
SELECT zenml_rbac.set_org_role(pg_temp.fx('org'), pg_temp.fx('deactivated'), 'org_admin');
SELECT zenml_rbac.deactivate_user(pg_temp.fx('deactivated'));

-- ---------------------------------------------------------------------------
-- The matrix (3 x 25 cells)
-- ---------------------------------------------------------------------------

SELECT * FROM pg_temp.tap_org_cells('org_admin',  pg_temp.fx('admin'),  pg_temp.fx('org'), 'org_admin');
SELECT * FROM pg_temp.tap_org_cells('org_editor', pg_temp.fx('editor'), pg_temp.fx('org'), 'org_editor');
SELECT * FROM pg_temp.tap_org_cells('org_viewer', pg_temp.fx('viewer'), pg_temp.fx('org'), 'org_viewer');

-- ---------------------------------------------------------------------------
-- Other ways to hold a role (3 x 25 cells)
-- ---------------------------------------------------------------------------

-- README, Concepts: a service account is created as an org_viewer of its organization
SELECT * FROM pg_temp.tap_org_cells('service account (org_viewer)', pg_temp.fx('bot'), pg_temp.fx('org'), 'org_viewer');
SELECT * FROM pg_temp.tap_org_cells('org_admin replaced by org_viewer', pg_temp.fx('demoted'), pg_temp.fx('org'), 'org_viewer');
SELECT * FROM pg_temp.tap_org_cells('org_viewer + tenant admin', pg_temp.fx('tenant_admin'), pg_temp.fx('org'), 'org_viewer');

-- ---------------------------------------------------------------------------
-- Nothing at all (5 x 25 cells)
-- ---------------------------------------------------------------------------

SELECT * FROM pg_temp.tap_org_cells('non-member', pg_temp.fx('outsider'), pg_temp.fx('org'), NULL);
SELECT * FROM pg_temp.tap_org_cells('org_admin of A asked about B', pg_temp.fx('admin_of_a'), pg_temp.fx('org'), NULL);
SELECT * FROM pg_temp.tap_org_cells('deactivated org_admin', pg_temp.fx('deactivated'), pg_temp.fx('org'), NULL);
SELECT * FROM pg_temp.tap_org_cells('NULL principal', NULL, pg_temp.fx('org'), NULL);
SELECT * FROM pg_temp.tap_org_cells('org_admin, unknown organization', pg_temp.fx('admin'),
                                    'a0a0a0a0-0000-4000-8000-00000000beef', NULL);

-- ---------------------------------------------------------------------------
-- Unknown names are errors (22023), never a silent false
-- ---------------------------------------------------------------------------

SELECT throws_ok(format('SELECT zenml_rbac.rbac_org_can(%L::uuid, %L::uuid, %L, %L)',
                        pg_temp.fx('admin'), pg_temp.fx('org'), 'subscription', 'read'),
                 '22023', NULL, 'unknown capability is an error (22023)');
SELECT throws_ok(format('SELECT zenml_rbac.rbac_org_can(%L::uuid, %L::uuid, %L, %L)',
                        pg_temp.fx('admin'), pg_temp.fx('org'), 'pipeline', 'read'),
                 '22023', NULL, 'a tenant resource type is not an organization capability (22023)');
SELECT throws_ok(format('SELECT zenml_rbac.rbac_org_can(%L::uuid, %L::uuid, %L, %L)',
                        pg_temp.fx('admin'), pg_temp.fx('org'), 'billing', 'approve'),
                 '22023', NULL, 'unknown action is an error (22023)');
SELECT throws_ok(format('SELECT zenml_rbac.rbac_org_can(NULL::uuid, %L::uuid, %L, %L)',
                        pg_temp.fx('org'), 'subscription', 'read'),
                 '22023', NULL, 'unknown capability is an error (22023) even for a NULL principal');
SELECT throws_ok(format('SELECT zenml_rbac.rbac_org_can(%L::uuid, %L::uuid, %L, %L)',
                        pg_temp.fx('outsider'), 'a0a0a0a0-0000-4000-8000-00000000beef', 'team', 'approve'),
                 '22023', NULL, 'unknown action is an error (22023) even for a non-member and an unknown organization');

SELECT * FROM finish();
ROLLBACK;
