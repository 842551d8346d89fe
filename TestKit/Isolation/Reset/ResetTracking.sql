-- Installed by TestKit's reset strategy into each of its databases (clones of the template at head).
-- It records which tables a test wrote to (statement triggers) and whether the test ran DDL (event triggers), both
-- enabled ALWAYS so that a session in replica mode (session_replication_role = replica) fires them too,
-- keeps a copy of every table's head rows, and the head value of every sequence.
-- testkit_reset.reset() then puts back only what changed, or answers why it cannot prove head: a verdict code (which the
-- kit maps to its ResetVerdict) and, for some, a detail.

CREATE SCHEMA testkit_reset;

-- No unique key on purpose: two sessions writing one table at once must not wait for each other here.
-- Logged: crash recovery empties unlogged tables, and a lost mark would hand the test's rows to the next test.
CREATE TABLE testkit_reset.dirty (relid oid NOT NULL);
CREATE INDEX ON testkit_reset.dirty (relid);
CREATE TABLE testkit_reset.flags (reason text NOT NULL);
CREATE TABLE testkit_reset.tables (relid oid PRIMARY KEY, copy regclass, columns text NOT NULL);
-- A write through a partitioned table fires only that table's trigger: its leaves are reset with it.
CREATE TABLE testkit_reset.partitions (parent oid NOT NULL, leaf oid NOT NULL);
-- Each sequence's value at head and whether it was used (pg_sequence_last_value() says NULL for an unused one, whatever
-- its value, so it is read from the sequence itself).
CREATE TABLE testkit_reset.sequences (seq oid PRIMARY KEY, last_value bigint NOT NULL, is_called boolean NOT NULL);
CREATE TABLE testkit_reset.head (settings bigint NOT NULL, large_objects text NOT NULL, database_row text, event_triggers bigint NOT NULL DEFAULT 0, user_event_triggers text);
-- Sessions of this database that ended killed, by a fatal error or abandoned, as counted at the last reset: when the
-- count moved, a pooled connection of the test may be dead, so every session goes and the kit clears the pool.
-- stats_reset: when the server's statistics of the database were last reset (pg_stat_reset()), which sets the count back.
CREATE TABLE testkit_reset.ended_sessions (count bigint NOT NULL, stats_reset timestamptz);
-- PostgreSQL 14's statistics collector gives a new database's statistics their time once it takes in a first report
-- (this session's login sent one), and a backend reads them up to 500 ms late. Unknown here, the time would first show
-- at a reset, where a test's pg_stat_reset() could not be told from it: wait for it, for up to 5 s.
DO $$
DECLARE
    db oid := (SELECT d.oid FROM pg_database d WHERE d.datname = current_database());
    waited_until timestamptz := clock_timestamp() + interval '5 seconds';
BEGIN
    WHILE current_setting('server_version_num')::integer < 150000 AND pg_stat_get_db_stat_reset_time(db) IS NULL
          AND clock_timestamp() < waited_until LOOP
        PERFORM pg_sleep(0.01);
        PERFORM pg_stat_clear_snapshot();
    END LOOP;
END;
$$;
INSERT INTO testkit_reset.ended_sessions
SELECT sessions_killed + sessions_fatal + sessions_abandoned, stats_reset FROM pg_stat_database WHERE datname = current_database();

-- SECURITY DEFINER: a test that switched to a role of its own still records what it wrote.
CREATE FUNCTION testkit_reset.mark_dirty() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM testkit_reset.dirty WHERE relid = TG_RELID) THEN
        INSERT INTO testkit_reset.dirty VALUES (TG_RELID);
    END IF;
    RETURN NULL;
END;
$$;

-- The first DDL a test ran: its command tag is the detail of the schema-changed verdict.
CREATE FUNCTION testkit_reset.mark_ddl() RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM testkit_reset.flags) THEN
        INSERT INTO testkit_reset.flags VALUES (tg_tag);
    END IF;
END;
$$;

DO $$
DECLARE
    t record;
    cols text;
    copy_name text;
BEGIN
    FOR t IN
        SELECT c.oid, c.relname, c.relkind
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('r', 'p')
          AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'testkit_reset')
          AND n.nspname NOT LIKE 'pg\_%'
    LOOP
        SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO cols
        FROM pg_attribute
        WHERE attrelid = t.oid AND attnum > 0 AND NOT attisdropped AND attgenerated = '';

        EXECUTE format(
            'CREATE TRIGGER testkit_reset_dirty AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION testkit_reset.mark_dirty()',
            t.oid::regclass);
        EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER testkit_reset_dirty', t.oid::regclass);

        copy_name := NULL;
        IF cols IS NOT NULL THEN
            EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s)', t.oid::regclass) INTO STRICT copy_name;
            IF copy_name::boolean THEN
                copy_name := format('testkit_reset.%I', 'head_' || t.oid);
                EXECUTE format('CREATE TABLE %s AS SELECT %s FROM ONLY %s', copy_name, cols, t.oid::regclass);
            ELSE
                copy_name := NULL;
            END IF;
        END IF;

        -- A partitioned table holds no rows itself: its leaves are reset instead.
        IF t.relkind = 'r' THEN
            INSERT INTO testkit_reset.tables VALUES (t.oid, copy_name::regclass, coalesce(cols, ''));
        ELSE
            INSERT INTO testkit_reset.partitions SELECT t.oid, p.relid FROM pg_partition_tree(t.oid) p WHERE p.isleaf;
        END IF;
    END LOOP;
END;
$$;

DO $$
DECLARE
    s oid;
BEGIN
    FOR s IN SELECT q.seqrelid FROM pg_sequence q JOIN pg_class c ON c.oid = q.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname <> 'testkit_reset'
    LOOP
        EXECUTE format('INSERT INTO testkit_reset.sequences SELECT %s, last_value, is_called FROM %s', s, s::regclass);
    END LOOP;
END;
$$;

-- The database's own row (connection settings) and comment: no event trigger fires when a test alters them.
-- PL/pgSQL, not SQL: its plan is cached for the session, where a SQL function's is made again at every call.
CREATE FUNCTION testkit_reset.database_row() RETURNS text LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT concat_ws('|', d.datallowconn, d.datconnlimit, d.datistemplate, d.datacl,
                             (SELECT s.description FROM pg_shdescription s WHERE s.objoid = d.oid AND s.classoid = 'pg_database'::regclass))
            FROM pg_database d WHERE d.datname = current_database());
END;
$$;

-- Large objects: who owns each, its privileges and its content. No event trigger fires when a test creates, writes or
-- removes one.
CREATE FUNCTION testkit_reset.large_objects() RETURNS text LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT count(*) || ' ' || coalesce(md5(string_agg(m.oid || ':' || m.lomowner || ':' || coalesce(m.lomacl::text, ''), ',' ORDER BY m.oid)), '')
            FROM pg_largeobject_metadata m)
        || ' ' || coalesce((SELECT md5(string_agg(l.loid || ':' || l.pageno || ':' || md5(l.data), ',' ORDER BY l.loid, l.pageno)) FROM pg_largeobject l), '');
END;
$$;

-- Event triggers other than the kit's: creating, altering or dropping one fires no event trigger.
CREATE FUNCTION testkit_reset.user_event_triggers() RETURNS text LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT string_agg(concat_ws(':', e.evtname, e.evtevent, e.evtowner, e.evtfoid, e.evtenabled, e.evttags), ',' ORDER BY e.evtname)
            FROM pg_event_trigger e WHERE e.evtname NOT LIKE 'testkit\_reset\_%');
END;
$$;

INSERT INTO testkit_reset.head
SELECT (SELECT count(*) FROM pg_db_role_setting WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())),
       testkit_reset.large_objects(),
       testkit_reset.database_row(),
       0,
       testkit_reset.user_event_triggers();

-- end_all: end idle sessions too. Otherwise idle sessions (the test's pooled connections, which Npgsql hands to the
-- next test after DISCARD ALL) are kept, unless there are more than idle_limit of them: then they are connections
-- tests never closed, piling up, and all go; and so do they all when an idle one holds an advisory lock (it must not outlive the test, and its pool would keep the dead connection). The verdict: 'reset' or 'reset-ended-all' (the rows are back; the
-- sequences are reset_sequences()' job), or why head cannot be proven: 'session-outlived', 'prepared-transaction',
-- 'schema-changed' (detail: the command tag), 'tracking-disabled', 'settings-changed', 'database-altered',
-- 'large-objects', 'new-table'. timings: milliseconds per step, 'sessions=..;checks=..;tables=..;dirty=N'.
-- Its cost follows the tables the test wrote to, not the size of the schema. It reads the server's activity through
-- pg_stat_get_activity() and pg_lock_status() themselves, once each: the views around them join catalogs for columns
-- the reset does not need. Generic plans only: the statements read plpgsql variables, which makes them parameterised,
-- and the plan cache would otherwise keep planning them anew at every call (their custom plans look cheaper).
CREATE FUNCTION testkit_reset.reset(end_all boolean, idle_limit integer, OUT verdict text, OUT detail text, OUT timings text)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    db oid := (SELECT d.oid FROM pg_database d WHERE d.datname = current_database());
    target record;
    ended_all boolean := end_all;
    ended_count bigint;
    expected bigint;
    collector boolean := current_setting('server_version_num')::integer < 150000;
    lagging boolean;
    counts_reset boolean;
    reset_at timestamptz;
    expected_reset_at timestamptz;
    others_ended boolean;
    starting integer[];
    holders integer[];
    sessions integer[];
    busy integer[];
    idle_holder boolean;
    victims integer[];
    killed integer := 0;
    counted integer := 0;
    clients integer[];
    dirty_ids oid[];
    waited_until timestamptz;
    started timestamptz := clock_timestamp();
    step timestamptz;
    dirty_tables integer := 0;
BEGIN
    ended_count := pg_stat_get_db_sessions_killed(db) + pg_stat_get_db_sessions_fatal(db) + pg_stat_get_db_sessions_abandoned(db);
    -- A count reset since (pg_stat_reset()) says nothing of who ended what: it counts as a change, which ends every
    -- session and sets the count again. PostgreSQL 14's statistics collector gives a new database's statistics their
    -- time only once its first sessions have reported, so there a time not known on either side is no reset. Its reports
    -- come late (usually within 500 ms), so on 14 a count below the expected one is the sessions this function ended last
    -- time, not yet counted: only a count above it says that others ended. From 15 on, a backend's counts are in before
    -- it leaves pg_stat_activity (which the wait below watches): any change counts.
    reset_at := pg_stat_get_db_stat_reset_time(db);
    SELECT e.count, e.stats_reset INTO expected, expected_reset_at FROM testkit_reset.ended_sessions e;
    counts_reset := CASE WHEN collector THEN coalesce(reset_at <> expected_reset_at, false) ELSE reset_at IS DISTINCT FROM expected_reset_at END;
    lagging := collector AND NOT counts_reset;
    others_ended := counts_reset OR CASE WHEN lagging THEN ended_count > expected ELSE ended_count <> expected END;
    ended_all := ended_all OR others_ended;
    -- End the test's busy sessions: one still in a transaction or a statement must not hold a lock or commit into the
    -- next test, nor one idle but holding an advisory lock (Npgsql's DISCARD ALL only reaches a pooled session with
    -- its next command). A backend still starting up, which holds a lock on the database from before it shows in
    -- pg_stat_activity until after, is ended too: with a login per database, the kit has just retired the test's login
    -- role, and a backend that takes that lock later fails its role check. The locks are read first, then the
    -- sessions, so that a backend moving from one to the other is seen in the second.
    SELECT coalesce(array_agg(l.pid) FILTER (WHERE l.locktype = 'object'), '{}'),
           coalesce(array_agg(l.pid) FILTER (WHERE l.locktype = 'advisory'), '{}')
    INTO starting, holders
    FROM pg_lock_status() l
    WHERE (l.locktype = 'advisory' AND l.database = db)
       OR (l.locktype = 'object' AND l.database = 0 AND l.classid = 'pg_database'::regclass AND l.objid = db);
    SELECT coalesce(array_agg(a.pid), '{}'),
           coalesce(array_agg(a.pid) FILTER (WHERE a.state IS DISTINCT FROM 'idle' OR a.pid = ANY (holders)), '{}'),
           count(*) FILTER (WHERE a.state = 'idle' AND a.pid = ANY (holders)) > 0,
           coalesce(array_agg(a.pid) FILTER (WHERE a.backend_type = 'client backend'), '{}')
    INTO sessions, busy, idle_holder, clients
    FROM pg_stat_get_activity(NULL) a
    WHERE a.datid = db AND a.pid <> pg_backend_pid();
    ended_all := ended_all OR cardinality(sessions) > idle_limit OR idle_holder;
    victims := starting || CASE WHEN ended_all THEN sessions ELSE busy END;
    IF cardinality(victims) > 0 THEN
        SELECT coalesce(array_agg(v.pid), '{}') INTO victims
        FROM (SELECT DISTINCT u.pid FROM unnest(victims) u(pid) WHERE u.pid <> pg_backend_pid()) v
        WHERE pg_terminate_backend(v.pid);
        killed := cardinality(victims);
        -- Only a client's session is counted when it ends: not an autovacuum or parallel worker's.
        counted := cardinality(ARRAY(SELECT unnest(victims) INTERSECT SELECT unnest(clients)));
    END IF;
    -- Until its backend has exited, an ended session still holds a connection slot and its locks, and one that was
    -- running a statement could still commit: wait for them all, polling every millisecond (pg_terminate_backend's own
    -- wait polls in steps of 100 ms), for up to 30 s.
    IF killed > 0 THEN
        waited_until := clock_timestamp() + interval '30 seconds';
        LOOP
            PERFORM pg_stat_clear_snapshot();
            EXIT WHEN NOT EXISTS (SELECT 1 FROM pg_stat_get_activity(NULL) a WHERE a.pid = ANY (victims));
            IF clock_timestamp() > waited_until THEN
                verdict := 'session-outlived';
                RETURN;
            END IF;
            PERFORM pg_sleep(0.001);
        END LOOP;
    END IF;
    -- The clients' sessions ended here count as killed once they exit: expect them, so that the next reset does not
    -- take them for sessions the test killed (and end every session again, and again).
    IF killed > 0 OR others_ended OR (expected_reset_at IS NULL AND reset_at IS NOT NULL) THEN
        UPDATE testkit_reset.ended_sessions
        SET count = CASE WHEN lagging THEN greatest(ended_count, expected) ELSE ended_count END + counted,
            stats_reset = coalesce(reset_at, expected_reset_at);
    END IF;
    step := clock_timestamp();
    timings := format('sessions=%s', round(extract(epoch FROM step - started) * 1000, 3));

    -- Everything that keeps head from being proven, in one statement. A prepared transaction needs
    -- max_prepared_transactions above 0 (off by default).
    SELECT CASE
               WHEN current_setting('max_prepared_transactions') <> '0'
                    AND EXISTS (SELECT 1 FROM pg_prepared_xact() p WHERE p.dbid = db) THEN 'prepared-transaction'
               WHEN f.reason IS NOT NULL THEN 'schema-changed'
               WHEN (SELECT count(*) FROM pg_event_trigger e WHERE e.evtname LIKE 'testkit\_reset\_%' AND e.evtenabled = 'A') <> h.event_triggers THEN 'tracking-disabled'
               WHEN testkit_reset.user_event_triggers() IS DISTINCT FROM h.user_event_triggers THEN 'schema-changed'
               WHEN (SELECT count(*) FROM pg_db_role_setting r WHERE r.setdatabase = db) <> h.settings THEN 'settings-changed'
               WHEN testkit_reset.database_row() IS DISTINCT FROM h.database_row THEN 'database-altered'
               WHEN testkit_reset.large_objects() <> h.large_objects THEN 'large-objects'
               WHEN EXISTS (SELECT 1 FROM unnest(w.ids) u(relid)
                            WHERE (SELECT c.relkind FROM pg_class c WHERE c.oid = u.relid) = 'r'
                              AND NOT EXISTS (SELECT 1 FROM testkit_reset.tables t WHERE t.relid = u.relid)) THEN 'new-table'
           END,
           CASE WHEN f.reason IS NULL THEN 'CREATE, ALTER or DROP EVENT TRIGGER' ELSE f.reason END,
           w.ids
    INTO verdict, detail, dirty_ids
    FROM testkit_reset.head h
    CROSS JOIN (SELECT coalesce(array_agg(DISTINCT d.relid), '{}') AS ids FROM testkit_reset.dirty d) w
    LEFT JOIN (SELECT fl.reason FROM testkit_reset.flags fl LIMIT 1) f ON true;
    IF verdict IS NOT NULL THEN
        IF verdict <> 'schema-changed' THEN
            detail := NULL;
        END IF;
        RETURN;
    END IF;
    timings := timings || format(';checks=%s', round(extract(epoch FROM clock_timestamp() - step) * 1000, 3));
    step := clock_timestamp();

    -- The dirty tables, and the leaves of dirty partitioned tables. The kit's session runs in replica mode: foreign keys
    -- and user triggers are triggers too, and skipping them puts the rows back as they were.
    IF cardinality(dirty_ids) > 0 THEN
        FOR target IN
            SELECT tb.relid, tb.copy, tb.columns
            FROM testkit_reset.tables tb
            WHERE tb.relid = ANY (dirty_ids || ARRAY(SELECT p.leaf FROM testkit_reset.partitions p WHERE p.parent = ANY (dirty_ids)))
        LOOP
            IF current_setting('session_replication_role') <> 'replica' THEN
                -- Set only when needed (outside the kit's session): changing it empties the plan cache.
                SET LOCAL session_replication_role = replica;
            END IF;
            EXECUTE format('DELETE FROM ONLY %s', target.relid::regclass);
            IF target.copy IS NOT NULL THEN
                EXECUTE format('INSERT INTO %s (%s) OVERRIDING SYSTEM VALUE SELECT %s FROM %s', target.relid::regclass, target.columns, target.columns, target.copy);
            END IF;
            dirty_tables := dirty_tables + 1;
        END LOOP;
        DELETE FROM testkit_reset.dirty;
    END IF;
    timings := timings || format(';tables=%s;dirty=%s', round(extract(epoch FROM clock_timestamp() - step) * 1000, 3), dirty_tables);
    verdict := CASE WHEN ended_all THEN 'reset-ended-all' ELSE 'reset' END;
    detail := NULL;
END;
$$;

-- Puts back every sequence that moved: a test moves one without writing a row (nextval(), setval(), a failed or
-- rolled-back insert), so each is read. A sequence unused at head is set back whatever it reads: pg_sequence_last_value()
-- cannot tell its value once setval(..., false) changed it, and a setval costs what a read of the sequence itself does.
-- It costs one read or write per sequence of the schema, so the kit runs it after the test has been given its result,
-- before the database goes to the next test. Answers how many it set back.
CREATE FUNCTION testkit_reset.reset_sequences(OUT moved integer) LANGUAGE plpgsql AS $$
BEGIN
    SELECT count(setval(s.seq, s.last_value, s.is_called))::integer INTO moved
    FROM testkit_reset.sequences s
    WHERE NOT s.is_called OR pg_sequence_last_value(s.seq) IS DISTINCT FROM s.last_value;
END;
$$;

CREATE EVENT TRIGGER testkit_reset_ddl ON ddl_command_end EXECUTE FUNCTION testkit_reset.mark_ddl();
CREATE EVENT TRIGGER testkit_reset_drop ON sql_drop EXECUTE FUNCTION testkit_reset.mark_ddl();
CREATE EVENT TRIGGER testkit_reset_rewrite ON table_rewrite EXECUTE FUNCTION testkit_reset.mark_ddl();
ALTER EVENT TRIGGER testkit_reset_ddl ENABLE ALWAYS;
ALTER EVENT TRIGGER testkit_reset_drop ENABLE ALWAYS;
ALTER EVENT TRIGGER testkit_reset_rewrite ENABLE ALWAYS;

-- How many event triggers a database at head has: the reset checks that none was dropped or disabled.
UPDATE testkit_reset.head SET event_triggers = (SELECT count(*) FROM pg_event_trigger WHERE evtname LIKE 'testkit\_reset\_%');
