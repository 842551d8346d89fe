using Npgsql;

namespace TestKit.Tests;

/// <summary>
/// The reset strategy keeps the test's idle pooled connections for the next test (a new one costs a backend start
/// and Npgsql's type loading), with the session state Npgsql's DISCARD ALL puts back; busy sessions always go.
/// </summary>
public sealed class ResetSessionTests : FaultKitTest
{
    [Test]
    public async Task The_next_test_reuses_the_idle_pooled_connection_with_default_settings()
    {
        await using var own = await NewOwnStrategyAsync(IsolationStrategy.Reset);
        var first = await own.Strategy.AcquireAsync(CancellationToken.None);
        // Through the data source, as a test's Db: Npgsql's pools by connection string are the whole process's, and another
        // test's reset may close every idle one of them (NpgsqlConnection.ClearAllPools). Two connections at once: the
        // test's pool holds the connection the kit opened ahead too, and the next test may get either; both are changed.
        var firstBackends = new List<int>();
        await using (var connection = await first.DataSource.OpenConnectionAsync())
        await using (var other = await first.DataSource.OpenConnectionAsync())
        {
            firstBackends.Add(connection.ProcessID);
            firstBackends.Add(other.ProcessID);
            await ExecuteAsync(connection, "SET statement_timeout = '7s'; INSERT INTO customers (name, email, country_code) VALUES ('A', 'a@example.com', 'DE')");
            await ExecuteAsync(other, "SET statement_timeout = '7s'");
        }

        await own.Strategy.ReleaseAsync(first, CancellationToken.None);
        var next = await own.Strategy.AcquireAsync(CancellationToken.None);
        await using (var connection = await next.DataSource.OpenConnectionAsync())
        {
            await Assert.That(firstBackends).Contains(connection.ProcessID).Because("the idle pooled sessions are kept for the next test");
            await using var command = new NpgsqlCommand("SELECT current_setting('statement_timeout') || ' ' || (SELECT count(*) FROM customers WHERE email = 'a@example.com')", connection);
            await Assert.That((string?)await command.ExecuteScalarAsync()).IsEqualTo("0 0").Because("settings and rows of the previous test are gone");
        }

        await own.Strategy.ReleaseAsync(next, CancellationToken.None);
        await own.DisposeAsync();
        await AssertNothingLeftAsync(own.Catalog);
    }

    [Test]
    public async Task A_session_left_in_a_transaction_is_ended_and_the_pool_stays_usable()
    {
        await using var own = await NewOwnStrategyAsync(IsolationStrategy.Reset);
        var first = await own.Strategy.AcquireAsync(CancellationToken.None);
        var left = await OpenAsync(first.ConnectionString);
        await using var transaction = await left.BeginTransactionAsync();
        await ExecuteAsync(left, "UPDATE countries SET name = 'Nowhere' WHERE code = 'DE'");

        await own.Strategy.ReleaseAsync(first, CancellationToken.None);
        var next = await own.Strategy.AcquireAsync(CancellationToken.None);
        await using (var connection = await OpenAsync(next.ConnectionString))
        await using (var command = new NpgsqlCommand("SELECT name FROM countries WHERE code = 'DE'", connection))
        {
            await Assert.That((string?)await command.ExecuteScalarAsync()).IsNotEqualTo("Nowhere");
        }

        int nextBackend;
        await using (var connection = await next.DataSource.OpenConnectionAsync())
        {
            nextBackend = connection.ProcessID;
        }

        await own.Strategy.ReleaseAsync(next, CancellationToken.None);
        var third = await own.Strategy.AcquireAsync(CancellationToken.None);
        await using (var connection = await third.DataSource.OpenConnectionAsync())
        {
            // The sessions the reset itself ended must not look, to the next reset, like sessions a test killed.
            await Assert.That(connection.ProcessID).IsEqualTo(nextBackend).Because("once the leftover is gone, idle pooled sessions are kept again");
        }

        await own.Strategy.ReleaseAsync(third, CancellationToken.None);
        await DisposeLeftoverAsync(left);
        await own.DisposeAsync();
        await AssertNothingLeftAsync(own.Catalog);
    }

    [Test]
    public async Task A_pooled_session_holding_an_advisory_lock_is_ended()
    {
        await using var own = await NewOwnStrategyAsync(IsolationStrategy.Reset);
        var first = await own.Strategy.AcquireAsync(CancellationToken.None);
        await using (var connection = await OpenAsync(first.ConnectionString))
        {
            await ExecuteAsync(connection, "SELECT pg_advisory_lock(4242)");
        }

        await own.Strategy.ReleaseAsync(first, CancellationToken.None);
        var next = await own.Strategy.AcquireAsync(CancellationToken.None);
        await using (var admin = await ConnectAsync(next.Name))
        {
            await Assert.That(await CountAsync(admin, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242")).IsEqualTo(0)
                .Because("a lock the previous test took must not block the next one");
        }

        await own.Strategy.ReleaseAsync(next, CancellationToken.None);
        await own.DisposeAsync();
        await AssertNothingLeftAsync(own.Catalog);
    }

    [Test]
    public async Task Pooled_sessions_killed_before_a_statistics_reset_in_a_new_databases_first_test_are_noticed()
    {
        await using var own = await NewOwnStrategyAsync(IsolationStrategy.Reset);
        var first = await own.Strategy.AcquireAsync(CancellationToken.None);
        var pooled = await PooledBackendsAsync(first);

        // The kills are counted first, then pg_stat_reset() sets the count back to 0, what the reset expects of a new
        // database: only the time of the statistics' reset tells, and it must have been known before the test.
        await using (var killer = await OpenUnpooledAsync(first))
        {
            await KillAsync(killer, pooled);
            const string killed = "SELECT coalesce(sum(sessions_killed), 0)::bigint FROM pg_stat_database WHERE datname = current_database()";
            await WaitUntilAsync(killer, killed, count => count >= 2, "the server's statistics count the kills");
            await ResetStatisticsAsync(killer);
            await WaitUntilAsync(killer, killed, count => count == 0, "the reset set the count back");
        }

        await own.Strategy.ReleaseAsync(first, CancellationToken.None);
        await AssertTheNextTestGetsNoneOfAsync(own, pooled);
        await own.DisposeAsync();
        await AssertNothingLeftAsync(own.Catalog);
    }

    [Test]
    public async Task Pooled_sessions_killed_after_the_statistics_were_reset_are_noticed()
    {
        await using var own = await NewOwnStrategyAsync(IsolationStrategy.Reset);
        // Two sessions left in a transaction: the reset ends them and expects the session count two higher.
        var first = await own.Strategy.AcquireAsync(CancellationToken.None);
        var left = new List<NpgsqlConnection>();
        for (var i = 0; i < 2; i++)
        {
            var connection = await OpenUnpooledAsync(first);
            await ExecuteAsync(connection, "BEGIN; SELECT 1");
            left.Add(connection);
        }

        await own.Strategy.ReleaseAsync(first, CancellationToken.None);

        // pg_stat_reset() sets the count back to 0, and two kills bring it to 2, what the reset expects: only the time of
        // the statistics' reset tells.
        var next = await own.Strategy.AcquireAsync(CancellationToken.None);
        var pooled = await PooledBackendsAsync(next);
        await using (var killer = await OpenUnpooledAsync(next))
        {
            await ResetStatisticsAsync(killer);
            await KillAsync(killer, pooled);
        }

        await own.Strategy.ReleaseAsync(next, CancellationToken.None);
        await AssertTheNextTestGetsNoneOfAsync(own, pooled);
        foreach (var connection in left)
        {
            await DisposeLeftoverAsync(connection);
        }

        await own.DisposeAsync();
        await AssertNothingLeftAsync(own.Catalog);
    }

    /// <summary>The backends of two pooled sessions open at once through the database's data source, as a test's Db opens them.</summary>
    private static async Task<List<int>> PooledBackendsAsync(PooledDatabase database)
    {
        await using var connection = await database.DataSource.OpenConnectionAsync();
        await using var other = await database.DataSource.OpenConnectionAsync();
        return [connection.ProcessID, other.ProcessID];
    }

    private static Task<NpgsqlConnection> OpenUnpooledAsync(PooledDatabase database) =>
        OpenAsync(new NpgsqlConnectionStringBuilder(database.ConnectionString) { Pooling = false }.ConnectionString);

    private static async Task KillAsync(NpgsqlConnection killer, IEnumerable<int> backends)
    {
        foreach (var backend in backends)
        {
            await Assert.That(await CountAsync(killer, "SELECT pg_terminate_backend($1)::integer::bigint", backend)).IsEqualTo(1);
        }
    }

    /// <summary>pg_stat_reset(), then waits until the server's statistics show it (PostgreSQL 14's collector takes it in late).</summary>
    private static async Task ResetStatisticsAsync(NpgsqlConnection connection)
    {
        const string resetAt = "SELECT coalesce(extract(epoch FROM stats_reset), 0)::bigint * 1000000 + coalesce(extract(microseconds FROM stats_reset), 0)::bigint FROM pg_stat_database WHERE datname = current_database()";
        var before = await CountAsync(connection, resetAt);
        await ExecuteAsync(connection, "SELECT pg_stat_reset()");
        await WaitUntilAsync(connection, resetAt, at => at != before, "the server's statistics show the reset");
    }

    /// <summary>Polls the server's statistics, which PostgreSQL 14's collector reports late, for up to 30 s.</summary>
    private static async Task WaitUntilAsync(NpgsqlConnection connection, string sql, Func<long, bool> done, string because)
    {
        var until = DateTime.UtcNow.AddSeconds(30);
        while (!done(await CountAsync(connection, sql)) && DateTime.UtcNow < until)
        {
            await Task.Delay(10);
        }

        await Assert.That(done(await CountAsync(connection, sql))).IsTrue().Because(because);
    }

    /// <summary>The next test's database: a pooled connection is none of the killed sessions, and works.</summary>
    private static async Task AssertTheNextTestGetsNoneOfAsync(OwnStrategy own, List<int> killed)
    {
        var next = await own.Strategy.AcquireAsync(CancellationToken.None);
        await using (var connection = await next.DataSource.OpenConnectionAsync())
        {
            await Assert.That(killed).DoesNotContain(connection.ProcessID).Because("the killed pooled sessions must not reach the next test");
            await ExecuteAsync(connection, "SELECT 1");
        }

        await own.Strategy.ReleaseAsync(next, CancellationToken.None);
    }
}
