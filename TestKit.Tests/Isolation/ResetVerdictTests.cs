using Npgsql;

namespace TestKit.Tests;

/// <summary>
/// The reset strategy's reasons for replacing a database, each produced by what a real test does: the release names the
/// reason in words, the next test starts at head on a fresh copy, and nothing is left. The reset function's codes and
/// their words are checked without a server in <see cref="ResetVerdictsTests"/>; schema changes in
/// <see cref="StrategyTests"/>.
/// </summary>
public sealed class ResetVerdictTests : FaultKitTest
{
    [Test]
    public Task Disabling_the_change_tracking_replaces_the_database() =>
        AssertReplacedAsync(
            // Event triggers do not fire for commands on event triggers: only the reset's count of enabled ones sees it.
            database => ExecuteOnAsync(database.ConnectionString, "ALTER EVENT TRIGGER testkit_reset_ddl DISABLE"),
            "the change-tracking event triggers were disabled or dropped");

    [Test]
    public Task A_database_setting_replaces_the_database() =>
        AssertReplacedAsync(
            // A database is a server-wide object: no event trigger fires for ALTER DATABASE.
            database => ExecuteOnAsync(database.ConnectionString, $"ALTER DATABASE {Sql.Quote(database.Name)} SET work_mem = '8MB'"),
            "the test changed database-level settings");

    [Test]
    public Task A_comment_on_the_database_replaces_the_database() =>
        AssertReplacedAsync(
            database => ExecuteOnAsync(database.ConnectionString, $"COMMENT ON DATABASE {Sql.Quote(database.Name)} IS 'my test database'"),
            "the test altered the database itself");

    [Test]
    public Task A_large_object_replaces_the_database() =>
        AssertReplacedAsync(
            database => ExecuteOnAsync(database.ConnectionString, "SELECT lo_from_bytea(0, '\\x0102'::bytea)"),
            "the test created or removed large objects");

    [Test]
    public Task Ending_the_kits_own_session_replaces_the_database() =>
        AssertReplacedAsync(
            async database =>
            {
                var killer = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Pooling = false }.ConnectionString;
                await using var connection = await OpenAsync(killer);
                var kit = await CountAsync(
                    connection,
                    "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND application_name = $1) t",
                    ApplicationNames.Kit);
                await Assert.That(kit).IsGreaterThanOrEqualTo(1).Because("the kit keeps a session of its own in a reset database");
            },
            "the kit's own session in it was ended");

    [Test]
    public async Task More_idle_sessions_than_the_limit_are_all_ended_and_the_database_is_kept()
    {
        await using var own = await NewOwnStrategyAsync(IsolationStrategy.Reset);
        var first = await own.Strategy.AcquireAsync(CancellationToken.None);
        var head = await HeadAsync(first.ConnectionString);
        var idle = new List<NpgsqlConnection>();
        var unpooled = new NpgsqlConnectionStringBuilder(first.ConnectionString) { Pooling = false }.ConnectionString;
        for (var i = 0; i <= DatabaseSessions.IdleSessionLimit; i++)
        {
            idle.Add(await OpenAsync(unpooled));
        }

        await ExecuteAsync(idle[0], "INSERT INTO customers (name, email, country_code) VALUES ('Idle', 'idle@example.com', 'DE')");
        var released = await own.Strategy.ReleaseAsync(first, CancellationToken.None);

        await Assert.That(released).IsEqualTo(ReleaseResult.Reset).Because(released.Reason ?? string.Empty);
        foreach (var connection in idle)
        {
            await Assert.That(async () => await ExecuteAsync(connection, "SELECT 1")).Throws<NpgsqlException>()
                .Because($"more than {DatabaseSessions.IdleSessionLimit} idle sessions are all ended, not kept for the next test");
            await DisposeLeftoverAsync(connection);
        }

        var next = await own.Strategy.AcquireAsync(CancellationToken.None);
        await Assert.That(next.Name).IsEqualTo(first.Name).Because("head was put back, so the database is kept");
        await AssertAtHeadAsync(next, head);
        await own.Strategy.ReleaseAsync(next, CancellationToken.None);
        await own.DisposeAsync();
        await AssertNothingLeftAsync(own.Catalog);
    }

    private async Task AssertReplacedAsync(Func<PooledDatabase, Task> move, string reason)
    {
        await using var own = await NewOwnStrategyAsync(IsolationStrategy.Reset);
        var first = await own.Strategy.AcquireAsync(CancellationToken.None);
        var head = await HeadAsync(first.ConnectionString);
        await move(first);

        var released = await own.Strategy.ReleaseAsync(first, CancellationToken.None);

        await Assert.That(released.Reason).IsNotNull();
        await Assert.That(released.Reason).Contains(reason);
        var next = await own.Strategy.AcquireAsync(CancellationToken.None);
        await Assert.That(next.Name).IsNotEqualTo(first.Name).Because("a replaced database is dropped and the next test gets a fresh copy");
        await AssertAtHeadAsync(next, head);
        await own.Strategy.ReleaseAsync(next, CancellationToken.None);
        await own.DisposeAsync();
        await AssertNothingLeftAsync(own.Catalog);
    }

    private static async Task ExecuteOnAsync(string connectionString, string sql)
    {
        await using var connection = await OpenAsync(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);
        await ExecuteAsync(connection, sql);
    }
}
