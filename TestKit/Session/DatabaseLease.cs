using System.Reflection;
using System.Text.RegularExpressions;
using LinqToDB;
using LinqToDB.Data;
using Npgsql;
using TestKit.Databases;
using TestKit.Diagnostics;
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
public sealed partial class DatabaseLease : IAsyncDisposable
{
    private readonly SessionBroker _broker;
    private readonly IsolationStrategyBase _strategy;
    private readonly ServerRun _run;
    private readonly PooledDatabase _database;
    private int _ended;

    internal DatabaseLease(SessionBroker broker, IsolationStrategyBase strategy, ServerRun run, PooledDatabase database)
    {
        _broker = broker;
        _strategy = strategy;
        _run = run;
        _database = database;
        // As the test got it: the kit gives a database a new name for its next lease under IsolateLeftoverClients.
        Name = database.Name;
    }

    /// <summary>The name of the database.</summary>
    public string Name { get; }

    /// <summary>The connection string of the database, for a second connection or another library (it holds a password: keep it out of output).</summary>
    public string ConnectionString => _database.ConnectionString;

    /// <summary>
    /// The Npgsql data source on the database, shaped by <see cref="TestKitOptions.ConfigureDataSource"/> (mapped enums,
    /// plugins): <see cref="DataOptions"/> and every connection of <see cref="CreateConnection()"/> go through it. TestKit owns
    /// it: it clears its pool when it takes the database back, and disposes it with the database.
    /// </summary>
    public NpgsqlDataSource DataSource => _database.DataSource;

    /// <summary>linq2db options for the database: PostgreSQL through <see cref="DataSource"/>, shaped by <see cref="TestKitOptions.ConfigureDataOptions"/>.</summary>
    public DataOptions DataOptions => _database.DataOptions;

    /// <summary>The strategy's name as written in TESTKIT_ISOLATION.</summary>
    internal string Strategy => _strategy.Name;

    internal string ServerDescription => _run.Server.Description;

    /// <summary>A new linq2db connection to the database; the caller disposes it.</summary>
    public DataConnection CreateConnection() => new(DataOptions);

    /// <summary>A new connection of the team's own class, created through its constructor that takes <see cref="LinqToDB.DataOptions"/>; the caller disposes it.</summary>
    /// <typeparam name="TDb">The team's <see cref="DataConnection"/> class.</typeparam>
    public TDb CreateConnection<TDb>()
        where TDb : DataConnection =>
        typeof(TDb).GetConstructor([typeof(DataOptions)]) is { } constructor && !typeof(TDb).IsAbstract
            ? (TDb)constructor.Invoke(BindingFlags.DoNotWrapExceptions, null, [DataOptions], null)
            : throw new ArgumentException(
                $"{typeof(TDb).Name} has no public constructor that takes DataOptions, so TestKit cannot create it. " +
                $"Add one (public {typeof(TDb).Name}(DataOptions options) : base(options)), or override CreateDb to create it yourself.",
                nameof(TDb));

    /// <summary>
    /// Gives the database back; a failure to bring it back to its baseline is a <see cref="TestKitException"/> (the database is
    /// then replaced). Under reset that runs in the background, and its failure reaches the next lease and the summary.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _ended, 1) == 0)
        {
            await GiveBackAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Gives the database back, saying how it was taken back (for the TUnit glue's output).</summary>
    internal Task<ReleaseResult> ReleaseAsync(CancellationToken cancellationToken) =>
        Interlocked.Exchange(ref _ended, 1) == 0
            ? GiveBackAsync(cancellationToken)
            : throw new TestKitException($"The lease of database '{Name}' was given back already.");

    /// <summary>Keeps the database of a failed test for inspection under a name derived from <paramref name="testName"/>, instead of giving it back.</summary>
    internal async Task<KeptDatabase> KeepAsync(string testName, CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _ended, 1);
        using var step = KitTracing.StartStep("testkit.keep");
        return await Errors.AtEdgeAsync($"TestKit could not keep database '{Name}'.", async () =>
        {
            var name = await _strategy.KeepAsync(_database, KeptName(testName), cancellationToken).ConfigureAwait(false);
            return _broker.NoteKept(new KeptDatabase(name, testName, _run.Server.PsqlCommand(name), _run.Server.Description, _run.Embedded?.StopCommand));
        }).ConfigureAwait(false);
    }

    private async Task<ReleaseResult> GiveBackAsync(CancellationToken cancellationToken)
    {
        using var step = KitTracing.StartStep("testkit.release");
        step?.SetTag("testkit.database", Name);
        return await Errors.AtEdgeAsync($"TestKit could not take database '{Name}' back.", () => _strategy.ReleaseAsync(_database, cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>"testkit_failed_" and the test's name in lower-case letters, digits and underscores, within PostgreSQL's 63 bytes.</summary>
    private static string KeptName(string testName)
    {
        var name = "testkit_failed_" + NotNameCharacters().Replace(testName.ToLowerInvariant(), "_").Trim('_');
        return name.Length <= 58 ? name : name[..58];
    }

    [GeneratedRegex("[^a-z0-9]+", RegexOptions.CultureInvariant)]
    private static partial Regex NotNameCharacters();
}
