-- Plans an INSERT into each of the first 100 tables (PooledDatabase.SchemaTablesLoaded) of a test connection opened ahead
-- (EXPLAIN: nothing runs), so that the test's first write into one finds the table, its indexes and its columns' types in
-- the backend's caches; a table the role may not write is skipped.
DO $$
DECLARE
    t regclass;
BEGIN
    FOR t IN SELECT c.oid::regclass FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'testkit_reset')
               AND n.nspname NOT LIKE 'pg\_%' AND has_table_privilege(c.oid, 'INSERT')
             ORDER BY c.oid LIMIT 100
    LOOP
        EXECUTE format('EXPLAIN INSERT INTO %s DEFAULT VALUES', t);
    END LOOP;
END
$$
