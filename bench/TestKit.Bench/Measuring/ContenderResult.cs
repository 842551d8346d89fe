using TestKit.Bench.MigrationSets;

namespace TestKit.Bench.Measuring;

/// <summary>
/// The timings of one contender on one migration set, and the kit's own account of its steps (the reset function's parts;
/// empty for the others), or why it could not run.
/// </summary>
internal sealed record ContenderResult(
    BenchMigrationSet Set,
    string Contender,
    Sample? First,
    IReadOnlyList<Sample> Samples,
    IReadOnlyDictionary<string, Distribution> KitSteps,
    string? Failure)
{
    internal bool Succeeded => Failure is null;

    internal Distribution Overhead => Distribution.Of(Samples.Select(sample => sample.Overhead));

    internal Distribution Cycle => Distribution.Of(Samples.Select(sample => sample.Cycle));

    internal static ContenderResult Measured(BenchMigrationSet set, string contender, Sample first, IReadOnlyList<Sample> samples, IReadOnlyDictionary<string, Distribution> kitSteps) =>
        new(set, contender, first, samples, kitSteps, null);

    /// <summary>The first line of the error: enough to tell "not implemented yet" from a real failure.</summary>
    internal static ContenderResult Failed(BenchMigrationSet set, string contender, Exception error) =>
        new(set, contender, null, [], new Dictionary<string, Distribution>(), FailureText.Of(error));
}
