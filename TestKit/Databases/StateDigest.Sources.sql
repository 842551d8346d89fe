-- What the digest reads besides the catalog: the user schemas (kind 'n'), and their tables (rows) and sequences (values),
-- with whether a table is Evolve's changelog.
WITH user_ns AS (
    SELECT oid, nspname, nspowner, nspacl FROM pg_namespace
    WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'testkit_reset') AND nspname NOT LIKE 'pg\_%'),
db AS (SELECT oid FROM pg_database WHERE datname = current_database())
SELECT n.nspname, n.nspname, 'n'::"char", false FROM user_ns n
UNION ALL
SELECT n.nspname, c.relname, c.relkind,
       c.relname = 'changelog' AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'installed_on')
FROM pg_class c JOIN user_ns n ON n.oid = c.relnamespace
WHERE c.oid >= 16384 AND c.relkind IN ('r', 'S')
