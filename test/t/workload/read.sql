-- RLS reads: a random principal (active user or service account) counts the
-- rows of the protected table it may see, all of them and in one tenant.
\set r random(0, 999999)
\set t random(0, 999999)
BEGIN;
SET LOCAL ROLE fixture_app;
SELECT zenml_rbac.set_principal(workload.reader(:r));
SELECT count(*) FROM public.models;
SELECT count(*), max(name) FROM public.models WHERE tenant_id = workload.tenant(:t);
COMMIT;
