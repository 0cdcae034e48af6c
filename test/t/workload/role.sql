-- Grant a tenant role, or revoke it if held (an org admin acting; ledgered).
BEGIN;
SET LOCAL ROLE fixture_app;
SELECT workload.toggle_role();
COMMIT;
