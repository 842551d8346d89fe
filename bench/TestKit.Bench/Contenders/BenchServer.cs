using Npgsql;

namespace TestKit.Bench.Contenders;

/// <summary>
/// The one server every contender of a latency run uses, started through TestKit's public API as any host would:
/// the server of TESTKIT_CONNECTION_STRING or PG* when set, else an embedded one. The bench's own contenders work on it
/// through an admin data source; TestKit's strategies connect to it by its connection string.
/// </summary>
internal sealed class BenchServer : IAsyncDisposable
{
    private readonly TestDatabases _host;

    private BenchServer(TestDatabases host, string version)
    {
        _host = host;
        Admin = NpgsqlDataSource.Create(host.ServerConnectionString);
        Version = version;
    }

    /// <summary>The maintenance database as the admin role.</summary>
    internal string ConnectionString => _host.ServerConnectionString;

    internal NpgsqlDataSource Admin { get; }

    /// <summary>The server's own version string.</summary>
    internal string Version { get; }

    /// <summary>host:port, for the bench's progress lines.</summary>
    internal string Description => new NpgsqlConnectionStringBuilder(ConnectionString) is var builder ? $"{builder.Host}:{builder.Port}" : string.Empty;

    /// <summary>Starts (or connects to) the server, with the sample's migrations, which it never leases.</summary>
    internal static async Task<BenchServer> StartAsync(string sampleFolder, CancellationToken cancellationToken)
    {
        var host = await TestDatabases.StartAsync(new TestKitOptions { MigrationFolders = [sampleFolder], Isolation = IsolationStrategy.Reset }, cancellationToken);
        try
        {
            await using var connection = new NpgsqlConnection(host.ServerConnectionString);
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand("SELECT current_setting('server_version')", connection);
            return new BenchServer(host, (string)(await command.ExecuteScalarAsync(cancellationToken))!);
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    /// <summary>The connection string of <paramref name="database"/> on this server, as the admin role.</summary>
    internal string ConnectionStringFor(string database) =>
        new NpgsqlConnectionStringBuilder(ConnectionString) { Database = database }.ConnectionString;

    /// <summary>Runs one statement on the maintenance database.</summary>
    internal async Task ExecuteAsync(string sql, CancellationToken cancellationToken)
    {
        await using var command = Admin.CreateCommand(sql);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>A quoted identifier (PostgreSQL's rules: double quotes, doubled inside).</summary>
    internal static string Quote(string identifier) => new NpgsqlCommandBuilder().QuoteIdentifier(identifier);

    public async ValueTask DisposeAsync()
    {
        await Admin.DisposeAsync();
        await _host.DisposeAsync();
    }
}
