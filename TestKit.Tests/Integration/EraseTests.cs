using Npgsql;

namespace TestKit.Tests.Integration;

/// <summary>The migrate-erase cycle driven directly, on a pool of one database, so the next lease is the same database.</summary>
public sealed class EraseTests : KitTest
{
    [Test]
    public async Task After_erase_no_object_of_the_migrations_is_left()
    {
        await using var strategy = await NewStrategyAsync();
        var database = await strategy.AcquireAsync(CancellationToken.None);
        await using (var connection = await ConnectAsync(database.Name))
        {
            await Assert.That(await CountAsync(connection, UserObjectCount)).IsGreaterThan(20);
        }

        await strategy.ReleaseAsync(database, CancellationToken.None);

        await using var after = await ConnectAsync(database.Name);
        await Assert.That(await CountAsync(after, UserObjectCount)).IsEqualTo(0);
    }

    [Test]
    public async Task A_test_that_failed_with_an_open_transaction_and_open_connections_is_still_erased()
    {
        await using var strategy = await NewStrategyAsync();
        var first = await strategy.AcquireAsync(CancellationToken.None);

        // What a failing test leaves: a transaction open, connections never disposed, a table of its own.
        var leftOpen = new NpgsqlConnection(first.ConnectionString);
        await leftOpen.OpenAsync();
        var transaction = await leftOpen.BeginTransactionAsync();
        await KitTest.ExecuteAsync(leftOpen, "INSERT INTO customers (name, email, country_code) VALUES ('Eve', 'eve@example.com', 'NL')");
        await KitTest.ExecuteAsync(leftOpen, "LOCK TABLE customers IN ACCESS EXCLUSIVE MODE");
        await using (var committed = new NpgsqlConnection(first.ConnectionString))
        {
            await committed.OpenAsync();
            await KitTest.ExecuteAsync(committed, "CREATE TABLE scratch (id int); INSERT INTO scratch VALUES (1)");
        }

        await strategy.ReleaseAsync(first, CancellationToken.None);

        var second = await strategy.AcquireAsync(CancellationToken.None);
        await using (var connection = new NpgsqlConnection(second.ConnectionString))
        {
            await connection.OpenAsync();
            await Assert.That(second.Name).IsEqualTo(first.Name);
            await Assert.That(await CountAsync(connection, "SELECT count(*) FROM customers")).IsEqualTo(0);
            await Assert.That(await CountAsync(connection, "SELECT count(*) FROM pg_class WHERE relname = 'scratch'")).IsEqualTo(0);
        }

        await strategy.ReleaseAsync(second, CancellationToken.None);
        await Assert.That(() => transaction.CommitAsync()).Throws<Exception>();
        await leftOpen.DisposeAsync();
    }

    [Test]
    public async Task An_object_outside_the_erased_schemas_is_reported_and_the_database_replaced()
    {
        await using var strategy = await NewStrategyAsync();
        var first = await strategy.AcquireAsync(CancellationToken.None);
        await using (var connection = new NpgsqlConnection(first.ConnectionString))
        {
            await connection.OpenAsync();
            await KitTest.ExecuteAsync(connection, "CREATE SCHEMA stray; CREATE TABLE stray.t (id int)");
        }

        var error = await Assert.That(() => strategy.ReleaseAsync(first, CancellationToken.None)).Throws<TestKitException>();
        await Assert.That(error!.Message).Contains("left: schema stray").And.Contains("next test gets a fresh one");
        await Assert.That(strategy.DatabaseCount).IsEqualTo(0);

        var second = await strategy.AcquireAsync(CancellationToken.None);
        await Assert.That(second.Name).IsNotEqualTo(first.Name);
        await using (var connection = new NpgsqlConnection(second.ConnectionString))
        {
            await connection.OpenAsync();
            await Assert.That(await CountAsync(connection, "SELECT count(*) FROM pg_namespace WHERE nspname = 'stray'")).IsEqualTo(0);
        }

        await strategy.ReleaseAsync(second, CancellationToken.None);
    }

    [Test]
    public async Task A_broken_migration_is_reported_with_its_file_line_and_sqlstate()
    {
        var folder = TempFolders.CopyOfSampleMigrations();
        try
        {
            await File.WriteAllTextAsync(
                Path.Combine(folder, "V8__broken.sql"),
                "CREATE TABLE fine (id int);\n\nCREATE TABLE broken (\n    id int,\n    name txet\n);\n");
            await using var strategy = await NewStrategyAsync(folder);

            var error = await Assert.That(async () => { await strategy.AcquireAsync(CancellationToken.None); }).Throws<TestKitException>();

            await Assert.That(error!.MigrationFile).IsEqualTo("V8__broken.sql");
            await Assert.That(error.SqlState).IsEqualTo("42704");
            await Assert.That(error.Line).IsEqualTo(5);
            await Assert.That(error.Message).Contains("V8__broken.sql line 5").And.Contains("type \"txet\" does not exist");
            await Assert.That(strategy.DatabaseCount).IsEqualTo(0);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public async Task The_strategy_drops_its_databases_when_disposed()
    {
        string name;
        await using (var strategy = await NewStrategyAsync())
        {
            var database = await strategy.AcquireAsync(CancellationToken.None);
            name = database.Name;
            await strategy.ReleaseAsync(database, CancellationToken.None);
        }

        await using var admin = await ConnectAsync("postgres");
        await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_database WHERE datname = $1", admin) { Parameters = { new() { Value = name } } };
        await Assert.That((long)(await command.ExecuteScalarAsync())!).IsEqualTo(0);
    }
}
