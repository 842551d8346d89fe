-- StateDigest's catalog part: every object of the database with its definition, owner, privileges and comment, and the
-- database's own properties, as one line each, without OIDs or the database's name. A user object has an OID of 16384 or
-- more (PostgreSQL's first normal OID): that bound lets each catalog be read through its OID index, and leaves out the
-- built-in objects, which the full digest checks as one hash per kind (StateDigest.Surroundings.sql, appended to this
-- query: it uses its db). The public schema (OID 2200 in every version) is the one built-in object a test commonly
-- changes: it is read like a user schema. The reset strategy's tracking schema and triggers are left out.
WITH user_ns AS (
    SELECT oid, nspname, nspowner, nspacl FROM pg_namespace
    WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'testkit_reset') AND nspname NOT LIKE 'pg\_%'),
db AS (SELECT oid FROM pg_database WHERE datname = current_database())
SELECT 'schema ' || n.nspname || ' owner ' || n.nspowner::regrole || ' acl ' || coalesce(n.nspacl::text, '-') FROM user_ns n
UNION ALL
SELECT 'relation ' || n.nspname || '.' || c.relname || ' ' || c.relkind::text || c.relpersistence::text || ' owner ' || c.relowner::regrole
       || ' acl ' || coalesce(c.relacl::text, '-') || ' options ' || coalesce(c.reloptions::text, '-') || ' rls ' || c.relrowsecurity || '/'
       || c.relforcerowsecurity || ' identity ' || c.relreplident::text || coalesce(' partition of ' || pg_get_expr(c.relpartbound, c.oid), '')
       || coalesce(' partitioned by ' || pg_get_partkeydef(c.oid), '')
FROM pg_class c JOIN user_ns n ON n.oid = c.relnamespace WHERE c.oid >= 16384
UNION ALL
SELECT 'column ' || n.nspname || '.' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
       || ' ' || a.attidentity::text || a.attgenerated::text || ' acl ' || coalesce(a.attacl::text, '-')
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN user_ns n ON n.oid = c.relnamespace
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid >= 16384 AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'c', 'f')
UNION ALL
SELECT 'constraint ' || (pg_identify_object('pg_constraint'::regclass, con.oid, 0)).identity || ' ' || pg_get_constraintdef(con.oid)
FROM pg_constraint con JOIN user_ns n ON n.oid = con.connamespace WHERE con.oid >= 16384
UNION ALL
SELECT 'index ' || pg_get_indexdef(i.indexrelid) || CASE WHEN i.indisclustered THEN ' clustered' ELSE '' END
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN user_ns n ON n.oid = c.relnamespace WHERE i.indexrelid >= 16384
UNION ALL
SELECT 'trigger ' || pg_get_triggerdef(t.oid) || ' enabled ' || t.tgenabled::text
FROM pg_trigger t WHERE t.oid >= 16384 AND NOT t.tgisinternal AND t.tgname <> 'testkit_reset_dirty'
UNION ALL
SELECT 'rule ' || pg_get_ruledef(r.oid) FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN user_ns n ON n.oid = c.relnamespace
WHERE r.oid >= 16384 AND r.rulename <> '_RETURN'
UNION ALL
SELECT 'policy ' || (pg_identify_object('pg_policy'::regclass, p.oid, 0)).identity || ' ' || p.polcmd::text || ' ' || p.polpermissive
       || ' ' || p.polroles::regrole[]::text || ' ' || coalesce(pg_get_expr(p.polqual, p.polrelid), '-') || ' ' || coalesce(pg_get_expr(p.polwithcheck, p.polrelid), '-')
FROM pg_policy p WHERE p.oid >= 16384
UNION ALL
SELECT 'view ' || n.nspname || '.' || c.relname || ' ' || pg_get_viewdef(c.oid)
FROM pg_class c JOIN user_ns n ON n.oid = c.relnamespace WHERE c.oid >= 16384 AND c.relkind IN ('v', 'm')
UNION ALL
SELECT 'routine ' || p.oid::regprocedure || ' owner ' || p.proowner::regrole || ' acl ' || coalesce(p.proacl::text, '-') || ' '
       || CASE WHEN p.prokind = 'a' THEN 'aggregate' ELSE pg_get_functiondef(p.oid) END
FROM pg_proc p JOIN user_ns n ON n.oid = p.pronamespace WHERE p.oid >= 16384
UNION ALL
SELECT 'type ' || t.oid::regtype || ' ' || t.typtype::text || ' owner ' || t.typowner::regrole || ' acl ' || coalesce(t.typacl::text, '-')
       || coalesce(' labels ' || (SELECT string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid), '')
       || CASE WHEN t.typtype = 'd' THEN ' over ' || format_type(t.typbasetype, t.typtypmod) || CASE WHEN t.typnotnull THEN ' not null' ELSE '' END
               || coalesce(' default ' || t.typdefault, '') ELSE '' END
FROM pg_type t JOIN user_ns n ON n.oid = t.typnamespace WHERE t.oid >= 16384
UNION ALL
SELECT 'sequence ' || n.nspname || '.' || c.relname || ' ' || format_type(s.seqtypid, NULL) || ' start ' || s.seqstart || ' increment ' || s.seqincrement
       || ' min ' || s.seqmin || ' max ' || s.seqmax || ' cache ' || s.seqcache || ' cycle ' || s.seqcycle
FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN user_ns n ON n.oid = c.relnamespace WHERE s.seqrelid >= 16384
UNION ALL
SELECT 'extension ' || e.extname || ' ' || e.extversion || ' in ' || e.extnamespace::regnamespace FROM pg_extension e
UNION ALL
SELECT 'event trigger ' || e.evtname || ' on ' || e.evtevent || ' enabled ' || e.evtenabled::text || ' runs ' || e.evtfoid::regproc
       || ' tags ' || coalesce(e.evttags::text, '-')
FROM pg_event_trigger e WHERE e.evtname NOT LIKE 'testkit\_reset\_%'
UNION ALL
SELECT 'publication ' || p.pubname || ' ' || p.puballtables || ' ' || p.pubinsert || p.pubupdate || p.pubdelete || p.pubtruncate
       || coalesce(' tables ' || (SELECT string_agg(r.prrelid::regclass::text, ',' ORDER BY r.prrelid::regclass::text) FROM pg_publication_rel r WHERE r.prpubid = p.oid), '')
FROM pg_publication p
UNION ALL
SELECT 'default privileges ' || d.defaclrole::regrole || ' ' || coalesce(d.defaclnamespace::regnamespace::text, '-') || ' ' || d.defaclobjtype::text
       || ' ' || coalesce(d.defaclacl::text, '-')
FROM pg_default_acl d
UNION ALL
SELECT 'object ' || o.type || ' ' || o.identity
FROM (SELECT 'pg_cast'::regclass AS catalog, oid FROM pg_cast UNION ALL SELECT 'pg_collation'::regclass, oid FROM pg_collation
      UNION ALL SELECT 'pg_conversion'::regclass, oid FROM pg_conversion UNION ALL SELECT 'pg_language'::regclass, oid FROM pg_language
      UNION ALL SELECT 'pg_am'::regclass, oid FROM pg_am UNION ALL SELECT 'pg_opclass'::regclass, oid FROM pg_opclass
      UNION ALL SELECT 'pg_opfamily'::regclass, oid FROM pg_opfamily UNION ALL SELECT 'pg_operator'::regclass, oid FROM pg_operator
      UNION ALL SELECT 'pg_ts_config'::regclass, oid FROM pg_ts_config UNION ALL SELECT 'pg_ts_dict'::regclass, oid FROM pg_ts_dict
      UNION ALL SELECT 'pg_ts_parser'::regclass, oid FROM pg_ts_parser UNION ALL SELECT 'pg_ts_template'::regclass, oid FROM pg_ts_template
      UNION ALL SELECT 'pg_foreign_data_wrapper'::regclass, oid FROM pg_foreign_data_wrapper
      UNION ALL SELECT 'pg_foreign_server'::regclass, oid FROM pg_foreign_server UNION ALL SELECT 'pg_user_mapping'::regclass, umid FROM pg_user_mappings
      UNION ALL SELECT 'pg_transform'::regclass, oid FROM pg_transform UNION ALL SELECT 'pg_statistic_ext'::regclass, oid FROM pg_statistic_ext) x
CROSS JOIN LATERAL pg_identify_object(x.catalog, x.oid, 0) o
WHERE x.oid >= 16384 AND o.schema IS DISTINCT FROM 'testkit_reset'
UNION ALL
SELECT 'comment ' || o.type || ' ' || o.identity || ' ' || d.description
FROM pg_description d CROSS JOIN LATERAL pg_identify_object(d.classoid, d.objoid, d.objsubid) o
WHERE (d.objoid >= 16384 OR (d.classoid = 'pg_namespace'::regclass AND d.objoid = 2200)) AND o.schema IS DISTINCT FROM 'testkit_reset'
UNION ALL
SELECT 'security labels ' || count(*) FROM pg_seclabel
UNION ALL
SELECT 'large object owner ' || m.lomowner::regrole || ' acl ' || coalesce(m.lomacl::text, '-')
       || CASE WHEN current_setting('is_superuser') = 'on' THEN ' content ' || md5(lo_get(m.oid)) ELSE '' END
FROM pg_largeobject_metadata m
UNION ALL
SELECT 'database connections ' || d.datallowconn || ' limit ' || d.datconnlimit || ' template ' || d.datistemplate || ' acl ' || coalesce(d.datacl::text, '-')
       || ' comment ' || coalesce(shobj_description(d.oid, 'pg_database'), '-')
FROM pg_database d JOIN db ON db.oid = d.oid
UNION ALL
SELECT 'setting ' || CASE WHEN s.setrole = 0 THEN 'every role' ELSE s.setrole::regrole::text END || ' ' || array_to_string(s.setconfig, ',')
FROM pg_db_role_setting s JOIN db ON db.oid = s.setdatabase
UNION ALL
SELECT 'prepared transaction ' || p.gid FROM pg_prepared_xacts p WHERE p.database = current_database()
UNION ALL
SELECT 'subscription ' || s.subname FROM pg_subscription s JOIN db ON db.oid = s.subdbid
