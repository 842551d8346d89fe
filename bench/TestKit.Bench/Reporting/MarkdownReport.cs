using System.Globalization;
using System.Text;
using TestKit.Bench.Contenders;
using TestKit.Bench.Measuring;
using TestKit.Bench.MigrationSets;
using TestKit.Bench.Suite;

namespace TestKit.Bench.Reporting;

/// <summary>The bench's figures as markdown: printed as they are, and written to results.md beside the chart.</summary>
internal static class MarkdownReport
{
    internal const string OverheadChartFileName = "overhead.png";
    internal const string WholeTestChartFileName = "whole-test.png";

    private static readonly string Reset = ContenderNames.Of(IsolationStrategy.Reset);
    private static readonly string MigrateErase = ContenderNames.Of(IsolationStrategy.MigrateErase);

    internal static string Render(BenchHeader header, IReadOnlyList<BenchMigrationSet> sets, IReadOnlyList<ContenderResult> latency, IReadOnlyList<SuiteResult> suite)
    {
        var text = new StringBuilder();
        text.AppendLine("# TestKit bench").AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"PostgreSQL {header.ServerVersion}, {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC.");
        text.AppendLine(CultureInfo.InvariantCulture, $"Load average (1, 5, 15 min) at the start: {header.LoadAtStart}; at the end: {LoadAverage.Now()}. Other work on the machine widens the p90s.");
        if (latency.Count > 0)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"Each contender runs {header.WarmUp} warm-up tests, then {header.Iterations} timed tests, one at a time, on each migration set.");
            text.AppendLine("Per-test overhead is set-up plus tear-down around the workload: one INSERT of one row, committed.");
            AppendOverhead(text, sets, latency);
            AppendRatios(text, sets, latency, "overheads", result => result.Overhead.Median);
            AppendPhases(text, sets, latency);
            AppendCycle(text, sets, latency);
            AppendRatios(text, sets, latency, "whole tests", result => result.Cycle.Median);
        }

        if (suite.Count > 0)
        {
            AppendSuite(text, header, sets, suite);
        }

        AppendNotes(text, latency.Count > 0, suite.Count > 0);
        return text.ToString();
    }

    private static void AppendOverhead(StringBuilder text, IReadOnlyList<BenchMigrationSet> sets, IReadOnlyList<ContenderResult> latency)
    {
        text.AppendLine().AppendLine("## Per-test overhead: median / p90 (ms)").AppendLine();
        var rows = Contenders(latency).Select(name => Row(name, sets, latency, result =>
            $"{Format.Milliseconds(result.Overhead.Median)} / {Format.Milliseconds(result.Overhead.P90)}"));
        AppendTable(text, ["contender", .. sets.Select(set => set.Label)], rows);
    }

    private static void AppendRatios(StringBuilder text, IReadOnlyList<BenchMigrationSet> sets, IReadOnlyList<ContenderResult> latency, string what, Func<ContenderResult, double> median)
    {
        text.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"## Ratios of the median {what} (the issue's targets, set for the overhead, in brackets)").AppendLine();
        var rows = sets.Select(set => new[]
        {
            set.Label,
            Median(latency, set, Reset, median) is { } reset ? Format.Milliseconds(reset) : "-",
            RatioCell(latency, set, ContenderNames.TemplateClone, Reset, median),
            RatioCell(latency, set, ContenderNames.Respawn, Reset, median),
            RatioCell(latency, set, ContenderNames.EvolveCycle, Reset, median),
            RatioCell(latency, set, Reset, ContenderNames.Rollback, median),
            RatioCell(latency, set, MigrateErase, ContenderNames.EvolveCycle, median),
        });
        AppendTable(
            text,
            ["migration set", "reset (ms) [≤ 2 at 50]", "template clone ÷ reset [≥ 10]", "Respawn ÷ reset [≥ 10]", "Evolve cycle ÷ reset [≥ 150]", "reset ÷ BEGIN/ROLLBACK [≤ 3]", "migrate-erase ÷ Evolve cycle [≤ 1.1]"],
            rows);
    }

    private static void AppendPhases(StringBuilder text, IReadOnlyList<BenchMigrationSet> sets, IReadOnlyList<ContenderResult> latency)
    {
        text.AppendLine().AppendLine("## TestKit strategies: set-up / tear-down, medians (ms)").AppendLine();
        var strategies = Enum.GetValues<IsolationStrategy>().Select(ContenderNames.Of);
        var rows = strategies.Select(name => Row(name, sets, latency, result =>
            $"{Format.Milliseconds(Distribution.Of(result.Samples.Select(sample => sample.SetUp)).Median)} / " +
            $"{Format.Milliseconds(Distribution.Of(result.Samples.Select(sample => sample.TearDown)).Median)}"));
        AppendTable(text, ["strategy", .. sets.Select(set => set.Label)], rows);
    }

    private static void AppendCycle(StringBuilder text, IReadOnlyList<BenchMigrationSet> sets, IReadOnlyList<ContenderResult> latency)
    {
        text.AppendLine().AppendLine("## Whole test, workload included: median (ms), and the first (cold) test").AppendLine();
        var rows = Contenders(latency).Select(name => Row(name, sets, latency, result =>
            $"{Format.Milliseconds(result.Cycle.Median)} (first {Format.Milliseconds(result.First!.Value.Cycle)})"));
        AppendTable(text, ["contender", .. sets.Select(set => set.Label)], rows);
    }

    private static void AppendSuite(StringBuilder text, BenchHeader header, IReadOnlyList<BenchMigrationSet> sets, IReadOnlyList<SuiteResult> suite)
    {
        var sample = sets.Single(set => set.Name == "sample");
        text.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"## Suite: {header.SuiteTests:N0} tiny tests, {header.SuiteWorkers} at a time, {sample.Label} migrations (s)").AppendLine();
        text.AppendLine("Each strategy gets a broker and an embedded server of its own: the total runs from nothing to the server removed.").AppendLine();
        var rows = suite.Select(result => result.Failure is { } failure
            ? new[] { result.Strategy, Format.Failure(failure), "", "", "" }
            : [
                result.Strategy,
                Format.Seconds(result.ServerStart),
                Format.Seconds(result.Tests),
                Format.Seconds(result.Total),
                (header.SuiteTests / result.Tests).ToString("0", CultureInfo.InvariantCulture),
            ]);
        AppendTable(text, ["strategy", "server start", "tests", "total", "tests/s"], rows);
    }

    private static void AppendNotes(StringBuilder text, bool latency, bool suite)
    {
        text.AppendLine().AppendLine("## Notes").AppendLine();
        if (latency)
        {
            text.AppendLine("- Respawn empties every table but Evolve's changelog, so it also deletes the rows the migrations inserted (reference data): after its first reset the tests no longer see head. It is timed for comparison only.");
            text.AppendLine("- BEGIN/ROLLBACK is the floor: it cannot serve a test that commits or opens a second connection. Npgsql sends BEGIN with the first statement, so that round trip counts as workload.");
            text.AppendLine("- pooled SELECT 1 is one round trip on a pooled connection: no per-test hook can cost less.");
            text.AppendLine("- The whole-test table includes the workload's own connection: a contender that hands out a new database, or clears the test's pool, costs the test a new physical connection there (backend start, SCRAM authentication, and Npgsql loading the database's types).");
        }

        if (suite)
        {
            text.AppendLine("- The suite is a stand-in for a TUnit run: the same tiny test through the broker, without TUnit's own cost.");
        }

        text.AppendLine("- n/a: the contender threw; the cell holds its error.");
        text.AppendLine("- The harness is hand-written: what is timed is each test's set-up and tear-down against a live server, which BenchmarkDotNet's [IterationSetup] model does not time. It warms up, then reports medians and p90 of the timed tests; nothing is asserted.");
        if (latency)
        {
            text.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"![Per-test overhead against migration count]({OverheadChartFileName})");
            text.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"![Whole test against migration count]({WholeTestChartFileName})");
        }
    }

    /// <summary>Contender names in the order they ran.</summary>
    internal static IEnumerable<string> Contenders(IReadOnlyList<ContenderResult> latency) => latency.Select(result => result.Contender).Distinct();

    private static string[] Row(string name, IReadOnlyList<BenchMigrationSet> sets, IReadOnlyList<ContenderResult> latency, Func<ContenderResult, string> cell) =>
        [name, .. sets.Select(set => latency.FirstOrDefault(result => result.Set == set && result.Contender == name) switch
        {
            null => "-",
            { Failure: { } failure } => Format.Failure(failure),
            var result => cell(result),
        })];

    private static double? Median(IReadOnlyList<ContenderResult> latency, BenchMigrationSet set, string name, Func<ContenderResult, double> median) =>
        latency.FirstOrDefault(result => result.Set == set && result.Contender == name && result.Succeeded) is { } found ? median(found) : null;

    private static string RatioCell(IReadOnlyList<ContenderResult> latency, BenchMigrationSet set, string numerator, string denominator, Func<ContenderResult, double> median) =>
        (Median(latency, set, numerator, median), Median(latency, set, denominator, median)) is ({ } top, { } bottom and > 0) ? Format.Ratio(top / bottom) : "-";

    private static void AppendTable(StringBuilder text, string[] header, IEnumerable<string[]> rows)
    {
        text.AppendLine("| " + string.Join(" | ", header) + " |");
        text.AppendLine("| --- |" + string.Concat(Enumerable.Repeat(" ---: |", header.Length - 1)));
        foreach (var row in rows)
        {
            text.AppendLine("| " + string.Join(" | ", row) + " |");
        }
    }
}
