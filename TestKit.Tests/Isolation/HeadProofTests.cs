using Npgsql;

namespace TestKit.Tests;

/// <summary>
/// Ways a test reached the next one, found by hostile pairs of tests on one database (a pool of one, so the second test
/// gets the database the first used, wherever the strategy reuses one). Each pair runs under every strategy; the second
/// test compares everything it can see with head (the kit's full state digest) and uses its connection as a test would.
/// </summary>
[Arguments(IsolationStrategy.MigrateErase, true)]
[Arguments(IsolationStrategy.Template, true)]
[Arguments(IsolationStrategy.Reset, true)]
[Arguments(IsolationStrategy.Reset, false)]
public sealed class HeadProofTests(IsolationStrategy kind, bool verifyHead) : FaultKitTest
{
    /// <summary>The row with false resets in the background, as users get it; the others run in verification mode.</summary>
    internal override bool VerifiesHead => verifyHead;

    [Test]
    public async Task DDL_run_in_replica_mode_does_not_reach_the_next_test()
    {
        await RunFaultAsync(
            kind,
            async database =>
            {
                // Event triggers enabled the default way do not fire for a session in replica mode.
                await using var connection = await OpenAsync(database.ConnectionString);
                await ExecuteAsync(connection, """
                    SET session_replication_role = replica;
                    CREATE TABLE leak (id int);
                    ALTER TABLE customers ADD COLUMN leaked int;
                    CREATE INDEX leak_idx ON products (name);
                    ALTER TABLE orders DISABLE TRIGGER orders_log_status;
                    """);
            },
            afterNextLease: async next =>
            {
                await using var connection = await ConnectAsync(next.Name);
                await Assert.That(await CountAsync(connection, "SELECT count(*) FROM pg_class WHERE relname IN ('leak', 'leak_idx')")).IsEqualTo(0);
                await Assert.That(await CountAsync(connection, "SELECT count(*) FROM pg_trigger WHERE tgname = 'orders_log_status' AND tgenabled = 'O'")).IsEqualTo(1);
            });
    }

    [Test]
    public async Task A_sequence_set_back_to_unused_is_at_head_for_the_next_test()
    {
        await RunFaultAsync(
            kind,
            async database =>
            {
                // pg_sequence_last_value() says NULL both for the unused sequence at head and for this one.
                await using var connection = await OpenAsync(database.ConnectionString);
                await ExecuteAsync(connection, "SELECT setval(pg_get_serial_sequence('customers', 'id'), 1000, false)");
            },
            afterNextLease: async next =>
            {
                await using var connection = await ConnectAsync(next.Name);
                await Assert.That(await CountAsync(connection, "SELECT last_value FROM customers_id_seq WHERE NOT is_called")).IsEqualTo(1)
                    .Because("the next test's first customer must get id 1");
            });
    }

    [Test]
    public async Task A_session_advisory_lock_on_a_pooled_connection_neither_blocks_nor_breaks_the_next_test()
    {
        await RunFaultAsync(
            kind,
            async database =>
            {
                // Back in the pool, the session keeps its lock until Npgsql resets it at its next use.
                await using var connection = await OpenAsync(database.ConnectionString);
                await ExecuteAsync(connection, "SELECT pg_advisory_lock(1)");
            },
            afterNextLease: async next =>
            {
                // As the next test's Db would: a pooled connection of the same string, whose first command must work.
                await using var pooled = await OpenAsync(next.ConnectionString);
                await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(1)", pooled);
                await Assert.That((bool)(await command.ExecuteScalarAsync())!).IsTrue().Because("the previous test's lock must be gone");
                await ExecuteAsync(pooled, "SELECT pg_advisory_unlock(1)");
            });
    }

    [Test]
    public async Task Large_objects_do_not_reach_the_next_test()
    {
        await RunFaultAsync(
            kind,
            async database =>
            {
                await using var connection = await OpenAsync(database.ConnectionString);
                await ExecuteAsync(connection, "SELECT lo_from_bytea(0, 'x')");
            },
            afterNextLease: async next =>
            {
                await using var connection = await ConnectAsync(next.Name);
                await Assert.That(await CountAsync(connection, "SELECT count(*) FROM pg_largeobject_metadata")).IsEqualTo(0);
            });
    }

    [Test]
    public async Task A_comment_on_the_public_schema_does_not_reach_the_next_test()
    {
        await RunFaultAsync(
            kind,
            async database =>
            {
                await using var connection = await OpenAsync(database.ConnectionString);
                await ExecuteAsync(connection, "COMMENT ON SCHEMA public IS 'x'");
            },
            // The erase keeps the public schema; its check finds the comment, as it finds a privilege on it. Reset sees DDL.
            kind == IsolationStrategy.MigrateErase ? Release.Reports("comment schema public x") : Release.Cleans,
            afterNextLease: async next =>
            {
                await using var connection = await ConnectAsync(next.Name);
                await Assert.That(await CountAsync(connection, "SELECT count(*) FROM pg_description WHERE objoid = 'public'::regnamespace AND description = 'x'")).IsEqualTo(0);
            });
    }

    [Test]
    public async Task A_connection_on_a_derived_connection_string_works_in_the_next_test()
    {
        await RunFaultAsync(
            kind,
            async database =>
            {
                // A pool of its own, which the kit cannot name: common when a test needs a longer timeout.
                await using var connection = await OpenAsync(Derived(database.ConnectionString));
                await ExecuteAsync(connection, "INSERT INTO customers (name, email, country_code) VALUES ('Ann', 'ann@example.com', 'DE')");
            },
            afterNextLease: async next =>
            {
                await using var connection = await OpenAsync(Derived(next.ConnectionString));
                if (kind == IsolationStrategy.MigrateErase)
                {
                    // A stated limit: migrate-erase creates the schema anew for every test, and a pool the kit cannot name keeps
                    // the types Npgsql loaded at its first connection; the enum's new OID is known once that pool reloads them.
                    await connection.ReloadTypesAsync();
                }

                await using var command = new NpgsqlCommand("SELECT (SELECT count(*)::int FROM customers), 'paid'::order_status", connection);
                await using var reader = await command.ExecuteReaderAsync();
                await reader.ReadAsync();
                await Assert.That(reader.GetInt32(0)).IsEqualTo(0);
                await Assert.That(reader.GetFieldValue<string>(1)).IsEqualTo("paid");
            });
    }

    [Test]
    public async Task An_undefined_placeholder_fails_the_first_test_with_its_name_and_file()
    {
        var folder = TempFolders.CopyOfSampleMigrations();
        try
        {
            await File.WriteAllTextAsync(Path.Combine(folder, "V8__owners.sql"), "CREATE TABLE owners (name text);\nINSERT INTO owners VALUES ('${owner_name}');\n");
            var server = await ServerAsync();
            var options = new TestKitOptions { ConnectionString = server.ConnectionStringFor("postgres").ConnectionString, MigrationFolders = [folder], Isolation = kind, MaxDatabases = 1 };
            var reported = await Assert.That(async () => await TestDatabases.StartAsync(options)).Throws<TestKitException>();
            await Assert.That(reported!.Message).Contains("${owner_name}").And.Contains("V8__owners.sql").And.Contains("Placeholders");
            await Assert.That(reported.MigrationFile).IsEqualTo("V8__owners.sql");
            await Assert.That(reported.Line).IsEqualTo(2);

            // Defined, it is replaced in the literal, as Evolve does.
            await using var databases = await TestDatabases.StartAsync(options with { Placeholders = new Dictionary<string, string> { ["owner_name"] = "Ann" } });
            await using var lease = await databases.LeaseAsync();
            await using var connection = await OpenAsync(new NpgsqlConnectionStringBuilder(lease.ConnectionString) { Pooling = false }.ConnectionString);
            await Assert.That(await CountAsync(connection, "SELECT count(*) FROM owners WHERE name = 'Ann'")).IsEqualTo(1);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static string Derived(string connectionString) => new NpgsqlConnectionStringBuilder(connectionString) { CommandTimeout = 30 }.ConnectionString;
}
