using TestKit.Bench.Measuring;
using TestKit.Bench.MigrationSets;
using TestKit.Configuration;
using TestKit.Isolation;
using TestKit.Session;

namespace TestKit.Bench.Contenders;

/// <summary>
/// A TestKit strategy, used as DatabaseTest uses it: a lease from the broker before the test, released
/// after. The broker keeps the strategy's databases until the end of the run, as in a test session.
/// </summary>
internal sealed class TestKitStrategy(SessionBroker broker, ResolvedOptions options, BenchMigrationSet set) : IContender
{
    public string Name => ContenderNames.Of(options.Isolation);

    public Task PrepareAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task<Sample> RunTestAsync(CancellationToken cancellationToken)
    {
        var timer = new CycleTimer();
        var lease = await broker.AcquireAsync(options, cancellationToken);
        timer.SetUpDone();
        try
        {
            await set.Workload.RunAsync(lease.Database.ConnectionString, cancellationToken);
            timer.WorkloadDone();
        }
        finally
        {
            // A failed workload still gives the database back, as DatabaseTest's [After(Test)] does.
            await lease.ReleaseAsync(cancellationToken);
        }

        return timer.TearDownDone();
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
