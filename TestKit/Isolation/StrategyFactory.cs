using TestKit.Migrations;

namespace TestKit.Isolation;

/// <summary>Builds the strategy an <see cref="IsolationStrategy"/> names, on one server's catalog.</summary>
internal static class StrategyFactory
{
    // isolateLeftoverClients: a new connection string per lease (see TestKitOptions.IsolateLeftoverClients).
    internal static IIsolationStrategy Create(IsolationStrategy strategy, DatabaseCatalog catalog, IMigrator migrator, int maxDatabases, bool isolateLeftoverClients = false) =>
        strategy switch
        {
            IsolationStrategy.MigrateErase => new MigrateEraseStrategy(catalog, migrator, maxDatabases, isolateLeftoverClients),
            // A clone ready per core: more would only compete with the tests for the same cores.
            IsolationStrategy.Template => new TemplateStrategy(
                catalog, new TemplateStore(catalog, migrator), maxDatabases, Math.Clamp(Environment.ProcessorCount, 1, maxDatabases)),
            IsolationStrategy.Reset => new ResetStrategy(catalog, new TemplateStore(catalog, migrator), maxDatabases, isolateLeftoverClients),
            _ => throw new ArgumentOutOfRangeException(nameof(strategy), strategy, "Unknown isolation strategy."),
        };
}
