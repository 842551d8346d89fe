using Npgsql;
using TestKit.Configuration;
using TestKit.Databases;
using TestKit.Diagnostics;

namespace TestKit.Isolation.Template;

/// <summary>
/// One database per test, cloned from the template and dropped after the test, in the background. The pool keeps a few
/// clones ready (one per core: more would only compete with the tests for the same cores), so that a test rarely waits
/// for CREATE DATABASE; they take only spare places in the run's budget, and are the first given up when another pool
/// needs room.
/// </summary>
internal sealed class TemplateStrategy : IIsolationStrategy
{
    private readonly ServerRun _run;
    private readonly TemplateStore _template;
    private readonly DatabasePool _pool;
    private readonly HeadVerification? _verification;

    /// <param name="run">The run and server.</param>
    /// <param name="template">The template the clones come from.</param>
    /// <param name="options">The most databases leased at once, and how tests connect to them.</param>
    /// <param name="verification">Verification mode: every clone is compared with head as a test takes it.</param>
    internal TemplateStrategy(ServerRun run, TemplateStore template, ResolvedOptions options, HeadVerification? verification = null)
    {
        _run = run;
        _template = template;
        _verification = verification;
        _pool = new DatabasePool(run, options, CreateAsync, warm: Math.Clamp(Environment.ProcessorCount, 1, options.MaxDatabases));
    }

    public string Name => IsolationStrategyNames.NameOf(IsolationStrategy.Template);

    public async Task<PooledDatabase> AcquireAsync(CancellationToken cancellationToken)
    {
        // The template holds the scripts the run loaded: an edit since is reported, as under every strategy.
        _template.Migrations.EnsureUnchanged(lookedLately: true);
        var database = await _pool.LeaseAsync(cancellationToken).ConfigureAwait(false);
        if (_verification is not null)
        {
            try
            {
                await _verification.VerifyAsync(database, "as cloned", cancellationToken).ConfigureAwait(false);
            }
            catch (Exception error)
            {
                try
                {
                    await _pool.DiscardAsync(database, error).ConfigureAwait(false);
                }
                finally
                {
                    _pool.ReleaseSlot();
                }

                throw;
            }
        }

        return database;
    }

    public Task<ReleaseResult> ReleaseAsync(PooledDatabase database, CancellationToken cancellationToken)
    {
        database.ClearTestConnections();
        _pool.ReleaseSlot();
        // The next test does not need this clone gone, only the end of the run does.
        _pool.DiscardInBackground(database);
        return Task.FromResult(ReleaseResult.Dropped);
    }

    public Task<string> KeepAsync(PooledDatabase database, string keptName, CancellationToken cancellationToken) =>
        _pool.KeepAsync(database, keptName, cancellationToken);

    public ValueTask DisposeAsync() => new(Errors.RunAllAsync($"TestKit could not end the {Name} strategy cleanly.", _pool.DisposeAsync, _template.DisposeAsync));

    private async Task<PooledDatabase> CreateAsync(bool ahead, CancellationToken cancellationToken)
    {
        var template = await _template.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var name = await _run.Catalog.CreateAsync(cancellationToken, template).ConfigureAwait(false);
        var database = _pool.NewDatabase(name);
        if (!ahead)
        {
            // A test waits for this clone: it opens what it needs itself.
            return database;
        }

        try
        {
            // A warm clone also gets the test's connections opened ahead, two: a test that writes through one connection and
            // checks through another (Db and the code under test) finds both open and their backends' caches loaded.
            await database.OpenTestConnectionsAheadAsync(2, loadSchema: true, cancellationToken).ConfigureAwait(false);
            return database;
        }
        catch
        {
            await _pool.DiscardAsync(database).ConfigureAwait(false);
            throw;
        }
    }
}
