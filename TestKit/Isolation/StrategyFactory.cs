using TestKit.Databases;
using TestKit.Isolation.MigrateErase;
using TestKit.Isolation.Reset;
using TestKit.Isolation.Template;
using TestKit.Migrations;

namespace TestKit.Isolation;

/// <summary>Builds the strategy an <see cref="IsolationStrategy"/> names, for one run on one server.</summary>
internal static class StrategyFactory
{
    /// <param name="strategy">Which strategy.</param>
    /// <param name="run">The run and server its databases belong to.</param>
    /// <param name="migrator">The migrations.</param>
    /// <param name="maxDatabases">The most databases it leases at once.</param>
    /// <param name="isolateLeftoverClients">A new connection string per lease (see <see cref="TestKitOptions.IsolateLeftoverClients"/>).</param>
    /// <param name="verifyHead">Compare every database a test gets with head (see <see cref="TestKitOptions.VerifyHead"/>).</param>
    internal static IIsolationStrategy Create(
        IsolationStrategy strategy, ServerRun run, IMigrator migrator, int maxDatabases, bool isolateLeftoverClients = false, bool verifyHead = false)
    {
        // migrate-erase migrates each test's database anew: its rows hold what the scripts compute as they run (now()).
        var verification = verifyHead ? new HeadVerification(rowContents: strategy != IsolationStrategy.MigrateErase) : null;
        return new TracedStrategy(strategy switch
        {
            IsolationStrategy.MigrateErase => new MigrateEraseStrategy(run, migrator, maxDatabases, isolateLeftoverClients, verification),
            IsolationStrategy.Template => new TemplateStrategy(run, new TemplateStore(run, migrator), maxDatabases, verification),
            IsolationStrategy.Reset => new ResetStrategy(run, new TemplateStore(run, migrator), maxDatabases, isolateLeftoverClients, verification),
            _ => throw new ArgumentOutOfRangeException(nameof(strategy), strategy, "Unknown isolation strategy."),
        });
    }
}
