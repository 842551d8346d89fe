using Npgsql;

namespace TestKit.Tests;

/// <summary>
/// Tests that TUnit starts at once hold their databases at once, each its own: three tests of one class are set up
/// together, by hand, on a session of their own (so that the class's bound is theirs alone), and each sees only its own
/// database. Nothing in the kit may make one test's setup wait for another's teardown. Reset runs both in verification
/// mode and in the background.
/// </summary>
[Arguments(IsolationStrategy.MigrateErase, true)]
[Arguments(IsolationStrategy.Template, true)]
[Arguments(IsolationStrategy.Reset, true)]
[Arguments(IsolationStrategy.Reset, false)]
public sealed class ParallelSetupTests(IsolationStrategy kind, bool verifyHead) : FaultKitTest
{
    private const int Tests = 3;

    [Test]
    public async Task Tests_set_up_at_once_hold_databases_at_once_each_its_own(CancellationToken cancellationToken)
    {
        // The session's server, named by its connection string: a session of the test's own would start another embedded one.
        var server = (await ServerAsync()).ConnectionStringFor("postgres").ConnectionString;
        var options = new TestKitOptions
        {
            ConnectionString = server,
            Isolation = kind,
            MaxDatabases = Tests,
            VerifyHead = verifyHead ? null : false,
            MigrationFolders = [TempFolders.SampleMigrations],
        };
        var context = TestContext.Current!;
        var session = new TestKitSession();
        await using (session)
        {
            var tests = Enumerable.Range(0, Tests).Select(_ => new HookedTest(options) { TestKitSession = session }).ToArray();
            try
            {
                // Were the setups serialised until a teardown, this would wait for ever: the deadline makes that a failure.
                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                deadline.CancelAfter(TimeSpan.FromSeconds(60));
                await Task.WhenAll(tests.Select(test => test.TestKitSetUpAsync(context, deadline.Token)));

                await Assert.That(tests.Select(test => test.DatabaseName).Distinct().Count()).IsEqualTo(Tests);
                foreach (var test in tests)
                {
                    await using var connection = new NpgsqlConnection(test.ConnectionString);
                    await connection.OpenAsync(cancellationToken);
                    await using var current = new NpgsqlCommand("SELECT current_database()", connection);
                    await Assert.That(await current.ExecuteScalarAsync(cancellationToken)).IsEqualTo(test.DatabaseName);
                }
            }
            finally
            {
                foreach (var test in tests)
                {
                    await test.TestKitTearDownAsync(context, CancellationToken.None);
                }
            }
        }
    }
}
