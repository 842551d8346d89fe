using LinqToDB;
using LinqToDB.Data;
using Npgsql;
using TestKit.Configuration;
using TestKit.Isolation;
using TestKit.Session;

namespace TestKit;

/// <summary>
/// One test's database, migrated to head, leased from <see cref="TestDatabases"/>: its name, connection string, data
/// source, and linq2db connections on it. Disposing the lease gives the database back, and the kit brings it back to its
/// baseline for the next test (or replaces it). Nothing of another test reaches it while it is leased.
/// </summary>
/// <example>
/// <code>
/// await using var lease = await databases.LeaseAsync();
/// await using var db = lease.CreateConnection&lt;ShopDb&gt;();
/// await db.Customers.InsertAsync(() => new Customer { Name = "Ann" });
/// </code>
/// </example>
public sealed class DatabaseLease : IAsyncDisposable
{
    private readonly Lease _lease;
    private readonly ResolvedOptions _options;
    private readonly Lazy<DataOptions> _dataOptions;
    private int _ended;

    internal DatabaseLease(Lease lease, ResolvedOptions options)
    {
        _lease = lease;
        _options = options;
        _dataOptions = new Lazy<DataOptions>(CreateDataOptions);
    }

    /// <summary>The name of the database.</summary>
    public string Name => _lease.Database.Name;

    /// <summary>The connection string of the database, for a second connection or another library (it holds a password: keep it out of output).</summary>
    public string ConnectionString => _lease.Database.ConnectionString;

    /// <summary>
    /// An Npgsql data source on the database, configured by <see cref="TestKitOptions.ConfigureDataSource"/> (mapped enums,
    /// plugins). TestKit owns it: it clears its pool when it takes the database back, and disposes it with the database.
    /// </summary>
    public NpgsqlDataSource DataSource => _lease.Database.DataSource(_options.ConfigureDataSource);

    /// <summary>
    /// linq2db options for the database, shaped by <see cref="TestKitOptions.ConfigureDataOptions"/>: PostgreSQL through
    /// <see cref="DataSource"/> when <see cref="TestKitOptions.ConfigureDataSource"/> is set, otherwise through Npgsql's pool
    /// for <see cref="ConnectionString"/> (the one <c>new NpgsqlConnection(ConnectionString)</c> shares).
    /// </summary>
    public DataOptions DataOptions => _dataOptions.Value;

    /// <summary>The strategy's name as written in TESTKIT_ISOLATION.</summary>
    internal string Strategy => _lease.Strategy;

    internal string ServerDescription => _lease.Database.ServerDescription;

    /// <summary>A new linq2db connection to the database; the caller disposes it.</summary>
    public DataConnection CreateConnection() => new(DataOptions);

    /// <summary>A new connection of the team's own class, created through its constructor that takes <see cref="LinqToDB.DataOptions"/>; the caller disposes it.</summary>
    /// <typeparam name="TDb">The team's <see cref="DataConnection"/> class.</typeparam>
    public TDb CreateConnection<TDb>()
        where TDb : DataConnection => DataConnectionFactory<TDb>.New(DataOptions);

    /// <summary>Gives the database back; a failure to bring it back to its baseline is a <see cref="TestKitException"/> (the database is then replaced).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _ended, 1) == 0)
        {
            await _lease.ReleaseAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Gives the database back, saying how it was taken back (for the TUnit glue's output).</summary>
    internal Task<ReleaseResult> ReleaseAsync(CancellationToken cancellationToken) =>
        Interlocked.Exchange(ref _ended, 1) == 0
            ? _lease.ReleaseAsync(cancellationToken)
            : throw new TestKitException($"The lease of database '{Name}' was given back already.");

    /// <summary>Keeps the database of a failed test for inspection, instead of giving it back.</summary>
    internal Task<KeptDatabase> KeepAsync(string testName, CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _ended, 1);
        return _lease.KeepAsync(testName, cancellationToken);
    }

    private DataOptions CreateDataOptions()
    {
        var options = new DataOptions().UsePostgreSQL(ConnectionString);
        if (_options.ConfigureDataSource is not null)
        {
            var dataSource = DataSource;
            options = options.UseConnectionFactory(_ => dataSource.CreateConnection());
        }

        return _options.ConfigureDataOptions?.Invoke(options) ?? options;
    }
}
