
namespace TestKit.Tests.Unit;

public sealed class SessionSummaryTests
{
    [Test]
    public async Task The_summary_counts_tests_and_gives_median_and_p95_per_strategy()
    {
        var tests = Enumerable.Range(1, 20).Select(i => new TestRecord("reset", i, 2 * i, Failed: i == 20)).ToList();

        var text = SessionSummary.Format(tests, [new ServerReport("embedded PostgreSQL 15", 4, 4, [])], []);

        await Assert.That(text).Contains("20 tests, 1 failed");
        await Assert.That(text).Contains("reset: 20 tests; set-up median 10.0 ms, p95 19.0 ms; tear-down median 20.0 ms, p95 38.0 ms");
        await Assert.That(text).Contains("databases created 4, dropped 4, kept 0");
    }

    [Test]
    public async Task The_summary_lists_the_roles_left_on_an_external_server_and_says_why_they_stay()
    {
        var text = SessionSummary.Format([], [new ServerReport("external PostgreSQL 15 at db:5432", 2, 2, ["app_reader", "app_writer"])], []);

        await Assert.That(text).Contains("left on that server").And.Contains("roles belong to the whole server").And.Contains("app_reader, app_writer");
    }
}
