using System.ComponentModel;
using System.Diagnostics;
using LinqToDB;
using LinqToDB.Data;
using TestKit.Configuration;
using TestKit.Diagnostics;
using TestKit.Isolation;
using TestKit.Session;
using TUnit.Core;

namespace TestKit;

/// <summary>
/// The base class of a database test. Before each test, TestKit leases a database that Evolve has
/// migrated to head and opens <see cref="Db"/> on it; after the test — passed, failed or thrown — it
/// closes every connection to it, erases it back to its empty baseline and checks that nothing is left.
/// Tests run in parallel; no two of them ever share a database.
/// </summary>
/// <example>
/// <code>
/// public sealed class CustomerTests : DatabaseTest
/// {
///     [Test]
///     public async Task Saves_a_customer()
///     {
///         await Db.ExecuteAsync("INSERT INTO customers (name, email, country_code) VALUES ('Ann', 'ann@example.com', 'DE')");
///         await Assert.That(await Db.ExecuteAsync&lt;long&gt;("SELECT count(*) FROM customers")).IsEqualTo(1);
///     }
/// }
/// </code>
/// </example>
public abstract class DatabaseTest
{
    // Teardown must finish even when the test's own token was cancelled (a timeout): an unerased database is a leak.
    private static readonly TimeSpan TeardownDeadline = TimeSpan.FromMinutes(2);

    private Lease? _lease;
    private ResolvedOptions? _options;
    private DataConnection? _db;
    private double? _setUpMilliseconds;

    /// <summary>The session TestKit shares across all tests; set by TUnit.</summary>
    [ClassDataSource<TestKitSession>(Shared = SharedType.PerTestSession)]
    [EditorBrowsable(EditorBrowsableState.Never)]
    public required TestKitSession Session { get; init; }

    /// <summary>
    /// This test's linq2db connection to its own database, migrated to head. Disposed by TestKit after the test.
    /// </summary>
    public DataConnection Db => _db ?? throw NotSetUp(nameof(Db));

    /// <summary>The connection string of this test's database, for a second connection or another library.</summary>
    public string ConnectionString => _lease?.Database.ConnectionString ?? throw NotSetUp(nameof(ConnectionString));

    /// <summary>The name of this test's database.</summary>
    public string DatabaseName => _lease?.Database.Name ?? throw NotSetUp(nameof(DatabaseName));

    /// <summary>
    /// Options for the tests of this class. Override once in a shared base class for a whole assembly,
    /// and again in a class that needs something else. Unset properties come from the environment.
    /// </summary>
    protected virtual TestKitOptions Options => TestKitOptions.Default;

    /// <summary>TestKit's setup: leases a migrated database and opens <see cref="Db"/>. Runs before each test.</summary>
    /// <param name="context">The test's context, for output.</param>
    /// <param name="cancellationToken">Cancels the setup.</param>
    [Before(Test)]
    [EditorBrowsable(EditorBrowsableState.Never)]
    public async Task TestKitSetUpAsync(TestContext context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        var watch = Stopwatch.StartNew();
        _options = TestKitSession.Resolve(WithSeeds(Options, context));
        _lease = await Session.Broker.AcquireAsync(_options, cancellationToken).ConfigureAwait(false);
        _db = new DataConnection(new DataOptions().UsePostgreSQL(_lease.Database.ConnectionString));
        _setUpMilliseconds = watch.Elapsed.TotalMilliseconds;
        context.Output.WriteLine(
            $"TestKit: {_lease.Strategy} gave database {_lease.Database.Name} at head in {_setUpMilliseconds:0.0} ms ({_lease.Database.ServerDescription}).");
    }

    /// <summary>
    /// TestKit's teardown: closes <see cref="Db"/>, ends every connection to the database, erases it and
    /// checks the erase. Runs after each test, also when the test or the setup failed; every step runs
    /// even when an earlier one fails.
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
        using var deadline = new CancellationTokenSource(TeardownDeadline);

        if (_db is not null)
        {
            try
            {
                await _db.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                errors.Add(e);
            }

            _db = null;
        }

        var failed = context.Execution.Result?.State is not null and not TestState.Passed;
        double? tearDownMilliseconds = null;
        if (_lease is not null)
        {
            var lease = _lease;
            _lease = null;
            try
            {
                if (failed && _options?.KeepFailedDatabases == true)
                {
                    var kept = await lease.KeepAsync(context.Metadata.TestDetails.TestName, deadline.Token).ConfigureAwait(false);
                    context.Output.WriteLine($"TestKit: kept the failed test's database as {kept.Name}; open it with: {kept.PsqlCommand}");
                }
                else
                {
                    var result = await lease.ReleaseAsync(deadline.Token).ConfigureAwait(false);
                    tearDownMilliseconds = watch.Elapsed.TotalMilliseconds;
                    context.Output.WriteLine($"TestKit: database {lease.Database.Name} {Describe(result)} in {tearDownMilliseconds:0.0} ms.");
                }
            }
            catch (Exception e)
            {
                errors.Add(e);
            }

            if (failed)
            {
                context.Output.WriteLine($"TestKit: the test ran on {ConnectionStrings.Mask(lease.Database.ConnectionString)}");
            }

            Session.Record(new TestRecord(lease.Strategy, _setUpMilliseconds, tearDownMilliseconds, failed || errors.Count > 0));
        }

        Errors.Rethrow(errors, "TestKit's teardown failed in more than one step.");
    }

    /// <summary>The options with the seed files of the test's class and method (<see cref="SeedAttribute"/>) appended.</summary>
    private static TestKitOptions WithSeeds(TestKitOptions options, TestContext context)
    {
        var details = context.Metadata.TestDetails;
        var method = details.ClassType.GetMethods().FirstOrDefault(candidate => candidate.Name == details.MethodName);
        var attributes = details.ClassType.GetCustomAttributes(typeof(SeedAttribute), inherit: true)
            .Concat(method?.GetCustomAttributes(typeof(SeedAttribute), inherit: true) ?? [])
            .Cast<SeedAttribute>()
            .SelectMany(attribute => attribute.Files)
            .ToList();
        return attributes.Count == 0 ? options : options with { SeedFiles = [.. options.SeedFiles ?? [], .. attributes] };
    }

    private static TestKitException NotSetUp(string member) =>
        new($"{member} is available only while a test runs, after TestKit's setup; it is not available in a constructor or after the teardown.");

    /// <summary>What a release did, in words, for the test's output.</summary>
    private static string Describe(ReleaseResult result) => result.Outcome switch
    {
        ReleaseOutcome.Erased => "was erased and checked against its baseline",
        ReleaseOutcome.Reset => "was reset to head",
        ReleaseOutcome.Replaced => $"was dropped for a fresh copy: {result.Reason}",
        _ => "is dropped in the background",
    };
}
