using Npgsql;

namespace TestKit.Tests;

/// <summary>
/// MaxDatabases bounds the kit's databases, and so its connections, over the whole run: every pool (one per distinct
/// seed set, strategy and settings) and the template strategy's warm clones. Twelve classes with twelve different seeds
/// run against a server that allows 30 connections: no "too many clients", and the peak stays within the README's sizing,
/// <c>MaxDatabases x (1 + connections a test holds) + 6</c>.
/// </summary>
[Arguments(IsolationStrategy.MigrateErase)]
[Arguments(IsolationStrategy.Template)]
[Arguments(IsolationStrategy.Reset)]
public sealed class ConnectionBudgetTests(IsolationStrategy kind) : KitTest
{
    private const int Classes = 12;
    private const int TestsPerClass = 3;
    private const int Parallel = 8;
    private const int MaxDatabases = 4;

    /// <summary>The kit's own connections beyond one per database: admin pool (3), lock session (1), a build or first migration (2).</summary>
    private const int KitOverhead = KitConnections.AdminPoolSize + 3;

    [Test]
    [Timeout(300_000)]
    public async Task Twelve_differently_seeded_classes_stay_within_the_connection_budget_of_a_30_connection_server(CancellationToken cancellationToken)
    {
        await using var server = await EmbeddedServer.StartAsync(KitTest.BinDirectory, keepIdle: null, logger: null, cancellationToken);
        await using (var admin = await server.Admin.OpenConnectionAsync(cancellationToken))
        {
            await ExecuteAsync(admin, "ALTER SYSTEM SET max_connections = 30");
        }

        await FaultServerTests.RestartAsync(server, "fast", cancellationToken);
        var seeds = TempFolders.Create();
        try
        {
            var classes = Enumerable.Range(1, Classes).Select(i => ClassOptions(server, seeds, i)).ToList();
            using var stop = new CancellationTokenSource();
            var monitor = MonitorPeakAsync(server, stop.Token);
            await using (var broker = new SessionBroker())
            {
                using var parallel = new SemaphoreSlim(Parallel);
                var tests = classes.SelectMany((options, index) => Enumerable.Range(0, TestsPerClass).Select(_ => PlayTestAsync(broker, options, index + 1, parallel, cancellationToken)));
                await Task.WhenAll(tests);
            }

            await stop.CancelAsync();
            var peak = await monitor;
            // Each test holds one connection at a time (its Db); the monitor's own session is not counted.
            var budget = MaxDatabases * (1 + 1) + KitOverhead;
            TestContext.Current?.Output.WriteLine($"{kind}: peak {peak} client connections, budget {budget}, server limit 30");
            await Assert.That(peak).IsLessThanOrEqualTo(budget).Because("the README's sizing must hold whatever the number of pools");
        }
        finally
        {
            Directory.Delete(seeds, recursive: true);
        }
    }

    /// <summary>A class's options: the test server, its own seed file, the strategy under test, four databases.</summary>
    private ResolvedOptions ClassOptions(EmbeddedServer server, string seeds, int index)
    {
        var seed = Path.Combine(seeds, $"seed_{index:D2}.sql");
        File.WriteAllText(seed, $"INSERT INTO customers (name, email, country_code) VALUES ('Seed {index}', 'seed{index}@example.com', 'DE');\n");
        return OptionsResolver.FromEnvironment(new TestKitOptions
        {
            ConnectionString = server.ConnectionStringFor("postgres").ConnectionString,
            MigrationFolders = [TempFolders.SampleMigrations],
            SeedFiles = [seed],
            Isolation = kind,
            MaxDatabases = MaxDatabases,
        });
    }

    /// <summary>One test of class <paramref name="index"/>: it sees its own seed only, through a pooled connection as Db would.</summary>
    private static async Task PlayTestAsync(SessionBroker broker, ResolvedOptions options, int index, SemaphoreSlim parallel, CancellationToken cancellationToken)
    {
        await parallel.WaitAsync(cancellationToken);
        try
        {
            var lease = await broker.AcquireAsync(options, cancellationToken);
            try
            {
                await using var connection = await lease.DataSource.OpenConnectionAsync(cancellationToken);
                await Assert.That(await CountAsync(connection, "SELECT count(*) FROM customers WHERE email = $1", $"seed{index}@example.com")).IsEqualTo(1);
                await Assert.That(await CountAsync(connection, "SELECT count(*) FROM customers")).IsEqualTo(1);
            }
            finally
            {
                await lease.ReleaseAsync(cancellationToken);
            }
        }
        finally
        {
            parallel.Release();
        }
    }

    /// <summary>The most client connections the server had at once while <paramref name="stop"/> was not cancelled, polled on a connection of its own.</summary>
    private static async Task<long> MonitorPeakAsync(EmbeddedServer server, CancellationToken stop)
    {
        var builder = server.ConnectionStringFor("postgres");
        builder.Pooling = false;
        builder.ApplicationName = "budget-monitor";
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync(CancellationToken.None);
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FROM pg_stat_get_activity(NULL) WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()", connection);
        long peak = 0;
        while (!stop.IsCancellationRequested)
        {
            peak = Math.Max(peak, (long)(await command.ExecuteScalarAsync(CancellationToken.None))!);
            // A sample every few milliseconds, not a busy loop: the machine has two cores, and the run needs them.
            await Task.Delay(TimeSpan.FromMilliseconds(2), CancellationToken.None);
        }

        return peak;
    }
}
