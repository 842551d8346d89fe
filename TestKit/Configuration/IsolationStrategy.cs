namespace TestKit;

/// <summary>How each test gets a clean database migrated to head, and how it is taken back.</summary>
public enum IsolationStrategy
{
    /// <summary>
    /// The default: a database leased to one test at a time. After the test (on its path) Evolve erases it to its
    /// empty baseline and the kit checks the erase; then, in the background, Evolve migrates it to head again for the
    /// next test. A new database is migrated while its first test waits. Environment name: <c>migrate-erase</c>.
    /// </summary>
    MigrateErase,

    /// <summary>
    /// One database per test, cloned (CREATE DATABASE ... TEMPLATE) from a template database that was
    /// migrated once per fingerprint of the migration set and is reused across runs. After the test the clone is
    /// dropped in the background, and warm clones are made ahead in the background. Environment name: <c>template</c>.
    /// </summary>
    Template,

    /// <summary>
    /// The fastest: a clone of the template is reused. After each test (on its path) one function call puts back the
    /// rows the test changed; the sequences it moved are put back in the background. A test that changed the schema
    /// leaves a clone that is replaced by a fresh one. Environment name: <c>reset</c>.
    /// </summary>
    Reset,
}
