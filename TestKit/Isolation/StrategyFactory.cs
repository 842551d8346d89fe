using TestKit.Configuration;
using TestKit.Databases;
using TestKit.Isolation.MigrateErase;
using TestKit.Isolation.Reset;
using TestKit.Isolation.Template;
using TestKit.Migrations;

namespace TestKit.Isolation;

/// <summary>Builds the strategy the options name, for one run on one server.</summary>
internal static class StrategyFactory
{
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
}
