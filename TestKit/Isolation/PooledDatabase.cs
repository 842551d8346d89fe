using Npgsql;

namespace TestKit.Isolation;

/// <summary>One database of a strategy's pool: the test's connection string and the kit's own connection to it.</summary>
internal sealed class PooledDatabase : IAsyncDisposable
{
    private const string KitApplicationName = "testkit";
    private const string TestApplicationName = "testkit-test";

    private readonly NpgsqlDataSource _kit;

    /// <param name="name">The database.</param>
    /// <param name="builder">Server and credentials.</param>
    /// <param name="kitSessionOptions">Settings for the kit's own session (libpq "options", e.g. "-c name=value").</param>
    internal PooledDatabase(string name, NpgsqlConnectionStringBuilder builder, string? kitSessionOptions = null)
    {
        Name = name;
        TestConnectionString = new NpgsqlConnectionStringBuilder(builder.ConnectionString) { ApplicationName = TestApplicationName }.ConnectionString;
        // One kit connection per database at a time (the database is leased to one test), kept open between
        // tests: a new physical connection costs a SCRAM handshake each time.
        _kit = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(builder.ConnectionString)
        {
            ApplicationName = KitApplicationName,
            MaxPoolSize = 1,
            Options = kitSessionOptions,
        }.ConnectionString);
    }

    internal string Name { get; }

    internal string TestConnectionString { get; }

    /// <summary>The catalog of the database as created, before any migration.</summary>
    internal CatalogSnapshot? Baseline { get; set; }

    /// <summary>
    /// The kit's connection. Checked alive by default: a test may have terminated it (pg_terminate_backend),
    /// and a pooled connection only finds that out on its next command. A caller that handles that failure
    /// itself skips the check and saves a round trip.
    /// </summary>
    internal Task<NpgsqlConnection> OpenKitConnectionAsync(CancellationToken cancellationToken, bool checkAlive = true) =>
        checkAlive
            ? Server.ServerErrors.OpenAsync(_kit, $"the kit's connection to {Name}", cancellationToken)
            : _kit.OpenConnectionAsync(cancellationToken).AsTask();

    /// <summary>Drops the kit's pooled connections, after one was found broken.</summary>
    internal void ClearKitPool() => _kit.Clear();

    public ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearPool(new NpgsqlConnection(TestConnectionString));
        return _kit.DisposeAsync();
    }
}
