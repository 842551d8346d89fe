using Npgsql;
using TestKit.Server;

namespace TestKit.Databases;

/// <summary>
/// Ends the sessions a test left in its database, and waits until their backends are gone: until then an ended session
/// still holds a connection slot and its locks, and one that was running a statement could still commit. The waits poll
/// on the server every millisecond: pg_terminate_backend's own wait, and RENAME's, poll in steps of 100 ms.
/// </summary>
internal static class DatabaseSessions
{
    private static readonly string EndTestSessions = Sql.Resource("EndTestSessions.sql");

    /// <summary>
    /// Idle sessions a database may keep between tests: the test's pooled connections, reused by the next test (a new
    /// connection costs a backend start and Npgsql's type loading). More are connections tests never closed: all go.
    /// </summary>
    internal const int IdleSessionLimit = 10;

    /// <summary>
    /// Ends the sessions a test left busy in the connection's own database (EndTestSessions.sql: busy ones, idle ones that
    /// hold an advisory lock, and every one when more than <see cref="IdleSessionLimit"/> idle ones pile up) and waits until
    /// they are gone; true when an idle session was among them, so that a pool may hold its dead connection.
    /// </summary>
    internal static async Task<bool> EndTestSessionsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new($"SET testkit.idle_limit = {IdleSessionLimit}"),
                new(EndTestSessions),
                new("SELECT current_setting('testkit.ended_idle')::boolean"),
            },
        };
        await using var disposingBatch = batch.ConfigureAwait(false);
        return (bool)(await batch.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    /// <summary>
    /// Ends every session in <paramref name="database"/> and renames it (RENAME needs it free of sessions), from
    /// <paramref name="admin"/>; tries again while a client manages to connect in between, or a prepared transaction
    /// holds it, for up to 30 s.
    /// </summary>
    internal static async Task EndAllAndRenameAsync(PostgresServer server, NpgsqlConnection admin, string database, string newName, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + Limits.RenameWhileInUse;
        while (true)
        {
            var batch = new NpgsqlBatch(admin)
            {
                BatchCommands =
                {
                    new NpgsqlBatchCommand("SELECT set_config('testkit.database', $1, false)") { Parameters = { new NpgsqlParameter { Value = database } } },
                    new NpgsqlBatchCommand("SET testkit.idle_limit = -1"),
                    new NpgsqlBatchCommand(EndTestSessions),
                    new NpgsqlBatchCommand($"ALTER DATABASE {Sql.Quote(database)} RENAME TO {Sql.Quote(newName)}"),
                },
            };
            await using var disposingBatch = batch.ConfigureAwait(false);
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
