namespace TestKit.Tests;

/// <summary>
/// The supported range, without a server: below PostgreSQL 14 the run is refused with the server's version, the reason
/// and the remedy (make versions checks the same on a real 13).
/// </summary>
public sealed class ServerVersionTests
{
    [Test]
    [Arguments("130016", "13")]
    [Arguments("90624", "9.6")]
    public async Task A_server_older_than_14_is_refused_with_its_version_the_reason_and_the_remedy(string number, string version)
    {
        var refusal = ServerRun.RefusalOf(number, $"external PostgreSQL {version}.1 at db:5432");
        await Assert.That(refusal).IsNotNull();
        await Assert.That(refusal!).Contains($"PostgreSQL {version}.1 at db:5432").And.Contains("14 or later")
            .And.Contains("sessions_killed").And.Contains("TESTKIT_POSTGRES_BIN");
    }

    [Test]
    [Arguments("140000")]
    [Arguments("150018")]
    [Arguments("180004")]
    public async Task A_server_of_14_or_later_is_accepted(string number) =>
        await Assert.That(ServerRun.RefusalOf(number, "a server")).IsNull();
}
