using Npgsql;
using TestKit.Server;

namespace TestKit.Isolation;

/// <summary>
/// Where the kit takes its advisory locks (a template's build and use locks, a run's lock). Advisory locks belong to
/// the database they are taken in, so every run on the server must take them in the same one, whatever maintenance
/// database its connection string names: postgres when the server has it and the role may connect to it, else the
/// configured one.
/// </summary>
internal static class LockDatabase
{
    /// <summary>The name of the database every run on this server takes its advisory locks in.</summary>
    internal static async Task<string> ChooseAsync(IPostgresServer server, CancellationToken cancellationToken)
    {
        var connection = await ServerErrors.OpenAsync(server.Admin, "the admin connection", cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var postgres = await Sql.ScalarAsync<bool>(
                connection,
                "SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_database WHERE datname = 'postgres' AND datallowconn) THEN has_database_privilege('postgres', 'CONNECT') ELSE false END",
                cancellationToken).ConfigureAwait(false);
            return postgres ? "postgres" : connection.Database;
        }
    }

    /// <summary>
    /// A new open connection to the lock database, unpooled: a session-level advisory lock belongs to the physical
    /// connection, and a pooled one would keep a lock alive after its owner closed it.
    /// </summary>
    internal static async Task<NpgsqlConnection> OpenAsync(IPostgresServer server, string applicationName, CancellationToken cancellationToken)
    {
        var builder = server.ConnectionStringFor(await ChooseAsync(server, cancellationToken).ConfigureAwait(false));
        builder.Pooling = false;
        builder.ApplicationName = applicationName;
        var connection = new NpgsqlConnection(builder.ConnectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw ServerErrors.Translate(e, builder, "the lock connection");
        }
    }
}
