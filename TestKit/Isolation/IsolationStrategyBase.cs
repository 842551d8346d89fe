using TestKit.Configuration;
using TestKit.Databases;
using TestKit.Isolation.MigrateErase;
using TestKit.Isolation.Reset;
using TestKit.Isolation.Template;
using TestKit.Migrations;

namespace TestKit.Isolation;

/// <summary>
/// Gives one test one clean database migrated to head, and takes it back so that nothing is left. What the three strategies
/// share is here: the pool, the lease (after checking that the scripts did not change), keeping a failed test's database,
/// and dropping a database that could not be made ready.
/// </summary>
/// <param name="run">The run and server.</param>
/// <param name="options">The strategy, the most databases leased at once, and how tests connect.</param>
/// <param name="migrations">The scripts the databases hold: an edit since they were loaded is reported at the next lease.</param>
/// <param name="verification">Verification mode: databases are compared with head, in the foreground.</param>
internal abstract class IsolationStrategyBase(ServerRun run, ResolvedOptions options, MigrationSet migrations, HeadVerification? verification) : IAsyncDisposable
{

    /// <summary>The strategy the options name, for one run on one server.</summary>
    /// <param name="options">Which strategy, how many databases at once, how tests connect, and whether head is verified.</param>
    /// <param name="run">The run and server its databases belong to.</param>
    /// <param name="migrator">The migrations.</param>
    internal static IsolationStrategyBase Create(ResolvedOptions options, ServerRun run, EvolveMigrator migrator)
    {
        // migrate-erase migrates each test's database anew: its rows hold what the scripts compute as they run (now()).
        var verification = options.VerifyHead ? new HeadVerification(rowContents: options.Isolation != IsolationStrategy.MigrateErase) : null;
        return options.Isolation switch
        {
            IsolationStrategy.MigrateErase => new MigrateEraseStrategy(run, migrator, options, verification),
            IsolationStrategy.Template => new TemplateStrategy(run, new TemplateStore(run, migrator), options, verification),
            IsolationStrategy.Reset => new ResetStrategy(run, new TemplateStore(run, migrator), options, verification),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Isolation, "Unknown isolation strategy."),
        };
    }

    /// <summary>The strategy's name as written in TESTKIT_ISOLATION.</summary>
    internal string Name { get; } = IsolationStrategyNames.NameOf(options.Isolation);

    private protected ServerRun Run { get; } = run;

    private protected ResolvedOptions Options { get; } = options;

    private protected MigrationSet Migrations { get; } = migrations;

    private protected HeadVerification? Verification { get; } = verification;

    private protected abstract DatabasePool Pool { get; }

    /// <summary>A database at head that no other test uses until it is released.</summary>
    internal virtual Task<PooledDatabase> AcquireAsync(CancellationToken cancellationToken)
    {
        Migrations.EnsureUnchanged(lookedLately: true);
        return Pool.LeaseAsync(cancellationToken);
    }

    /// <summary>
    /// Takes the database back and brings it to a clean state for the next test (or replaces it), or hands it to the
    /// background to do so before any test gets it again. Throws if it cannot prove the state clean in its own time; the
    /// database is then never handed out again.
    /// </summary>
    internal abstract Task<ReleaseResult> ReleaseAsync(PooledDatabase database, CancellationToken cancellationToken);

    /// <summary>Takes a failed test's database out of the strategy and keeps it under <paramref name="keptName"/> (or a close variant, returned).</summary>
    internal Task<string> KeepAsync(PooledDatabase database, string keptName, CancellationToken cancellationToken) =>
        Pool.KeepAsync(database, keptName, cancellationToken);

    public virtual ValueTask DisposeAsync() => Pool.DisposeAsync();

    /// <summary>In verification mode, compares <paramref name="database"/> with head (see <see cref="HeadVerification.VerifyAsync"/>); otherwise nothing.</summary>
    private protected Task VerifyAsync(PooledDatabase database, string after, CancellationToken cancellationToken) =>
        Verification?.VerifyAsync(database, after, cancellationToken) ?? Task.CompletedTask;

    /// <summary>Runs <paramref name="ready"/> on a database just made; if it fails, the database is dropped and the error goes on.</summary>
    private protected async Task<PooledDatabase> ReadyOrDropAsync(PooledDatabase database, Func<PooledDatabase, Task> ready)
    {
        try
        {
            await ready(database).ConfigureAwait(false);
            return database;
        }
        catch
        {
            await Pool.DiscardAsync(database).ConfigureAwait(false);
            throw;
        }
    }
}
