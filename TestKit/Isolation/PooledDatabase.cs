using System.Diagnostics;
using Npgsql;
using TestKit.Databases;
using TestKit.Diagnostics;
using TestKit.Server;

namespace TestKit.Isolation;

/// <summary>One database of a strategy's pool: the test's connection string and the kit's own connection to it.</summary>
internal sealed class PooledDatabase : IAsyncDisposable
{
    private readonly NpgsqlDataSource _kit;
    private readonly string? _kitSessionOptions;
    private readonly bool _keepKitSession;
    private readonly NpgsqlConnectionStringBuilder _testBuilder;
    private readonly NpgsqlConnectionStringBuilder _admin;
    private readonly TestDataSources _dataSources = new();
    private bool _leasedBefore;

    /// <param name="name">The database.</param>
    /// <param name="builder">Server and credentials.</param>
    /// <param name="kitSessionOptions">Settings for the kit's own session (libpq "options", e.g. "-c name=value").</param>
    /// <param name="keepKitSession">
    /// Whether the kit's session keeps its state between uses (no DISCARD ALL when Npgsql takes it back): its cached plans
    /// above all, which the reset function's statements would otherwise plan anew at every reset (about 2 ms), and its
    /// prepared statements. Only for a session that runs nothing but the kit's own functions; one that runs migrations
    /// must start clean.
    /// </param>
    internal PooledDatabase(string name, NpgsqlConnectionStringBuilder builder, string? kitSessionOptions = null, bool keepKitSession = false)
    {
        Name = name;
        _kitSessionOptions = kitSessionOptions;
        _keepKitSession = keepKitSession;
        _admin = builder;
        _testBuilder = new NpgsqlConnectionStringBuilder(builder.ConnectionString) { ApplicationName = ApplicationNames.Test };
        TestConnectionString = _testBuilder.ConnectionString;
        // One kit connection per database at a time (the database is leased to one test), kept open between
        // tests: a new physical connection costs a SCRAM handshake each time.
        _kit = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(builder.ConnectionString)
        {
            ApplicationName = ApplicationNames.Kit,
            MaxPoolSize = 1,
            Options = kitSessionOptions,
            NoResetOnClose = keepKitSession,
            // A kept session keeps its prepared statements too: the kit's few statements are parsed once per session.
            MaxAutoPrepare = keepKitSession ? 8 : 0,
            AutoPrepareMinUsages = 2,
        }.ConnectionString);
    }

    /// <summary>The most tables whose INSERT a test connection opened ahead plans (<see cref="OpenTestConnectionsAheadAsync"/>): about 16 ms per connection.</summary>
    internal const int SchemaTablesLoaded = 100;

    private static readonly string LoadSchemaSql = $$$"""
        DO $$
        DECLARE
            t regclass;
        BEGIN
            FOR t IN SELECT c.oid::regclass FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'testkit_reset')
                       AND n.nspname NOT LIKE 'pg\_%' AND has_table_privilege(c.oid, 'INSERT')
                     ORDER BY c.oid LIMIT {{{SchemaTablesLoaded}}}
            LOOP
                EXECUTE format('EXPLAIN INSERT INTO %s DEFAULT VALUES', t);
            END LOOP;
        END
        $$
        """;

    internal string Name { get; }

    /// <summary>The connection string the test of the current lease gets.</summary>
    internal string TestConnectionString { get; private set; }

    /// <summary>The login role of this lease's own that tests connect as, or null when tests use the admin credentials.</summary>
    internal string? LoginRole { get; private set; }

    /// <summary>
    /// Hands the next test a connection string that logs in as <paramref name="role"/> with <paramref name="password"/> and
    /// acts as the admin role once connected (the owner of what the test creates, a member of what the admin is a member
    /// of), and closes the idle pooled connections of the previous one (their sessions have been ended on the server).
    /// </summary>
    internal async Task UseLoginAsync(string role, string password)
    {
        ClearTestConnections();
        await _dataSources.DisposeAsync().ConfigureAwait(false);
        // Startup options split on whitespace; a backslash escapes the next character (pg_split_opts).
        var admin = _admin.Username!.Replace(@"\", @"\\", StringComparison.Ordinal).Replace(" ", @"\ ", StringComparison.Ordinal);
        _testBuilder.Options = $"{_admin.Options} -c role={admin}".Trim();
        _testBuilder.Username = role;
        _testBuilder.Password = password;
        LoginRole = role;
        TestConnectionString = _testBuilder.ConnectionString;
    }

    /// <summary>The database's place in the run's <see cref="DatabaseBudget"/>, given back when it is dropped or kept.</summary>
    internal BudgetToken? Token { get; set; }

    /// <summary>The catalog of the database as created, before any migration (migrate-erase).</summary>
    internal StateDigest? Baseline { get; set; }

    /// <summary>Whether the database was migrated to head after its last erase, for the next test (migrate-erase).</summary>
    internal bool MigratedAhead { get; set; }

    /// <summary>
    /// The kit's connection. Checked alive by default: a test may have terminated it (pg_terminate_backend),
    /// and a pooled connection only finds that out on its next command. A caller that handles that failure
    /// itself skips the check and saves a round trip.
    /// </summary>
    internal Task<NpgsqlConnection> OpenKitConnectionAsync(CancellationToken cancellationToken, bool checkAlive = true) =>
        checkAlive
            ? Server.ServerErrors.OpenAsync(_kit, $"the kit's connection to {Name}", cancellationToken)
            : _kit.OpenConnectionAsync(cancellationToken).AsTask();

    /// <summary>
    /// The same database under the name it got for its next lease (see <see cref="DatabaseCatalog.RenameForNextLeaseAsync"/>):
    /// new connection strings, same kit session settings and baseline. Dispose this one first.
    /// </summary>
    internal PooledDatabase Renamed(string name, NpgsqlConnectionStringBuilder builder) =>
        new(name, builder, _kitSessionOptions, _keepKitSession) { Baseline = Baseline, Token = Token };

    /// <summary>Drops the kit's pooled connections, after one was found broken.</summary>
    internal void ClearKitPool() => _kit.Clear();

    /// <summary>The database as the test of the current lease sees it.</summary>
    internal TestDatabase ForTest(string serverDescription)
    {
        _leasedBefore = true;
        return new(Name, TestConnectionString, serverDescription, TestDataSource);
    }

    /// <summary>The data source of the current lease's connection string, configured by <paramref name="configure"/> (see <see cref="TestDataSources"/>).</summary>
    internal NpgsqlDataSource TestDataSource(Action<NpgsqlDataSourceBuilder>? configure) => _dataSources.For(TestConnectionString, configure);

    /// <summary>
    /// Closes the idle pooled connections of the test's connection string, Npgsql's own pool and the test's data sources:
    /// their sessions hold locks and a session alive, or were ended on the server. With <paramref name="everyPool"/>, every
    /// pool of connection strings in the process too: a test that derived a string of its own (a longer command timeout,
    /// say) has a pool the kit cannot name, and once the kit has ended an idle session, that pool may hold the dead
    /// connection. Closing another test's idle connections costs it a new one, nothing more.
    /// </summary>
    internal void ClearTestConnections(bool everyPool = false)
    {
        if (everyPool)
        {
            NpgsqlConnection.ClearAllPools();
        }
        else
        {
            NpgsqlConnection.ClearPool(new NpgsqlConnection(TestConnectionString));
        }

        _dataSources.Clear();
    }

    /// <summary>
    /// Opens <paramref name="count"/> connections of the test's connection string and leaves them idle in Npgsql's pool for
    /// it, so that the next test's first connections cost neither a backend start and authentication nor Npgsql's loading of
    /// the database's types (which it does at a pool's first connection). With <paramref name="loadSchema"/>, each backend
    /// also plans an INSERT into each of the first <see cref="SchemaTablesLoaded"/> tables (EXPLAIN: nothing runs), so that
    /// the test's first write into one finds the table, its indexes and its columns' types in the backend's caches (about
    /// 1 ms per table on this machine); best effort, as a table the role may not write is skipped. Done ahead of any test.
    /// With the kit's own connection, if any, they stay within the sizing's <c>1 + c</c> connections per database.
    /// </summary>
    internal async Task OpenTestConnectionsAheadAsync(int count, bool loadSchema, CancellationToken cancellationToken)
    {
        var connections = new List<NpgsqlConnection>(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                var connection = new NpgsqlConnection(TestConnectionString);
                connections.Add(connection);
                await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
                if (loadSchema)
                {
                    try
                    {
                        await Sql.ExecuteAsync(connection, LoadSchemaSql, cancellationToken).ConfigureAwait(false);
                    }
                    catch (PostgresException notLoaded)
                    {
                        // Only a head start: the test's first write loads what this could not.
                        Activity.Current?.SetTag("testkit.schema_not_loaded", notLoaded.MessageText);
                    }
                }
            }
        }
        finally
        {
            foreach (var connection in connections)
            {
                await connection.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// After the schema was created anew (an enum's OID changes with every migration): Npgsql's pool for the test's
    /// connection string and the test's data sources load the database's types again — a pool of an earlier lease keeps
    /// the types it loaded then — and close the connection they loaded them on. Nothing to do at the first lease.
    /// </summary>
    internal async Task ReloadTestTypesAsync(CancellationToken cancellationToken)
    {
        if (!_leasedBefore)
        {
            return;
        }

        var connection = new NpgsqlConnection(TestConnectionString);
        await using (connection.ConfigureAwait(false))
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await connection.ReloadTypesAsync(cancellationToken).ConfigureAwait(false);
        }

        await _dataSources.ReloadTypesAsync(cancellationToken).ConfigureAwait(false);
        ClearTestConnections();
    }

    public async ValueTask DisposeAsync()
    {
        ClearTestConnections();
        await _dataSources.DisposeAsync().ConfigureAwait(false);
        await _kit.DisposeAsync().ConfigureAwait(false);
    }
}
