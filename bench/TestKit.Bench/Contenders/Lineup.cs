using TestKit.Bench.Measuring;
using TestKit.Bench.MigrationSets;

namespace TestKit.Bench.Contenders;

/// <summary>
/// The contenders, in the order they run on each migration set: the floors first, then the peers,
/// then every TestKit strategy; only those whose name contains one of <c>names</c> when any is given. Each is created only
/// when its turn comes.
/// </summary>
internal static class Lineup
{
    internal static IEnumerable<IContender> For(BenchMigrationSet set, ScratchDatabases databases, KitStepRecorder steps, IReadOnlyList<string> names)
    {
        var all = new (string Name, Func<IContender> Create)[]
        {
            (ContenderNames.SelectOne, () => new PooledSelectOne(databases.Server)),
            (ContenderNames.Rollback, () => new RollbackFloor(databases, set)),
            (ContenderNames.Respawn, () => new RespawnReset(databases, set)),
            (ContenderNames.TemplateClone, () => new TemplateClone(databases, set)),
            (ContenderNames.CloneAndDrop, () => new TemplateClone(databases, set, workload: false)),
            (ContenderNames.EvolveCycle, () => new EvolveCycle(databases, set)),
        }.Concat(Enum.GetValues<IsolationStrategy>().Select(strategy => (ContenderNames.Of(strategy), (Func<IContender>)(() => new TestKitStrategy(databases.Server, strategy, set, steps)))))
            .Append((ContenderNames.ResetWaited, () => new TestKitStrategy(databases.Server, IsolationStrategy.Reset, set, steps, teardownWaitsForReset: true)))
            .Append((ContenderNames.TemplateBackToBack, () => new TestKitStrategy(databases.Server, IsolationStrategy.Template, set, steps, backToBack: true)));
        foreach (var (name, create) in all)
        {
            if (names.Count == 0 || names.Any(wanted => name.Contains(wanted, StringComparison.OrdinalIgnoreCase)))
            {
                yield return create();
            }
        }
    }
}
