namespace TestKit.Isolation;

/// <summary>What a release did, as the test's output says it ("database … <see cref="Description"/>"), and why, when it replaced the database.</summary>
internal sealed record ReleaseResult(string Description, string? Reason = null)
{
    /// <summary>migrate-erase: erased by Evolve (and the schemas the baseline lacks dropped), and checked against its baseline.</summary>
    internal static ReleaseResult Erased { get; } = new("was erased and checked against its baseline");

    /// <summary>reset: put back to exactly head (verification mode, which waits for it).</summary>
    internal static ReleaseResult Reset { get; } = new("was reset to head");

    /// <summary>reset: put back to exactly head in the background, or replaced; no test gets it before.</summary>
    internal static ReleaseResult ResetInBackground { get; } = new("goes back to head in the background (or is replaced)");

    /// <summary>template: the clone is dropped in the background; every test gets a new one.</summary>
    internal static ReleaseResult Dropped { get; } = new("is dropped in the background");

    internal static ReleaseResult Replaced(string reason) => new($"was dropped for a fresh copy: {reason}", reason);
}
