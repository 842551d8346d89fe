using System.Diagnostics;
using LinqToDB;
using LinqToDB.DataProvider.PostgreSQL;
using Npgsql;
using TestKit.Configuration;
using TestKit.Databases;
using TestKit.Diagnostics;
using TestKit.Server;
using Sql = TestKit.Server.Sql;

namespace TestKit.Isolation;

/// <summary>
/// One database of a strategy's pool, as the kit keeps it and a test leases it: its name, the test's connection string, the
/// test's one data source and linq2db options on it (shaped by <see cref="TestKitOptions.ConfigureDataSource"/> and
/// <see cref="TestKitOptions.ConfigureDataOptions"/>, built at first use), the kit's own connection to it, and the
/// clean-up of the pools a test's connections may be left in.
/// </summary>
internal sealed class PooledDatabase : IAsyncDisposable
{
    private static readonly string LoadSchemaSql = Sql.Resource("LoadSchema.sql");

    private readonly NpgsqlDataSource _kit;
    private readonly NpgsqlConnectionStringBuilder _admin;
    private readonly ResolvedOptions _options;
    private readonly PostgreSQLVersion _dialect;
    private Lazy<NpgsqlDataSource> _dataSource;
    private Lazy<DataOptions> _dataOptions;
    private string _connectionString;
    private bool _connectionStringGiven;

    /// <param name="name">The database.</param>
    /// <param name="admin">Server and the admin role's credentials.</param>
    /// <param name="options">How the test's data source and linq2db options are shaped.</param>
    /// <param name="dialect">linq2db's dialect for the server (<see cref="ServerRun.Dialect"/>).</param>
    /// <param name="kitSessionOptions">Settings for the kit's own session (libpq "options", e.g. "-c name=value").</param>
    /// <param name="keepKitSession">
    /// Whether the kit's session keeps its state between uses (no DISCARD ALL when Npgsql takes it back): its cached plans
    /// above all, which the reset function's statements would otherwise plan anew at every reset (about 2 ms), and its
    /// prepared statements. Only for a session that runs nothing but the kit's own functions; one that runs migrations
    /// must start clean.
    /// </param>
    internal PooledDatabase(string name, NpgsqlConnectionStringBuilder admin, ResolvedOptions options, PostgreSQLVersion dialect, string? kitSessionOptions = null, bool keepKitSession = false)
    {
        Name = name;
        _admin = admin;
        _options = options;
        _dialect = dialect;
        _connectionString = new NpgsqlConnectionStringBuilder(admin.ConnectionString) { ApplicationName = ApplicationNames.Test }.ConnectionString;
        (_dataSource, _dataOptions) = (new(BuildDataSource), new(BuildDataOptions));
        // One kit connection per database at a time (the database is leased to one test), kept open between
        // tests: a new physical connection costs a SCRAM handshake each time.
        _kit = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(admin.ConnectionString)
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

    internal string Name { get; }

    /// <summary>
    /// The connection string the test of the current lease gets (with a password: never for output). Reading it notes that
    /// a test was given it: from then on Npgsql's own pool for it may exist, with connections the kit clears and types it
    /// reloads; until then the kit leaves that pool alone, for naming it would make it.
    /// </summary>
    internal string ConnectionString
    {
        get
        {
            _connectionStringGiven = true;
            return _connectionString;
        }
    }

    /// <summary>The test's data source on <see cref="ConnectionString"/>: <c>Db</c>, <c>DataSource</c> and every linq2db connection of the lease go through it.</summary>
    internal NpgsqlDataSource DataSource => _dataSource.Value;

    /// <summary>linq2db's options for the database: PostgreSQL through <see cref="DataSource"/>, shaped by the options' callback.</summary>
    internal DataOptions DataOptions => _dataOptions.Value;

    /// <summary>The login role of this lease's own that tests connect as, or null when tests use the admin credentials.</summary>
    internal string? LoginRole { get; private set; }

    /// <summary>The database's place in the run's <see cref="DatabaseBudget"/>, given back when it is dropped or kept.</summary>
    internal BudgetToken? Token { get; set; }

    /// <summary>
    /// Hands the next test a connection string that logs in as <paramref name="role"/> with <paramref name="password"/> and
    /// acts as the admin role once connected (the owner of what the test creates, a member of what the admin is a member
    /// of), and disposes the data source of the previous one (their sessions have been ended on the server).
    /// </summary>
    internal async Task UseLoginAsync(string role, string password)
    {
        // Startup options split on whitespace; a backslash escapes the next character (pg_split_opts).
        var admin = _admin.Username!.Replace(@"\", @"\\", StringComparison.Ordinal).Replace(" ", @"\ ", StringComparison.Ordinal);
        var login = new NpgsqlConnectionStringBuilder(_connectionString) { Options = $"{_admin.Options} -c role={admin}".Trim(), Username = role, Password = password };
        await DisposeTestConnectionsAsync().ConfigureAwait(false);
        LoginRole = role;
        _connectionString = login.ConnectionString;
        _connectionStringGiven = false;
        (_dataSource, _dataOptions) = (new(BuildDataSource), new(BuildDataOptions));
    }

    /// <summary>
    /// The kit's connection. Checked alive by default: a test may have terminated it (pg_terminate_backend),
    /// and a pooled connection only finds that out on its next command. A caller that handles that failure
    /// itself skips the check and saves a round trip.
    /// </summary>
    internal Task<NpgsqlConnection> OpenKitConnectionAsync(CancellationToken cancellationToken, bool checkAlive = true) =>
        checkAlive
            ? ServerErrors.OpenAsync(_kit, $"the kit's connection to {Name}", cancellationToken)
            : _kit.OpenConnectionAsync(cancellationToken).AsTask();

    /// <summary>Drops the kit's pooled connections, after one was found broken.</summary>
    internal void ClearKitPool() => _kit.Clear();

    /// <summary>
    /// Closes the idle connections of the test's data source and of Npgsql's own pool for <see cref="ConnectionString"/>:
    /// their sessions hold locks and a session alive, or were ended on the server. With <paramref name="everyPool"/>, every
    /// pool of connection strings in the process too: a test that derived a string of its own (a longer command timeout,
    /// say) has a pool the kit cannot name, and once the kit has ended an idle session, that pool may hold the dead
    /// connection. Closing another test's idle connections costs it a new one, nothing more. Npgsql's pool for the string is
    /// left alone until a test was given the string (see <see cref="ConnectionString"/>).
    /// </summary>
    internal void ClearTestConnections(bool everyPool = false)
    {
        if (everyPool)
        {
            NpgsqlConnection.ClearAllPools();
        }
        else if (_connectionStringGiven)
        {
            NpgsqlConnection.ClearPool(new NpgsqlConnection(_connectionString));
        }

        if (_dataSource.IsValueCreated)
        {
            _dataSource.Value.Clear();
        }
    }

    /// <summary>
    /// Opens <paramref name="count"/> connections of the test's data source and leaves them idle in its pool, so that the
    /// next test's first connections cost neither a backend start and authentication nor Npgsql's loading of the database's
    /// types. With <paramref name="loadSchema"/>, each backend also plans an INSERT into each of the first 100 tables
    /// (LoadSchema.sql; EXPLAIN: nothing runs), about 1 ms per table the test's first write would spend; best effort. With the
    /// kit's own connection, if any, they stay within the sizing's <c>1 + c</c> connections per database. With
    /// <paramref name="reloadTypes"/> (the schema was created anew: an enum's OID changes with every migration), the first
    /// connection loads the database's types again, for the data source and itself (a data source keeps the types it loaded
    /// at its first connection).
    /// </summary>
    internal async Task OpenTestConnectionsAheadAsync(int count, bool loadSchema, CancellationToken cancellationToken, bool reloadTypes = false)
    {
        var connections = new List<NpgsqlConnection>(count);
        // The release closed the data source's idle connections (and those given back since): none has the old types.
        reloadTypes &= _dataSource.IsValueCreated;
        try
        {
            for (var i = 0; i < count; i++)
            {
                connections.Add(await DataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false));
                if (reloadTypes && i == 0)
                {
                    await connections[0].ReloadTypesAsync(cancellationToken).ConfigureAwait(false);
                }

                if (loadSchema)
                {
                    try
                    {
                        await Sql.ExecuteAsync(connections[^1], LoadSchemaSql, cancellationToken).ConfigureAwait(false);
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
    /// After the schema was created anew: Npgsql's own pool for <see cref="ConnectionString"/>, once a test was given the
    /// string, loads the database's types again (a pool keeps the types it loaded at its first connection) and is emptied,
    /// so that the connection it loaded them on does not stay beside the ones opened ahead (the sizing's 1 + c).
    /// </summary>
    internal async Task ReloadConnectionStringTypesAsync(CancellationToken cancellationToken)
    {
        if (!_connectionStringGiven)
        {
            return;
        }

        var connection = new NpgsqlConnection(_connectionString);
        await using (connection.ConfigureAwait(false))
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await connection.ReloadTypesAsync(cancellationToken).ConfigureAwait(false);
        }

        NpgsqlConnection.ClearPool(new NpgsqlConnection(_connectionString));
    }

    public async ValueTask DisposeAsync()
    {
        await DisposeTestConnectionsAsync().ConfigureAwait(false);
        await _kit.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Disposes the test's data source. A session the test opened elsewhere on the connection string is ended by what
    /// follows (the drop, the keep's rename, or the reset before a new login), and no test gets that string again.
    /// </summary>
    private async Task DisposeTestConnectionsAsync()
    {
        if (_dataSource.IsValueCreated)
        {
            await _dataSource.Value.DisposeAsync().ConfigureAwait(false);
        }
    }

    private NpgsqlDataSource BuildDataSource()
    {
        var builder = new NpgsqlDataSourceBuilder(_connectionString);
        Errors.UserCallback(nameof(TestKitOptions.ConfigureDataSource), () => _options.ConfigureDataSource?.Invoke(builder));
        return builder.Build();
    }

    private DataOptions BuildDataOptions()
    {
        var dataSource = DataSource;
        var options = new DataOptions().UsePostgreSQL(_connectionString, _dialect).UseConnectionFactory(_ => dataSource.CreateConnection());
        return _options.ConfigureDataOptions is { } configure ? Errors.UserCallback(nameof(TestKitOptions.ConfigureDataOptions), () => configure(options)) : options;
    }
}
