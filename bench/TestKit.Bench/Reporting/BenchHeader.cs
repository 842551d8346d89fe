namespace TestKit.Bench.Reporting;

/// <summary>What the figures were measured on and how, for the report's first lines.</summary>
/// <param name="ServerVersion">The server's own version string.</param>
/// <param name="WarmUp">Untimed tests per contender and migration set.</param>
/// <param name="Iterations">Timed tests per contender and migration set.</param>
/// <param name="BudgetSeconds">Seconds of timed tests per contender and migration set, at least five tests.</param>
/// <param name="SuiteTests">Tests in each suite run.</param>
/// <param name="SuiteWorkers">Tests at a time in a suite run.</param>
/// <param name="LoadAtStart">The machine's load average when the bench started.</param>
internal sealed record BenchHeader(string ServerVersion, int WarmUp, int Iterations, int BudgetSeconds, int SuiteTests, int SuiteWorkers, string LoadAtStart);
