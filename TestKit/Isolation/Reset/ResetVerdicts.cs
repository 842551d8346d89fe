namespace TestKit.Isolation.Reset;

/// <summary>The codes testkit_reset.reset() answers (ResetTracking.sql), each mapped to its <see cref="ResetVerdict"/>, and what each means in words.</summary>
internal static class ResetVerdicts
{
    private static readonly Dictionary<string, ResetVerdict> ByCode = new(StringComparer.Ordinal)
    {
        ["reset"] = ResetVerdict.Reset,
        ["reset-ended-all"] = ResetVerdict.ResetEndingEverySession,
        ["session-outlived"] = ResetVerdict.SessionOutlivedReset,
        ["prepared-transaction"] = ResetVerdict.PreparedTransaction,
        ["schema-changed"] = ResetVerdict.SchemaChanged,
        ["tracking-disabled"] = ResetVerdict.TrackingDisabled,
        ["settings-changed"] = ResetVerdict.SettingsChanged,
        ["database-altered"] = ResetVerdict.DatabaseAltered,
        ["large-objects"] = ResetVerdict.LargeObjectsChanged,
        ["new-table"] = ResetVerdict.NewTableWritten,
    };

    /// <summary>The verdict of <paramref name="code"/>; an unknown code is a mismatch of the kit with its own SQL.</summary>
    internal static ResetVerdict Parse(string? code) =>
        code is not null && ByCode.TryGetValue(code, out var verdict)
            ? verdict
            : throw new TestKitException($"The reset function answered '{code}', which this version of TestKit does not know; the database was replaced.");

    internal static bool IsHead(ResetVerdict verdict) => verdict is ResetVerdict.Reset or ResetVerdict.ResetEndingEverySession;

    /// <summary>Why a database was replaced, in words, for the test's output.</summary>
    internal static string Describe(ResetVerdict verdict, string? detail) => verdict switch
    {
        ResetVerdict.SessionOutlivedReset => "a session the test left did not end within 30 s",
        ResetVerdict.PreparedTransaction => "the test left a prepared transaction (PREPARE TRANSACTION)",
        ResetVerdict.SchemaChanged => $"the test changed the schema ({detail})",
        ResetVerdict.TrackingDisabled => "the change-tracking event triggers were disabled or dropped",
        ResetVerdict.SettingsChanged => "the test changed database-level settings (ALTER DATABASE/ROLE ... SET)",
        ResetVerdict.DatabaseAltered => "the test altered the database itself (ALTER DATABASE, COMMENT ON DATABASE, GRANT on it)",
        ResetVerdict.LargeObjectsChanged => "the test created or removed large objects",
        ResetVerdict.NewTableWritten => "the test wrote to a table that did not exist at head",
        ResetVerdict.KitSessionEnded => "the kit's own session in it was ended (by the test, or a server restart)",
        _ => "reset to head",
    };
}
