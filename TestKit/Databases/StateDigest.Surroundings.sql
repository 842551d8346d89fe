-- What the full digest adds to the catalog (appended to StateDigest.Catalog.sql with UNION ALL): comments and privileges
-- on built-in objects, and what other sessions hold: advisory locks, and a transaction or a statement of a client (a
-- relation lock shows only while a statement runs, or while a closed session's backend exits; autovacuum and a client
-- still starting up are no test's).
SELECT 'built-in comments ' || md5(string_agg(d.classoid || '/' || d.objoid || '/' || d.objsubid || '=' || d.description, ',' ORDER BY d.classoid, d.objoid, d.objsubid))
FROM pg_description d WHERE d.objoid < 16384 AND NOT (d.classoid = 'pg_namespace'::regclass AND d.objoid = 2200)
UNION ALL
SELECT 'built-in privileges ' || md5(string_agg(x.catalog || '/' || x.oid || '=' || x.acl, ',' ORDER BY x.catalog, x.oid))
FROM (SELECT 'pg_class' AS catalog, oid, relacl::text AS acl FROM pg_class WHERE oid < 16384 AND relacl IS NOT NULL
      UNION ALL SELECT 'pg_proc', oid, proacl::text FROM pg_proc WHERE oid < 16384 AND proacl IS NOT NULL
      UNION ALL SELECT 'pg_type', oid, typacl::text FROM pg_type WHERE oid < 16384 AND typacl IS NOT NULL
      UNION ALL SELECT 'pg_namespace', oid, nspacl::text FROM pg_namespace WHERE oid < 16384 AND nspacl IS NOT NULL AND nspname <> 'public'
      UNION ALL SELECT 'pg_language', oid, lanacl::text FROM pg_language WHERE oid < 16384 AND lanacl IS NOT NULL) x
UNION ALL
SELECT 'advisory locks of other sessions ' || count(*) FROM pg_locks l JOIN db ON db.oid = l.database WHERE l.locktype = 'advisory' AND l.pid <> pg_backend_pid()
UNION ALL
SELECT 'sessions in a transaction or a statement ' || count(*) FROM pg_stat_activity a JOIN db ON db.oid = a.datid
WHERE a.pid <> pg_backend_pid() AND a.backend_type = 'client backend' AND a.state IN ('active', 'idle in transaction', 'idle in transaction (aborted)')
