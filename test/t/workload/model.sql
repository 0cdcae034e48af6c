-- Insert a row of the protected table, or delete it, through row-level
-- security as its owner (registering or unregistering it; ledgered).
BEGIN;
SET LOCAL ROLE fixture_app;
SELECT workload.model_begin('public.models');
INSERT INTO public.models SELECT * FROM workload.model_insert();
DELETE FROM public.models WHERE id = workload.model_delete();
SELECT workload.model_end();
COMMIT;
