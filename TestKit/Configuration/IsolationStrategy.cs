namespace TestKit;

/// <summary>How each test gets a clean database migrated to head, and how it is taken back.</summary>
public enum IsolationStrategy
{
    /// <summary>
    /// The default: a database leased to one test at a time; Evolve migrates it to head before
    /// the test and erases it to its empty baseline after it, and the kit checks the erase.
    /// Environment name: <c>migrate-erase</c>.
    /// </summary>
    MigrateErase,

    /// <summary>
    /// One database per test, cloned (CREATE DATABASE ... TEMPLATE) from a template database that was
    /// migrated once per fingerprint of the migration set and is reused across runs; dropped after the test.
    /// A warm pool of clones is prepared in the background. Environment name: <c>template</c>.
    /// </summary>
    Template,

    /// <summary>
    /// The fastest: a migrated database is reused, and after each test only what the test changed is put
    /// back to head (rows, sequences); a test that changed the schema gets a fresh clone instead.
    /// Environment name: <c>reset</c>.
    /// </summary>
    Reset,
}
