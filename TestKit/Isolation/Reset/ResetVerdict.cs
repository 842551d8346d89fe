namespace TestKit.Isolation.Reset;

/// <summary>What the reset of one database found: head is back, or why it cannot prove head (then the database is replaced).</summary>
internal enum ResetVerdict
{
    /// <summary>Head is back; the test's idle pooled sessions were kept for the next test.</summary>
    Reset,

    /// <summary>Head is back; every session of the database was ended (so the test's pooled connections are broken).</summary>
    ResetEndingEverySession,

    /// <summary>A session the test left did not end within 30 s.</summary>
    SessionOutlivedReset,

    /// <summary>The test left a prepared transaction (PREPARE TRANSACTION).</summary>
    PreparedTransaction,

    /// <summary>The test changed the schema (the detail names its first DDL command).</summary>
    SchemaChanged,

    /// <summary>The change-tracking event triggers were disabled or dropped.</summary>
    TrackingDisabled,

    /// <summary>The test changed database-level settings (ALTER DATABASE/ROLE ... SET).</summary>
    SettingsChanged,

    /// <summary>The test altered the database itself (ALTER DATABASE, COMMENT ON DATABASE, GRANT on it).</summary>
    DatabaseAltered,

    /// <summary>The test created or removed large objects.</summary>
    LargeObjectsChanged,

    /// <summary>The test wrote to a table that did not exist at head.</summary>
    NewTableWritten,

    /// <summary>The kit's own session in the database was ended (by the test, or a server restart).</summary>
    KitSessionEnded,
}
