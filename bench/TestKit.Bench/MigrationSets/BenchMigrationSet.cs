using TestKit.Bench.Measuring;

namespace TestKit.Bench.MigrationSets;

/// <summary>One migration folder under test, and the tiny workload each test runs on a database migrated from it.</summary>
/// <param name="Name">A short name for tables and the chart.</param>
/// <param name="Folder">The absolute folder of the scripts.</param>
/// <param name="ScriptCount">How many scripts Evolve applies (versioned and repeatable).</param>
/// <param name="Workload">What each test does.</param>
internal sealed record BenchMigrationSet(string Name, string Folder, int ScriptCount, Workload Workload)
{
    /// <summary>"sample (8)": the name and the script count, for tables and the chart.</summary>
    internal string Label => $"{Name} ({ScriptCount})";
}
