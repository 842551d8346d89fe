-- Ends the sessions a test left in its database (DatabaseSessions.EndTestSessionsAsync), by the rule the reset function
-- follows too (ResetTracking.sql): a busy session (in a transaction or a statement, or idle but holding an advisory lock)
-- and a backend still starting up are ended; idle sessions (the test's pooled connections, which Npgsql resets with
-- DISCARD ALL when it hands them out again) are kept, unless more than testkit.idle_limit pile up: then they are
-- connections tests never closed, and all go (every one with -1). Whether an idle session was ended is left in the setting
-- testkit.ended_idle. The database is the session's own, or the one named by the setting testkit.database when set
-- (DatabaseSessions.EndAllAndRenameAsync, from the admin connection).
DO $$
DECLARE
    db oid := (SELECT d.oid FROM pg_database d WHERE d.datname = coalesce(nullif(current_setting('testkit.database', true), ''), current_database()));
    starting integer[];
    holders integer[];
    sessions integer[];
    idle integer[];
    victims integer[];
BEGIN
    SELECT coalesce(array_agg(l.pid) FILTER (WHERE l.locktype = 'object'), '{}'),
           coalesce(array_agg(l.pid) FILTER (WHERE l.locktype = 'advisory'), '{}')
    INTO starting, holders
    FROM pg_lock_status() l
    WHERE (l.locktype = 'advisory' AND l.database = db)
       OR (l.locktype = 'object' AND l.database = 0 AND l.classid = 'pg_database'::regclass AND l.objid = db);
    SELECT coalesce(array_agg(a.pid), '{}'), coalesce(array_agg(a.pid) FILTER (WHERE a.state = 'idle'), '{}')
    INTO sessions, idle
    FROM pg_stat_get_activity(NULL) a
    WHERE a.datid = db AND a.pid <> pg_backend_pid();
    victims := starting || CASE WHEN cardinality(idle) > current_setting('testkit.idle_limit')::integer THEN sessions
                                ELSE ARRAY(SELECT s FROM unnest(sessions) s WHERE s <> ALL (idle) OR s = ANY (holders)) END;
    SELECT coalesce(array_agg(DISTINCT v.pid), '{}') INTO victims
    FROM unnest(victims) v(pid) WHERE v.pid <> pg_backend_pid() AND pg_terminate_backend(v.pid);
    PERFORM set_config('testkit.ended_idle', (victims && idle)::text, false);
    -- Until its backend has exited, an ended session still holds a connection slot and its locks: wait, for up to 10 s.
    FOR attempt IN 1..10000 LOOP
        PERFORM pg_stat_clear_snapshot();
        EXIT WHEN NOT EXISTS (SELECT 1 FROM pg_stat_get_activity(NULL) a WHERE a.pid = ANY (victims));
        PERFORM pg_sleep(0.001);
    END LOOP;
END
$$
