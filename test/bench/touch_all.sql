-- Part 2, one new session on the large catalog: one check for every user, so
-- the backend cache ends up holding the whole catalog's principals: the most
-- memory one backend's cache takes (it has no size limit for principals).
-- Output: touch_all|ms|users, cache|principals|bytes.

\set ON_ERROR_STOP 1

SELECT 'touch_all',
       round(bench.exec_ms('SELECT count(*) FILTER (WHERE zenml_rbac.rbac_can(id, bench.id(''tenant'', 0), ''model'', ''read''))'
                           ' FROM zenml_rbac.principal WHERE kind = ''user''')::numeric, 3),
       (SELECT count(*) FROM zenml_rbac.principal WHERE kind = 'user');

SELECT 'cache', principals, memory_bytes FROM zenml_rbac.cache_stats();
