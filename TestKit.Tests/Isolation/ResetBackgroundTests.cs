using Npgsql;

namespace TestKit.Tests;

/// <summary>
/// Outside verification mode, reset happens after the release, in the background: no test gets the database before its
/// reset is done, the next one starts at head, and a reset that fails reaches the next lease of the pool and the
/// session summary, or the pool's end — never lost.
/// </summary>
public sealed class ResetBackgroundTests : FaultKitTest
{
    [Test]
    public async Task The_release_does_not_wait_for_the_reset_and_the_next_test_starts_at_head_on_the_kept_connection()
    {
        await using var own = await NewBackgroundResetAsync();
        var first = await own.Strategy.AcquireAsync(CancellationToken.None);
        var head = await HeadAsync(first.ConnectionString);
        int backend;
        await using (var connection = await first.DataSource.OpenConnectionAsync())
        {
            backend = connection.ProcessID;
            await ExecuteAsync(connection, "INSERT INTO customers (name, email, country_code) VALUES ('A', 'a@example.com', 'DE'); SELECT nextval('customers_id_seq')");
        }

        var released = await own.Strategy.ReleaseAsync(first, CancellationToken.None);
        await Assert.That(released).IsEqualTo(ReleaseResult.ResetInBackground);

        // A pool of one: the next test waits for the reset, then gets the same database.
        var next = await own.Strategy.AcquireAsync(CancellationToken.None);
        await Assert.That(next.Name).IsEqualTo(first.Name);
        await AssertAtHeadAsync(next, head);
        await using (var connection = await next.DataSource.OpenConnectionAsync())
        {
            await Assert.That(connection.ProcessID).IsEqualTo(backend).Because("idle pooled sessions are kept for the next test");
        }

        await own.Strategy.ReleaseAsync(next, CancellationToken.None);
        await own.DisposeAsync();
        await AssertNothingLeftAsync(own.Catalog);
    }

    [Test]
    public async Task A_database_whose_head_cannot_be_proven_is_replaced_in_the_background()
    {
        await using var own = await NewBackgroundResetAsync();
        var first = await own.Strategy.AcquireAsync(CancellationToken.None);
        var head = await HeadAsync(first.ConnectionString);
        await using (var connection = await OpenAsync(new NpgsqlConnectionStringBuilder(first.ConnectionString) { Pooling = false }.ConnectionString))
        {
            await ExecuteAsync(connection, "CREATE TABLE scratch (id int)");
        }

        await own.Strategy.ReleaseAsync(first, CancellationToken.None);
        var next = await own.Strategy.AcquireAsync(CancellationToken.None);
        await Assert.That(next.Name).IsNotEqualTo(first.Name).Because("after DDL the database is dropped and the next test gets a fresh copy");
        await AssertAtHeadAsync(next, head);
        await own.Strategy.ReleaseAsync(next, CancellationToken.None);
        await own.DisposeAsync();
        await AssertNothingLeftAsync(own.Catalog);
    }

    [Test]
    public async Task A_reset_that_fails_in_the_background_reaches_the_next_lease_and_the_summary()
    {
        await using var own = await NewBackgroundResetAsync();
        var first = await own.Strategy.AcquireAsync(CancellationToken.None);
        await BreakResetAsync(first);
        await own.Strategy.ReleaseAsync(first, CancellationToken.None);
        await WaitForFailureAsync(own);

        var error = await Assert.That(async () => await own.Strategy.AcquireAsync(CancellationToken.None)).Throws<TestKitException>();
        await Assert.That(error!.Message).Contains($"could not clean database '{first.Name}' in the background after the test that used it").And.Contains("reset is broken");
        await Assert.That(own.Catalog.BackgroundFailures).Contains(error.Message).Because("the session summary lists it too");

        var next = await own.Strategy.AcquireAsync(CancellationToken.None);
        await Assert.That(next.Name).IsNotEqualTo(first.Name).Because("a database whose reset failed is dropped, and the lease after the report gets another");
        await own.Strategy.ReleaseAsync(next, CancellationToken.None);
        await own.DisposeAsync();
        await AssertNothingLeftAsync(own.Catalog);
    }

    [Test]
    public async Task A_background_failure_no_lease_saw_fails_the_pools_end()
    {
        var own = await NewBackgroundResetAsync();
        var first = await own.Strategy.AcquireAsync(CancellationToken.None);
        await BreakResetAsync(first);
        await own.Strategy.ReleaseAsync(first, CancellationToken.None);
        await WaitForFailureAsync(own);

        var error = await Assert.That(async () => await own.DisposeAsync()).Throws<TestKitException>();
        await Assert.That(error!.ToString()).Contains($"could not clean database '{first.Name}' in the background");
        await AssertNothingLeftAsync(own.Catalog);
    }

    [Test]
    [Arguments(Leftovers.ShareTheConnectionString)]
    [Arguments(Leftovers.Isolated)]
    public async Task The_end_of_the_run_right_after_a_release_waits_for_the_reset_or_stops_it_and_leaves_nothing(Leftovers leftovers)
    {
        var own = await NewBackgroundResetAsync(leftovers);
        for (var lease = 0; lease < 3; lease++)
        {
            var database = await own.Strategy.AcquireAsync(CancellationToken.None);
            await using (var connection = await database.DataSource.OpenConnectionAsync())
            {
                await ExecuteAsync(connection, "INSERT INTO customers (name, email, country_code) VALUES ('A', 'a@example.com', 'DE')");
            }

            await own.Strategy.ReleaseAsync(database, CancellationToken.None);
        }

        // The last reset is in flight (or about to start): the end stops it, and that is no failure.
        await own.DisposeAsync();
        await Assert.That(own.Catalog.BackgroundFailures).IsEmpty();
        // Login roles included.
        await AssertNothingLeftAsync(own.Catalog);
    }

    /// <summary>Waits until the background reset has failed and been noted (it runs after the release returns).</summary>
    private static async Task WaitForFailureAsync(OwnStrategy own)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (own.Catalog.BackgroundFailures.Count == 0)
        {
            await Assert.That(DateTime.UtcNow).IsLessThan(deadline).Because("a failed background reset is noted");
            await Task.Delay(10);
        }
    }

    internal override bool VerifiesHead => false;

    private Task<OwnStrategy> NewBackgroundResetAsync(Leftovers leftovers = Leftovers.ShareTheConnectionString) =>
        NewOwnStrategyAsync(IsolationStrategy.Reset, leftovers: leftovers);

    /// <summary>Makes the database's reset function fail, as a broken server would.</summary>
    private static async Task BreakResetAsync(PooledDatabase database)
    {
        await using var connection = await OpenAsync(new NpgsqlConnectionStringBuilder(database.ConnectionString) { Pooling = false }.ConnectionString);
        await ExecuteAsync(connection, """
            CREATE OR REPLACE FUNCTION testkit_reset.reset(end_all boolean, idle_limit integer, OUT verdict text, OUT detail text, OUT timings text)
            LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'reset is broken'; END $$
            """);
    }
}
