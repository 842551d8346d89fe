using Npgsql;

namespace TestKit.Tests;

/// <summary>
/// Faults of the server itself, on a throw-away embedded PostgreSQL of each test's own: a restart and a crash
/// while a test holds its database, and a prepared transaction a test left. The kit's connections must recover,
/// the next test must start at exactly head, and nothing of the kit may be left once the strategy is disposed.
/// </summary>
[Arguments(IsolationStrategy.MigrateErase)]
[Arguments(IsolationStrategy.Template)]
[Arguments(IsolationStrategy.Reset)]
public sealed class FaultServerTests(IsolationStrategy kind) : FaultKitTest
{
    /// <summary>Names the strategy in the test's output: the test's name alone does not say which one failed.</summary>
    [Before(Test)]
    public void NameTheStrategy() => TestContext.Current?.Output.WriteLine($"strategy: {kind}");

    [Test]
    [Timeout(180_000)]
    public async Task A_server_restart_while_a_test_holds_its_database_leaves_the_next_test_at_head(CancellationToken cancellationToken)
    {
        await using var server = await EmbeddedServer.StartAsync(KitTest.BinDirectory, keepIdle: null, logger: null, cancellationToken);
        await RestartMidLeaseAsync(server, "fast", cancellationToken);
    }

    [Test]
    [Timeout(180_000)]
    public async Task A_server_crash_while_a_test_holds_its_database_leaves_the_next_test_at_head(CancellationToken cancellationToken)
    {
        await using var server = await EmbeddedServer.StartAsync(KitTest.BinDirectory, keepIdle: null, logger: null, cancellationToken);
        // Immediate shutdown is a crash to PostgreSQL: crash recovery on the next start empties unlogged tables.
        await RestartMidLeaseAsync(server, "immediate", cancellationToken);
    }

    [Test]
    [Timeout(180_000)]
    public async Task A_prepared_transaction_a_test_left_leaves_the_next_test_at_head_and_no_database(CancellationToken cancellationToken)
    {
        await using var server = await EmbeddedServer.StartAsync(KitTest.BinDirectory, keepIdle: null, logger: null, cancellationToken);
        await using (var admin = await server.Admin.OpenConnectionAsync(cancellationToken))
        {
            await ExecuteAsync(admin, "ALTER SYSTEM SET max_prepared_transactions = 4");
        }

        await RestartAsync(server, "fast", cancellationToken);

        var own = await NewOwnStrategyAsync(kind, server: server);
        await using (own)
        {
            var first = await own.Strategy.AcquireAsync(cancellationToken);
            var head = await HeadAsync(first.ConnectionString);
            await using (var connection = await OpenAsync(first.ConnectionString))
            {
                // Outlives its session: it holds its locks until someone commits or rolls it back, and a commit would write later.
                await ExecuteAsync(connection, "BEGIN; INSERT INTO customers (name, email, country_code) VALUES ('Prepared', 'prepared@example.com', 'DE'); PREPARE TRANSACTION 'left_by_a_test'");
            }

            // Rolled back by the release (migrate-erase), or with the database it was left in (reset, template).
            var released = await own.Strategy.ReleaseAsync(first, cancellationToken);
            if (kind == IsolationStrategy.Reset)
            {
                await Assert.That(released.Reason).IsNotNull();
                await Assert.That(released.Reason).Contains("the test left a prepared transaction");
            }

            var next = await own.Strategy.AcquireAsync(cancellationToken);
            await AssertAtHeadAsync(next, head);
            await using (var admin = await server.Admin.OpenConnectionAsync(cancellationToken))
            {
                await Assert.That(await CountAsync(admin, "SELECT count(*) FROM pg_prepared_xacts")).IsEqualTo(0)
                    .Because("a prepared transaction would commit the test's rows into a later test, and blocks DROP DATABASE");
            }

            await own.Strategy.ReleaseAsync(next, cancellationToken);
            await own.DisposeAsync();
            await AssertNothingLeftAsync(own.Catalog);
        }
    }

    private async Task RestartMidLeaseAsync(EmbeddedServer server, string mode, CancellationToken cancellationToken)
    {
        var own = await NewOwnStrategyAsync(kind, server: server);
        await using (own)
        {
            // One test before, so that the kit holds pooled connections that the restart breaks.
            var warm = await own.Strategy.AcquireAsync(cancellationToken);
            var head = await HeadAsync(warm.ConnectionString);
            await own.Strategy.ReleaseAsync(warm, cancellationToken);

            var first = await own.Strategy.AcquireAsync(cancellationToken);
            await using (var pooled = await OpenAsync(first.ConnectionString))
            {
                await ExecuteAsync(pooled, "INSERT INTO customers (name, email, country_code) VALUES ('Ann', 'ann@example.com', 'DE')");
                await ExecuteAsync(pooled, "UPDATE countries SET name = 'Deutschland' WHERE code = 'DE'");
                await ExecuteAsync(pooled, "CHECKPOINT");
            }

            await RestartAsync(server, mode, cancellationToken);

            // The kit's connections must recover from the restart: the release cleans without a word.
            await Release.Cleans.CheckAsync(own.Strategy, first);
            var next = await own.Strategy.AcquireAsync(cancellationToken);
            await AssertAtHeadAsync(next, head);
            await own.Strategy.ReleaseAsync(next, cancellationToken);
            await own.DisposeAsync();
            await AssertNothingLeftAsync(own.Catalog);
            await AssertNoKitSessionAsync(server);
        }
    }

    /// <summary>Restarts the embedded server in place (same data folder, port and settings), waiting until it accepts connections.</summary>
    internal static async Task RestartAsync(EmbeddedServer server, string mode, CancellationToken cancellationToken)
    {
        var folder = await FolderOfAsync(server);
        var pgCtl = await PgCtl.LocateAsync(KitTest.BinDirectory, cancellationToken);
        await pgCtl.User.RunAsync(
            pgCtl.Binaries.PgCtl, ["restart", "--pgdata", Path.Combine(folder, "data"), "--mode", mode, "--wait", "--log", Path.Combine(folder, "server.log")], cancellationToken);
    }

    /// <summary>No session of the kit (application name testkit*) is left on the server once its strategy is disposed.</summary>
    private static async Task AssertNoKitSessionAsync(EmbeddedServer server)
    {
        var builder = server.ConnectionStringFor("postgres");
        builder.Pooling = false;
        await using var admin = new NpgsqlConnection(builder.ConnectionString);
        await admin.OpenAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        long sessions;
        while ((sessions = await CountAsync(admin, "SELECT count(*) FROM pg_stat_activity WHERE application_name LIKE 'testkit%'")) > 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50));
        }

        await Assert.That(sessions).IsEqualTo(0);
    }
}
