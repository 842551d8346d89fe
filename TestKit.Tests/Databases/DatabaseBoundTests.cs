using Npgsql;

namespace TestKit.Tests;

/// <summary>
/// The two bounds on the kit's databases, as the README states them, on a server of the test's own (so that only these
/// sessions' databases are on it): <c>MaxDatabases</c> bounds one session's (one <see cref="TestDatabases"/>, or the
/// <c>DatabaseTest</c> classes of one test run), each session on its own; <c>ServerMaxDatabases</c> bounds every
/// session's on the server together, across processes.
/// </summary>
public sealed class DatabaseBoundTests
{
    /// <summary>Long enough for a lease that the bound lets through to complete many times over (about 100 ms here).</summary>
    private static readonly TimeSpan Held = TimeSpan.FromSeconds(2);

    [Test]
    [Timeout(300_000)]
    public async Task MaxDatabases_bounds_each_session_on_its_own(CancellationToken cancellationToken)
    {
        await using var server = await EmbeddedServer.StartAsync(KitTest.BinDirectory, keepIdle: null, logger: null, cancellationToken);
        var options = OptionsFor(server, serverMaxDatabases: null);
        await using var first = await TestDatabases.StartAsync(options, cancellationToken);
        await using var second = await TestDatabases.StartAsync(options, cancellationToken);
        var firstLeases = new[] { await first.LeaseAsync(cancellationToken), await first.LeaseAsync(cancellationToken) };
        var secondLeases = new[] { await second.LeaseAsync(cancellationToken), await second.LeaseAsync(cancellationToken) };
        await Assert.That(await KitDatabasesAsync(server, cancellationToken)).IsEqualTo(4).Because("each session holds its own two");

        var third = first.LeaseAsync(cancellationToken);
        await Assert.That(await CompletesWithinAsync(third, Held)).IsFalse().Because("the first session holds its two already");
        await secondLeases[0].DisposeAsync();
        await Assert.That(await CompletesWithinAsync(third, Held)).IsFalse().Because("another session's database is not this session's to take");
        await firstLeases[0].DisposeAsync();
        await using (await third)
        {
            await Assert.That(await KitDatabasesAsync(server, cancellationToken)).IsLessThanOrEqualTo(4);
        }

        await firstLeases[1].DisposeAsync();
        await secondLeases[1].DisposeAsync();
    }

    [Test]
    [Timeout(300_000)]
    public async Task ServerMaxDatabases_bounds_every_process_on_the_server_together(CancellationToken cancellationToken)
    {
        await using var server = await EmbeddedServer.StartAsync(KitTest.BinDirectory, keepIdle: null, logger: null, cancellationToken);
        const int cap = 3;
        await using var victim = await RunningVictim.StartAsync(
            ["--server", "shared", "--migrations", TempFolders.SampleMigrations, "--databases", "2", "--server-max-databases", $"{cap}"],
            server.ConnectionStringFor("postgres").ConnectionString,
            cancellationToken);
        using var stop = new CancellationTokenSource();
        var monitor = MonitorPeakAsync(server, stop.Token);
        await using var ours = await TestDatabases.StartAsync(OptionsFor(server, serverMaxDatabases: cap), cancellationToken);

        var one = await ours.LeaseAsync(cancellationToken);
        var two = ours.LeaseAsync(cancellationToken);
        await Assert.That(await CompletesWithinAsync(two, Held)).IsFalse().Because("the other process holds two of the three slots, and this one the third");

        // The other process ends normally: it drops its databases and lets go of their slots.
        await victim.EndAsync();
        await using (await two)
        {
            await Assert.That(await KitDatabasesAsync(server, cancellationToken)).IsEqualTo(2);
        }

        await one.DisposeAsync();
        await stop.CancelAsync();
        await Assert.That(await monitor).IsEqualTo(cap).Because("never more kit databases on the server than its cap, over both processes");
    }

    /// <summary>Two databases per session, migrate-erase, on <paramref name="server"/>.</summary>
    private static TestKitOptions OptionsFor(EmbeddedServer server, int? serverMaxDatabases) => new()
    {
        ConnectionString = server.ConnectionStringFor("postgres").ConnectionString,
        MigrationFolders = [TempFolders.SampleMigrations],
        Isolation = IsolationStrategy.MigrateErase,
        MaxDatabases = 2,
        ServerMaxDatabases = serverMaxDatabases,
    };

    private static async Task<bool> CompletesWithinAsync(Task<DatabaseLease> lease, TimeSpan wait) =>
        await Task.WhenAny(lease, Task.Delay(wait)) == lease;

    private static async Task<long> KitDatabasesAsync(EmbeddedServer server, CancellationToken cancellationToken)
    {
        await using var admin = await server.Admin.OpenConnectionAsync(cancellationToken);
        return await KitTest.CountAsync(admin, KitDatabases);
    }

    /// <summary>The most kit databases the server had at once while <paramref name="stop"/> was not cancelled.</summary>
    private static async Task<long> MonitorPeakAsync(EmbeddedServer server, CancellationToken stop)
    {
        await using var admin = await server.Admin.OpenConnectionAsync(CancellationToken.None);
        await using var command = new NpgsqlCommand(KitDatabases, admin);
        long peak = 0;
        while (!stop.IsCancellationRequested)
        {
            peak = Math.Max(peak, (long)(await command.ExecuteScalarAsync(CancellationToken.None))!);
            await Task.Delay(TimeSpan.FromMilliseconds(2), CancellationToken.None);
        }

        return peak;
    }

    private const string KitDatabases = "SELECT count(*) FROM pg_database WHERE datname LIKE 'testkit\\_%'";
}
