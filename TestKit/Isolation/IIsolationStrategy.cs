namespace TestKit.Isolation;

/// <summary>Gives one test one clean database migrated to head, and takes it back so that nothing is left.</summary>
internal interface IIsolationStrategy : IAsyncDisposable
{
    /// <summary>The strategy's name as written in TESTKIT_ISOLATION.</summary>
    string Name { get; }

    /// <summary>A database at head that no other test uses until it is released.</summary>
    Task<PooledDatabase> AcquireAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Takes the database back and brings it to a clean state for the next test (or replaces it), or hands it to the
    /// background to do so before any test gets it again (reset, outside verification mode). Throws if it cannot prove the
    /// state clean in its own time; the database is then never handed out again.
    /// </summary>
    /// <returns>What was done, for the test's output.</returns>
    Task<ReleaseResult> ReleaseAsync(PooledDatabase database, CancellationToken cancellationToken);

    /// <summary>
    /// Takes the database of a failed test out of the strategy and keeps it for inspection under
    /// <paramref name="keptName"/> (or a close variant, returned); it is not cleaned or dropped.
    /// </summary>
    Task<string> KeepAsync(PooledDatabase database, string keptName, CancellationToken cancellationToken);
}
