using System.Diagnostics;
using TestKit.Bench.Contenders;
using TestKit.Bench.Measuring;
using TestKit.Bench.MigrationSets;

namespace TestKit.Bench.Suite;

/// <summary>
/// A stand-in for a test suite: <c>tests</c> tiny tests through TestDatabases of their own, <c>workers</c> at a
/// time, from starting the server to removing it, as one TUnit session would (without TUnit's own cost).
/// </summary>
internal sealed class SuiteRunner(BenchMigrationSet set, int tests, int workers)
{
    internal async Task<SuiteResult> RunAsync(IsolationStrategy strategy, CancellationToken cancellationToken)
    {
        var name = ContenderNames.Of(strategy);
        var start = Stopwatch.GetTimestamp();
        double serverStart = 0, testsDone = 0;
        try
        {
            // Started anew, so a new server: no pool, template or background work is inherited from another run. One
            // database per worker, as the default MaxDatabases gives on this machine.
            await using (var databases = await TestDatabases.StartAsync(
                new TestKitOptions { Isolation = strategy, MigrationFolders = [set.Folder], MaxDatabases = workers }, cancellationToken))
            {
                serverStart = Seconds(start);
                await RunTestsAsync(databases, cancellationToken);
                testsDone = Seconds(start);
            }

            return new SuiteResult(name, serverStart, testsDone - serverStart, Seconds(start), null);
        }
        catch (Exception error) when (!cancellationToken.IsCancellationRequested)
        {
            return new SuiteResult(name, serverStart, 0, Seconds(start), FailureText.Of(error));
        }
    }

    private async Task RunTestsAsync(TestDatabases databases, CancellationToken cancellationToken)
    {
        // The first failure stops every worker: a suite that fails has no wall time worth reporting.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var next = 0;
        await Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(WorkAsync, stop.Token)));

        async Task WorkAsync()
        {
            try
            {
                while (Interlocked.Increment(ref next) <= tests)
                {
                    var lease = await databases.LeaseAsync(stop.Token);
                    await using (lease)
                    {
                        await set.Workload.RunAsync(lease.ConnectionString, stop.Token);
                    }
                }
            }
            catch
            {
                await stop.CancelAsync();
                throw;
            }
        }
    }

    private static double Seconds(long start) => Stopwatch.GetElapsedTime(start).TotalSeconds;
}
