using System.Collections.Concurrent;
using TestKit.Configuration;
using TestKit.Diagnostics;
using TestKit.Migrations;
using TestKit.Server;

namespace TestKit.Isolation;

/// <summary>
/// Hands out test databases for resolved options. Starts or connects to each server once, and keeps
/// one strategy (one pool of databases) per server, migration folders and strategy. Disposing it drops
/// every database it created, releases the run's lock on each server and stops the embedded server. A
/// failure to start is remembered, so that every test reports it instead of trying again.
/// </summary>
internal sealed class IsolationBroker : IAsyncDisposable
{
    private readonly ConcurrentDictionary<ServerSource, Lazy<Task<ServerEntry>>> _servers = new();
    private readonly ConcurrentDictionary<string, Lazy<Task<IIsolationStrategy>>> _strategies = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _disposing = new();
    private readonly ConcurrentQueue<KeptDatabase> _kept = new();

    /// <summary>The databases kept for inspection in this session, with the command that opens each.</summary>
    internal IReadOnlyCollection<KeptDatabase> Kept => _kept;

    /// <summary>What each server of the session saw: its description, databases created and dropped, roles left on it.</summary>
    internal IEnumerable<ServerReport> ServerReports() =>
        _servers.Values
            .Where(lazy => lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully)
            .Select(lazy => lazy.Value.Result)
            .Select(entry => new ServerReport(entry.Server.Description, entry.Catalog.Created, entry.Catalog.Dropped, entry.RolesLeft));

    /// <summary>A database at head for one test, under <paramref name="options"/>.</summary>
    internal async Task<Lease> AcquireAsync(ResolvedOptions options, CancellationToken cancellationToken)
    {
        var strategy = await StrategyAsync(options).WaitAsync(cancellationToken).ConfigureAwait(false);
        var server = await ServerAsync(options.Server, cancellationToken).ConfigureAwait(false);
        var database = await strategy.AcquireAsync(cancellationToken).ConfigureAwait(false);
        return new Lease(this, strategy, server, database);
    }

    /// <summary>The server for <paramref name="source"/>, started or connected once.</summary>
    internal async Task<IPostgresServer> ServerAsync(ServerSource source, CancellationToken cancellationToken)
    {
        var entry = await _servers.GetOrAdd(source, key => new Lazy<Task<ServerEntry>>(() => StartServerAsync(key)))
            .Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        return entry.Server;
    }

    /// <summary>The strategy that serves <paramref name="options"/>, for the kit's own tests.</summary>
    internal Task<IIsolationStrategy> StrategyAsync(ResolvedOptions options) =>
        _strategies.GetOrAdd(options.PoolKey, _ => new Lazy<Task<IIsolationStrategy>>(() => CreateStrategyAsync(options))).Value;

    public async ValueTask DisposeAsync()
    {
        await _disposing.CancelAsync().ConfigureAwait(false);
        var errors = new List<Exception>();

        // Databases first, then the run locks, then the servers they live on; every step runs even when one fails.
        foreach (var lazy in _strategies.Values.Where(lazy => lazy.IsValueCreated))
        {
            if (await StartedAsync(lazy.Value).ConfigureAwait(false) is { } strategy)
            {
                await CollectAsync(errors, () => strategy.DisposeAsync().AsTask()).ConfigureAwait(false);
            }
        }

        foreach (var lazy in _servers.Values.Where(lazy => lazy.IsValueCreated))
        {
            if (await StartedAsync(lazy.Value).ConfigureAwait(false) is { } entry)
            {
                if (_kept.Any(kept => kept.Server == entry.Server))
                {
                    entry.Server.KeepRunning();
                }

                await CollectAsync(errors, () => entry.Catalog.DisposeAsync().AsTask()).ConfigureAwait(false);
                if (entry.RolesAtStart is not null)
                {
                    await CollectAsync(errors, async () => entry.RolesLeft = [.. (await RolesAsync(entry.Server).ConfigureAwait(false)).Except(entry.RolesAtStart)]).ConfigureAwait(false);
                }

                await CollectAsync(errors, () => entry.Server.DisposeAsync().AsTask()).ConfigureAwait(false);
            }
        }

        _disposing.Dispose();
        Errors.Rethrow(errors, "TestKit could not clean up everything at the end of the session.");
    }

    private async Task<ServerEntry> StartServerAsync(ServerSource source)
    {
        IPostgresServer server = source.IsEmbedded
            ? await EmbeddedServer.StartAsync(_disposing.Token).ConfigureAwait(false)
            : await ExternalServer.ConnectAsync(source, _disposing.Token).ConfigureAwait(false);
        var catalog = new DatabaseCatalog(server);
        // A run killed before its cleanup (SIGKILL, a crashed CI agent) left databases that nobody else would drop.
        await catalog.SweepOrphansAsync(_disposing.Token).ConfigureAwait(false);
        // Roles belong to the whole server: on an external one, those that appear during the run stay after it.
        var roles = source.IsEmbedded ? null : await RolesAsync(server).ConfigureAwait(false);
        return new ServerEntry(server, catalog) { RolesAtStart = roles?.ToHashSet(StringComparer.Ordinal) };
    }

    /// <summary>The roles of the server, but the kit's own login roles (which it drops itself).</summary>
    private async Task<IReadOnlyList<string>> RolesAsync(IPostgresServer server)
    {
        var connection = await ServerErrors.OpenAsync(server.Admin, "the admin connection", _disposing.IsCancellationRequested ? CancellationToken.None : _disposing.Token).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await Sql.QueryAsync(
                connection,
                "SELECT rolname FROM pg_roles WHERE NOT starts_with(coalesce(shobj_description(oid, 'pg_authid'), ''), $1) ORDER BY rolname",
                reader => reader.GetString(0),
                CancellationToken.None,
                DatabaseCatalog.MarkerPrefix).ConfigureAwait(false);
        }
    }

    private async Task<IIsolationStrategy> CreateStrategyAsync(ResolvedOptions options)
    {
        var migrations = MigrationSet.Load(options.MigrationFolders, options.SeedFiles, options.Schemas, options.Placeholders, options.ChangelogSchema);
        var entry = await _servers.GetOrAdd(options.Server, key => new Lazy<Task<ServerEntry>>(() => StartServerAsync(key))).Value.ConfigureAwait(false);
        if (options.ServerMaxDatabases is { } serverMaxDatabases)
        {
            entry.Catalog.Budget.BoundServer(serverMaxDatabases);
        }

        return StrategyFactory.Create(options.Isolation, entry.Catalog, new EvolveMigrator(migrations), options.MaxDatabases, options.IsolateLeftoverClients);
    }

    private static async Task CollectAsync(List<Exception> errors, Func<Task> step)
    {
        try
        {
            await step().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            errors.Add(e);
        }
    }

    /// <summary>The result of a start, or null when it failed: a server or pool that never started holds nothing to clean.</summary>
    private static async Task<T?> StartedAsync<T>(Task<T> start)
        where T : class
    {
        try
        {
            return await start.ConfigureAwait(false);
        }
        catch (Exception) when (start.IsFaulted || start.IsCanceled)
        {
            // Its error already reached every test that asked for it.
            return null;
        }
    }

    private sealed record ServerEntry(IPostgresServer Server, DatabaseCatalog Catalog)
    {
        /// <summary>The roles of an external server when the run connected; null for the embedded server.</summary>
        internal IReadOnlySet<string>? RolesAtStart { get; init; }

        internal IReadOnlyList<string> RolesLeft { get; set; } = [];
    }

    /// <summary>A database held by one test, and the strategy it goes back to.</summary>
    internal sealed record Lease(IsolationBroker Broker, IIsolationStrategy Strategy, IPostgresServer Server, TestDatabase Database)
    {
        internal Task<string> ReleaseAsync(CancellationToken cancellationToken) => Strategy.ReleaseAsync(Database, cancellationToken);

        /// <summary>Keeps the database for inspection under a name derived from <paramref name="testName"/>.</summary>
        internal async Task<KeptDatabase> KeepAsync(string testName, CancellationToken cancellationToken)
        {
            var name = await Strategy.KeepAsync(Database, KeptName(testName), cancellationToken).ConfigureAwait(false);
            var kept = new KeptDatabase(name, testName, Server.PsqlCommand(name), Server);
            Broker._kept.Enqueue(kept);
            return kept;
        }

        /// <summary>"testkit_failed_" and the test's name in lower-case letters, digits and underscores, within PostgreSQL's 63 bytes.</summary>
        private static string KeptName(string testName)
        {
            var cleaned = System.Text.RegularExpressions.Regex.Replace(testName.ToLowerInvariant(), "[^a-z0-9]+", "_").Trim('_');
            var name = "testkit_failed_" + cleaned;
            return name.Length <= 58 ? name : name[..58];
        }
    }

    /// <summary>A failed test's database, kept for inspection.</summary>
    internal sealed record KeptDatabase(string Name, string TestName, string PsqlCommand, IPostgresServer Server);
}
