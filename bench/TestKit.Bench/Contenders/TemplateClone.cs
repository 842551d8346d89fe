using TestKit.Bench.Measuring;
using TestKit.Bench.MigrationSets;

namespace TestKit.Bench.Contenders;

/// <summary>A plain clone per test: CREATE DATABASE ... TEMPLATE a migrated database, then DROP ... WITH (FORCE).</summary>
internal sealed class TemplateClone(ScratchDatabases databases, BenchMigrationSet set) : IContender
{
    private string? _template;

    public string Name => ContenderNames.TemplateClone;

    public async Task PrepareAsync(CancellationToken cancellationToken) =>
        _template = await databases.CreateMigratedAsync([set.Folder], cancellationToken);

    public async Task<Sample> RunTestAsync(CancellationToken cancellationToken)
    {
        var timer = new CycleTimer();
        var clone = await databases.CreateAsync(_template, cancellationToken);
        timer.SetUpDone();
        await set.Workload.RunAsync(databases.ConnectionStringFor(clone), cancellationToken);
        timer.WorkloadDone();
        await databases.DropAsync(clone, cancellationToken);
        return timer.TearDownDone();
    }

    public async ValueTask DisposeAsync()
    {
        if (_template is not null)
        {
            await databases.DropAsync(_template, CancellationToken.None);
        }
    }
}
