using Npgsql;
using TestKit.Server;

namespace TestKit.Isolation;

/// <summary>Ends the sessions a test left in its database, from the kit's own session in it.</summary>
internal static class DatabaseSessions
{
    /// <summary>
    /// Ends every other session in the connection's database and waits until their backends are gone: until then an
    /// ended session still holds a connection slot and its locks. Polls every millisecond, for up to about 10 s
    /// (pg_terminate_backend's own wait polls in coarser steps).
    /// </summary>
    private const string EndOthers = """
        DO $$
        DECLARE
            victims integer[];
        BEGIN
            -- In the aggregate's FILTER, not in WHERE: the planner may evaluate a WHERE condition on pid before the one on
            -- datname (it pushes it down to the activity function, below the join that gives datname), and would then end
            -- every session of the server.
            SELECT coalesce(array_agg(pid) FILTER (WHERE pg_terminate_backend(pid)), '{}') INTO victims
            FROM pg_stat_activity
            WHERE datname = current_database() AND pid <> pg_backend_pid();
            FOR attempt IN 1..10000 LOOP
                PERFORM pg_stat_clear_snapshot();
                EXIT WHEN NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = ANY (victims));
                PERFORM pg_sleep(0.001);
            END LOOP;
        END
        $$
        """;

    internal static Task EndOthersAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        Sql.ExecuteAsync(connection, EndOthers, cancellationToken);
}
