using System.Collections.Concurrent;
using System.Diagnostics;
using Npgsql;

namespace TestKit.Tests;

/// <summary>
/// The kit's steps are activities of ActivitySource "TestKit", each the root of a trace of its own linked to the caller's
/// activity: the kit's SQL (Npgsql's activities) lands under those steps, never in the test's trace, while the test's own
/// SQL does.
/// </summary>
[NotInParallel(nameof(TracingTests))]
public sealed class TracingTests : KitTest
{
    private static readonly ActivitySource TestSource = new("TestKit.Tests.Tracing");

    [Test]
    public async Task The_kits_sql_stays_out_of_the_tests_trace_and_under_its_own_steps()
    {
        var stopped = new ConcurrentBag<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is "TestKit" or "Npgsql" || source == TestSource,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped.Add,
        };
        ActivitySource.AddActivityListener(listener);

        // A pool of its own (migrate-erase: the acquire migrates, so it runs SQL) on the session's server.
        var options = OptionsResolver.FromEnvironment(new TestKitOptions { Isolation = IsolationStrategy.MigrateErase, MaxDatabases = 1, Schemas = ["public"] });
        await using var databases = new TestDatabases(Session.Broker, options, ownsBroker: false);
        await Session.Broker.StartAsync(options, CancellationToken.None);

        ActivityContext test;
        using (var activity = TestSource.StartActivity("a test"))
        {
            test = activity!.Context;
            await using var lease = await databases.LeaseAsync();
            await using var connection = new NpgsqlConnection(lease.ConnectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT 'the test''s own query'", connection);
            await command.ExecuteScalarAsync();
        }

        var all = stopped.ToArray();
        var steps = all.Where(activity => activity.Source.Name == "TestKit" && activity.Links.Any(link => link.Context.SpanId == test.SpanId)).ToList();
        await Assert.That(steps.Select(step => step.OperationName)).Contains("testkit.acquire").And.Contains("testkit.release");
        await Assert.That(steps.All(step => step.TraceId != test.TraceId && step.Parent is null)).IsTrue()
            .Because("each step the test asks for is the root of a trace of its own, linked to the test");

        var stepTraces = steps.Select(step => step.TraceId).ToHashSet();
        var kitSql = all.Where(activity => activity.Source.Name == "Npgsql" && stepTraces.Contains(activity.TraceId)).ToList();
        await Assert.That(kitSql).IsNotEmpty().Because("the migration's SQL is traced under the acquire");
        await Assert.That(all.Where(activity => activity.Source.Name == "TestKit" && stepTraces.Contains(activity.TraceId)).Select(activity => activity.OperationName))
            .Contains("testkit.migrate").And.Contains("testkit.erase");

        // The test's trace holds its own SQL, and what it did on its connection (opening it), nothing else.
        var inTestTrace = all.Where(activity => activity.TraceId == test.TraceId && activity.Source.Name == "Npgsql").ToList();
        var own = inTestTrace.Where(activity => Tag(activity, "db.query.text") == "SELECT 'the test''s own query'").ToList();
        await Assert.That(own).HasSingleItem().Because("the test's own SQL is in its trace");
        var testConnection = Tag(own[0], "db.npgsql.connection_id");
        await Assert.That(inTestTrace.Where(activity => Tag(activity, "db.npgsql.connection_id") != testConnection).Select(Describe)).IsEmpty()
            .Because("none of the kit's SQL is");
    }

    private static string? Tag(Activity activity, string name) => activity.GetTagItem(name)?.ToString();

    private static string Describe(Activity activity) => $"{activity.DisplayName}: {Tag(activity, "db.query.text")}";
}
