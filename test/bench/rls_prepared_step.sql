-- One transaction of rls_prepared.sql: principal :who executes q and
-- q_tenant(one of bob's tenants).
BEGIN;
SELECT CASE :'who' WHEN 'alice' THEN :'alice' ELSE :'bob' END AS pid \gset
SELECT zenml_rbac.set_principal(:'pid') \g /dev/null
EXECUTE q \gset e_
EXECUTE q_tenant(:'bob_tenant') \gset t_
COMMIT;
SELECT 'p', :'mode', :'who', :e_count, CASE :'who' WHEN 'alice' THEN :alice_n ELSE :bob_n END;
SELECT 'p', :'mode' || ', a tenant of bob''s', :'who', :t_count, CASE :'who' WHEN 'alice' THEN 0 ELSE :bob_tenant_n END;
