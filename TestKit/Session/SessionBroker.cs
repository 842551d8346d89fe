using System.Collections.Concurrent;
using TestKit.Configuration;
using TestKit.Databases;
using TestKit.Diagnostics;
using TestKit.Isolation;
using TestKit.Migrations;
using TestKit.Server;

namespace TestKit.Session;

/// <summary>
/// The composition root: hands out test databases for resolved options. Starts or connects to each server once (and
/// sweeps what dead runs left there), and keeps one strategy per server, migrations, strategy and settings. Disposing it
/// drops every database it created, releases the run's locks on each server and stops the embedded server. A failure to
/// start is remembered, so that every test reports it instead of trying again. What it lets out keeps the error policy.
/// </summary>
internal sealed class SessionBroker : IAsyncDisposable
{
    private readonly ConcurrentDictionary<ServerSource, Lazy<Task<ServerRun>>> _servers = new();
    private readonly ConcurrentDictionary<(string Pool, object? DataSource, object? DataOptions), Lazy<Task<IsolationStrategyBase>>> _strategies = new();
    private readonly CancellationTokenSource _disposing = new();
    private readonly ConcurrentQueue<KeptDatabase> _kept = new();

    /// <summary>The databases kept for inspection in this session, with the command that opens each.</summary>
    internal IReadOnlyCollection<KeptDatabase> Kept => _kept;

    /// <summary>What each server of the session saw: its description, databases created and dropped, its start time, roles left on it.</summary>
    internal IEnumerable<ServerReport> ServerReports() =>
        _servers.Values
            .Where(lazy => lazy.IsValueCreated && lazy.Value.IsCompletedSuccessfully)
            .Select(lazy => lazy.Value.Result)
            .Select(run => new ServerReport(run.Server.Description, run.Catalog.Created, run.Catalog.Dropped, run.StartMilliseconds, run.RolesLeft, run.BackgroundFailures));

    /// <summary>A database at head for one test, under <paramref name="options"/>.</summary>
    internal async Task<DatabaseLease> AcquireAsync(ResolvedOptions options, CancellationToken cancellationToken)
    {
        using var step = KitTracing.StartStep("testkit.acquire");
        step?.SetTag("testkit.strategy", IsolationStrategyNames.NameOf(options.Isolation));
        return await Errors.AtEdgeAsync("TestKit could not give the test a database.", async () =>
        {
            var strategy = await StrategyAsync(options).WaitAsync(cancellationToken).ConfigureAwait(false);
            var run = await RunAsync(options).WaitAsync(cancellationToken).ConfigureAwait(false);
            var database = await strategy.AcquireAsync(cancellationToken).ConfigureAwait(false);
            return new DatabaseLease(this, strategy, run, database);
        }).ConfigureAwait(false);
    }

    /// <summary>Notes a database kept for inspection, for the summary.</summary>
    internal KeptDatabase NoteKept(KeptDatabase kept)
    {
        _kept.Enqueue(kept);
        return kept;
    }

    /// <summary>Starts what <paramref name="options"/> need, once: the server and the strategy (which loads and checks the migrations).</summary>
    internal async Task<PostgresServer> StartAsync(ResolvedOptions options, CancellationToken cancellationToken)
    {
        using var step = KitTracing.StartStep("testkit.start");
        return await Errors.AtEdgeAsync("TestKit could not start.", async () =>
        {
            await StrategyAsync(options).WaitAsync(cancellationToken).ConfigureAwait(false);
            return (await RunAsync(options).WaitAsync(cancellationToken).ConfigureAwait(false)).Server;
        }).ConfigureAwait(false);
    }

    /// <summary>The run on the server of <paramref name="options"/>, which starts or connects to it once.</summary>
    internal Task<ServerRun> RunAsync(ResolvedOptions options) => RunAsync(options.Server, options.Logger);

    /// <summary>
    /// Reaches the kept server <paramref name="kept"/> (<see cref="ServerResolver.KeptServerFrom"/>; null: none) in the
    /// background, before any test asks, while the test framework still discovers the tests. A failure reaches the tests
    /// that use that server; a session whose tests use another only detaches from it at its end.
    /// </summary>
    internal void ReachAhead(ServerSource? kept)
    {
        if (kept is not null)
        {
            _ = RunAsync(kept, logger: null).ContinueWith(static failed => failed.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        }
    }

    private Task<ServerRun> RunAsync(ServerSource source, Microsoft.Extensions.Logging.ILogger? logger) =>
        _servers.GetOrAdd(source, key => new Lazy<Task<ServerRun>>(() => Task.Run(() => ServerRun.StartAsync(key, logger, _disposing.Token)))).Value;

    public async ValueTask DisposeAsync()
    {
        using var step = KitTracing.StartStep("testkit.end");
        await _disposing.CancelAsync().ConfigureAwait(false);
        var errors = new List<Exception>();

        // Databases first, then the run's locks, then the servers they live on; every step runs even when one fails.
        foreach (var lazy in _strategies.Values.Where(lazy => lazy.IsValueCreated))
        {
            if (await StartedAsync(lazy.Value).ConfigureAwait(false) is { } strategy)
            {
                await Errors.CollectAsync(errors, () => strategy.DisposeAsync().AsTask()).ConfigureAwait(false);
            }
        }

        foreach (var lazy in _servers.Values.Where(lazy => lazy.IsValueCreated))
        {
            if (await StartedAsync(lazy.Value).ConfigureAwait(false) is { } run)
            {
                await Errors.CollectAsync(errors, () => run.DisposeAsync().AsTask()).ConfigureAwait(false);
                await Errors.CollectAsync(errors, run.NoteRolesLeftAsync).ConfigureAwait(false);
                if (run.Embedded is { } embedded && _kept.Any(kept => kept.StopCommand == embedded.StopCommand))
                {
                    // Its kept databases live in it: it outlives the session, and the summary says how to stop it.
                    embedded.KeepRunning();
                }

                await Errors.CollectAsync(errors, () => run.Server.DisposeAsync().AsTask()).ConfigureAwait(false);
            }
        }

        _disposing.Dispose();
        Errors.Rethrow(errors, "TestKit could not clean up everything at the end of the session.");
    }

    private Task<IsolationStrategyBase> StrategyAsync(ResolvedOptions options) =>
        // The shaping callbacks by identity too: a pool's databases each have one data source, built with them.
        _strategies.GetOrAdd((options.PoolKey, options.ConfigureDataSource, options.ConfigureDataOptions), _ => new Lazy<Task<IsolationStrategyBase>>(() => CreateStrategyAsync(options))).Value;

    private async Task<IsolationStrategyBase> CreateStrategyAsync(ResolvedOptions options)
    {
        var migrations = MigrationSet.Load(options.MigrationFolders, options.SeedFiles, options.Schemas, options.Placeholders, options.ChangelogSchema);
        var run = await RunAsync(options).ConfigureAwait(false);
        if (options.ServerMaxDatabases is { } serverMaxDatabases)
        {
            run.Budget.BoundServer(serverMaxDatabases);
        }

        return IsolationStrategyBase.Create(options, run, new EvolveMigrator(migrations, options.Logger));
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
}
