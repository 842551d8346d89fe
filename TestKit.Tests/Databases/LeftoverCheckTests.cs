using Npgsql;

namespace TestKit.Tests;

/// <summary>
/// The fault tests' own leak check (<see cref="FaultKitTest.AssertNothingLeftAsync"/>): a leak fails it as an assertion
/// that says what leaked, and it drops what leaked, so that one leak does not spill into the tests after it.
/// </summary>
public sealed class LeftoverCheckTests : FaultKitTest
{
    [Test]
    public async Task A_leaked_database_fails_the_check_as_an_assertion_and_is_dropped()
    {
        var run = new ServerRun(await ServerAsync());
        await using var disposeRun = run;
        var leaked = await run.Catalog.CreateAsync(CancellationToken.None);

        var failure = await Assert.That(() => AssertNothingLeftAsync(run, wait: TimeSpan.Zero)).Throws<TUnit.Assertions.Exceptions.AssertionException>();

        await Assert.That(failure!.Message).Contains("no database of run");
        var admin = run.Server.ConnectionStringFor("postgres");
        admin.Pooling = false;
        await using var connection = await OpenAsync(admin.ConnectionString);
        await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_database WHERE datname = $1", connection) { Parameters = { new() { Value = leaked } } };
        await Assert.That((long)(await command.ExecuteScalarAsync())!).IsEqualTo(0).Because("the check drops what leaked");
    }
}
