using Npgsql;
using TestKit.Server;

namespace TestKit.Isolation;

/// <summary>
/// Connections to where the kit takes its advisory locks (<see cref="IPostgresServer.LockDatabase"/>): every run on the
/// server must take them in the same database, whatever maintenance database its connection string names.
/// </summary>
internal static class LockDatabase
{
    /// <summary>
    /// A new open connection to the lock database, unpooled: a session-level advisory lock belongs to the physical
    /// connection, and a pooled one would keep a lock alive after its owner closed it.
    /// </summary>
    internal static async Task<NpgsqlConnection> OpenAsync(IPostgresServer server, string applicationName, CancellationToken cancellationToken)
    {
        var builder = server.ConnectionStringFor(server.LockDatabase);
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
