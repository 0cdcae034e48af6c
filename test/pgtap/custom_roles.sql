-- pgTAP: custom tenant roles (README: Concepts, "Custom roles").
--
--   effective(role) = (effective(base) ∪ allowed) − disallowed
--
-- checked cell by cell (every resource type x every action) for a role on a
-- predefined base, a chain of three custom roles before and after its base is
-- edited (live inheritance), and a custom role held through a team.  Also:
-- edit replacement, predefined roles are immutable and their names reserved,
-- drop_role is refused (2BP01) while another role builds on it.
--
-- Expected sets are computed here from the README's formula and its rules of
-- predefined roles; they are never read from the extension.
\set ON_ERROR_STOP 1
\set QUIET 1

BEGIN;
SELECT plan(683);

-- ---------------------------------------------------------------------------
-- Vocabulary, the predefined roles (README: Concepts), and the formula
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

CREATE TEMP TABLE tap_role_rule (role text, kind text, actions text[], PRIMARY KEY (role, kind));
INSERT INTO tap_role_rule VALUES
    ('admin',  'data',           '{create,read,update,delete,share}'),
    ('admin',  'administration', '{create,read,update,delete,share}'),
    ('editor', 'data',           '{create,read,share}'),
    ('editor', 'administration', '{read}'),
    ('viewer', 'data',           '{read}'),
    ('viewer', 'administration', '{read}');

-- the 'type:action' pairs of a predefined role
CREATE FUNCTION pg_temp.predef(role text) RETURNS text[] LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(t.type || ':' || a.action), '{}')
      FROM tap_type t CROSS JOIN tap_action a
      JOIN tap_role_rule r ON r.role = predef.role AND r.kind = t.kind AND a.action = ANY (r.actions)
$$;

-- README, Concepts: effective(role) = (effective(base) ∪ allowed) − disallowed
CREATE FUNCTION pg_temp.eff(base text[], allowed text[], disallowed text[]) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT coalesce(array_agg(p ORDER BY p), '{}')
      FROM ((SELECT unnest(base) UNION SELECT unnest(allowed))
            EXCEPT SELECT unnest(disallowed)) s(p)
$$;

-- Named expected sets, built step by step below.
CREATE TEMP TABLE tap_expect (name text PRIMARY KEY, pairs text[] NOT NULL);
CREATE FUNCTION pg_temp.expect(n text) RETURNS text[] LANGUAGE sql STABLE AS
    $$ SELECT pairs FROM tap_expect WHERE name = n $$;

-- Every cell: allowed iff 'type:action' is in the expected set.
CREATE FUNCTION pg_temp.tap_cells(who text, principal uuid, tenant uuid, expected text[])
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
    c record;
    label text;
BEGIN
    FOR c IN
        SELECT t.type, a.action, (t.type || ':' || a.action) = ANY (expected) AS want
          FROM tap_type t CROSS JOIN tap_action a
         ORDER BY t.ord, a.ord
    LOOP
        label := format('%s: %s:%s %s', who, c.type, c.action,
                        CASE WHEN c.want THEN 'allowed' ELSE 'denied' END);
        BEGIN
            RETURN NEXT is(zenml_rbac.rbac_can(principal, tenant, c.type, c.action), c.want, label);
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

SELECT zenml_rbac.register_resource_type('dataset');

INSERT INTO fx VALUES ('org', zenml_rbac.create_organization('tap_custom'));
INSERT INTO fx VALUES ('t', zenml_rbac.create_tenant(pg_temp.fx('org'), 'tap_custom_t'));
INSERT INTO fx VALUES ('t2', zenml_rbac.create_tenant(pg_temp.fx('org'), 'tap_custom_t2'));

INSERT INTO fx SELECT u, zenml_rbac.create_user('tap_custom_' || u)
  FROM unnest(ARRAY['lead', 'c1', 'c2', 'c3', 'team_u', 'team_viewer_u',
                    'admin', 'editor', 'viewer']) AS u;
SELECT zenml_rbac.set_org_role(pg_temp.fx('org'), pg_temp.fx(u), 'org_viewer')
  FROM unnest(ARRAY['lead', 'c1', 'c2', 'c3', 'team_u', 'team_viewer_u',
                    'admin', 'editor', 'viewer']) AS u;
SELECT zenml_rbac.grant_tenant_role(pg_temp.fx('t'), pg_temp.fx(r), r)
  FROM unnest(ARRAY['admin', 'editor', 'viewer']) AS r;

-- ---------------------------------------------------------------------------
-- 1. A role on a predefined base, with allows, disallows and replaced edits
-- ---------------------------------------------------------------------------

INSERT INTO fx VALUES ('role_lead', zenml_rbac.create_role(pg_temp.fx('t'), 'tap_ml_lead', 'ML lead', 'editor'));
SELECT zenml_rbac.role_allow(pg_temp.fx('t'), 'tap_ml_lead', 'pipeline', 'update');
SELECT zenml_rbac.role_allow(pg_temp.fx('t'), 'tap_ml_lead', 'model', 'delete');
SELECT zenml_rbac.role_allow(pg_temp.fx('t'), 'tap_ml_lead', 'member', 'create');
SELECT zenml_rbac.role_disallow(pg_temp.fx('t'), 'tap_ml_lead', 'secret', 'read');       -- base holds it
SELECT zenml_rbac.role_disallow(pg_temp.fx('t'), 'tap_ml_lead', 'artifact', 'create');   -- base holds it
-- the later edit of a pair replaces the earlier one
SELECT zenml_rbac.role_disallow(pg_temp.fx('t'), 'tap_ml_lead', 'pipeline_run', 'read');
SELECT zenml_rbac.role_allow(pg_temp.fx('t'), 'tap_ml_lead', 'pipeline_run', 'read');
SELECT zenml_rbac.role_disallow(pg_temp.fx('t'), 'tap_ml_lead', 'stack_component', 'update');
SELECT zenml_rbac.role_allow(pg_temp.fx('t'), 'tap_ml_lead', 'stack_component', 'update');
SELECT zenml_rbac.role_allow(pg_temp.fx('t'), 'tap_ml_lead', 'stack', 'delete');
SELECT zenml_rbac.role_disallow(pg_temp.fx('t'), 'tap_ml_lead', 'stack', 'delete');
SELECT zenml_rbac.grant_tenant_role(pg_temp.fx('t'), pg_temp.fx('lead'), 'tap_ml_lead');

INSERT INTO tap_expect VALUES ('lead', pg_temp.eff(pg_temp.predef('editor'),
    '{pipeline:update,model:delete,member:create,pipeline_run:read,stack_component:update}',
    '{secret:read,artifact:create,stack:delete}'));

SELECT * FROM pg_temp.tap_cells('tap_ml_lead (editor based)', pg_temp.fx('lead'), pg_temp.fx('t'), pg_temp.expect('lead'));

SELECT is(zenml_rbac.rbac_can(pg_temp.fx('lead'), pg_temp.fx('t'), 'secret', 'read'), false,
          'disallow wins over the base: tap_ml_lead cannot read secrets although editor can');
SELECT is(zenml_rbac.rbac_can(pg_temp.fx('lead'), pg_temp.fx('t'), 'pipeline_run', 'read'), true,
          'a later allow replaces an earlier disallow of the same pair (pipeline_run:read)');
SELECT is(zenml_rbac.rbac_can(pg_temp.fx('lead'), pg_temp.fx('t'), 'stack_component', 'update'), true,
          'a later allow replaces an earlier disallow of a pair the base lacks (stack_component:update)');
SELECT is(zenml_rbac.rbac_can(pg_temp.fx('lead'), pg_temp.fx('t'), 'stack', 'delete'), false,
          'a later disallow replaces an earlier allow of the same pair (stack:delete)');

-- ---------------------------------------------------------------------------
-- 2. A chain of three custom roles: viewer <- chain1 <- chain2 <- chain3
-- ---------------------------------------------------------------------------

INSERT INTO fx VALUES ('role_c1', zenml_rbac.create_role(pg_temp.fx('t'), 'tap_chain1', 'first link', 'viewer'));
INSERT INTO fx VALUES ('role_c2', zenml_rbac.create_role(pg_temp.fx('t'), 'tap_chain2', 'second link', 'tap_chain1'));
INSERT INTO fx VALUES ('role_c3', zenml_rbac.create_role(pg_temp.fx('t'), 'tap_chain3', 'third link', 'tap_chain2'));
SELECT zenml_rbac.grant_tenant_role(pg_temp.fx('t'), pg_temp.fx('c1'), 'tap_chain1');
SELECT zenml_rbac.grant_tenant_role(pg_temp.fx('t'), pg_temp.fx('c2'), 'tap_chain2');
SELECT zenml_rbac.grant_tenant_role(pg_temp.fx('t'), pg_temp.fx('c3'), 'tap_chain3');

SELECT zenml_rbac.role_allow(pg_temp.fx('t'), 'tap_chain1', 'stack', 'create');
SELECT zenml_rbac.role_allow(pg_temp.fx('t'), 'tap_chain1', 'pipeline', 'create');
SELECT zenml_rbac.role_allow(pg_temp.fx('t'), 'tap_chain1', 'dataset', 'update');
SELECT zenml_rbac.role_allow(pg_temp.fx('t'), 'tap_chain2', 'stack', 'update');
SELECT zenml_rbac.role_disallow(pg_temp.fx('t'), 'tap_chain2', 'model', 'read');         -- viewer gives it
SELECT zenml_rbac.role_disallow(pg_temp.fx('t'), 'tap_chain2', 'pipeline', 'create');    -- chain1 gives it
SELECT zenml_rbac.role_allow(pg_temp.fx('t'), 'tap_chain3', 'model', 'read');            -- chain2 took it
SELECT zenml_rbac.role_allow(pg_temp.fx('t'), 'tap_chain3', 'secret', 'share');
SELECT zenml_rbac.role_allow(pg_temp.fx('t'), 'tap_chain3', 'artifact', 'read');         -- base holds it (for now)

INSERT INTO tap_expect VALUES ('c1_p1', pg_temp.eff(pg_temp.predef('viewer'),
    '{stack:create,pipeline:create,dataset:update}', '{}'));
INSERT INTO tap_expect VALUES ('c2_p1', pg_temp.eff(pg_temp.expect('c1_p1'),
    '{stack:update}', '{model:read,pipeline:create}'));
INSERT INTO tap_expect VALUES ('c3_p1', pg_temp.eff(pg_temp.expect('c2_p1'),
    '{model:read,secret:share,artifact:read}', '{}'));

SELECT * FROM pg_temp.tap_cells('tap_chain1', pg_temp.fx('c1'), pg_temp.fx('t'), pg_temp.expect('c1_p1'));
SELECT * FROM pg_temp.tap_cells('tap_chain2', pg_temp.fx('c2'), pg_temp.fx('t'), pg_temp.expect('c2_p1'));
SELECT * FROM pg_temp.tap_cells('tap_chain3', pg_temp.fx('c3'), pg_temp.fx('t'), pg_temp.expect('c3_p1'));

SELECT is(zenml_rbac.rbac_can(pg_temp.fx('c2'), pg_temp.fx('t'), 'model', 'read'), false,
          'chain: a disallow wins over what the base role gives (tap_chain2 model:read)');
SELECT is(zenml_rbac.rbac_can(pg_temp.fx('c2'), pg_temp.fx('t'), 'pipeline', 'create'), false,
          'chain: a disallow wins over an allow of the custom base (tap_chain2 pipeline:create)');
SELECT is(zenml_rbac.rbac_can(pg_temp.fx('c3'), pg_temp.fx('t'), 'model', 'read'), true,
          'chain: an allow restores what the base disallowed (tap_chain3 model:read)');

-- Live inheritance: edit the first link after the others were built on it.
SELECT zenml_rbac.role_allow(pg_temp.fx('t'), 'tap_chain1', 'artifact', 'delete');
SELECT zenml_rbac.role_allow(pg_temp.fx('t'), 'tap_chain1', 'secret', 'create');
SELECT zenml_rbac.role_disallow(pg_temp.fx('t'), 'tap_chain1', 'stack', 'create');      -- replaces its allow
SELECT zenml_rbac.role_disallow(pg_temp.fx('t'), 'tap_chain1', 'artifact', 'read');
SELECT zenml_rbac.role_disallow(pg_temp.fx('t'), 'tap_chain1', 'tenant', 'read');

INSERT INTO tap_expect VALUES ('c1_p2', pg_temp.eff(pg_temp.predef('viewer'),
    '{pipeline:create,dataset:update,artifact:delete,secret:create}',
    '{stack:create,artifact:read,tenant:read}'));
INSERT INTO tap_expect VALUES ('c2_p2', pg_temp.eff(pg_temp.expect('c1_p2'),
    '{stack:update}', '{model:read,pipeline:create}'));
INSERT INTO tap_expect VALUES ('c3_p2', pg_temp.eff(pg_temp.expect('c2_p2'),
    '{model:read,secret:share,artifact:read}', '{}'));

SELECT * FROM pg_temp.tap_cells('tap_chain1 after its edit', pg_temp.fx('c1'), pg_temp.fx('t'), pg_temp.expect('c1_p2'));
SELECT * FROM pg_temp.tap_cells('tap_chain2 after base edit', pg_temp.fx('c2'), pg_temp.fx('t'), pg_temp.expect('c2_p2'));
SELECT * FROM pg_temp.tap_cells('tap_chain3 after base edit', pg_temp.fx('c3'), pg_temp.fx('t'), pg_temp.expect('c3_p2'));

SELECT is(zenml_rbac.rbac_can(pg_temp.fx('c3'), pg_temp.fx('t'), 'secret', 'create'), true,
          'live inheritance: an allow added to tap_chain1 reaches tap_chain3 two links away');
SELECT is(zenml_rbac.rbac_can(pg_temp.fx('c2'), pg_temp.fx('t'), 'artifact', 'read'), false,
          'live inheritance: a disallow added to tap_chain1 reaches tap_chain2');
SELECT is(zenml_rbac.rbac_can(pg_temp.fx('c3'), pg_temp.fx('t'), 'artifact', 'read'), true,
          'an allow is kept whatever the base currently holds (tap_chain3 artifact:read)');

-- ---------------------------------------------------------------------------
-- 3. Predefined roles cannot be edited or dropped
-- ---------------------------------------------------------------------------

SELECT throws_ok(format('SELECT zenml_rbac.role_allow(%L::uuid, %L, %L, %L)', pg_temp.fx('t'), 'viewer', 'pipeline', 'create'),
                 NULL, NULL, 'role_allow on predefined role viewer is an error');
SELECT throws_ok(format('SELECT zenml_rbac.role_disallow(%L::uuid, %L, %L, %L)', pg_temp.fx('t'), 'admin', 'secret', 'read'),
                 NULL, NULL, 'role_disallow on predefined role admin is an error');
SELECT throws_ok(format('SELECT zenml_rbac.drop_role(%L::uuid, %L)', pg_temp.fx('t'), 'editor'),
                 NULL, NULL, 'drop_role of predefined role editor is an error');
SELECT throws_ok(format('SELECT zenml_rbac.drop_role(%L::uuid, %L)', pg_temp.fx('t'), 'viewer'),
                 NULL, NULL, 'drop_role of predefined role viewer is an error');
SELECT is(zenml_rbac.rbac_can(pg_temp.fx('viewer'), pg_temp.fx('t'), 'pipeline', 'create'), false,
          'viewer still cannot create pipelines after the refused edit');
SELECT is(zenml_rbac.rbac_can(pg_temp.fx('admin'), pg_temp.fx('t'), 'secret', 'read'), true,
          'admin still reads secrets after the refused edit');
SELECT is(zenml_rbac.rbac_can(pg_temp.fx('editor'), pg_temp.fx('t'), 'model', 'create'), true,
          'editor still held and working after the refused drop');

-- ---------------------------------------------------------------------------
-- 4. Role names: predefined names are reserved, custom names unique per tenant
-- ---------------------------------------------------------------------------

SELECT throws_ok(format('SELECT zenml_rbac.create_role(%L::uuid, %L, %L, %L)', pg_temp.fx('t'), 'admin', '', 'viewer'),
                 NULL, NULL, 'create_role cannot reuse the predefined name admin');
SELECT throws_ok(format('SELECT zenml_rbac.create_role(%L::uuid, %L, %L, %L)', pg_temp.fx('t'), 'editor', '', 'viewer'),
                 NULL, NULL, 'create_role cannot reuse the predefined name editor');
SELECT throws_ok(format('SELECT zenml_rbac.create_role(%L::uuid, %L, %L, %L)', pg_temp.fx('t'), 'viewer', '', 'editor'),
                 NULL, NULL, 'create_role cannot reuse the predefined name viewer');
SELECT throws_ok(format('SELECT zenml_rbac.create_role(%L::uuid, %L, %L, %L)', pg_temp.fx('t'), 'org_admin', '', 'viewer'),
                 NULL, NULL, 'create_role cannot reuse the predefined organization role name org_admin');
SELECT throws_ok(format('SELECT zenml_rbac.create_role(%L::uuid, %L, %L, %L)', pg_temp.fx('t'), 'tap_ml_lead', '', 'viewer'),
                 NULL, NULL, 'create_role refuses a name already used by a custom role of the tenant');
SELECT lives_ok(format('SELECT zenml_rbac.create_role(%L::uuid, %L, %L, %L)', pg_temp.fx('t2'), 'tap_ml_lead', '', 'viewer'),
                'the same custom name may be used in another tenant');

-- ---------------------------------------------------------------------------
-- 5. The base is a predefined role or a role of the same tenant
-- ---------------------------------------------------------------------------

SELECT throws_ok(format('SELECT zenml_rbac.create_role(%L::uuid, %L, %L, %L)', pg_temp.fx('t2'), 'tap_cross', '', 'tap_chain1'),
                 NULL, NULL, 'a custom role of another tenant cannot be a base');
SELECT throws_ok(format('SELECT zenml_rbac.create_role(%L::uuid, %L, %L, %L)', pg_temp.fx('t'), 'tap_orphan', '', 'tap_no_such_role'),
                 NULL, NULL, 'an unknown base role is an error');

-- ---------------------------------------------------------------------------
-- 6. Edits name known types and actions (22023)
-- ---------------------------------------------------------------------------

SELECT throws_ok(format('SELECT zenml_rbac.role_allow(%L::uuid, %L, %L, %L)', pg_temp.fx('t'), 'tap_ml_lead', 'tap_no_such_type', 'read'),
                 '22023', NULL, 'role_allow with an unknown resource type is 22023');
SELECT throws_ok(format('SELECT zenml_rbac.role_disallow(%L::uuid, %L, %L, %L)', pg_temp.fx('t'), 'tap_ml_lead', 'model', 'approve'),
                 '22023', NULL, 'role_disallow with an unknown action is 22023');

-- ---------------------------------------------------------------------------
-- 7. A custom role held through a team
-- ---------------------------------------------------------------------------

INSERT INTO fx VALUES ('team', zenml_rbac.create_team(pg_temp.fx('org'), 'tap_custom_team'));
SELECT zenml_rbac.grant_tenant_role(pg_temp.fx('t'), pg_temp.fx('team'), 'tap_ml_lead');
SELECT zenml_rbac.add_team_member(pg_temp.fx('team'), pg_temp.fx('team_u'));
SELECT zenml_rbac.add_team_member(pg_temp.fx('team'), pg_temp.fx('team_viewer_u'));
SELECT zenml_rbac.grant_tenant_role(pg_temp.fx('t'), pg_temp.fx('team_viewer_u'), 'viewer');

SELECT * FROM pg_temp.tap_cells('team holding tap_ml_lead', pg_temp.fx('team_u'), pg_temp.fx('t'), pg_temp.expect('lead'));
-- union over roles: a disallow inside one role does not take away what another role gives
SELECT * FROM pg_temp.tap_cells('viewer + team tap_ml_lead', pg_temp.fx('team_viewer_u'), pg_temp.fx('t'),
                                pg_temp.eff(pg_temp.expect('lead'), pg_temp.predef('viewer'), '{}'));

-- ---------------------------------------------------------------------------
-- 8. drop_role: refused (2BP01) while another role builds on it
-- ---------------------------------------------------------------------------

SELECT throws_ok(format('SELECT zenml_rbac.drop_role(%L::uuid, %L)', pg_temp.fx('t'), 'tap_chain2'),
                 '2BP01', NULL, 'drop_role of tap_chain2 is refused while tap_chain3 builds on it');
SELECT throws_ok(format('SELECT zenml_rbac.drop_role(%L::uuid, %L)', pg_temp.fx('t'), 'tap_chain1'),
                 '2BP01', NULL, 'drop_role of tap_chain1 is refused while tap_chain2 builds on it');
SELECT is(zenml_rbac.rbac_can(pg_temp.fx('c2'), pg_temp.fx('t'), 'stack', 'update'), true,
          'tap_chain2 still works after its refused drop');

SELECT lives_ok(format('SELECT zenml_rbac.drop_role(%L::uuid, %L)', pg_temp.fx('t'), 'tap_chain3'),
                'drop_role of the last link tap_chain3 succeeds');
SELECT * FROM pg_temp.tap_cells('holder of dropped tap_chain3', pg_temp.fx('c3'), pg_temp.fx('t'), '{}');
SELECT lives_ok(format('SELECT zenml_rbac.drop_role(%L::uuid, %L)', pg_temp.fx('t'), 'tap_chain2'),
                'drop_role of tap_chain2 succeeds once nothing builds on it');
SELECT is(zenml_rbac.rbac_can(pg_temp.fx('c2'), pg_temp.fx('t'), 'stack', 'update'), false,
          'the holder of dropped tap_chain2 lost it');

SELECT * FROM finish();
ROLLBACK;
