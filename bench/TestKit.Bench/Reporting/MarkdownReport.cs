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
    private static readonly string Template = ContenderNames.Of(IsolationStrategy.Template);

    internal static string Render(BenchHeader header, IReadOnlyList<BenchMigrationSet> sets, IReadOnlyList<ContenderResult> latency, IReadOnlyList<SuiteResult> suite)
    {
        var text = new StringBuilder();
        text.AppendLine("# TestKit bench").AppendLine();
        text.AppendLine(CultureInfo.InvariantCulture, $"PostgreSQL {header.ServerVersion}, {Environment.ProcessorCount} cores, .NET {Environment.Version}, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC.");
        text.AppendLine(CultureInfo.InvariantCulture, $"Load average (1, 5, 15 min) at the start: {header.LoadAtStart}; at the end: {LoadAverage.Now()}. Other work on the machine widens the p90s.");
        if (latency.Count > 0)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"Each contender runs {header.WarmUp} warm-up tests, then {header.Iterations} timed tests or as many as fit in {header.BudgetSeconds} s (at least {LatencyRunner.MinimumTimed}), one at a time, on each migration set.");
            text.AppendLine("Per-test overhead is set-up plus tear-down around the workload: two INSERTs of one row, each committed through a connection of its own, both open at once.");
            AppendTargets(text, sets, latency);
            AppendOverhead(text, header, sets, latency);
            AppendRatios(text, sets, latency, "overheads", result => result.Overhead.Median);
            AppendPhases(text, sets, latency);
            AppendResetSteps(text, sets, latency);
            AppendBackground(text, sets, latency);
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

    private static void AppendOverhead(StringBuilder text, BenchHeader header, IReadOnlyList<BenchMigrationSet> sets, IReadOnlyList<ContenderResult> latency)
    {
        text.AppendLine().AppendLine("## Per-test overhead: median / p90 (ms)").AppendLine();
        var rows = Contenders(latency).Select(name => Row(name, sets, latency, result =>
            $"{Format.Milliseconds(result.Overhead.Median)} / {Format.Milliseconds(result.Overhead.P90)}" + (result.Samples.Count < header.Iterations ? $" (n={result.Samples.Count})" : "")));
        AppendTable(text, ["contender", .. sets.Select(set => set.Label)], rows);
    }

    private static void AppendRatios(StringBuilder text, IReadOnlyList<BenchMigrationSet> sets, IReadOnlyList<ContenderResult> latency, string what, Func<ContenderResult, double> median)
    {
        text.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"## Ratios of the median {what}").AppendLine();
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
            ["migration set", "reset (ms)", "template clone ÷ reset", "Respawn ÷ reset", "Evolve cycle ÷ reset", "reset ÷ BEGIN/ROLLBACK", "migrate-erase ÷ Evolve cycle"],
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

    /// <summary>The speed targets, each with its figure from this run and whether it is met.</summary>
    private static void AppendTargets(StringBuilder text, IReadOnlyList<BenchMigrationSet> sets, IReadOnlyList<ContenderResult> latency)
    {
        text.AppendLine().AppendLine("## Targets (medians)").AppendLine();
        var rows = new List<string[]>();
        foreach (var set in sets)
        {
            rows.Add(Target($"reset visible overhead, {set.Label}", Median(latency, set, Reset, OverheadOf), null, 0.5, " ms"));
            rows.Add(Target($"  old path (teardown waits for the reset), {set.Label}", Median(latency, set, ContenderNames.ResetWaited, OverheadOf), null, 0.5, " ms"));
            rows.Add(Target($"reset whole test ÷ BEGIN/ROLLBACK whole test, {set.Label}", Median(latency, set, Reset, CycleOf), Median(latency, set, ContenderNames.Rollback, CycleOf), 2.0, "x"));
            rows.Add(Target($"  old path (teardown waits for the reset), {set.Label}", Median(latency, set, ContenderNames.ResetWaited, CycleOf), Median(latency, set, ContenderNames.Rollback, CycleOf), 2.0, "x"));
            rows.Add(Target($"template whole test, {set.Label}", Median(latency, set, Template, CycleOf), null, 5.0, " ms"));
            rows.Add(Target($"template back to back, whole test ÷ the server's clone + drop alone, {set.Label}", Median(latency, set, ContenderNames.TemplateBackToBack, CycleOf), Median(latency, set, ContenderNames.CloneAndDrop, CycleOf), 1.5, "x"));
            rows.Add(Target($"migrate-erase overhead ÷ bare Evolve cycle, {set.Label}", Median(latency, set, MigrateErase, OverheadOf), Median(latency, set, ContenderNames.EvolveCycle, OverheadOf), 1.0, "x"));
        }

        var generated = sets.Where(set => set.Name == "generated").OrderBy(set => set.ScriptCount).ToList();
        if (generated.Count > 1)
        {
            rows.Add(Target(
                $"reset overhead growth, {generated[^1].Label} ÷ {generated[0].Label}",
                Median(latency, generated[^1], Reset, OverheadOf),
                Median(latency, generated[0], Reset, OverheadOf),
                1.5,
                "x"));
        }

        AppendTable(text, ["target", "measured", "limit", "met"], rows.Where(row => row.Length > 0));

        static string[] Target(string what, double? value, double? divisor, double limit, string unit)
        {
            // A ratio needs both figures: one contender that could not run leaves the row out.
            var ratio = unit == "x";
            if (value is not { } top || (ratio && divisor is not > 0))
            {
                return [];
            }

            var measured = ratio ? top / divisor!.Value : top;
            var figure = unit == "x" ? Format.Ratio(measured) : Format.Milliseconds(measured) + unit;
            return [what, figure, "≤ " + limit.ToString("0.0", CultureInfo.InvariantCulture) + unit, measured <= limit ? "yes" : "no"];
        }
    }

    /// <summary>The reset function's parts as the server timed them, and the background sequence step, medians.</summary>
    private static void AppendResetSteps(StringBuilder text, IReadOnlyList<BenchMigrationSet> sets, IReadOnlyList<ContenderResult> latency)
    {
        var results = sets.Select(set => latency.FirstOrDefault(result => result.Set == set && result.Contender == Reset && result.KitSteps.Count > 0)).OfType<ContenderResult>().ToList();
        if (results.Count == 0)
        {
            return;
        }

        text.AppendLine().AppendLine("## Where reset's time goes: the reset function's parts as the server timed them, medians (ms)").AppendLine();
        text.AppendLine("sessions: the test's sessions ended or waited for; checks: what a reset cannot put back (new tables, roles, large objects, ...); tables: the dirty tables put back (count in brackets); sequences are put back in the same background step; the whole step, client side, is the last column.").AppendLine();
        string Step(ContenderResult result, string name) => result.KitSteps.TryGetValue(name, out var found) ? Format.Milliseconds(found.Median) : "-";
        var rows = results.Select(result => new[]
        {
            result.Set.Label,
            Step(result, "sessions"),
            Step(result, "checks"),
            Step(result, "tables") + (result.KitSteps.TryGetValue("dirty", out var dirty) ? $" ({dirty.Median:0})" : ""),
            Step(result, "database reset"),
        });
        AppendTable(text, ["migration set", "sessions", "checks", "tables (dirty)", "whole background reset, client side"], rows);
    }

    /// <summary>What the kit does in the background per test (between tests in the bench, while the next test runs in a suite), medians.</summary>
    private static void AppendBackground(StringBuilder text, IReadOnlyList<BenchMigrationSet> sets, IReadOnlyList<ContenderResult> latency)
    {
        var strategies = Enum.GetValues<IsolationStrategy>().Select(ContenderNames.Of).ToList();
        var rows = new List<string[]>();
        foreach (var name in strategies)
        {
            foreach (var step in KitStepRecorder.BackgroundSteps)
            {
                var cells = sets.Select(set => latency.FirstOrDefault(result => result.Set == set && result.Contender == name) is { } result && result.KitSteps.TryGetValue(step, out var found)
                    ? Format.Milliseconds(found.Median)
                    : "-").ToList();
                if (cells.Any(cell => cell != "-"))
                {
                    rows.Add([name, step, .. cells]);
                }
            }
        }

        if (rows.Count == 0)
        {
            return;
        }

        text.AppendLine().AppendLine("## The kit's background work per test, medians (ms)").AppendLine();
        text.AppendLine("Not in the tests' times above: the bench waits between tests until it has settled, as a test body would give it time. It bounds how fast tests can follow one another.").AppendLine();
        AppendTable(text, ["strategy", "step", .. sets.Select(set => set.Label)], rows);
    }

    private static double OverheadOf(ContenderResult result) => result.Overhead.Median;

    private static double CycleOf(ContenderResult result) => result.Cycle.Median;

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
            text.AppendLine("- The peers migrate with bare Evolve, which cannot apply the history set (a BEGIN ATOMIC body that Npgsql splits at its semicolons, npgsql/npgsql#4445; TestKit sends such scripts unsplit): they are n/a there.");
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
            text.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"![Per-test overhead as the schema grows]({OverheadChartFileName})");
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
