-- rbac_can checks: 20 consecutive cells of workload.cell (principal x tenant x
-- type or registered model x action, in random order), from a random start.
\set c random(0, 999999)
BEGIN;
SET LOCAL ROLE fixture_app;
SELECT count(*) FILTER (WHERE zenml_rbac.rbac_can(principal, tenant, resource, action))
  FROM workload.cell WHERE n BETWEEN workload.start(:c) AND workload.start(:c) + 19;
COMMIT;
