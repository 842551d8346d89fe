using Npgsql;

namespace TestKit.Tests;

/// <summary>Options set in code reach Evolve and the strategies: schemas, placeholders, keeping a failed test's database.</summary>
[Arguments(IsolationStrategy.MigrateErase)]
[Arguments(IsolationStrategy.Template)]
[Arguments(IsolationStrategy.Reset)]
public sealed class OptionsTests(IsolationStrategy strategy) : KitTest
{
    [Test]
    public async Task Schemas_and_placeholders_are_passed_to_Evolve_and_erased_or_reset()
    {
        var folder = TempFolders.Create();
        try
        {
            await File.WriteAllTextAsync(Path.Combine(folder, "V1__orders.sql"), "CREATE TABLE sales.${table} (id int PRIMARY KEY);");
            await File.WriteAllTextAsync(Path.Combine(folder, "V2__audit.sql"), "CREATE TABLE audit.events (id int);");
            var options = OptionsResolver.FromEnvironment(new TestKitOptions
            {
                MigrationFolders = [folder],
                Schemas = ["sales", "audit"],
                Placeholders = new Dictionary<string, string> { ["table"] = "orders" },
                Isolation = strategy,
                MaxDatabases = 1,
            });

            for (var round = 1; round <= 2; round++)
            {
                var lease = await Session.Broker.AcquireAsync(options, CancellationToken.None);
                await using (var connection = new NpgsqlConnection(lease.ConnectionString))
                {
                    await connection.OpenAsync();
                    await Assert.That(await CountAsync(connection, "SELECT count(*) FROM sales.orders")).IsEqualTo(0);
                    await ExecuteAsync(connection, "INSERT INTO sales.orders VALUES (1); INSERT INTO audit.events VALUES (1)");
                }

                await lease.ReleaseAsync(CancellationToken.None);
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public async Task A_kept_database_is_renamed_after_the_test_and_survives_the_session()
    {
        var server = await ServerAsync();
        var options = OptionsResolver.FromEnvironment(new TestKitOptions
        {
            // A broker of the test's own, on the same server as an external one: keeping a database there
            // does not keep the session's embedded server alive.
            ConnectionString = server.ConnectionStringFor("postgres").ConnectionString,
            Isolation = strategy,
            KeepFailedDatabases = true,
        });
        string kept;
        await using (var broker = new SessionBroker())
        {
            var lease = await broker.AcquireAsync(options, CancellationToken.None);
            await using (var connection = new NpgsqlConnection(lease.ConnectionString))
            {
                await connection.OpenAsync();
                await ExecuteAsync(connection, "INSERT INTO customers (name, email, country_code) VALUES ('Evidence', 'e@example.com', 'US')");
            }

            var result = await lease.KeepAsync($"Checkout fails ({strategy})", CancellationToken.None);
            kept = result.Name;
            await Assert.That(kept).StartsWith($"testkit_failed_checkout_fails_{strategy.ToString().ToLowerInvariant()}");
            await Assert.That(result.PsqlCommand).Contains($"dbname={kept}").And.DoesNotContain(server.ConnectionStringFor("postgres").Password!);
            await Assert.That(broker.Kept.Select(database => database.Name)).Contains(kept);
        }

        try
        {
            await using var evidence = await ConnectAsync(kept);
            await Assert.That(await CountAsync(evidence, "SELECT count(*) FROM customers WHERE name = 'Evidence'")).IsEqualTo(1);
        }
        finally
        {
            await using var admin = await ConnectAsync("postgres");
            await ExecuteAsync(admin, $"DROP DATABASE IF EXISTS \"{kept}\" WITH (FORCE)");
        }
    }
}
