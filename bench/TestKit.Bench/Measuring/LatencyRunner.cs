using System.Diagnostics;
using TestKit.Bench.Contenders;
using TestKit.Bench.MigrationSets;

namespace TestKit.Bench.Measuring;

/// <summary>
/// Times one contender on one migration set, one test at a time: its preparation (untimed), warm-up
/// tests (the first reported as the cold start), then the timed tests, as many as asked or as fit in the time budget
/// (at least <see cref="MinimumTimed"/>). The kit's own account of its steps is recorded beside them. A contender that
/// throws is reported with its error, and the bench goes on with the next one.
/// </summary>
internal sealed class LatencyRunner(BenchServer server, int warmUp, int iterations, TimeSpan budget, KitStepRecorder steps)
{
    internal const int MinimumTimed = 5;

    internal async Task<ContenderResult> MeasureAsync(BenchMigrationSet set, IContender contender, CancellationToken cancellationToken)
    {
        await using (contender)
        {
            if (!await ServerIdle.WaitAsync(server.Admin, cancellationToken))
            {
                await Console.Error.WriteLineAsync($"  (the server was still busy when {contender.Name} started)");
            }

            // Garbage of the previous contender is collected now rather than during this one's timings.
            GC.Collect();
            GC.WaitForPendingFinalizers();
            try
            {
                await contender.PrepareAsync(cancellationToken);
                var first = await contender.RunTestAsync(cancellationToken);
                for (var i = 1; i < warmUp; i++)
                {
                    await contender.RunTestAsync(cancellationToken);
                }

                var samples = new List<Sample>(iterations);
                var started = Stopwatch.GetTimestamp();
                IReadOnlyDictionary<string, Distribution> kitSteps;
                steps.Start();
                try
                {
                    while (samples.Count < iterations && (samples.Count < MinimumTimed || Stopwatch.GetElapsedTime(started) < budget))
                    {
                        samples.Add(await contender.RunTestAsync(cancellationToken));
                    }
                }
                finally
                {
                    kitSteps = steps.Stop();
                }

                return ContenderResult.Measured(set, contender.Name, first, samples, kitSteps);
            }
            catch (Exception error) when (!cancellationToken.IsCancellationRequested)
            {
                return ContenderResult.Failed(set, contender.Name, error);
            }
        }
    }
}
