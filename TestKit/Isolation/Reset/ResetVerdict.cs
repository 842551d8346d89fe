using System.Globalization;

namespace TestKit.Isolation.Reset;

/// <summary>
/// What the reset of one database found, as testkit_reset.reset() (ResetTracking.sql) answers it by a code: head is back,
/// or why the kit cannot prove head (then the database is replaced), in words for the test's output.
/// </summary>
/// <param name="Code">The reset function's code.</param>
/// <param name="Reason">The words for the test's output; {0} is the function's detail (the first DDL command's tag).</param>
internal sealed record ResetVerdict(string Code, string Reason)
{
    /// <summary>Head is back; the test's idle pooled sessions were kept for the next test.</summary>
    internal static readonly ResetVerdict Reset = new("reset", "reset to head");

    /// <summary>Head is back; every session of the database was ended (so the test's pooled connections are broken).</summary>
    internal static readonly ResetVerdict ResetEndingEverySession = new("reset-ended-all", "reset to head, every session ended");

    /// <summary>The kit's own session in the database was ended, so the reset did not run: a verdict of the kit's, no code of the function's.</summary>
    internal static readonly ResetVerdict KitSessionEnded = new("-", "the kit's own session in it was ended (by the test, or a server restart)");

    private static readonly ResetVerdict[] Answers =
    [
        Reset,
        ResetEndingEverySession,
        new("session-outlived", "a session the test left did not end within 30 s"),
        new("prepared-transaction", "the test left a prepared transaction (PREPARE TRANSACTION)"),
        new("schema-changed", "the test changed the schema ({0})"),
        new("tracking-disabled", "the change-tracking event triggers were disabled or dropped"),
        new("settings-changed", "the test changed database-level settings (ALTER DATABASE/ROLE ... SET)"),
        new("database-altered", "the test altered the database itself (ALTER DATABASE, COMMENT ON DATABASE, GRANT on it)"),
        new("large-objects", "the test created or removed large objects"),
        new("new-table", "the test wrote to a table that did not exist at head"),
    ];

    /// <summary>Whether head is back: the database may go to the next test.</summary>
    internal bool IsHead => this == Reset || this == ResetEndingEverySession;

    /// <summary>The verdict of the function's <paramref name="code"/>; an unknown code is a mismatch of the kit with its own SQL.</summary>
    internal static ResetVerdict Parse(string? code) =>
        Array.Find(Answers, verdict => verdict.Code == code)
            ?? throw new TestKitException($"The reset function answered '{code}', which this version of TestKit does not know; the database was replaced.");

    /// <summary>Why the database was replaced, in words, with the function's <paramref name="detail"/>.</summary>
    internal string Describe(string? detail) => string.Format(CultureInfo.InvariantCulture, Reason, detail);
}
