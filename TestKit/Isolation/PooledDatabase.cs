using Npgsql;

namespace TestKit.Isolation;

/// <summary>One database of a strategy's pool: the test's connection string and the kit's own connection to it.</summary>
internal sealed class PooledDatabase : IAsyncDisposable
{
    private const string KitApplicationName = "testkit";
    private const string TestApplicationName = "testkit-test";

    private readonly NpgsqlDataSource _kit;

    internal PooledDatabase(string name, NpgsqlConnectionStringBuilder builder)
    {
        Name = name;
        TestConnectionString = new NpgsqlConnectionStringBuilder(builder.ConnectionString) { ApplicationName = TestApplicationName }.ConnectionString;
        // One kit connection per database at a time (the database is leased to one test), kept open between
        // tests: a new physical connection costs a SCRAM handshake each time.
        _kit = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(builder.ConnectionString)
        {
            ApplicationName = KitApplicationName,
            MaxPoolSize = 1,
        }.ConnectionString);
    }

    internal string Name { get; }

    internal string TestConnectionString { get; }

    /// <summary>The catalog of the database as created, before any migration.</summary>
    internal CatalogSnapshot? Baseline { get; set; }

    /// <summary>The kit's connection, checked alive: a test may have terminated it (pg_terminate_backend).</summary>
    internal Task<NpgsqlConnection> OpenKitConnectionAsync(CancellationToken cancellationToken) =>
        Server.ServerErrors.OpenAsync(_kit, $"the kit's connection to {Name}", cancellationToken);

    public ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearPool(new NpgsqlConnection(TestConnectionString));
        return _kit.DisposeAsync();
    }
}
