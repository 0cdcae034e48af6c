-- Share a model, widen the share, or unshare it (its owner acting; ledgered).
BEGIN;
SET LOCAL ROLE fixture_app;
SELECT workload.toggle_share();
COMMIT;
