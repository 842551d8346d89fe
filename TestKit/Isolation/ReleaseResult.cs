namespace TestKit.Isolation;

/// <summary>How a strategy took a database back after a test.</summary>
internal enum ReleaseOutcome
{
    /// <summary>migrate-erase: erased by Evolve (and the schemas the baseline lacks dropped), and checked against its baseline.</summary>
    Erased,

    /// <summary>reset: put back to exactly head (verification mode, which waits for it).</summary>
    Reset,

    /// <summary>reset: put back to exactly head in the background, or replaced; no test gets it before.</summary>
    ResetInBackground,

    /// <summary>The database could not be proven at head and was dropped; the next test gets a fresh one (see the reason).</summary>
    Replaced,

    /// <summary>template: the clone is dropped in the background; every test gets a new one.</summary>
    Dropped,
}

/// <summary>What a release did, and why, when it replaced the database.</summary>
internal sealed record ReleaseResult(ReleaseOutcome Outcome, string? Reason = null)
{
    internal static ReleaseResult Erased { get; } = new(ReleaseOutcome.Erased);

    internal static ReleaseResult Reset { get; } = new(ReleaseOutcome.Reset);

    internal static ReleaseResult ResetInBackground { get; } = new(ReleaseOutcome.ResetInBackground);

    internal static ReleaseResult Dropped { get; } = new(ReleaseOutcome.Dropped);

    internal static ReleaseResult Replaced(string reason) => new(ReleaseOutcome.Replaced, reason);
}
