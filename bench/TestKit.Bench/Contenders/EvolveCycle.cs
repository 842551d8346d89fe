using TestKit.Bench.Measuring;
using TestKit.Bench.MigrationSets;

namespace TestKit.Bench.Contenders;

/// <summary>The seed's approach with nothing added: Evolve Migrate before each test and Erase after it, on one database.</summary>
internal sealed class EvolveCycle(ScratchDatabases databases, BenchMigrationSet set) : IContender
{
    private string? _database;

    public string Name => ContenderNames.EvolveCycle;

    public async Task PrepareAsync(CancellationToken cancellationToken) =>
        _database = await databases.CreateAsync(template: null, cancellationToken);

    public async Task<Sample> RunTestAsync(CancellationToken cancellationToken)
    {
        var connectionString = databases.ConnectionStringFor(_database!);
        var timer = new CycleTimer();
        BareEvolve.Migrate(connectionString, [set.Folder]);
        timer.SetUpDone();
        await set.Workload.RunAsync(connectionString, cancellationToken);
        timer.WorkloadDone();
        BareEvolve.Erase(connectionString, [set.Folder]);
        return timer.TearDownDone();
    }

    public async ValueTask DisposeAsync()
    {
        if (_database is not null)
        {
            await databases.DropAsync(_database, CancellationToken.None);
        }
    }
}
