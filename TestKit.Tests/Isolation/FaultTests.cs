using LinqToDB;
using LinqToDB.Data;
using Npgsql;
using Sql = TestKit.Server.Sql;

namespace TestKit.Tests;

/// <summary>
/// Whatever a test does to its database, the next test starts at exactly head, and nothing of the kit is
/// left once the strategy is disposed. Each test plays "a test that misbehaves" on a lease of a strategy of
/// its own (a pool of one, so that the next lease is the same database wherever the strategy reuses one),
/// then plays "the next test". Each reusing strategy also runs with IsolateLeftoverClients (a new connection string
/// per lease: migrate-erase renames, reset changes its login's password), and reset also as users get it: in the
/// background, outside verification mode.
/// </summary>
[Arguments(IsolationStrategy.MigrateErase, Leftovers.ShareTheConnectionString, true)]
[Arguments(IsolationStrategy.Template, Leftovers.ShareTheConnectionString, true)]
[Arguments(IsolationStrategy.Reset, Leftovers.ShareTheConnectionString, true)]
[Arguments(IsolationStrategy.MigrateErase, Leftovers.Isolated, true)]
[Arguments(IsolationStrategy.Reset, Leftovers.Isolated, true)]
[Arguments(IsolationStrategy.Reset, Leftovers.ShareTheConnectionString, false)]
[Arguments(IsolationStrategy.Reset, Leftovers.Isolated, false)]
public sealed class FaultTests(IsolationStrategy kind, Leftovers leftovers, bool verifyHead) : FaultKitTest
{
    /// <summary>The rows with false reset in the background, as users get it; the others in verification mode.</summary>
    internal override bool VerifiesHead => verifyHead;

    /// <summary>Names the strategy in the test's output: the test's name alone does not say which one failed.</summary>
    [Before(Test)]
    public void NameTheStrategy() => TestContext.Current?.Output.WriteLine($"strategy: {kind}, leftovers: {leftovers}, verify head: {verifyHead}");

    [Test]
    public async Task A_test_that_threw_in_the_middle_of_reading_a_result_leaves_the_next_test_at_head()
    {
        await RunFaultAsync(async database =>
        {
            var connection = await OpenAsync(database.ConnectionString);
            await ExecuteAsync(connection, "INSERT INTO customers (name, email, country_code) VALUES ('Ann', 'ann@example.com', 'DE')");
            await using var command = new NpgsqlCommand("SELECT g FROM generate_series(1, 200000) g", connection);
            var reader = await command.ExecuteReaderAsync();
            await reader.ReadAsync();
            // The test throws here: neither the reader nor the connection is disposed.
        });
    }

    [Test]
    public async Task A_test_that_left_a_transaction_open_on_the_migration_table_leaves_the_next_test_at_head()
    {
        NpgsqlConnection? leftOpen = null;
        await RunFaultAsync(async database =>
        {
            leftOpen = await OpenAsync(database.ConnectionString);
            var transaction = await leftOpen.BeginTransactionAsync();
            await ExecuteAsync(leftOpen, "SELECT pg_advisory_lock(12345)");
            await ExecuteAsync(leftOpen, "INSERT INTO products (sku, name, unit_price) VALUES ('TEA', 'Tea', 1.50)");
            await ExecuteAsync(leftOpen, "UPDATE countries SET name = 'Deutschland' WHERE code = 'DE'");
            // Evolve's own table and a referenced table locked: an erase that waited for them would never end.
            await ExecuteAsync(leftOpen, "LOCK TABLE changelog, countries IN ACCESS EXCLUSIVE MODE");
            _ = transaction;
        });
        await DisposeLeftoverAsync(leftOpen!);
    }

    [Test]
    public async Task A_test_that_never_disposed_its_connections_leaves_the_next_test_at_head()
    {
        var leaked = new List<IAsyncDisposable>();
        await RunFaultAsync(async database =>
        {
            for (var i = 0; i < 3; i++)
            {
                var connection = await OpenAsync(database.ConnectionString);
                await ExecuteAsync(connection, $"INSERT INTO customers (name, email, country_code) VALUES ('C{i}', 'c{i}@example.com', 'FR')");
                leaked.Add(connection);
            }

            var inTransaction = await OpenAsync(database.ConnectionString);
            await inTransaction.BeginTransactionAsync();
            await ExecuteAsync(inTransaction, "DELETE FROM countries WHERE code = 'US'");
            leaked.Add(inTransaction);

            var db = new DataConnection(new DataOptions().UsePostgreSQL(database.ConnectionString));
            await db.ExecuteAsync("INSERT INTO products (sku, name, unit_price) VALUES ('MUG', 'Mug', 4.00)");
            leaked.Add(db);
        });

        foreach (var connection in leaked)
        {
            await DisposeLeftoverAsync(connection);
        }
    }

    [Test]
    public async Task A_test_that_opened_twenty_connections_leaves_the_next_test_at_head()
    {
        var opened = new List<NpgsqlConnection>();
        var running = new List<Task>();
        await RunFaultAsync(async database =>
        {
            for (var i = 0; i < 20; i++)
            {
                var connection = await OpenAsync(database.ConnectionString);
                opened.Add(connection);
                switch (i % 4)
                {
                    case 0:
                        await ExecuteAsync(connection, $"INSERT INTO customers (name, email, country_code) VALUES ('C{i}', 'c{i}@example.com', 'GB')");
                        break;
                    case 1:
                        // Idle in a transaction; the first also holds an uncommitted write.
                        await connection.BeginTransactionAsync();
                        await ExecuteAsync(connection, i == 1 ? "INSERT INTO products (sku, name, unit_price) VALUES ('SKU1', 'P1', 1)" : "SELECT count(*) FROM products");
                        break;
                    case 2:
                        // Still running when the test ends.
                        running.Add(ExecuteAsync(connection, "SELECT pg_sleep(30)"));
                        break;
                    default:
                        break;
                }
            }
        });

        // Every statement still running was ended, by the reset or erase of its database, or by its drop: none runs on.
        foreach (var statement in running)
        {
            await Assert.That(async () => await statement).Throws<NpgsqlException>();
        }

        foreach (var connection in opened)
        {
            await DisposeLeftoverAsync(connection);
        }
    }

    [Test]
    public async Task A_test_that_terminated_its_own_backend_leaves_the_next_test_at_head()
    {
        await RunFaultAsync(async database =>
        {
            // Returned to the pool first, so that the pool holds a session of the test's.
            await using (var pooled = await OpenAsync(database.ConnectionString))
            {
                await ExecuteAsync(pooled, "INSERT INTO customers (name, email, country_code) VALUES ('Ann', 'ann@example.com', 'DE')");
            }

            await using var connection = await OpenAsync(database.ConnectionString);
            await Assert.That(async () => await ExecuteAsync(connection, "SELECT pg_terminate_backend(pg_backend_pid())")).Throws<NpgsqlException>();
        });
    }

    [Test]
    public async Task A_test_that_terminated_every_other_backend_on_its_database_including_the_kits_leaves_the_next_test_at_head()
    {
        await RunFaultAsync(async database =>
        {
            // A session of the test's own goes back to the pool: the kill below ends it too.
            await using (var pooled = await OpenAsync(database.ConnectionString))
            {
                await ExecuteAsync(pooled, "INSERT INTO customers (name, email, country_code) VALUES ('Ann', 'ann@example.com', 'DE')");
            }

            var killer = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Pooling = false }.ConnectionString;
            await using var connection = await OpenAsync(killer);
            var killed = await CountAsync(
                connection,
                "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()) t");
            await Assert.That(killed).IsGreaterThanOrEqualTo(1);
            await ExecuteAsync(connection, "INSERT INTO products (sku, name, unit_price) VALUES ('TEA', 'Tea', 1.50)");
        });
    }

    [Test]
    public async Task A_test_that_dropped_the_public_schema_leaves_the_next_test_at_head()
    {
        await RunFaultAsync(
            async database =>
            {
                await using var connection = await OpenAsync(database.ConnectionString);
                await ExecuteAsync(connection, "DROP SCHEMA public CASCADE");
            },
            kind == IsolationStrategy.MigrateErase ? Release.Reports("differs from its empty baseline") : Release.Cleans);
    }

    [Test]
    public async Task A_test_that_ran_DDL_in_new_and_existing_schemas_leaves_the_next_test_at_head()
    {
        await RunFaultAsync(
            async database =>
            {
                await using var connection = await OpenAsync(database.ConnectionString);
                await ExecuteAsync(connection, """
                    CREATE TABLE scratch (id int PRIMARY KEY, payload text);
                    INSERT INTO scratch VALUES (1, 'x');
                    ALTER TABLE customers DROP COLUMN created_at;
                    ALTER TABLE orders DISABLE TRIGGER orders_log_status;
                    CREATE FUNCTION public.helper() RETURNS int LANGUAGE sql AS 'SELECT 1';
                    CREATE TEMP TABLE temporary_rows AS SELECT * FROM countries;
                    TRUNCATE countries CASCADE;
                    """);
            });
    }

    [Test]
    public async Task A_test_that_changed_session_settings_leaves_the_next_test_at_head()
    {
        await WithRoleAsync("fault_role_", role => RunFaultAsync(async database =>
        {
            // Every session goes back to the pool with its settings changed, as a test's Db would.
            await using (var connection = await OpenAsync(database.ConnectionString))
            {
                await ExecuteAsync(connection, "SET search_path = pg_catalog");
                await ExecuteAsync(connection, "SELECT set_config('search_path', 'nowhere', false)");
                await ExecuteAsync(connection, "SET default_transaction_read_only = on");
            }

            await using (var connection = await OpenAsync(database.ConnectionString))
            {
                // Replica mode skips foreign keys and user triggers: an order line without its order, no status log.
                await ExecuteAsync(connection, """
                    SET session_replication_role = replica;
                    INSERT INTO order_lines (order_id, line_no, product_id, quantity, unit_price) VALUES (4711, 1, 4711, 1, 1);
                    INSERT INTO customers (name, email, country_code) VALUES ('Replica', 'replica@example.com', 'ZZ');
                    INSERT INTO orders (customer_id) VALUES (4711);
                    UPDATE countries SET name = 'Replica' WHERE code = 'FR';
                    """);
            }

            await using (var connection = await OpenAsync(database.ConnectionString))
            {
                await ExecuteAsync(connection, $"SET ROLE {Sql.Quote(role)}");
            }
        }));
    }

    [Test]
    public async Task A_test_that_switched_to_an_application_role_can_write_and_leaves_the_next_test_at_head()
    {
        await WithRoleAsync("fault_app_", role => RunFaultAsync(async database =>
        {
            await using var connection = await OpenAsync(database.ConnectionString);
            // What applications do: run as a role with only the rights it needs.
            await ExecuteAsync(connection, $"GRANT SELECT, INSERT ON customers TO {Sql.Quote(role)}");
            await ExecuteAsync(connection, $"SET ROLE {Sql.Quote(role)}");
            await ExecuteAsync(connection, "INSERT INTO customers (name, email, country_code) VALUES ('App', 'app@example.com', 'DE')");
            await Assert.That(await CountAsync(connection, "SELECT count(*) FROM customers")).IsEqualTo(1);
        }));
    }

    [Test]
    public async Task A_test_that_switched_to_an_application_role_can_create_a_temporary_table()
    {
        await WithRoleAsync("fault_temp_", role => RunFaultAsync(async database =>
        {
            await using var connection = await OpenAsync(database.ConnectionString);
            // Every role may create temporary tables (TEMP is granted to PUBLIC): DDL that a kit's event trigger also sees.
            await ExecuteAsync(connection, $"SET ROLE {Sql.Quote(role)}");
            await ExecuteAsync(connection, "CREATE TEMP TABLE scratch (id int)");
        }));
    }

    [Test]
    public async Task A_test_that_granted_privileges_on_the_public_schema_leaves_the_next_test_at_head()
    {
        await WithRoleAsync("fault_grantee_", role => RunFaultAsync(async database =>
        {
            await using var connection = await OpenAsync(database.ConnectionString);
            await ExecuteAsync(connection, $"GRANT CREATE ON SCHEMA public TO {Sql.Quote(role)}");
            await ExecuteAsync(connection, $"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO {Sql.Quote(role)}");
        },
        // Privileges of a schema the erase keeps: migrate-erase's check finds them; reset sees DDL and replaces the database.
        kind == IsolationStrategy.MigrateErase ? Release.Reports("differs from its empty baseline") : Release.Cleans));
    }

    [Test]
    public async Task A_test_that_altered_its_own_database_leaves_the_next_test_at_head()
    {
        await RunFaultAsync(
            async database =>
            {
                // Neither is a setting (pg_db_role_setting) nor DDL an event trigger sees; superusers ignore the limit,
                // nobody ignores ALLOW_CONNECTIONS (which a session may not set on its own database: the test does it from the maintenance one).
                await using var connection = await OpenAsync(new NpgsqlConnectionStringBuilder(database.ConnectionString) { Database = "postgres", Pooling = false }.ConnectionString);
                await ExecuteAsync(connection, $"ALTER DATABASE {Sql.Quote(database.Name)} CONNECTION LIMIT 1");
                await ExecuteAsync(connection, $"ALTER DATABASE {Sql.Quote(database.Name)} ALLOW_CONNECTIONS false");
            },
            // migrate-erase checks the database's own row against its baseline; reset replaces the database.
            kind == IsolationStrategy.MigrateErase ? Release.Reports() : Release.Cleans);
    }

    [Test]
    public async Task A_test_that_overwrote_its_database_comment_leaves_the_next_test_at_head_and_no_database_behind()
    {
        await RunFaultAsync(
            async database =>
            {
                await using var connection = await OpenAsync(database.ConnectionString);
                await ExecuteAsync(connection, $"COMMENT ON DATABASE {Sql.Quote(database.Name)} IS 'my test database'");
            },
            kind == IsolationStrategy.MigrateErase ? Release.Reports("differs from its empty baseline") : Release.Cleans);
    }

    [Test]
    public async Task A_statement_still_running_after_the_test_never_commits_into_the_next_test()
    {
        Task? abandoned = null;
        await RunFaultAsync(async database =>
        {
            var connection = await OpenAsync(database.ConnectionString);
            // As a test that timed out leaves it: the statement runs on, and would commit after the test ended.
            abandoned = ExecuteAsync(connection, "SELECT pg_sleep(1); INSERT INTO customers (name, email, country_code) VALUES ('Late', 'late@example.com', 'DE')");
            await using var admin = await ConnectAsync("postgres");
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            while (await CountAsync(admin, "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND state = 'active' AND query LIKE 'SELECT pg_sleep(1)%'", database.Name) == 0
                && DateTime.UtcNow < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(5));
            }
        },
        afterNextLease: async _ =>
        {
            if (kind == IsolationStrategy.Template)
            {
                // The old clone is no test's any more: the statement may end with its drop, or commit into it first.
                try
                {
                    await abandoned!;
                }
                catch (NpgsqlException e)
                {
                    TestContext.Current?.Output.WriteLine($"the abandoned statement ended with: {e.Message}");
                }
            }
            else
            {
                // A reused database: the kit must have ended the statement before it could commit.
                await Assert.That(async () => await abandoned!).Throws<NpgsqlException>();
            }
        });
    }

    [Test]
    public async Task Two_connections_of_one_test_writing_one_table_at_once_do_not_block_each_other()
    {
        await using var own = await NewOwnStrategyAsync(kind, leftovers: leftovers);
        var database = await own.Strategy.AcquireAsync(CancellationToken.None);
        var withTimeout = new NpgsqlConnectionStringBuilder(database.ConnectionString) { CommandTimeout = 10 }.ConnectionString;
        await using (var first = await OpenAsync(withTimeout))
        await using (var second = await OpenAsync(withTimeout))
        {
            // A test that checks what another session sees while its transaction is open, the usual shape of a concurrency test.
            await using var transaction = await first.BeginTransactionAsync();
            await ExecuteAsync(first, "INSERT INTO customers (name, email, country_code) VALUES ('First', 'first@example.com', 'DE')");
            await ExecuteAsync(second, "INSERT INTO customers (name, email, country_code) VALUES ('Second', 'second@example.com', 'DE')");
            await transaction.CommitAsync();
            await Assert.That(await CountAsync(second, "SELECT count(*) FROM customers")).IsEqualTo(2);
        }

        await own.Strategy.ReleaseAsync(database, CancellationToken.None);
        await own.DisposeAsync();
        await AssertNothingLeftAsync(own.Catalog);
    }

    [Test]
    public async Task Connections_tests_never_closed_do_not_pile_up_across_tests()
    {
        var leaked = new List<NpgsqlConnection>();
        var leakedBackends = new List<int>();
        await using var own = await NewOwnStrategyAsync(kind, leftovers: leftovers);
        try
        {
            PooledDatabase database;
            for (var round = 0; round < 3; round++)
            {
                database = await own.Strategy.AcquireAsync(CancellationToken.None);
                for (var i = 0; i < 15; i++)
                {
                    var connection = await OpenAsync(database.ConnectionString);
                    await ExecuteAsync(connection, "SELECT 1");
                    leaked.Add(connection);
                    leakedBackends.Add(connection.ProcessID);
                }

                await own.Strategy.ReleaseAsync(database, CancellationToken.None);
            }

            database = await own.Strategy.AcquireAsync(CancellationToken.None);
            await using (var admin = await ConnectAsync("postgres"))
            {
                // The kit may keep one connection of its own open ahead of the test (the next test's first connection);
                // what must be gone are the backends of the connections the earlier tests left open.
                await using var command = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1)", admin);
                command.Parameters.Add(new NpgsqlParameter { Value = leakedBackends.ToArray() });
                var sessions = (long)(await command.ExecuteScalarAsync())!;
                await Assert.That(sessions).IsEqualTo(0).Because("sessions earlier tests never closed must not hold connection slots in later tests");
            }

            await own.Strategy.ReleaseAsync(database, CancellationToken.None);
        }
        finally
        {
            foreach (var connection in leaked)
            {
                await DisposeLeftoverAsync(connection);
            }
        }

        await own.DisposeAsync();
        await AssertNothingLeftAsync(own.Catalog);
    }

    private Task<List<string>> RunFaultAsync(Func<PooledDatabase, Task> fault, Release? release = null, Func<PooledDatabase, Task>? afterNextLease = null) =>
        RunFaultAsync(kind, fault, release, afterNextLease, leftovers);

    /// <summary>Runs <paramref name="body"/> with a new NOLOGIN role (named with <paramref name="prefix"/>), dropped after it.</summary>
    private async Task WithRoleAsync(string prefix, Func<string, Task> body)
    {
        var role = prefix + Guid.NewGuid().ToString("N")[..8];
        await using var admin = await ConnectAsync("postgres");
        await ExecuteAsync(admin, $"CREATE ROLE {Sql.Quote(role)} NOLOGIN");
        try
        {
            await body(role);
        }
        finally
        {
            await ExecuteAsync(admin, $"DROP ROLE IF EXISTS {Sql.Quote(role)}");
        }
    }
}
