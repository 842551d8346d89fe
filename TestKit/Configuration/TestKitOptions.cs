namespace TestKit;

/// <summary>
/// What a test assembly or class tells TestKit in code. Every property is optional: a property left
/// <see langword="null"/> falls back to the environment (<c>TESTKIT_*</c>, then libpq's <c>PG*</c>
/// variables), then to the default. Instances are immutable; derive a variant with <c>with</c>.
/// </summary>
/// <example>
/// <code>
/// public abstract class ShopTest : DatabaseTest
/// {
///     protected override TestKitOptions Options { get; } = new() { MigrationFolders = ["db/migrations"] };
/// }
/// </code>
/// </example>
public sealed record TestKitOptions
{
    /// <summary>Options that set nothing: everything comes from the environment or the defaults.</summary>
    public static TestKitOptions Default { get; } = new();

    /// <summary>
    /// An Npgsql connection string naming the server to use (environment: <c>TESTKIT_CONNECTION_STRING</c>).
    /// Its database is used only to connect: TestKit creates, migrates and drops databases of its own and
    /// never migrates or erases the one named here. Unset everywhere: an embedded PostgreSQL is started.
    /// </summary>
    public string? ConnectionString { get; init; }

    /// <summary>
    /// Folders of raw SQL migrations in Evolve/Flyway naming (environment: <c>TESTKIT_MIGRATIONS</c>,
    /// separated by the OS path-list separator). Relative paths are looked up from the test assembly's
    /// folder upwards. Default: the nearest folder named <c>migrations</c> above the test assembly.
    /// </summary>
    public IReadOnlyList<string>? MigrationFolders { get; init; }

    /// <summary>How tests are isolated (environment: <c>TESTKIT_ISOLATION</c>). Default: <see cref="IsolationStrategy.MigrateErase"/>.</summary>
    public IsolationStrategy? Isolation { get; init; }

    /// <summary>
    /// The most test databases (and so the most concurrent test connections of the kit) per migration
    /// set. Tests beyond it wait for a database to come free. Default: twice the processor count, at least 4.
    /// </summary>
    public int? MaxDatabases { get; init; }
}
