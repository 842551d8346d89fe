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
}
