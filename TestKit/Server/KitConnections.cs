using Npgsql;
using TestKit.Diagnostics;

namespace TestKit.Server;

/// <summary>
/// The kit's own connections to a server, and the one way to open an unpooled one. What the kit commits there —
/// markers, template states, role changes — must survive a crash of a server that runs with <c>synchronous_commit =
/// off</c> (as the embedded one does), or a crash would hand a test a database whose marker was lost: so every such
/// session commits durably (on tmpfs with fsync off, that costs one WAL write).
/// </summary>
internal static class KitConnections
{
    /// <summary>
    /// The most admin connections a run keeps open to a server: admin work (create, drop, rename) is short, and waits for
    /// a free connection rather than open more than the README's sizing counts.
    /// </summary>
    internal const int AdminPoolSize = 3;

    private const string Durable = "-c synchronous_commit=on";

    /// <summary>The connection string of the server's pooled admin connections: durable, at most <see cref="AdminPoolSize"/>.</summary>
    internal static string AdminPool(NpgsqlConnectionStringBuilder builder)
    {
        var admin = DurableCopy(builder);
        admin.MaxPoolSize = AdminPoolSize;
        admin.MinPoolSize = 0;
        return admin.ConnectionString;
    }

    /// <summary>
    /// A new open connection to <paramref name="database"/> as the admin role, unpooled (a session-level advisory lock
    /// belongs to the physical connection, and an idle pooled connection to a template would stop CREATE DATABASE ...
    /// TEMPLATE), durable, named <paramref name="applicationName"/>; failures to connect become <see cref="TestKitException"/>s.
    /// </summary>
    internal static async Task<NpgsqlConnection> OpenUnpooledAsync(PostgresServer server, string database, string applicationName, CancellationToken cancellationToken)
    {
        var builder = DurableCopy(server.ConnectionStringFor(database));
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
            throw ServerErrors.Translate(e, builder, $"the kit's connection to {database}");
        }
    }

    /// <summary>
    /// True when <paramref name="connection"/> still answers a command. An open connection whose backend ended (a test
    /// terminated it, or the server restarted) only fails on its next command, and what its session held went with it.
    /// </summary>
    internal static async Task<bool> IsAliveAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            await Sql.ExecuteAsync(connection, "SELECT 1", cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>Runs <paramref name="work"/> on the connection <paramref name="opening"/> opens, then closes it.</summary>
    internal static async Task<T> UseAsync<T>(Task<NpgsqlConnection> opening, Func<NpgsqlConnection, Task<T>> work)
    {
        var connection = await opening.ConfigureAwait(false);
        await using var disposingConnection = connection.ConfigureAwait(false);
        return await work(connection).ConfigureAwait(false);
    }

    /// <summary><see cref="UseAsync{T}"/> for work that answers nothing.</summary>
    internal static Task UseAsync(Task<NpgsqlConnection> opening, Func<NpgsqlConnection, Task> work) =>
        UseAsync(opening, async connection => { await work(connection).ConfigureAwait(false); return true; });

    private static NpgsqlConnectionStringBuilder DurableCopy(NpgsqlConnectionStringBuilder builder) =>
        new(builder.ConnectionString) { Options = $"{builder.Options} {Durable}".Trim() };
}
