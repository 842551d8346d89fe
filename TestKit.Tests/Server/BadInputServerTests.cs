
namespace TestKit.Tests;

/// <summary>
/// Bad server settings through the whole path a test takes (options, broker, strategy): each is a
/// TestKitException that names the cause, comes within a bounded time, is reported again to every later
/// test without a new attempt, and never carries the password anywhere in its chain.
/// </summary>
public sealed class BadInputServerTests : KitTest
{
    private const string Password = "pw-that-must-not-leak-4711";

    public static IEnumerable<string> UnreachableHosts() =>
    [
        // A name that never resolves (RFC 6761).
        "no-such-host.invalid",
        // An address no PostgreSQL answers on: packets are dropped, the network is unreachable, or (in a sandbox) a proxy
        // answers that is not PostgreSQL; Timeout bounds the wait in the first case.
        "10.255.255.1",
    ];

    [Test]
    [Timeout(60_000)]
    [MethodDataSource(nameof(UnreachableHosts))]
    public async Task An_unreachable_host_fails_every_test_within_the_connect_timeout_without_the_password(string host, CancellationToken cancellationToken)
    {
        var options = OptionsResolver.FromEnvironment(new TestKitOptions { ConnectionString = $"Host={host};Port=5432;Username=u;Password={Password};Timeout=2", MaxDatabases = 1 });
        await using var broker = new SessionBroker();

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var first = await Assert.That(async () => await broker.AcquireAsync(options, cancellationToken)).Throws<TestKitException>();
        // Timeout=2 bounds each connection attempt; without it a dropped SYN is retried for about two minutes. The margin
        // covers name resolution and a loaded machine, not another attempt.
        await Assert.That(watch.Elapsed).IsLessThan(TimeSpan.FromSeconds(10)).Because("the connect timeout must bound the wait");
        // "Cannot reach PostgreSQL at host:port" when nothing answers; "Cannot connect to PostgreSQL at host:port/..." when something else does.
        await Assert.That(first!.Message).StartsWith("Cannot").And.Contains($"PostgreSQL at {host}:5432").And.Contains("TestKitOptions.ConnectionString");
        await Assert.That(first.ToString()).DoesNotContain(Password);

        // The next test gets the same report from the remembered failure.
        var second = await Assert.That(async () => await broker.AcquireAsync(options, cancellationToken)).Throws<TestKitException>();
        await Assert.That(second!.Message).IsEqualTo(first.Message);
    }

    [Test]
    public async Task A_wrong_password_through_the_whole_path_is_reported_without_the_password_anywhere_in_the_chain()
    {
        var builder = (await ServerAsync()).ConnectionStringFor("postgres");
        builder.Password = Password;
        var options = OptionsResolver.FromEnvironment(new TestKitOptions { ConnectionString = builder.ConnectionString, MaxDatabases = 1 });
        await using var broker = new SessionBroker();

        var error = await Assert.That(async () => await broker.AcquireAsync(options, CancellationToken.None)).Throws<TestKitException>();

        await Assert.That(error!.Message).Contains("authentication failed").And.Contains(builder.Username!);
        await Assert.That(error.ToString()).DoesNotContain(Password);
        await Assert.That(error.ConnectionString).DoesNotContain(Password);
    }

    public static IEnumerable<string> MalformedConnectionStrings() =>
    [
        $"Host=localhost;Password='{Password}",
        $"Host=localhost;Password={Password};Port=99999999999",
        $"Host=localhost;Password={Password};=value",
        $"Password={Password}",
    ];

    [Test]
    [MethodDataSource(nameof(MalformedConnectionStrings))]
    public async Task A_malformed_connection_string_variable_is_a_TestKitException_that_never_shows_the_password(string connectionString)
    {
        var error = await Assert.That(() => OptionsResolver.Resolve(
                TestKitOptions.Default,
                name => name == ServerResolver.ConnectionStringVariable ? connectionString : null,
                [TempFolders.SampleMigrations]))
            .Throws<TestKitException>();

        await Assert.That(error!.Message).Contains("TESTKIT_CONNECTION_STRING").And.Contains("not a valid");
        await Assert.That(error.ToString()).DoesNotContain(Password);
    }

    [Test]
    [MethodDataSource(nameof(MalformedConnectionStrings))]
    public async Task A_malformed_connection_string_in_code_is_an_argument_exception_that_never_shows_the_password(string connectionString)
    {
        var error = await Assert.That(() => OptionsResolver.Resolve(new TestKitOptions { ConnectionString = connectionString }, _ => null, [TempFolders.SampleMigrations]))
            .Throws<ArgumentException>();

        await Assert.That(error!.Message).Contains("TestKitOptions.ConnectionString");
        await Assert.That(error.ToString()).DoesNotContain(Password);
    }
}
