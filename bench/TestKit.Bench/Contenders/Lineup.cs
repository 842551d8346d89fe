using TestKit.Bench.MigrationSets;

namespace TestKit.Bench.Contenders;

/// <summary>
/// The contenders, in the order they run on each migration set: the floors first, then the peers,
/// then every TestKit strategy. Each is created only when its turn comes.
/// </summary>
internal static class Lineup
{
    internal static IEnumerable<IContender> For(BenchMigrationSet set, ScratchDatabases databases)
    {
        yield return new PooledSelectOne(databases.Server);
        yield return new RollbackFloor(databases, set);
        yield return new RespawnReset(databases, set);
        yield return new TemplateClone(databases, set);
        yield return new EvolveCycle(databases, set);
        foreach (var strategy in Enum.GetValues<IsolationStrategy>())
        {
            yield return new TestKitStrategy(databases.Server, strategy, set);
        }
    }
}
