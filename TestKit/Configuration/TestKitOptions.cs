using LinqToDB;
using Microsoft.Extensions.Logging;
using Npgsql;

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
    /// The folder of the PostgreSQL server programs (<c>initdb</c>, <c>pg_ctl</c>, <c>postgres</c>) the embedded server runs
    /// (environment: <c>TESTKIT_POSTGRES_BIN</c>), to test on the major version the team runs (14 to 18). Unset: the first
    /// found on <c>PATH</c>, through <c>pg_config --bindir</c>, then in the usual install folders. Not used when a server is
    /// named (<see cref="ConnectionString"/>).
    /// </summary>
    public string? PostgresBinDirectory { get; init; }

    /// <summary>
    /// Keep the embedded server running for the next run, for this long after the last run that used it (environment:
    /// <c>TESTKIT_KEEP_SERVER</c>, in seconds), as <c>pg_tmp</c> does: an edit-run loop then skips the server's start and
    /// the template builds. One server per OS user, server programs and settings, shared safely by runs at the same time; it
    /// stops itself and removes its folder after the idle time, and one that does not answer is replaced. Never under CI
    /// (<c>CI</c> set); Linux only. Default: unset, a server of the run's own.
    /// </summary>
    public TimeSpan? KeepServer { get; init; }

    /// <summary>
    /// Folders of raw SQL migrations in Evolve/Flyway naming (environment: <c>TESTKIT_MIGRATIONS</c>,
    /// separated by the OS path-list separator). Relative paths are looked up from the test assembly's
    /// folder upwards. Default: the nearest folder named <c>migrations</c> above the test assembly.
    /// </summary>
    public IReadOnlyList<string>? MigrationFolders { get; init; }

    /// <summary>
    /// Folders of migration scripts embedded as resources in an assembly, each used like a folder on disk (fingerprint
    /// included), after <see cref="MigrationFolders"/>. When set and <see cref="MigrationFolders"/> is not, they are the
    /// only migrations: no folder on disk is looked for.
    /// </summary>
    public IReadOnlyList<EmbeddedMigrations>? EmbeddedMigrations { get; init; }

    /// <summary>
    /// Shapes the linq2db <see cref="DataOptions"/> of each test's connection (a mapping schema, interceptors,
    /// <c>UseTracing</c>): it gets options already set up for the test's database and returns the ones to use.
    /// </summary>
    public Func<DataOptions, DataOptions>? ConfigureDataOptions { get; init; }

    /// <summary>
    /// Shapes the <see cref="NpgsqlDataSourceBuilder"/> of each test's database (<c>MapEnum&lt;T&gt;()</c>, plugins, JSON
    /// options). The data source it builds is the test's <c>DataSource</c>, and its <c>Db</c> connects through it;
    /// TestKit clears its pool after the test as it clears the others. Each leased database has one data source, built
    /// once with this delegate; a class's options are read once per session, so one class has one delegate.
    /// </summary>
    public Action<NpgsqlDataSourceBuilder>? ConfigureDataSource { get; init; }

    /// <summary>How tests are isolated (environment: <c>TESTKIT_ISOLATION</c>). Default: <see cref="IsolationStrategy.MigrateErase"/>.</summary>
    public IsolationStrategy? Isolation { get; init; }

    /// <summary>
    /// The most databases one session holds on a server at once — the <c>DatabaseTest</c> classes of a test run share one
    /// session, and each <see cref="TestDatabases"/> is a session of its own — over every class's options, seeds and
    /// strategy and the template strategy's warm clones (the largest value any class sets applies); with them, it bounds
    /// the kit's connections (see the README's sizing). Tests beyond it wait; a database another class holds idle is given
    /// up for them. <see cref="ServerMaxDatabases"/> bounds every session on the server together. Default: twice the
    /// processor count, at least 4.
    /// </summary>
    public int? MaxDatabases { get; init; }

    /// <summary>
    /// The most kit databases on the server at once over every test process that shares it (environment:
    /// <c>TESTKIT_SERVER_MAX_DATABASES</c>), for a server several runs use at the same time: each database takes one of
    /// this many slots, held as an advisory lock for as long as the database exists. Unset: no bound across processes.
    /// </summary>
    public int? ServerMaxDatabases { get; init; }

    /// <summary>
    /// Keep the database of a failed test for inspection instead of cleaning it (environment:
    /// <c>TESTKIT_KEEP_FAILED=1</c>). It is renamed after the test, the test's output prints the <c>psql</c>
    /// command that opens it, and the session summary lists every kept database. Default: false.
    /// </summary>
    public bool? KeepFailedDatabases { get; init; }

    /// <summary>
    /// Lock a test's leftovers out of later tests (environment: <c>TESTKIT_ISOLATE_LEFTOVER_CLIENTS=1</c>): after each
    /// test, the connection string it was given reaches nothing any more, so a writer it left running (a task it never
    /// awaited) cannot write into the next test's database. <c>migrate-erase</c> renames the database at every release;
    /// <c>reset</c> gives each database a login role of its own and changes its password at every release; <c>template</c>
    /// always gives a new database. The price: every test gets a new connection string, so Npgsql opens a new pool and
    /// loads the database's types for each test, and keeps that pool's bookkeeping until the process ends (measured in
    /// the README). Default: false.
    /// </summary>
    public bool? IsolateLeftoverClients { get; init; }

    /// <summary>
    /// Verification mode (environment: <c>TESTKIT_VERIFY_HEAD=1</c>): after every test, the database the next test gets is
    /// compared with head by a full digest of its state — every object with its definition, owner, privileges and comment,
    /// every row, each sequence's value and whether it was used, large objects, the database's settings and comment, and
    /// what other sessions hold in it — under every strategy. A difference fails the test that left it and names what
    /// differs. It costs a read of the whole database per test: TestKit's own tests run with it. Default: false.
    /// </summary>
    public bool? VerifyHead { get; init; }

    /// <summary>
    /// The schemas Evolve manages and erases, in search-path order; the first holds Evolve's changelog.
    /// Default: the connection's default schema (<c>public</c>).
    /// </summary>
    public IReadOnlyList<string>? Schemas { get; init; }

    /// <summary>
    /// The schema of Evolve's changelog table (Evolve's <c>MetadataTableSchema</c>). Default: the first of
    /// <see cref="Schemas"/>, which is <c>public</c> unless set: a test that lists the application's tables there also
    /// sees <c>changelog</c>. Set it (say to <c>evolve</c>) to keep the application's schemas as production has them when
    /// production is migrated by another tool; Evolve creates that schema, and every strategy erases or resets it.
    /// </summary>
    public string? ChangelogSchema { get; init; }

    /// <summary>
    /// Values for placeholders in the scripts: an entry <c>["owner"] = "app"</c> replaces <c>${owner}</c>.
    /// Part of the fingerprint: changing a value builds a new template.
    /// </summary>
    public IReadOnlyDictionary<string, string>? Placeholders { get; init; }

    /// <summary>
    /// Where TestKit tells what concerns no single test: a leftover of a dead run it could not remove, and Evolve's own
    /// log (also shown in the message of a failed migration). Default: nowhere. A test's own events go to its output, and
    /// the run's to the session summary.
    /// </summary>
    public ILogger? Logger { get; init; }

    /// <summary>
    /// SQL files applied on top of head, in order, so that each test starts from "head + seed". Relative paths are
    /// looked up like <see cref="MigrationFolders"/>. Seeded states are cached like the template. Tests can add
    /// seed files with <c>[Seed]</c> (TestKit.TUnit).
    /// </summary>
    public IReadOnlyList<string>? SeedFiles { get; init; }
}
