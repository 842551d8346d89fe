using TestKit.Bench.MigrationSets;
using TestKit.Configuration;
using TestKit.Isolation;
using TestKit.Session;

namespace TestKit.Bench.Contenders;

/// <summary>
/// The contenders, in the order they run on each migration set: the floors first, then the peers,
/// then every TestKit strategy. Each is created only when its turn comes.
/// </summary>
internal static class Lineup
{
    internal static IEnumerable<IContender> For(BenchMigrationSet set, SessionBroker broker, ScratchDatabases databases)
    {
        yield return new PooledSelectOne(databases.Server);
        yield return new RollbackFloor(databases, set);
        yield return new RespawnReset(databases, set);
        yield return new TemplateClone(databases, set);
        yield return new EvolveCycle(databases, set);
        foreach (var strategy in Enum.GetValues<IsolationStrategy>())
        {
            yield return new TestKitStrategy(broker, Options(strategy, set, maxDatabases: null), set);
        }
    }

    /// <summary>
    /// Options resolved as a test project resolves them: the server from the environment (the embedded one when
    /// nothing is set); the strategy and the folder from code, so the bench measures what it names.
    /// </summary>
    internal static ResolvedOptions Options(IsolationStrategy strategy, BenchMigrationSet set, int? maxDatabases) =>
        OptionsResolver.Resolve(
            new TestKitOptions { Isolation = strategy, MigrationFolders = [set.Folder], MaxDatabases = maxDatabases },
            Environment.GetEnvironmentVariable,
            OptionsResolver.DefaultSearchRoots());
}
