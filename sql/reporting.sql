-- Reporting views (README: Concepts, Audit): effective_permissions agrees
-- with rbac_can, access_review findings, tenant_members, role_permissions,
-- audit_events, and who may read them.
\set VERBOSITY terse
-- the views are costed high enough to be JIT-compiled (~0.3 s a query here);
-- this test is about their answers, not about that
SET jit = off;
SET client_min_messages = warning;
DROP ROLE IF EXISTS reporting_auditor;
DROP ROLE IF EXISTS reporting_nobody;
RESET client_min_messages;
SELECT now() AS t0 \gset

------------------------------------------------------------------------------
-- Setup.  Management calls return void; their (empty) results are not shown,
-- errors are.  The state they build is asserted through the views below.
------------------------------------------------------------------------------
SELECT zenml_rbac.create_organization('acme') AS acme \gset
SELECT zenml_rbac.create_organization('other') AS other \gset
SELECT zenml_rbac.create_tenant(:'acme', 'prod') AS prod \gset
SELECT zenml_rbac.create_tenant(:'other', 'prod') AS oprod \gset
SELECT zenml_rbac.create_user('alice') AS alice \gset
SELECT zenml_rbac.create_user('bob') AS bob \gset
SELECT zenml_rbac.create_user('carol') AS carol \gset
SELECT zenml_rbac.create_user('dave') AS dave \gset
SELECT zenml_rbac.create_user('erin') AS erin \gset
SELECT zenml_rbac.create_user('frank') AS frank \gset
SELECT zenml_rbac.create_user('gina') AS gina \gset
SELECT zenml_rbac.create_user('hank') AS hank \gset
SELECT zenml_rbac.create_user('olga') AS olga \gset
SELECT zenml_rbac.create_service_account(:'acme', 'ci-bot') AS bot \gset
SELECT zenml_rbac.create_team(:'acme', 'ml') AS ml \gset
SELECT zenml_rbac.create_team(:'acme', 'ops') AS ops \gset
SELECT zenml_rbac.create_team(:'acme', 'sre') AS sre \gset
SELECT zenml_rbac.register_resource_type('dataset');
SELECT gen_random_uuid() AS p1, gen_random_uuid() AS p2, gen_random_uuid() AS m1,
       gen_random_uuid() AS a1, gen_random_uuid() AS s1, gen_random_uuid() AS k1 \gset

-- uuids are shown as labels
CREATE TEMP TABLE lbl (id uuid PRIMARY KEY, name text NOT NULL);
INSERT INTO lbl VALUES (:'acme', 'acme'), (:'other', 'other'),
    (:'prod', 'acme/prod'), (:'oprod', 'other/prod'),
    (:'alice', 'alice'), (:'bob', 'bob'), (:'carol', 'carol'), (:'dave', 'dave'),
    (:'erin', 'erin'), (:'frank', 'frank'), (:'gina', 'gina'), (:'hank', 'hank'),
    (:'olga', 'olga'), (:'bot', 'ci-bot'), (:'ml', 'ml'), (:'ops', 'ops'), (:'sre', 'sre'),
    (:'p1', 'P1'), (:'p2', 'P2'), (:'m1', 'M1'), (:'a1', 'A1'), (:'s1', 'S1'), (:'k1', 'K1');
CREATE FUNCTION pg_temp.l(id uuid) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN id IS NULL THEN NULL
                ELSE coalesce((SELECT name FROM lbl WHERE lbl.id = l.id), '?') END
$$;
-- a text with every labelled uuid in it replaced by its label
CREATE FUNCTION pg_temp.lt(s text) RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE r record;
BEGIN
    FOR r IN SELECT * FROM lbl LOOP
        s := replace(s, r.id::text, r.name);
    END LOOP;
    RETURN s;
END
$$;
-- who granted a path: the principal's name, or 'system' for a superuser
-- acting without a principal (the view says '<session user> (system)')
CREATE FUNCTION pg_temp.by(by_id uuid, by_name text) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN by_id IS NULL AND by_name = session_user || ' (system)' THEN 'system'
                WHEN by_id IS NOT NULL
                     AND by_name = (SELECT p.name FROM zenml_rbac.principal p WHERE p.id = by_id)
                THEN by_name
                ELSE '?' || coalesce(by_name, 'NULL') END
$$;

\o /dev/null
-- organization membership (system)
SELECT zenml_rbac.set_org_role(:'acme', :'alice', 'org_admin');
SELECT zenml_rbac.set_org_role(:'acme', u, 'org_viewer')
  FROM unnest(ARRAY[:'bob', :'carol', :'dave', :'erin', :'frank', :'gina', :'hank']::uuid[]) u;
SELECT zenml_rbac.set_org_role(:'other', :'olga', 'org_admin');
SELECT zenml_rbac.grant_tenant_role(:'oprod', :'olga', 'admin');
SELECT zenml_rbac.register_resource(:'oprod', 'stack/' || :'k1', :'olga');

-- alice, org_admin, builds most of acme/prod and creates acme/dev
BEGIN;
SELECT zenml_rbac.set_principal(:'alice');
SELECT zenml_rbac.grant_tenant_role(:'prod', :'alice', 'admin');
SELECT zenml_rbac.create_role(:'prod', 'releaser', 'editor who also deletes pipelines', 'editor');
SELECT zenml_rbac.role_allow(:'prod', 'releaser', 'pipeline', 'delete');
SELECT zenml_rbac.role_disallow(:'prod', 'releaser', 'secret', 'share');
SELECT zenml_rbac.create_role(:'prod', 'release_lead', 'releaser who also deletes runs', 'releaser');
SELECT zenml_rbac.role_allow(:'prod', 'release_lead', 'pipeline_run', 'delete');
-- only narrows its base (the allow repeats what editor holds)
SELECT zenml_rbac.create_role(:'prod', 'restricted_editor', 'editor without secrets', 'editor');
SELECT zenml_rbac.role_disallow(:'prod', 'restricted_editor', 'secret', 'read');
SELECT zenml_rbac.role_allow(:'prod', 'restricted_editor', 'pipeline', 'read');
SELECT zenml_rbac.grant_tenant_role(:'prod', :'bob', 'releaser');
SELECT zenml_rbac.create_tenant(:'acme', 'dev') AS dev;
COMMIT;
\o
SELECT id AS dev FROM zenml_rbac.tenant WHERE org_id = :'acme' AND name = 'dev' \gset
INSERT INTO lbl VALUES (:'dev', 'acme/dev');
\o /dev/null

-- the system: direct roles, team ml, resources
SELECT zenml_rbac.grant_tenant_role(:'prod', :'carol', 'viewer');
SELECT zenml_rbac.grant_tenant_role(:'prod', :'frank', 'viewer');
SELECT zenml_rbac.grant_tenant_role(:'prod', :'gina', 'editor');
SELECT zenml_rbac.grant_tenant_role(:'prod', :'bot', 'editor');
SELECT zenml_rbac.grant_tenant_role(:'dev', :'hank', 'viewer');
SELECT zenml_rbac.grant_tenant_role(:'dev', :'gina', 'admin');
SELECT zenml_rbac.grant_tenant_role(:'dev', :'sre', 'admin');
SELECT zenml_rbac.add_team_member(:'sre', :'frank');
SELECT zenml_rbac.add_team_member(:'ml', :'dave');
SELECT zenml_rbac.add_team_member(:'ml', :'gina');
SELECT zenml_rbac.add_team_member(:'ml', :'bot');
SELECT zenml_rbac.add_team_member(:'ops', :'frank');

-- alice gives team ml its role after dave joined it ...
BEGIN;
SELECT zenml_rbac.set_principal(:'alice');
SELECT zenml_rbac.grant_tenant_role(:'prod', :'ml', 'release_lead');
COMMIT;
-- ... and the system adds bob to ml after that
SELECT zenml_rbac.add_team_member(:'ml', :'bob');

-- resources: P1 owned by carol, P2 by dave (a member through ml only), M1 by
-- gina, A1 by erin (an organization member, not a tenant member), S1 (dev) by
-- hank, and model/<P1's id> by bob: same id as P1, another resource
SELECT zenml_rbac.register_resource(:'prod', 'pipeline/' || :'p1', :'carol');
SELECT zenml_rbac.register_resource(:'prod', 'pipeline/' || :'p2', :'dave');
SELECT zenml_rbac.register_resource(:'prod', 'model/' || :'m1', :'gina');
SELECT zenml_rbac.register_resource(:'prod', 'artifact/' || :'a1', :'erin');
SELECT zenml_rbac.register_resource(:'dev', 'secret/' || :'s1', :'hank');
SELECT zenml_rbac.register_resource(:'prod', 'model/' || :'p1', :'bob');
-- shares: to team ops (no tenant role), to gina (a member)
SELECT zenml_rbac.share_resource(:'prod', 'pipeline/' || :'p2', :'ops', ARRAY['read', 'delete']);
SELECT zenml_rbac.share_resource(:'prod', 'pipeline/' || :'p1', :'gina', ARRAY['read']);
-- alice shares P1 with erin, who is no tenant member
BEGIN;
SELECT zenml_rbac.set_principal(:'alice');
SELECT zenml_rbac.share_resource(:'prod', 'pipeline/' || :'p1', :'erin', ARRAY['read', 'delete']);
COMMIT;
-- bob (not an admin) shares the model he owns with carol
BEGIN;
SELECT zenml_rbac.set_principal(:'bob');
SELECT zenml_rbac.share_resource(:'prod', 'model/' || :'p1', :'carol', ARRAY['update']);
COMMIT;
\o

------------------------------------------------------------------------------
-- The key property: effective_permissions agrees with rbac_can.
-- Type level: every principal x tenant x type x action: a row with
-- resource_id NULL exists iff rbac_can says yes on 'type'.
-- Instance level: every id registered anywhere, asked as every type in every
-- tenant: a row for the type or for that (type, id) exists iff rbac_can says
-- yes on 'type/id' (registered ones separately counted).
------------------------------------------------------------------------------
CREATE TEMP VIEW sweep_type AS
WITH cells AS (
    SELECT p.id AS principal_id, t.id AS tenant_id, rt.name AS resource_type, a.action
      FROM zenml_rbac.principal p, zenml_rbac.tenant t, zenml_rbac.resource_type rt,
           unnest(ARRAY['create', 'read', 'update', 'delete', 'share']) a(action))
SELECT c.*, zenml_rbac.rbac_can(c.principal_id, c.tenant_id, c.resource_type, c.action) AS can,
       (c.principal_id, c.tenant_id, c.resource_type, c.action) IN (
           SELECT e.principal_id, e.tenant_id, e.resource_type, e.action
             FROM zenml_rbac.effective_permissions e WHERE e.resource_id IS NULL) AS in_view
  FROM cells c;

CREATE TEMP VIEW sweep_instance AS
WITH cells AS (
    SELECT p.id AS principal_id, t.id AS tenant_id, rt.name AS resource_type, i.resource_id, a.action,
           EXISTS (SELECT 1 FROM zenml_rbac.resource r
                    WHERE r.tenant_id = t.id AND r.resource_type = rt.name
                      AND r.resource_id = i.resource_id) AS registered
      FROM zenml_rbac.principal p, zenml_rbac.tenant t, zenml_rbac.resource_type rt,
           (SELECT DISTINCT resource_id FROM zenml_rbac.resource) i,
           unnest(ARRAY['create', 'read', 'update', 'delete', 'share']) a(action))
SELECT c.*,
       zenml_rbac.rbac_can(c.principal_id, c.tenant_id, c.resource_type || '/' || c.resource_id, c.action) AS can,
       (c.principal_id, c.tenant_id, c.resource_type, c.action) IN (
           SELECT e.principal_id, e.tenant_id, e.resource_type, e.action
             FROM zenml_rbac.effective_permissions e WHERE e.resource_id IS NULL)
       OR (c.principal_id, c.tenant_id, c.resource_type, c.resource_id, c.action) IN (
           SELECT e.principal_id, e.tenant_id, e.resource_type, e.resource_id, e.action
             FROM zenml_rbac.effective_permissions e WHERE e.resource_id IS NOT NULL) AS in_view
  FROM cells c;

CREATE TEMP VIEW sweep AS
SELECT 'type' AS level, count(*) FILTER (WHERE can <> in_view) AS disagreements, count(*) AS cells,
       count(*) FILTER (WHERE can) AS allowed
  FROM sweep_type
UNION ALL
SELECT 'registered instance', count(*) FILTER (WHERE can <> in_view), count(*), count(*) FILTER (WHERE can)
  FROM sweep_instance WHERE registered
UNION ALL
SELECT 'any id as any type', count(*) FILTER (WHERE can <> in_view), count(*), count(*) FILTER (WHERE can)
  FROM sweep_instance;

-- which cells disagree, if any (expected: none)
CREATE TEMP VIEW sweep_disagreements AS
SELECT pg_temp.l(principal_id) AS principal, pg_temp.l(tenant_id) AS tenant, resource_type,
       NULL AS resource, action, can, in_view
  FROM sweep_type WHERE can <> in_view
UNION ALL
SELECT pg_temp.l(principal_id), pg_temp.l(tenant_id), resource_type,
       pg_temp.l(resource_id), action, can, in_view
  FROM sweep_instance WHERE can <> in_view;

SELECT * FROM sweep;
SELECT * FROM sweep_disagreements ORDER BY 1, 2, 3, 4, 5 LIMIT 20;
-- the sweep is not vacuous: it covers every kind of principal and path
SELECT p.kind, count(DISTINCT s.principal_id) AS principals, count(*) FILTER (WHERE s.can) AS allowed_cells
  FROM sweep_type s JOIN zenml_rbac.principal p ON p.id = s.principal_id
 GROUP BY p.kind ORDER BY p.kind;
SELECT source_kind, count(*) > 0 AS has_rows
  FROM zenml_rbac.effective_permissions GROUP BY source_kind ORDER BY source_kind;

------------------------------------------------------------------------------
-- 1. effective_permissions rows and their sources
------------------------------------------------------------------------------
-- bob on pipelines and secrets in acme/prod: releaser directly, release_lead
-- through ml; each action held both ways shows one row per path
-- (releaser disallows secret:share, release_lead inherits that)
SELECT resource_type, action, count(*) AS paths,
       string_agg(source, ' | ' ORDER BY source) AS sources
  FROM zenml_rbac.effective_permissions
 WHERE principal_id = :'bob' AND tenant_id = :'prod' AND resource_type IN ('pipeline', 'pipeline_run', 'secret')
   AND resource_id IS NULL
 GROUP BY resource_type, action ORDER BY resource_type, action;
-- the same rows, with their columns: kind, role, team, who granted them
SELECT DISTINCT source, source_kind, role_name, team_name, principal_kind,
       pg_temp.l(org_id) AS org, tenant_name,
       pg_temp.by(granted_by, granted_by_name) AS granted_by,
       granted_at BETWEEN :'t0' AND now() AS granted_during_test
  FROM zenml_rbac.effective_permissions
 WHERE principal_id = :'bob' AND tenant_id = :'prod' AND resource_id IS NULL
 ORDER BY source;
-- role_id and team_id are the ids of the named role and team
SELECT count(*) AS rows,
       count(*) FILTER (WHERE e.role_id = r.id) AS role_id_matches,
       count(*) FILTER (WHERE e.team_id IS NOT DISTINCT FROM (CASE WHEN e.team_name = 'ml' THEN :'ml'::uuid END)) AS team_id_matches
  FROM zenml_rbac.effective_permissions e
  LEFT JOIN zenml_rbac.role r ON r.name = e.role_name AND (r.tenant_id IS NULL OR r.tenant_id = e.tenant_id)
 WHERE e.principal_id = :'bob' AND e.tenant_id = :'prod' AND e.resource_id IS NULL;

-- the team itself is a principal: its own role
SELECT DISTINCT principal_kind, source, source_kind, team_name, pg_temp.by(granted_by, granted_by_name) AS granted_by
  FROM zenml_rbac.effective_permissions WHERE principal_id = :'ml';
-- dave: member through ml only (role given by alice after dave joined), and
-- owner of P2; owner rows name the resource
SELECT coalesce(pg_temp.l(resource_id), '(type)') AS resource, source, source_kind,
       string_agg(action, ',' ORDER BY action) AS actions,
       pg_temp.by(granted_by, granted_by_name) AS granted_by
  FROM zenml_rbac.effective_permissions
 WHERE principal_id = :'dave' AND resource_type = 'pipeline'
 GROUP BY 1, 2, 3, 5 ORDER BY 1, 2;
-- carol: viewer, owner of P1, and update on model/<P1's id> shared by bob
SELECT resource_type, coalesce(pg_temp.l(resource_id), '(type)') AS resource, source,
       string_agg(action, ',' ORDER BY action) AS actions,
       pg_temp.by(granted_by, granted_by_name) AS granted_by
  FROM zenml_rbac.effective_permissions
 WHERE principal_id = :'carol' AND tenant_id = :'prod' AND resource_type IN ('pipeline', 'model')
 GROUP BY 1, 2, 3, 5 ORDER BY 1, 2, 3;
-- erin: no tenant role: her share of P1 only; no owner rows for A1 (owners
-- need membership), nothing at type level
SELECT resource_type, coalesce(pg_temp.l(resource_id), '(type)') AS resource, source,
       string_agg(action, ',' ORDER BY action) AS actions,
       pg_temp.by(granted_by, granted_by_name) AS granted_by
  FROM zenml_rbac.effective_permissions WHERE principal_id = :'erin'
 GROUP BY 1, 2, 3, 5 ORDER BY 1, 2, 3;
-- frank: viewer in prod, P2 through team ops's share, admin of dev through sre
SELECT tenant_name, resource_type, coalesce(pg_temp.l(resource_id), '(type)') AS resource, source,
       string_agg(action, ',' ORDER BY action) AS actions
  FROM zenml_rbac.effective_permissions
 WHERE principal_id = :'frank' AND resource_type = 'pipeline'
 GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4;
-- the service account: editor directly and release_lead through ml
SELECT principal_kind, source, count(*) AS rows
  FROM zenml_rbac.effective_permissions WHERE principal_id = :'bot'
 GROUP BY 1, 2 ORDER BY 2;
-- olga's rows are in other/prod only, even though acme has a tenant 'prod'
SELECT pg_temp.l(tenant_id) AS tenant, pg_temp.l(org_id) AS org, source, count(*) AS rows
  FROM zenml_rbac.effective_permissions WHERE principal_id = :'olga'
 GROUP BY 1, 2, 3 ORDER BY 1, 3;
-- the registered type 'dataset' is covered by predefined and custom roles
SELECT principal_name, source, string_agg(action, ',' ORDER BY action) AS actions
  FROM zenml_rbac.effective_permissions
 WHERE tenant_id = :'prod' AND resource_type = 'dataset' AND principal_id IN (:'alice', :'bob', :'carol')
 GROUP BY 1, 2 ORDER BY 1, 2;

-- every path here was made by an audited call: granted_at and granted_by
-- are set and within this test; granted_by_name names granted_by
SELECT count(*) AS rows,
       count(*) FILTER (WHERE granted_at IS NULL) AS no_granted_at,
       count(*) FILTER (WHERE granted_at NOT BETWEEN :'t0' AND now()) AS granted_at_outside_test,
       count(*) FILTER (WHERE pg_temp.by(granted_by, granted_by_name) LIKE '?%') AS bad_granted_by
  FROM zenml_rbac.effective_permissions;
SELECT pg_temp.by(granted_by, granted_by_name) AS granted_by, count(*) > 0 AS has_rows
  FROM zenml_rbac.effective_permissions GROUP BY 1 ORDER BY 1;
-- later paths have later granted_at: alice granted ml its role before the
-- system added bob to ml
SELECT (SELECT granted_at FROM zenml_rbac.effective_permissions
         WHERE principal_id = :'dave' AND source = 'team ml: role release_lead' LIMIT 1)
     < (SELECT granted_at FROM zenml_rbac.effective_permissions
         WHERE principal_id = :'bob' AND source = 'team ml: role release_lead' LIMIT 1) AS dave_before_bob;

-- audit events appear at commit: inside the transaction the new path has no
-- granted_at yet, from the next one it has
BEGIN;
SELECT zenml_rbac.grant_tenant_role(:'dev', :'carol', 'viewer');
SELECT count(*) AS rows, count(granted_at) AS with_granted_at
  FROM zenml_rbac.effective_permissions WHERE principal_id = :'carol' AND tenant_id = :'dev';
COMMIT;
SELECT count(*) AS rows, count(granted_at) AS with_granted_at,
       bool_and(pg_temp.by(granted_by, granted_by_name) = 'system') AS by_system
  FROM zenml_rbac.effective_permissions WHERE principal_id = :'carol' AND tenant_id = :'dev';

-- deactivation: gina holds roles, a team, a share and owns M1; once
-- deactivated she has no row at all (and rbac_can agrees)
SELECT source_kind, count(*) > 0 AS has_rows
  FROM zenml_rbac.effective_permissions WHERE principal_id = :'gina'
 GROUP BY 1 ORDER BY 1;
SELECT zenml_rbac.deactivate_user(:'gina');
SELECT count(*) AS gina_rows FROM zenml_rbac.effective_permissions WHERE principal_id = :'gina';
SELECT zenml_rbac.rbac_can(:'gina'::uuid, :'prod'::uuid, 'pipeline', 'read') AS gina_reads,
       zenml_rbac.rbac_can(:'gina'::uuid, :'prod'::uuid, 'model/' || :'m1', 'read') AS gina_reads_own;

------------------------------------------------------------------------------
-- 3. Who can delete pipelines in acme/prod, through which role, team or
-- share, and who gave them that right when?
------------------------------------------------------------------------------
SELECT principal_name, principal_kind,
       coalesce('pipeline ' || pg_temp.l(resource_id), 'every pipeline') AS what,
       source, pg_temp.by(granted_by, granted_by_name) AS granted_by,
       granted_at BETWEEN :'t0' AND now() AS granted_during_test
  FROM zenml_rbac.effective_permissions
 WHERE tenant_id = :'prod' AND resource_type = 'pipeline' AND action = 'delete'
 ORDER BY principal_name, what, source;

------------------------------------------------------------------------------
-- 4. access_review
------------------------------------------------------------------------------
-- hank and dave are made old; hank never acted, holds viewer in dev
-- directly; dave holds roles only through ml.  alice is old too but acted;
-- ci-bot is old but used its API key; gina is old but deactivated.
SELECT zenml_rbac.create_api_key(:'bot') AS botkey \gset
BEGIN;
SELECT zenml_rbac.authenticate(:'botkey') = :'bot' AS authenticated;
COMMIT;
UPDATE zenml_rbac.principal SET created_at = now() - interval '200 days'
 WHERE id IN (:'hank', :'dave', :'alice', :'bot', :'gina');

SELECT finding, pg_temp.l(org_id) AS org, pg_temp.l(tenant_id) AS tenant,
       coalesce(principal_name, '-') AS principal, coalesce(principal_kind, '-') AS kind,
       role_name, pg_temp.lt(detail) AS detail
  FROM zenml_rbac.access_review
 ORDER BY finding, org, tenant NULLS FIRST, principal, role_name NULLS FIRST, detail;
-- the findings that must not be there
SELECT NOT EXISTS (SELECT 1 FROM zenml_rbac.access_review
                    WHERE finding = 'custom_role_broader_than_base' AND role_name = 'restricted_editor') AS narrowing_role_not_broader,
       NOT EXISTS (SELECT 1 FROM zenml_rbac.access_review
                    WHERE finding = 'unused_with_access' AND principal_id IN (:'alice', :'bot', :'gina', :'carol')) AS active_recent_or_deactivated_not_unused,
       NOT EXISTS (SELECT 1 FROM zenml_rbac.access_review
                    WHERE finding = 'share_to_non_member' AND principal_id IN (:'gina', :'carol')) AS member_shares_not_flagged,
       NOT EXISTS (SELECT 1 FROM zenml_rbac.access_review
                    WHERE finding = 'deactivated_with_access' AND principal_id <> :'gina') AS only_gina_deactivated;
-- dave is just as stale as hank (old, never acted) and holds release_lead
-- in acme/prod through team ml only: listed too.
SELECT EXISTS (SELECT 1 FROM zenml_rbac.access_review
                WHERE finding = 'unused_with_access' AND principal_id = :'dave') AS stale_team_member_listed;

-- erin becomes a tenant member (alice grants her viewer): her share is no
-- longer to a non-member, and her ownership of A1 now counts
SELECT clock_timestamp() AS t_erin \gset
BEGIN;
SELECT zenml_rbac.set_principal(:'alice');
SELECT zenml_rbac.grant_tenant_role(:'prod', :'erin', 'viewer');
COMMIT;
SELECT finding, principal_name, pg_temp.lt(detail) AS detail FROM zenml_rbac.access_review
 WHERE finding = 'share_to_non_member' ORDER BY principal_name;
SELECT resource_type, coalesce(pg_temp.l(resource_id), '(type)') AS resource, source,
       string_agg(action, ',' ORDER BY action) AS actions,
       pg_temp.by(granted_by, granted_by_name) AS granted_by,
       bool_and(granted_at > :'t_erin') AS granted_after_membership
  FROM zenml_rbac.effective_permissions
 WHERE principal_id = :'erin' AND resource_type IN ('pipeline', 'artifact')
 GROUP BY 1, 2, 3, 5 ORDER BY 1, 2, 3;
-- the owner path on A1 was completed by alice's grant (ownership counts
-- only for members): granted_by/granted_at name that grant, not the
-- registration by the system before it.

------------------------------------------------------------------------------
-- 5. tenant_members and role_permissions
------------------------------------------------------------------------------
SELECT tenant_name, pg_temp.l(org_id) AS org, principal_name, principal_kind, active, role_name,
       coalesce(team_name, '-') AS via_team,
       team_id IS NOT DISTINCT FROM (SELECT id FROM zenml_rbac.principal WHERE kind = 'team' AND name = team_name) AS team_id_ok,
       role_id = (SELECT id FROM zenml_rbac.role r WHERE r.name = role_name AND (r.tenant_id IS NULL OR r.tenant_id = m.tenant_id)) AS role_id_ok
  FROM zenml_rbac.tenant_members m
 WHERE org_id = :'acme'
 ORDER BY tenant_name, principal_name, role_name, via_team;

-- predefined roles: origin predefined, registered types included
SELECT role_name, origin, count(*) AS permissions,
       count(*) FILTER (WHERE resource_type = 'dataset') AS on_dataset,
       bool_and(tenant_id IS NULL AND base_role_name IS NULL) AS no_tenant_no_base
  FROM zenml_rbac.role_permissions WHERE tenant_id IS NULL
 GROUP BY 1, 2 ORDER BY 1;
-- custom roles expanded through their base chain
SELECT role_name, base_role_name, tenant_name, resource_type,
       string_agg(action || ':' || origin, ', ' ORDER BY action) AS permissions
  FROM zenml_rbac.role_permissions
 WHERE tenant_id = :'prod' AND resource_type IN ('pipeline', 'pipeline_run', 'secret', 'stack', 'member')
 GROUP BY 1, 2, 3, 4 ORDER BY 1, 4;
-- the view against an independent computation from the rules (README: Concepts): predefined
-- roles from the tables of section 3; a custom role holds a pair iff its
-- nearest edit of the pair in its base chain allows it, or, with no edit,
-- its predefined root holds it ((base + allowed) - disallowed, live)
CREATE TEMP VIEW role_check AS
WITH RECURSIVE chain AS (
    SELECT r.id AS role_id, r.id AS anc, 0 AS depth FROM zenml_rbac.role r
    UNION ALL
    SELECT c.role_id, a.base_role_id, c.depth + 1
      FROM chain c JOIN zenml_rbac.role a ON a.id = c.anc WHERE a.base_role_id IS NOT NULL),
pairs AS (
    SELECT rt.name AS resource_type, rt.kind, a.action
      FROM zenml_rbac.resource_type rt, unnest(ARRAY['create', 'read', 'update', 'delete', 'share']) a(action)),
predefined AS (
    SELECT r.id AS role_id, p.resource_type, p.action
      FROM zenml_rbac.role r, pairs p
     WHERE r.tenant_id IS NULL
       AND (r.name = 'admin'
            OR (r.name = 'editor' AND (p.action = 'read' OR (p.kind = 'data' AND p.action IN ('create', 'share'))))
            OR (r.name = 'viewer' AND p.action = 'read'))),
expected AS (
    SELECT r.id AS role_id, p.resource_type, p.action
      FROM zenml_rbac.role r, pairs p
     WHERE coalesce(
           (SELECT e.allowed FROM chain c
              JOIN zenml_rbac.role_permission e
                ON e.role_id = c.anc AND e.resource_type = p.resource_type AND e.action = p.action
             WHERE c.role_id = r.id ORDER BY c.depth LIMIT 1),
           EXISTS (SELECT 1 FROM chain c JOIN predefined d ON d.role_id = c.anc
                    WHERE c.role_id = r.id AND d.resource_type = p.resource_type AND d.action = p.action))),
actual AS (SELECT role_id, resource_type, action FROM zenml_rbac.role_permissions)
SELECT (SELECT count(*) FROM ((SELECT * FROM expected EXCEPT ALL SELECT * FROM actual)
                              UNION ALL
                              (SELECT * FROM actual EXCEPT ALL SELECT * FROM expected)) d) AS mismatches,
       (SELECT count(*) FROM expected) AS expected_rows,
       (SELECT count(DISTINCT role_id) FROM actual) AS roles;
SELECT * FROM role_check;

-- a later edit of the base flows into the derived role (and its holders):
-- releaser now allows stack:update and disallows pipeline:share
BEGIN;
SELECT zenml_rbac.set_principal(:'alice');
SELECT zenml_rbac.role_allow(:'prod', 'releaser', 'stack', 'update');
SELECT zenml_rbac.role_disallow(:'prod', 'releaser', 'pipeline', 'share');
COMMIT;
SELECT role_name, resource_type,
       string_agg(action || ':' || origin, ', ' ORDER BY action) AS permissions
  FROM zenml_rbac.role_permissions
 WHERE tenant_id = :'prod' AND role_name IN ('releaser', 'release_lead') AND resource_type IN ('pipeline', 'stack')
 GROUP BY 1, 2 ORDER BY 1, 2;
SELECT resource_type, action, string_agg(source, ' | ' ORDER BY source) AS sources
  FROM zenml_rbac.effective_permissions
 WHERE principal_id = :'dave' AND tenant_id = :'prod' AND resource_id IS NULL
   AND ((resource_type = 'stack' AND action = 'update') OR (resource_type = 'pipeline' AND action = 'share'))
 GROUP BY 1, 2 ORDER BY 1, 2;
SELECT * FROM role_check;
SELECT finding, role_name, detail FROM zenml_rbac.access_review
 WHERE finding = 'custom_role_broader_than_base' ORDER BY role_name;

-- after all these changes (deactivation, edits) the views still agree with rbac_can
SELECT * FROM sweep;
SELECT * FROM sweep_disagreements ORDER BY 1, 2, 3, 4, 5 LIMIT 20;

------------------------------------------------------------------------------
-- audit_events: who acted (ci-bot's authentication is usage, not a change)
------------------------------------------------------------------------------
SELECT coalesce(actor_name, 'system') AS actor, count(*) > 0 AS has_events,
       bool_and(actor_id IS NULL OR actor_name = pg_temp.l(actor_id)) AS names_match
  FROM zenml_rbac.audit_events GROUP BY 1 ORDER BY 1;
SELECT operation, object_kind, pg_temp.lt(object_id) AS object, pg_temp.l(tenant_id) AS tenant,
       pg_temp.l(subject_id) AS subject, actor_name
  FROM zenml_rbac.audit_events WHERE actor_id = :'bob' ORDER BY seq;

------------------------------------------------------------------------------
-- 6. Privileges: the views are for whom the DBA grants them
------------------------------------------------------------------------------
CREATE ROLE reporting_auditor NOLOGIN;
CREATE ROLE reporting_nobody NOLOGIN;
GRANT SELECT ON zenml_rbac.audit_events, zenml_rbac.effective_permissions, zenml_rbac.access_review,
                zenml_rbac.tenant_members, zenml_rbac.role_permissions TO reporting_auditor;
SELECT count(*) AS ep_rows FROM zenml_rbac.effective_permissions \gset
SELECT count(*) AS ar_rows FROM zenml_rbac.access_review \gset
SELECT count(*) AS tm_rows FROM zenml_rbac.tenant_members \gset
SELECT count(*) AS rp_rows FROM zenml_rbac.role_permissions \gset
SELECT count(*) AS ae_rows FROM zenml_rbac.audit_events \gset

SET ROLE reporting_auditor;
-- the auditor sees exactly what the superuser sees
SELECT (SELECT count(*) FROM zenml_rbac.audit_events) = :ae_rows AND :ae_rows > 0 AS audit_events,
       (SELECT count(*) FROM zenml_rbac.effective_permissions) = :ep_rows AND :ep_rows > 0 AS effective_permissions,
       (SELECT count(*) FROM zenml_rbac.access_review) = :ar_rows AND :ar_rows > 0 AS access_review,
       (SELECT count(*) FROM zenml_rbac.tenant_members) = :tm_rows AND :tm_rows > 0 AS tenant_members,
       (SELECT count(*) FROM zenml_rbac.role_permissions) = :rp_rows AND :rp_rows > 0 AS role_permissions;
SELECT count(*) FILTER (WHERE granted_at IS NULL) AS no_granted_at
  FROM zenml_rbac.effective_permissions;
-- but not the catalog itself
SELECT count(*) FROM zenml_rbac.audit_log;
SELECT count(*) FROM zenml_rbac.tenant_role_assignment;
SELECT count(*) FROM zenml_rbac.principal;
SELECT count(*) FROM zenml_rbac.resource_grant;
SELECT count(*) FROM zenml_rbac.role_permission;
SELECT count(*) FROM zenml_rbac.team_member;
SELECT count(*) FROM zenml_rbac.api_key;
RESET ROLE;

SET ROLE reporting_nobody;
SELECT count(*) FROM zenml_rbac.audit_events;
SELECT count(*) FROM zenml_rbac.effective_permissions;
SELECT count(*) FROM zenml_rbac.access_review;
SELECT count(*) FROM zenml_rbac.tenant_members;
SELECT count(*) FROM zenml_rbac.role_permissions;
RESET ROLE;

REVOKE ALL ON zenml_rbac.audit_events, zenml_rbac.effective_permissions, zenml_rbac.access_review,
              zenml_rbac.tenant_members, zenml_rbac.role_permissions FROM reporting_auditor;
DROP ROLE reporting_auditor;
DROP ROLE reporting_nobody;
