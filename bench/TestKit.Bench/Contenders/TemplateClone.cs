using TestKit.Bench.Measuring;
using TestKit.Bench.MigrationSets;

namespace TestKit.Bench.Contenders;

/// <summary>
/// A plain clone per test: CREATE DATABASE ... TEMPLATE a migrated database, then DROP ... WITH (FORCE). Without
/// <paramref name="workload"/>, the clone and the drop alone, with no session in between: what the server's own copy of the
/// schema costs, the floor of any strategy that gives each test a new database (the drop of a database whose sessions have
/// not quite ended waits 100 ms in the server).
/// </summary>
internal sealed class TemplateClone(ScratchDatabases databases, BenchMigrationSet set, bool workload = true) : IContender
{
    private string? _template;

    public string Name => workload ? ContenderNames.TemplateClone : ContenderNames.CloneAndDrop;

    public async Task PrepareAsync(CancellationToken cancellationToken) =>
        _template = await databases.CreateMigratedAsync([set.Folder], cancellationToken);

    public async Task<Sample> RunTestAsync(CancellationToken cancellationToken)
    {
        var timer = new CycleTimer();
        var clone = await databases.CreateAsync(_template, cancellationToken);
        timer.SetUpDone();
        if (workload)
        {
            await set.Workload.RunAsync(databases.ConnectionStringFor(clone), cancellationToken);
        }

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
