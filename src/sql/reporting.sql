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

-- Who may read these: whom the DBA grants it (README, "Audit"), e.g.
--   GRANT SELECT ON zenml_rbac.effective_permissions, zenml_rbac.access_review,
--         zenml_rbac.tenant_members, zenml_rbac.role_permissions TO auditor;
REVOKE ALL ON
    zenml_rbac.access_review,
    zenml_rbac.audit_events,
    zenml_rbac.effective_permissions,
    zenml_rbac.role_permissions,
    zenml_rbac.tenant_members
    FROM PUBLIC;
