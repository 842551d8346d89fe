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
internal sealed class TemplateStrategy : IsolationStrategyBase
{
    private readonly TemplateStore _template;

    /// <param name="run">The run and server.</param>
    /// <param name="template">The template the clones come from.</param>
    /// <param name="options">The most databases leased at once, and how tests connect to them.</param>
    /// <param name="verification">Verification mode: every clone is compared with head as a test takes it.</param>
    internal TemplateStrategy(ServerRun run, TemplateStore template, ResolvedOptions options, HeadVerification? verification = null)
        : base(run, options, template.Migrations, verification)
    {
        _template = template;
        Pool = new DatabasePool(run, options, CreateAsync, warm: Math.Clamp(Environment.ProcessorCount, 1, options.MaxDatabases));
    }

    private protected override DatabasePool Pool { get; }

    internal override async Task<PooledDatabase> AcquireAsync(CancellationToken cancellationToken)
    {
        var database = await base.AcquireAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await VerifyAsync(database, "as cloned", cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error)
        {
            await Pool.ReleaseAndDiscardAsync(database, error).ConfigureAwait(false);
            throw;
        }

        return database;
    }

    internal override Task<ReleaseResult> ReleaseAsync(PooledDatabase database, CancellationToken cancellationToken)
    {
        database.ClearTestConnections();
        // The next test does not need this clone gone, only the end of the run does.
        Pool.ReleaseAndDiscardInBackground(database);
        return Task.FromResult(ReleaseResult.Dropped);
    }

    public override ValueTask DisposeAsync() => new(Errors.RunAllAsync($"TestKit could not end the {Name} strategy cleanly.", base.DisposeAsync, _template.DisposeAsync));

    private async Task<PooledDatabase> CreateAsync(bool ahead, CancellationToken cancellationToken)
    {
        var template = await _template.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var name = await Run.Catalog.CreateAsync(cancellationToken, template).ConfigureAwait(false);
        var database = Pool.NewDatabase(name);
        if (!ahead || Pool.LeaseWaits)
        {
            // A test waits for this clone (or, back to back, for the one made ahead): it opens what it needs itself.
            return database;
        }

        // A warm clone also gets the test's connections opened ahead, two: a test that writes through one connection and
        // checks through another (Db and the code under test) finds both open and their backends' caches loaded.
        return await ReadyOrDropAsync(database, ready => ready.OpenTestConnectionsAheadAsync(2, loadSchema: true, cancellationToken)).ConfigureAwait(false);
    }
}
