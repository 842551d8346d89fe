using TestKit.Bench.MigrationSets;

namespace TestKit.Bench.Measuring;

/// <summary>The timings of one contender on one migration set, or why it could not run.</summary>
internal sealed record ContenderResult(BenchMigrationSet Set, string Contender, Sample? First, IReadOnlyList<Sample> Samples, string? Failure)
{
    internal bool Succeeded => Failure is null;

    internal Distribution Overhead => Distribution.Of(Samples.Select(sample => sample.Overhead));

    internal Distribution Cycle => Distribution.Of(Samples.Select(sample => sample.Cycle));

    internal static ContenderResult Measured(BenchMigrationSet set, string contender, Sample first, IReadOnlyList<Sample> samples) =>
        new(set, contender, first, samples, null);

    /// <summary>The first line of the error: enough to tell "not implemented yet" from a real failure.</summary>
    internal static ContenderResult Failed(BenchMigrationSet set, string contender, Exception error) =>
        new(set, contender, null, [], FailureText.Of(error));
}
