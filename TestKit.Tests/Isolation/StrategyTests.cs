using Npgsql;

namespace TestKit.Tests;

/// <summary>
/// The promise every strategy keeps, checked with a full state digest: after whatever a test did, the
/// next test starts at exactly head, and nothing is left when the strategy is done.
/// </summary>
[Arguments(IsolationStrategy.MigrateErase)]
[Arguments(IsolationStrategy.Template)]
[Arguments(IsolationStrategy.Reset)]
public sealed class StrategyTests(IsolationStrategy kind) : KitTest
{
    [Test]
    public async Task A_failed_test_with_an_open_transaction_and_open_connections_leaves_the_next_test_at_head()
    {
        await using var strategy = await NewStrategyAsync(kind);
        var first = await strategy.AcquireAsync(CancellationToken.None);
        var head = await Digest.ComputeAsync(first.ConnectionString);

        var leftOpen = new NpgsqlConnection(first.ConnectionString);
        await leftOpen.OpenAsync();
        var transaction = await leftOpen.BeginTransactionAsync();
        await ExecuteAsync(leftOpen, "INSERT INTO customers (name, email, country_code) VALUES ('Eve', 'eve@example.com', 'NL')");
        await ExecuteAsync(leftOpen, "LOCK TABLE customers IN ACCESS EXCLUSIVE MODE");
        await using (var committed = new NpgsqlConnection(first.ConnectionString))
        {
            await committed.OpenAsync();
            await ExecuteAsync(committed, "INSERT INTO products (sku, name, unit_price) VALUES ('TEA', 'Tea', 1.50); UPDATE countries SET name = 'Deutschland' WHERE code = 'DE'");
        }

        await strategy.ReleaseAsync(first, CancellationToken.None);
        var second = await strategy.AcquireAsync(CancellationToken.None);

        await Assert.That(await Digest.ComputeAsync(second.ConnectionString)).IsEquivalentTo(head);
        await strategy.ReleaseAsync(second, CancellationToken.None);
        if (kind != IsolationStrategy.Template)
        {
            // A reused database: the kit ended the transaction the test left open before the next test got it. (The
            // template strategy's old clone is no test's any more and is dropped in the background.)
            await Assert.That(() => transaction.CommitAsync()).Throws<NpgsqlException>();
        }

        await DisposeLeftoverAsync(leftOpen);
    }

    [Test]
    public async Task Random_workloads_across_connections_leave_the_next_test_at_head()
    {
        await using var strategy = await NewStrategyAsync(kind);
        var database = await strategy.AcquireAsync(CancellationToken.None);
        var head = await Digest.ComputeAsync(database.ConnectionString);

        for (var seed = 1; seed <= 6; seed++)
        {
            var workload = new RandomWorkload(database.ConnectionString, seed);
            var leftOpen = await workload.RunAsync();
            await Assert.That(workload.Committed).IsGreaterThan(10).Because("the workload must change something");
            var released = await strategy.ReleaseAsync(database, CancellationToken.None);
            // Rows and sequences were put back by the strategy itself: the reset strategy did not fall back to a fresh copy.
            await Assert.That(released.Reason).IsNull();
            database = await strategy.AcquireAsync(CancellationToken.None);

            var after = await Digest.ComputeAsync(database.ConnectionString);
            await Assert.That(after).IsEquivalentTo(head).Because($"seed {seed} must leave no trace");
            foreach (var connection in leftOpen)
            {
                await connection.DisposeAsync();
            }
        }

        await strategy.ReleaseAsync(database, CancellationToken.None);
    }

    [Test]
    public async Task A_test_that_changes_the_schema_leaves_the_next_test_at_head()
    {
        await using var strategy = await NewStrategyAsync(kind);
        var first = await strategy.AcquireAsync(CancellationToken.None);
        var head = await Digest.ComputeAsync(first.ConnectionString);
        await using (var connection = new NpgsqlConnection(first.ConnectionString))
        {
            await connection.OpenAsync();
            await ExecuteAsync(connection, """
                ALTER TABLE customers ADD COLUMN nickname text;
                CREATE TABLE scratch (id int);
                DROP VIEW customer_order_summary;
                CREATE INDEX ON products (sku, name);
                ALTER TYPE order_status ADD VALUE 'returned';
                """);
        }

        var released = await strategy.ReleaseAsync(first, CancellationToken.None);
        var second = await strategy.AcquireAsync(CancellationToken.None);

        await Assert.That(await Digest.ComputeAsync(second.ConnectionString)).IsEquivalentTo(head);
        await strategy.ReleaseAsync(second, CancellationToken.None);
        if (kind == IsolationStrategy.Reset)
        {
            // DDL cannot be undone row by row: the reset strategy must have fallen back to a fresh copy.
            await Assert.That(released.Reason).IsNotNull();
            await Assert.That(released.Reason).Contains("the test changed the schema (ALTER TABLE)");
        }
    }

    [Test]
    public async Task A_broken_migration_is_reported_with_its_file_line_and_sqlstate()
    {
        var folder = TempFolders.UniqueCopyOfSampleMigrations();
        try
        {
            await File.WriteAllTextAsync(
                Path.Combine(folder, "V8__broken.sql"),
                "CREATE TABLE fine (id int);\n\nCREATE TABLE broken (\n    id int,\n    name txet\n);\n");
            await using var strategy = await NewStrategyAsync(kind, folder);

            var error = await Assert.That(async () => { await strategy.AcquireAsync(CancellationToken.None); }).Throws<TestKitException>();

            await Assert.That(error!.MigrationFile).IsEqualTo("V8__broken.sql");
            await Assert.That(error.SqlState).IsEqualTo("42704");
            await Assert.That(error.Line).IsEqualTo(5);
            await Assert.That(error.Message).Contains("V8__broken.sql line 5").And.Contains("type \"txet\" does not exist");
            var template = TemplateIdentity.Of(MigrationSet.Load([folder]), (await ServerAsync()).Version).Name;
            await using var admin = await ConnectAsync("postgres");
            await Assert.That(await CountAsync(admin, "SELECT count(*) FROM pg_database WHERE datname = $1", template)).IsEqualTo(0);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public async Task Nothing_of_the_strategy_is_left_when_it_is_disposed()
    {
        var catalog = new ServerRun(await ServerAsync());
        await using (var strategy = NewStrategy(kind, catalog, TempFolders.SampleMigrations, maxDatabases: 2))
        {
            var first = await strategy.AcquireAsync(CancellationToken.None);
            var second = await strategy.AcquireAsync(CancellationToken.None);
            await strategy.ReleaseAsync(first, CancellationToken.None);
            await Assert.That(await CountDatabasesAsync(catalog.Marker.Format())).IsGreaterThanOrEqualTo(1);
            await Assert.That(second.Name).IsNotEqualTo(first.Name);
        }

        await Assert.That(await CountDatabasesAsync(catalog.Marker.Format())).IsEqualTo(0);
    }

    private async Task<long> CountDatabasesAsync(string commentPattern)
    {
        await using var admin = await ConnectAsync("postgres");
        await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_database WHERE shobj_description(oid, 'pg_database') LIKE $1", admin)
        {
            Parameters = { new() { Value = commentPattern } },
        };
        return (long)(await command.ExecuteScalarAsync())!;
    }

    internal static IsolationStrategyBase NewStrategy(IsolationStrategy kind, ServerRun catalog, string folder, int maxDatabases) =>
        IsolationStrategyBase.Create(OptionsOf(kind, maxDatabases), catalog, new EvolveMigrator(MigrationSet.Load([folder])));
}
