
namespace TestKit.Tests;

public sealed class SessionSummaryTests
{
    [Test]
    public async Task The_summary_counts_tests_and_gives_median_and_p95_per_strategy()
    {
        var tests = Enumerable.Range(1, 20).Select(i => new TestRecord("reset", i, 2 * i, Failed: i == 20)).ToList();

        var text = SessionSummary.Format(tests, [new ServerReport("embedded PostgreSQL 15", 4, 4, 12, [], [])], []);

        await Assert.That(text).Contains("20 tests, 1 failed");
        await Assert.That(text).Contains("reset: 20 tests; set-up median 10.0 ms, p95 19.0 ms; tear-down median 20.0 ms, p95 38.0 ms");
        await Assert.That(text).Contains("databases created 4, dropped 4, kept 0");
    }

    [Test]
    public async Task The_summary_lists_the_roles_left_on_an_external_server_and_says_why_they_stay()
    {
        var text = SessionSummary.Format([], [new ServerReport("external PostgreSQL 15 at db:5432", 2, 2, 12, ["app_reader", "app_writer"], [])], []);

        await Assert.That(text).Contains("are left on external PostgreSQL 15 at db:5432").And.Contains("roles belong to the whole server").And.Contains("app_reader, app_writer");
    }

    [Test]
    public async Task The_first_lease_is_timed_from_the_process_start_and_from_the_first_request()
    {
        await using var session = new TestKitSession();
        await Assert.That(session.FirstLease(serverStartMilliseconds: 12)).IsNull().Because("no test has had a database yet");

        session.NoteAsked();
        // Measured, not assumed: a timer may fire a millisecond or two before the delay it was given.
        var waiting = System.Diagnostics.Stopwatch.StartNew();
        await Task.Delay(20);
        var waited = (int)Math.Floor(waiting.Elapsed.TotalMilliseconds);
        session.NoteHanded();
        session.NoteAsked();
        session.NoteHanded();
        var line = session.FirstLease(serverStartMilliseconds: 12)!;

        await Assert.That(line).Contains("first test: asked for its database").And.Contains("ms after the process started").And.EndsWith("(server start 12 ms)");
        var took = int.Parse(System.Text.RegularExpressions.Regex.Match(line, "had it ([0-9]+) ms later").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
        await Assert.That(took).IsGreaterThanOrEqualTo(waited).Because("only the first request and the first hand-out count");
        await Assert.That(SessionSummary.Format([], [], [], line)).Contains(line);
    }

    [Test]
    public async Task Roles_left_on_a_server_are_a_warning_of_their_own_and_nothing_else_is()
    {
        var warnings = SessionSummary.Warnings([new ServerReport("embedded PostgreSQL 15", 4, 4, 12, [], []), new ServerReport("external PostgreSQL 15 at db:5432", 2, 2, 12, ["app_reader"], [])]).ToList();

        await Assert.That(warnings).Count().IsEqualTo(1);
        await Assert.That(warnings[0]).StartsWith("TestKit: roles created during the run are left on external PostgreSQL 15 at db:5432").And.EndsWith("app_reader");
    }

    [Test]
    public async Task A_background_failure_is_a_warning()
    {
        var warnings = SessionSummary.Warnings([new ServerReport("embedded PostgreSQL 15", 4, 4, 12, [], ["TestKit could not finish cleaning database 'testkit_x_1' in the background after a test (boom); it dropped it"])]).ToList();

        await Assert.That(warnings).IsEquivalentTo(["TestKit could not finish cleaning database 'testkit_x_1' in the background after a test (boom); it dropped it"]);
    }
}
