using Npgsql;
using TestKit.Server;

namespace TestKit.Databases;

/// <summary>
/// Ends the sessions a test left in its database, and waits until their backends are gone: until then an ended session
/// still holds a connection slot and its locks. The waits poll on the server every millisecond: pg_terminate_backend's
/// own wait, and RENAME's, poll in steps of 100 ms.
/// </summary>
internal static class DatabaseSessions
{
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

    /// <summary>The database named by the setting testkit.database (set as a parameter): every session in it ends, and is gone.</summary>
    private const string EndAllIn = """
        DO $$
        BEGIN
            PERFORM pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_setting('testkit.database') AND pid <> pg_backend_pid();
            FOR attempt IN 1..5000 LOOP
                PERFORM pg_stat_clear_snapshot();
                EXIT WHEN NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_setting('testkit.database'));
                PERFORM pg_sleep(0.001);
            END LOOP;
        END
        $$
        """;

    private static readonly TimeSpan RenameDeadline = TimeSpan.FromSeconds(30);

    /// <summary>Ends every other session in the connection's own database, and waits until they are gone (up to about 10 s).</summary>
    internal static Task EndOthersAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        Sql.ExecuteAsync(connection, EndOthers, cancellationToken);

    /// <summary>
    /// Ends every session in <paramref name="database"/> and renames it (RENAME needs it free of sessions), from
    /// <paramref name="admin"/>; tries again while a client manages to connect in between, or a prepared transaction
    /// holds it, for up to 30 s.
    /// </summary>
    internal static async Task EndAllAndRenameAsync(IPostgresServer server, NpgsqlConnection admin, string database, string newName, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + RenameDeadline;
        while (true)
        {
            var batch = new NpgsqlBatch(admin)
            {
                BatchCommands =
                {
                    new NpgsqlBatchCommand("SELECT set_config('testkit.database', $1, false)") { Parameters = { new NpgsqlParameter { Value = database } } },
                    new NpgsqlBatchCommand(EndAllIn),
                    new NpgsqlBatchCommand($"ALTER DATABASE {Sql.Quote(database)} RENAME TO {Sql.Quote(newName)}"),
                },
            };
            await using (batch.ConfigureAwait(false))
            {
                try
                {
                    await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    return;
                }
                catch (PostgresException busy) when (busy.SqlState == PostgresErrorCodes.ObjectInUse && DateTime.UtcNow < deadline)
                {
                    // A prepared transaction outlives its session and counts as a user of the database too.
                    await PreparedTransactions.RollBackInAsync(server, admin, database, cancellationToken).ConfigureAwait(false);
                }
            }
        }
    }
}
