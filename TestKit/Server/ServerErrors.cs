using System.Net.Sockets;
using Npgsql;
using TestKit.Diagnostics;

namespace TestKit.Server;

/// <summary>Turns the driver's connection failures into messages that name the cause and the remedy.</summary>
internal static class ServerErrors
{
    /// <summary>
    /// Opens a connection from <paramref name="dataSource"/> and checks it is alive, translating failures to
    /// <see cref="TestKitException"/>. A pooled idle connection whose backend was terminated (by a test, or a
    /// server restart) only fails on its next command, so the check runs one and, if it fails, empties the pool
    /// and opens a new one.
    /// </summary>
    internal static async Task<NpgsqlConnection> OpenAsync(NpgsqlDataSource dataSource, string origin, CancellationToken cancellationToken)
    {
        try
        {
            var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            bool alive;
            try
            {
                alive = await KitConnections.IsAliveAsync(connection, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                // A cancellation during the check: the connection goes back, or the pool loses it for good.
                await connection.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            if (alive)
            {
                return connection;
            }

            await connection.DisposeAsync().ConfigureAwait(false);
            dataSource.Clear();
            return await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            throw Translate(e, new NpgsqlConnectionStringBuilder(dataSource.ConnectionString), origin);
        }
    }

    /// <summary>A <see cref="TestKitException"/> for a failure to connect with <paramref name="builder"/>.</summary>
    internal static TestKitException Translate(Exception error, NpgsqlConnectionStringBuilder builder, string origin)
    {
        var masked = ConnectionStrings.Mask(builder);
        var where = $"{builder.Host}:{builder.Port}/{builder.Database}";
        var message = error switch
        {
            PostgresException { SqlState: PostgresErrorCodes.InvalidPassword or PostgresErrorCodes.InvalidAuthorizationSpecification } =>
                $"PostgreSQL at {where} refused the login of user '{builder.Username}' (authentication failed). " +
                $"Check the user name and password given by {origin}.",
            PostgresException { SqlState: PostgresErrorCodes.InvalidCatalogName } =>
                $"PostgreSQL at {where} has no database '{builder.Database}'. " +
                $"Name an existing database in {origin} (TestKit only connects to it, to create databases of its own); 'postgres' always exists.",
            PostgresException { SqlState: PostgresErrorCodes.TooManyConnections } =>
                $"PostgreSQL at {where} has no connection slot left (too many clients). " +
                "Lower TestKitOptions.MaxDatabases or TUnit's --maximum-parallel-tests, or raise max_connections on the server.",
            PostgresException postgres =>
                $"PostgreSQL at {where} refused the connection: {postgres.SqlState} {postgres.MessageText}. Check {origin}.",
            _ when ExceptionChain.Find<SocketException>(error) is not null || ExceptionChain.Find<TimeoutException>(error) is not null =>
                $"Cannot reach PostgreSQL at {builder.Host}:{builder.Port} ({error.GetBaseException().Message}). " +
                $"Start that server or correct the host and port in {origin}; or unset it to let TestKit start its own embedded PostgreSQL.",
            _ =>
                $"Cannot connect to PostgreSQL at {where}: {error.Message}. Check {origin}.",
        };

        return new TestKitException(message, error)
        {
            SqlState = (error as PostgresException)?.SqlState,
            ConnectionString = masked,
        };
    }
}
