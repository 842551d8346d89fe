using Npgsql;
using TestKit.Diagnostics;
using TestKit.Server;

namespace TestKit.Databases;

/// <summary>
/// Rolls back the prepared transactions a test left (PREPARE TRANSACTION): they outlive their session, keep their locks,
/// would commit the test's rows into a later test, and block DROP DATABASE and RENAME.
/// </summary>
internal static class PreparedTransactions
{
    /// <summary>Rolls back those of the connection's own database; only a session inside a database may finish them.</summary>
    internal static async Task RollBackAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var prepared = await Sql.QueryAsync(
            connection, "SELECT gid FROM pg_prepared_xacts WHERE database = current_database()", reader => reader.GetString(0), cancellationToken).ConfigureAwait(false);
        foreach (var gid in prepared)
        {
            // ROLLBACK PREPARED takes no parameter and cannot run in a DO block: the gid goes as a quoted literal.
            await Sql.ExecuteAsync(connection, $"ROLLBACK PREPARED {Sql.Literal(gid)}", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Rolls back those left in <paramref name="database"/>, if any (asked on <paramref name="admin"/>), from a session inside it.</summary>
    internal static async Task RollBackInAsync(PostgresServer server, NpgsqlConnection admin, string database, CancellationToken cancellationToken)
    {
        if (!await Sql.ScalarAsync<bool>(admin, "SELECT EXISTS (SELECT 1 FROM pg_prepared_xacts WHERE database = $1)", cancellationToken, database).ConfigureAwait(false))
        {
            return;
        }

        await KitConnections.UseAsync(
            KitConnections.OpenUnpooledAsync(server, database, ApplicationNames.Kit, cancellationToken), inside => RollBackAsync(inside, cancellationToken)).ConfigureAwait(false);
    }
}
