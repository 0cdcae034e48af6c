-- Part 2, one new session on the large catalog: one check for every user, so
-- the backend cache would hold every principal of the catalog but for its
-- cap (zenml_rbac.principal_cache_entries).  A second pass samples the cache
-- after each check to show it never goes over the cap.
-- Output: touch_all|ms|users, cache|principals|bytes,
--         cap|setting|most principals cached|most bytes.

\set ON_ERROR_STOP 1

SELECT 'touch_all',
       round(bench.exec_ms('SELECT count(*) FILTER (WHERE zenml_rbac.rbac_can(id, bench.id(''tenant'', 0), ''model'', ''read''))'
                           ' FROM zenml_rbac.principal WHERE kind = ''user''')::numeric, 3),
       (SELECT count(*) FROM zenml_rbac.principal WHERE kind = 'user');

SELECT 'cache', principals, memory_bytes FROM zenml_rbac.cache_stats();

CREATE TEMP TABLE cap_sample (principals bigint, bytes bigint);
DO $$
DECLARE
    most bigint := 0;
    most_bytes bigint := 0;
    s record;
    u uuid;
BEGIN
    FOR u IN SELECT id FROM zenml_rbac.principal WHERE kind = 'user' ORDER BY id DESC LOOP
        PERFORM zenml_rbac.rbac_can(u, bench.id('tenant', 0), 'model', 'read');
        SELECT principals, memory_bytes INTO s FROM zenml_rbac.cache_stats();
        most := greatest(most, s.principals);
        most_bytes := greatest(most_bytes, s.memory_bytes);
    END LOOP;
    INSERT INTO cap_sample VALUES (most, most_bytes);
END
$$;
SELECT 'cap', current_setting('zenml_rbac.principal_cache_entries'), principals, bytes FROM cap_sample;
