using Npgsql;

namespace TestKit.Tests;

/// <summary>
/// For tests of the kit's machinery itself: the session's server (embedded, or the one the
/// environment names), and strategies of a test's own that it disposes when done.
/// </summary>
public abstract class KitTest
{
    [ClassDataSource<TestKitSession>(Shared = SharedType.PerTestSession)]
    public required TestKitSession Session { get; init; }

    internal static ResolvedOptions DefaultOptions => OptionsResolver.FromEnvironment(TestKitOptions.Default);

    /// <summary>The server programs the environment names (<c>TESTKIT_POSTGRES_BIN</c>, the version matrix), for tests that start embedded servers of their own.</summary>
    internal static string? BinDirectory => DefaultOptions.Server.BinDirectory;

    internal async Task<PostgresServer> ServerAsync() => (await Session.Broker.RunAsync(DefaultOptions)).Server;

    /// <summary>The options of a strategy of a test's own: the environment's (verification mode included), then these.</summary>
    internal static ResolvedOptions OptionsOf(IsolationStrategy kind, int maxDatabases = 1, bool isolateLeftoverClients = false) =>
        DefaultOptions with { Isolation = kind, MaxDatabases = maxDatabases, IsolateLeftoverClients = isolateLeftoverClients };

    /// <summary>A strategy of this test's own (pool of one by default), so that it knows which database it gets back.</summary>
    internal async Task<IsolationStrategyBase> NewStrategyAsync(IsolationStrategy kind, string? migrationsFolder = null, int maxDatabases = 1, Action<NpgsqlDataSourceBuilder>? configureDataSource = null)
    {
        var catalog = new ServerRun(await ServerAsync());
        var migrations = MigrationSet.Load([migrationsFolder ?? TempFolders.SampleMigrations]);
        return IsolationStrategyBase.Create(OptionsOf(kind, maxDatabases) with { ConfigureDataSource = configureDataSource }, catalog, new EvolveMigrator(migrations));
    }

    /// <summary>The folder of an embedded server: the parent of its data folder, which the server itself names.</summary>
    internal static async Task<string> FolderOfAsync(PostgresServer server)
    {
        await using var connection = await server.Admin.OpenConnectionAsync();
        await using var command = new NpgsqlCommand("SELECT current_setting('data_directory')", connection);
        return Path.GetDirectoryName((string)(await command.ExecuteScalarAsync())!)!;
    }

    /// <summary>An open connection to <paramref name="database"/> on the session's server, as the admin role.</summary>
    internal async Task<NpgsqlConnection> ConnectAsync(string database)
    {
        var server = await ServerAsync();
        // Unpooled: the kit ends every other session on a test database, which would leave a pooled one broken.
        var builder = server.ConnectionStringFor(database);
        builder.Pooling = false;
        var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    internal static async Task<long> CountAsync(NpgsqlConnection connection, string sql, params object[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        return (long)(await command.ExecuteScalarAsync())!;
    }

    internal static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>Closes a connection a faulty test left open; the kit may have ended its session already.</summary>
    internal static async Task DisposeLeftoverAsync(IAsyncDisposable connection)
    {
        try
        {
            await connection.DisposeAsync();
        }
        catch (NpgsqlException e)
        {
            TestContext.Current?.Output.WriteLine($"closing a connection the test left: {e.Message}");
        }
    }

    /// <summary>Objects in user schemas (tables, views, sequences, types, functions) plus schemas other than public.</summary>
    internal const string UserObjectCount = """
        SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%')
             + (SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%')
             + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%')
             + (SELECT count(*) FROM pg_namespace n WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'public') AND n.nspname NOT LIKE 'pg\_%')
        """;
}
