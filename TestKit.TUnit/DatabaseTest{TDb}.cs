using System.ComponentModel;
using System.Diagnostics;
using LinqToDB;
using LinqToDB.Data;
using Npgsql;
using TestKit.Diagnostics;
using TestKit.Isolation;
using TUnit.Core;

namespace TestKit;

/// <summary>
/// The base class of a database test whose <see cref="Db"/> is the team's own linq2db connection class. Before each test,
/// TestKit leases a database migrated to head and creates <see cref="Db"/> on it (through <typeparamref name="TDb"/>'s
/// constructor that takes <c>DataOptions</c>, or <see cref="CreateDb"/>); after the test — passed, failed or thrown — it
/// closes every connection to it and brings it back to its baseline. Tests run in parallel; no two share a database.
/// </summary>
/// <typeparam name="TDb">The team's <see cref="DataConnection"/> class, such as <c>ShopDb(DataOptions options) : DataConnection(options)</c>.</typeparam>
/// <example>
/// <code>
/// public sealed class CustomerTests : DatabaseTest&lt;ShopDb&gt;
/// {
///     [Test]
///     public async Task Saves_a_customer()
///     {
///         await Db.Customers.InsertAsync(() => new Customer { Name = "Ann", Email = "ann@example.com", CountryCode = "DE" });
///         await Assert.That(await Db.Customers.CountAsync()).IsEqualTo(1);
///     }
/// }
/// </code>
/// </example>
public abstract class DatabaseTest<TDb>
    where TDb : DataConnection
{
    private TestDatabases? _databases;
    private DatabaseLease? _lease;
    private TDb? _db;
    private double? _setUpMilliseconds;

    /// <summary>The session TestKit shares across all tests; set by TUnit. Named after its type so that it takes no name a test class may want.</summary>
    [ClassDataSource<TestKitSession>(Shared = SharedType.PerTestSession)]
    [EditorBrowsable(EditorBrowsableState.Never)]
    public required TestKitSession TestKitSession { get; init; }

    /// <summary>This test's connection to its own database, migrated to head. Disposed by TestKit after the test.</summary>
    public TDb Db => _db ?? throw NotSetUp(nameof(Db));

    /// <summary>The connection string of this test's database, for a second connection or another library.</summary>
    public string ConnectionString => Lease.ConnectionString;

    /// <summary>The name of this test's database.</summary>
    public string DatabaseName => Lease.Name;

    /// <summary>
    /// An Npgsql data source on this test's database, shaped by <see cref="TestKitOptions.ConfigureDataSource"/>; when that is
    /// set, <see cref="Db"/> connects through it. TestKit clears its pool after the test.
    /// </summary>
    public NpgsqlDataSource DataSource => Lease.DataSource;

    /// <summary>linq2db options for this test's database (see <see cref="DatabaseLease.DataOptions"/>), for a connection of another class.</summary>
    public DataOptions DataOptions => Lease.DataOptions;

    /// <summary>
    /// Options for the tests of this class. Override once in a shared base class for a whole assembly,
    /// and again in a class that needs something else. Unset properties come from the environment.
    /// </summary>
    protected virtual TestKitOptions Options => TestKitOptions.Default;

    private DatabaseLease Lease => _lease ?? throw NotSetUp(nameof(Lease));

    /// <summary>TestKit's setup: leases a migrated database and creates <see cref="Db"/>. Runs before each test.</summary>
    /// <param name="context">The test's context, for output.</param>
    /// <param name="cancellationToken">Cancels the setup.</param>
    [Before(Test)]
    [EditorBrowsable(EditorBrowsableState.Never)]
    public async Task TestKitSetUpAsync(TestContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var watch = Stopwatch.StartNew();
        _databases = TestKitSession.For(context, () => Options);
        TestKitSession.NoteAsked();
        _lease = await _databases.LeaseAsync(cancellationToken).ConfigureAwait(false);
        TestKitSession.NoteHanded();
        _db = CreateDb(_lease);
        _setUpMilliseconds = watch.Elapsed.TotalMilliseconds;
        context.Output.WriteLine(
            $"TestKit: {_lease.Strategy} gave database {_lease.Name} at head in {_setUpMilliseconds:0.0} ms ({_lease.ServerDescription}).");
    }

    /// <summary>
    /// TestKit's teardown: closes <see cref="Db"/> and gives the database back, which ends every connection to it and
    /// brings it back to its baseline (under reset in the background, before any test gets it). Runs after each test, also when the test or the setup failed; every step runs even when an earlier one
    /// fails.
    /// </summary>
    /// <param name="context">The test's context, for output.</param>
    /// <param name="cancellationToken">Ignored for the cleanup itself, which must finish; see the remarks.</param>
    /// <remarks>A cancelled test must still leave a clean database, so teardown runs under its own deadline.</remarks>
    [After(Test)]
    [EditorBrowsable(EditorBrowsableState.Never)]
    public async Task TestKitTearDownAsync(TestContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var watch = Stopwatch.StartNew();
        var errors = new List<Exception>();
        using var deadline = new CancellationTokenSource(Server.Limits.Teardown);

        if (_db is { } db)
        {
            _db = null;
            await Errors.CollectAsync(errors, () => db.DisposeAsync().AsTask()).ConfigureAwait(false);
        }

        var failed = context.Execution.Result?.State is not null and not TestState.Passed;
        if (_lease is { } lease)
        {
            _lease = null;
            double? tearDownMilliseconds = null;
            // As the test got it: once given back, the database may be the next test's, under a login of its own.
            var ranOn = failed ? ConnectionStrings.Mask(new NpgsqlConnectionStringBuilder(lease.ConnectionString)) : null;
            await Errors.CollectAsync(errors, async () =>
            {
                if (failed && _databases?.Options.KeepFailedDatabases == true)
                {
                    var kept = await lease.KeepAsync(context.Metadata.TestDetails.TestName, deadline.Token).ConfigureAwait(false);
                    context.Output.WriteLine($"TestKit: kept the failed test's database as {kept.Name}; open it with: {kept.PsqlCommand}");
                }
                else
                {
                    var result = await lease.ReleaseAsync(deadline.Token).ConfigureAwait(false);
                    tearDownMilliseconds = watch.Elapsed.TotalMilliseconds;
                    context.Output.WriteLine($"TestKit: database {lease.Name} {result.Description} in {tearDownMilliseconds:0.0} ms.");
                }
            }).ConfigureAwait(false);

            if (ranOn is not null)
            {
                context.Output.WriteLine($"TestKit: the test ran on {ranOn}");
            }

            TestKitSession.Record(new TestRecord(lease.Strategy, _setUpMilliseconds, tearDownMilliseconds, failed || errors.Count > 0));
        }

        Errors.Rethrow(errors, "TestKit's teardown failed in more than one step.");
    }

    /// <summary>
    /// Creates this test's <see cref="Db"/> on its lease. By default through <typeparamref name="TDb"/>'s public
    /// constructor that takes <c>DataOptions</c> (the lease's <see cref="DatabaseLease.DataOptions"/>); override it for a
    /// class that is built otherwise.
    /// </summary>
    /// <param name="lease">This test's database.</param>
    protected virtual TDb CreateDb(DatabaseLease lease)
    {
        ArgumentNullException.ThrowIfNull(lease);
        return lease.CreateConnection<TDb>();
    }

    /// <summary>A second connection of the team's own class on this test's database; the caller disposes it.</summary>
    /// <typeparam name="TOther">A <see cref="DataConnection"/> class with a public constructor that takes <c>DataOptions</c>.</typeparam>
    protected TOther CreateConnection<TOther>()
        where TOther : DataConnection => Lease.CreateConnection<TOther>();

    private static TestKitException NotSetUp(string member) =>
        new($"{member} is available only while a test runs, after TestKit's setup; it is not available in a constructor or after the teardown.");

}
