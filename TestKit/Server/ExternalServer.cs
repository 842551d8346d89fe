using Npgsql;
using TestKit.Configuration;
using TestKit.Diagnostics;

namespace TestKit.Server;

/// <summary>A server the user runs, named by a connection string. The kit only adds and removes databases of its own on it.</summary>
internal sealed class ExternalServer : PostgresServer
{
    private ExternalServer(NpgsqlConnectionStringBuilder builder, NpgsqlDataSource admin, string version, string versionNumber, string lockDatabase)
        : base(builder, admin)
    {
        Version = versionNumber;
        LockDatabase = lockDatabase;
        Description = $"external PostgreSQL {version} at {builder.Host}:{builder.Port}";
    }

    /// <summary>Connects, and checks that the role may create databases.</summary>
    internal static async Task<ExternalServer> ConnectAsync(ServerSource source, CancellationToken cancellationToken)
    {
        var builder = source.ConnectionString ?? throw new ArgumentException("An external server needs a connection string.", nameof(source));
        var admin = NpgsqlDataSource.Create(KitConnections.AdminPool(builder));
        try
        {
            var connection = await ServerErrors.OpenAsync(admin, source.Origin, cancellationToken).ConfigureAwait(false);
            await using var disposingConnection = connection.ConfigureAwait(false);
            var rows = await Sql.QueryAsync(
                connection,
                """
                SELECT current_setting('server_version'), current_setting('server_version_num'), rolsuper OR rolcreatedb,
                       EXISTS (SELECT 1 FROM pg_database WHERE datname = 'postgres' AND datallowconn) AND has_database_privilege('postgres', 'CONNECT')
                FROM pg_roles WHERE rolname = current_user
                """,
                reader => (Version: reader.GetString(0), Number: reader.GetString(1), MayCreateDatabases: reader.GetBoolean(2), PostgresForLocks: reader.GetBoolean(3)),
                cancellationToken).ConfigureAwait(false);
            var (version, versionNumber, mayCreateDatabases, postgresForLocks) = rows.Single();
            var userName = connection.UserName;
            if (!mayCreateDatabases)
            {
                throw new TestKitException(
                    $"Role '{userName}' on {builder.Host}:{builder.Port} may not create databases, and TestKit needs to create one per concurrent test. " +
                    $"Run ALTER ROLE \"{userName}\" CREATEDB as a superuser, or use another role in {source.Origin}.")
                {
                    ConnectionString = ConnectionStrings.Mask(builder),
                };
            }

            // The user name Npgsql took (PGUSER, or the OS user's) when the connection string names none: the kit's messages say it.
            var named = new NpgsqlConnectionStringBuilder(builder.ConnectionString) { Username = builder.Username ?? userName };
            return new ExternalServer(named, admin, version, versionNumber, postgresForLocks ? "postgres" : builder.Database!);
        }
        catch
        {
            await admin.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public override string PsqlCommand(string database) =>
        $"psql \"host={Builder.Host} port={Builder.Port} user={Builder.Username} dbname={database}\"";

    public override ValueTask DisposeAsync() => Admin.DisposeAsync();
}
