using Npgsql;

namespace TestKit.Tests;

/// <summary>
/// With IsolateLeftoverClients, the reset strategy retires a lease's login role at its release. A client of the test
/// that had passed authentication before the release, and then stalled before it reached the database, must not get
/// into the next test's database once it moves on. The stall is made real: the test holds an ACCESS EXCLUSIVE lock on
/// pg_database, which a starting backend reads right after authentication. That lock stalls every connection to the
/// server, so the test runs on an embedded server of its own.
/// </summary>
public sealed class FaultStalledClientTests : FaultKitTest
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [Test]
    [Timeout(120_000)]
    public async Task A_client_that_authenticated_before_the_release_and_stalled_never_gets_into_the_next_test(CancellationToken cancellationToken)
    {
        await using var server = await EmbeddedServer.StartAsync(KitTest.BinDirectory, keepIdle: null, logger: null, cancellationToken);
        await using var own = await NewOwnStrategyAsync(IsolationStrategy.Reset, server: server, leftovers: Leftovers.Isolated);
        var first = await own.Strategy.AcquireAsync(cancellationToken);
        // As the test got it: the kit gives the database a new one for the next lease.
        var firstConnectionString = first.ConnectionString;
        var login = new NpgsqlConnectionStringBuilder(firstConnectionString).Username!;
        await using var watch = await OpenAsync(Unpooled(server, "postgres"));

        Task<NpgsqlConnection> stalled;
        Task release;
        await using (var blocker = await OpenAsync(Unpooled(server, "postgres")))
        {
            await ExecuteAsync(blocker, "BEGIN; LOCK TABLE pg_database IN ACCESS EXCLUSIVE MODE");
            stalled = OpenAsync(new NpgsqlConnectionStringBuilder(firstConnectionString) { Pooling = false, Timeout = 60 }.ConnectionString);
            // Authenticated, and waiting to read pg_database: the client's backend waits for the blocker's lock.
            await PollAsync(watch, "SELECT count(*) FROM pg_locks WHERE relation = 'pg_database'::regclass AND NOT granted AND locktype = 'relation'", cancellationToken);

            release = own.Strategy.ReleaseAsync(first, cancellationToken);
            // The login is retired (that needs no lock on pg_database); the rest of the release waits for the blocker.
            await PollAsync(watch, $"SELECT count(*) FROM pg_roles WHERE rolname = '{login}' AND NOT rolcanlogin AND NOT rolsuper", cancellationToken);
            await ExecuteAsync(blocker, "COMMIT");
        }

        var refused = await Assert.That(async () => await stalled).Throws<PostgresException>();
        await Assert.That(refused!.SqlState).IsEqualTo(PostgresErrorCodes.InsufficientPrivilege).Because("the retired login may no longer act as the admin role");
        await release;

        var next = await own.Strategy.AcquireAsync(cancellationToken);
        await Assert.That(next.ConnectionString).IsNotEqualTo(firstConnectionString);
        await own.Strategy.ReleaseAsync(next, cancellationToken);
        await own.DisposeAsync();
        await AssertNothingLeftAsync(own.Catalog);
    }

    private static string Unpooled(EmbeddedServer server, string database)
    {
        var builder = server.ConnectionStringFor(database);
        builder.Pooling = false;
        return builder.ConnectionString;
    }

    /// <summary>Waits, with a deadline, until <paramref name="countQuery"/> counts at least one row.</summary>
    private static async Task PollAsync(NpgsqlConnection connection, string countQuery, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (await CountAsync(connection, countQuery) == 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Nothing matched within {Deadline.TotalSeconds} s: {countQuery}");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(5), cancellationToken);
        }
    }
}
