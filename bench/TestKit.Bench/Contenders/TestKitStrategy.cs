using TestKit.Bench.Measuring;
using TestKit.Bench.MigrationSets;

namespace TestKit.Bench.Contenders;

/// <summary>
/// A TestKit strategy through the public API, as a test host uses it: <see cref="TestDatabases"/> started once (not
/// timed) on the bench's server, a lease before each test, disposed after it. After each test the bench waits, untimed,
/// until the kit's background work has settled (as a test body of its own would give it time; the report shows that work's
/// cost beside). Disposing the contender drops its databases. With <paramref name="teardownWaitsForReset"/> (reset only), the
/// teardown is timed until the background reset of its database is done: the old path, where the test waited for it. With
/// <paramref name="backToBack"/>, the bench does not wait between tests: the next one starts while that work still runs, as in a
/// suite, and waits for it where the kit makes it wait.
/// </summary>
internal sealed class TestKitStrategy(BenchServer server, IsolationStrategy strategy, BenchMigrationSet set, KitStepRecorder steps, bool teardownWaitsForReset = false, bool backToBack = false) : IContender
{
    private TestDatabases? _databases;

    public string Name => teardownWaitsForReset ? ContenderNames.ResetWaited
        : backToBack ? ContenderNames.BackToBack(strategy)
        : ContenderNames.Of(strategy);

    public async Task PrepareAsync(CancellationToken cancellationToken) =>
        _databases = await TestDatabases.StartAsync(
            new TestKitOptions { ConnectionString = server.ConnectionString, Isolation = strategy, MigrationFolders = [set.Folder] },
            cancellationToken);

    public async Task<Sample> RunTestAsync(CancellationToken cancellationToken)
    {
        var timer = new CycleTimer();
        var resets = steps.Resets;
        var lease = await _databases!.LeaseAsync(cancellationToken);
        timer.SetUpDone();
        try
        {
            await set.Workload.RunAsync(lease.DataSource, cancellationToken);
            timer.WorkloadDone();
        }
        finally
        {
            // A failed workload still gives the database back, as DatabaseTest's [After(Test)] does.
            await lease.DisposeAsync();
            if (teardownWaitsForReset)
            {
                await steps.WaitForResetAsync(resets, cancellationToken);
            }
        }

        var sample = timer.TearDownDone();
        if (!backToBack)
        {
            await steps.WaitUntilSettledAsync(cancellationToken);
        }

        return sample;
    }

    public async ValueTask DisposeAsync()
    {
        if (_databases is not null)
        {
            await _databases.DisposeAsync();
        }
    }
}
