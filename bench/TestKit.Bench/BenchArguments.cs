using System.Globalization;

namespace TestKit.Bench;

/// <summary>The command line: how many tests to time, and which parts of the bench to run.</summary>
internal sealed record BenchArguments(
    int Iterations,
    int WarmUp,
    int BudgetSeconds,
    bool RunsLatency,
    bool RunsSuite,
    int SuiteTests,
    int SuiteWorkers,
    IReadOnlyList<string> Sets,
    IReadOnlyList<string> Contenders,
    string OutputFolder)
{
    internal const string Usage = """
        usage: dotnet run --project bench/TestKit.Bench -c Release -- [--option value]...
          --iterations N     timed tests per contender and migration set (default 30)
          --warmup N         untimed tests before them, at least 1; the first is reported as the cold start (default 5)
          --budget S         seconds of timed tests per contender and set, at least 5 tests (default 30): the slow cycles on
                             large sets stop early, and the table says how many tests were timed
          --sets A,B         only the migration sets whose label starts with one of these (sample, erp, generated (50), ...)
          --contenders A,B   only the contenders whose name contains one of these (reset, template, Evolve, ...)
          --mode M           latency, suite or all (default all)
          --suite-tests N    tests in each strategy's suite run (default 1000)
          --suite-workers N  tests running at once in the suite run (default 4)
          --output DIR       where results.md and overhead.png go (default artifacts/bench)
        """;

    private static readonly string[] Options = ["iterations", "warmup", "budget", "sets", "contenders", "mode", "suite-tests", "suite-workers", "output"];
    private static readonly string[] Modes = ["latency", "suite", "all"];

    /// <summary>Reads <paramref name="args"/>; throws <see cref="FormatException"/> on anything it does not know.</summary>
    internal static BenchArguments Parse(IReadOnlyList<string> args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i += 2)
        {
            var option = args[i].StartsWith("--", StringComparison.Ordinal) ? args[i][2..] : null;
            if (option is null || !Options.Contains(option) || i + 1 >= args.Count)
            {
                throw new FormatException($"'{args[i]}' is not an option with a value.");
            }

            values[option] = args[i + 1];
        }

        var mode = Text("mode", "all");
        if (!Modes.Contains(mode))
        {
            throw new FormatException($"--mode is '{mode}'; use one of: {string.Join(", ", Modes)}.");
        }

        return new BenchArguments(
            Count("iterations", 30, minimum: 1),
            Count("warmup", 5, minimum: 1),
            Count("budget", 30, minimum: 1),
            mode is "latency" or "all",
            mode is "suite" or "all",
            Count("suite-tests", 1000, minimum: 1),
            Count("suite-workers", 4, minimum: 1),
            List("sets"),
            List("contenders"),
            Text("output", Path.Combine("artifacts", "bench")));

        string Text(string option, string fallback) => values.GetValueOrDefault(option, fallback);

        string[] List(string option) =>
            values.TryGetValue(option, out var text) ? text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [];

        int Count(string option, int fallback, int minimum) =>
            !values.TryGetValue(option, out var text) ? fallback
            : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number >= minimum ? number
            : throw new FormatException($"--{option} is '{text}'; give a whole number of at least {minimum}.");
    }
}
