using System.Diagnostics;
using TestKit;
using TestKit.Bench;
using TestKit.Bench.Contenders;
using TestKit.Bench.Measuring;
using TestKit.Bench.MigrationSets;
using TestKit.Bench.Reporting;
using TestKit.Bench.Suite;

// make bench: TestKit's strategies side by side with the peers, per migration set, then a suite run per strategy.
BenchArguments arguments;
try
{
    arguments = BenchArguments.Parse(args);
}
catch (FormatException error)
{
    await Console.Error.WriteLineAsync(error.Message + Environment.NewLine + BenchArguments.Usage);
    return 2;
}

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // Stop at the next await and clean up (databases, the embedded server) instead of dying on the spot.
    e.Cancel = true;
    cancel.Cancel();
};

var started = Stopwatch.GetTimestamp();
var loadAtStart = LoadAverage.Now();
using var sets = BenchMigrationSets.Create();
var latency = new List<ContenderResult>();
string serverVersion;
// The server a test project would get: TESTKIT_CONNECTION_STRING or PG* when set, else the embedded one.
await using (var server = await BenchServer.StartAsync(sets.Sample.Folder, cancel.Token))
{
    serverVersion = server.Version;
    await Console.Error.WriteLineAsync($"{server.Description}: PostgreSQL {serverVersion}");
    if (arguments.RunsLatency)
    {
        await using var databases = new ScratchDatabases(server);
        using var steps = new KitStepRecorder();
        var runner = new LatencyRunner(server, arguments.WarmUp, arguments.Iterations, TimeSpan.FromSeconds(arguments.BudgetSeconds), steps);
        foreach (var set in sets.Selected(arguments.Sets))
        {
            foreach (var contender in Lineup.For(set, databases, steps, arguments.Contenders))
            {
                var result = await runner.MeasureAsync(set, contender, cancel.Token);
                latency.Add(result);
                await Console.Error.WriteLineAsync($"{set.Label,-16} {result.Contender,-24} {Progress(result)}");
            }
        }
    }
}

var suite = new List<SuiteResult>();
if (arguments.RunsSuite)
{
    var runner = new SuiteRunner(sets.Sample, arguments.SuiteTests, arguments.SuiteWorkers);
    foreach (var strategy in Enum.GetValues<IsolationStrategy>())
    {
        var result = await runner.RunAsync(strategy, cancel.Token);
        suite.Add(result);
        await Console.Error.WriteLineAsync($"suite {result.Strategy,-24} {(result.Failure is { } failure ? Format.Failure(failure) : Format.Seconds(result.Total) + " s")}");
    }
}

var header = new BenchHeader(serverVersion, arguments.WarmUp, arguments.Iterations, arguments.BudgetSeconds, arguments.SuiteTests, arguments.SuiteWorkers, loadAtStart);
var measuredSets = sets.Selected(arguments.Sets);
var markdown = MarkdownReport.Render(header, measuredSets, latency, suite);
Console.WriteLine(markdown);
Directory.CreateDirectory(arguments.OutputFolder);
await File.WriteAllTextAsync(Path.Combine(arguments.OutputFolder, "results.md"), markdown, cancel.Token);
if (latency.Count > 0)
{
    MedianChart.Save(
        Path.Combine(arguments.OutputFolder, MarkdownReport.OverheadChartFileName),
        "TestKit bench: per-test overhead (set-up + tear-down)",
        measuredSets,
        latency,
        result => result.Overhead.Median);
    MedianChart.Save(
        Path.Combine(arguments.OutputFolder, MarkdownReport.WholeTestChartFileName),
        "TestKit bench: whole test (set-up + workload with its connection + tear-down)",
        measuredSets,
        latency,
        result => result.Cycle.Median);
}

Console.WriteLine($"Wrote {Path.GetFullPath(arguments.OutputFolder)}; the bench ran {Stopwatch.GetElapsedTime(started).TotalMinutes:0.0} minutes.");
return 0;

static string Progress(ContenderResult result) =>
    result.Failure is { } failure
        ? Format.Failure(failure)
        : $"overhead {Format.Milliseconds(result.Overhead.Median)} ms (p90 {Format.Milliseconds(result.Overhead.P90)})";
