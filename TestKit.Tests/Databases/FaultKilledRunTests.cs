using System.Diagnostics;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Npgsql;
using TestKit.Victim;

namespace TestKit.Tests;

/// <summary>
/// A run really killed with SIGKILL: a victim process (TestKit.Tests/Victim) leases databases, reports what it holds,
/// and is killed; the next run must sweep what it left, and only that.
/// </summary>
public sealed class FaultKilledRunTests : FaultKitTest
{
    private static readonly TimeSpan SessionsDeadline = TimeSpan.FromSeconds(30);

    [Test]
    [Timeout(300_000)]
    public async Task The_databases_of_a_killed_run_are_swept_by_the_next_run_and_a_live_runs_are_left(CancellationToken cancellationToken)
    {
        var connectionString = (await ServerAsync()).ConnectionStringFor("postgres").ConnectionString;
        await using var admin = await ConnectAsync("postgres");
        RunningVictim? dead = null;
        RunningVictim? live = null;
        try
        {
            dead = await RunningVictim.StartAsync(SharedServer(databases: 2), connectionString, cancellationToken);
            live = await RunningVictim.StartAsync(SharedServer(databases: 2), connectionString, cancellationToken);
            await Assert.That(await CountDatabasesAsync(admin, dead.Report)).IsEqualTo(2);
            await dead.KillAsync();
            await WaitUntilNoSessionAsync(admin, dead.Report);

            // A new run starts on the same server, as the next `make test` after a killed one would.
            var options = OptionsResolver.FromEnvironment(new TestKitOptions { ConnectionString = connectionString, MaxDatabases = 1 });
            await using (var broker = new SessionBroker())
            {
                var lease = await broker.AcquireAsync(options, cancellationToken);
                await lease.ReleaseAsync(cancellationToken);
            }

            await Assert.That(await CountDatabasesAsync(admin, dead.Report)).IsEqualTo(0).Because("the databases of a run killed by SIGKILL are orphans and must be dropped");
            await Assert.That(await CountDatabasesAsync(admin, live.Report)).IsEqualTo(2).Because("a live run's databases are not orphans");
        }
        finally
        {
            await DisposeAndDropAsync(admin, live, dead);
        }
    }

    [Test]
    [Timeout(300_000)]
    public async Task A_run_on_another_host_is_swept_once_it_is_killed_and_not_while_it_lives(CancellationToken cancellationToken)
    {
        var server = await ServerAsync();
        var otherHost = "testkit-other-host-" + RandomNumberGenerator.GetHexString(8, lowercase: true);
        await using var admin = await ConnectAsync("postgres");
        RunningVictim? victim = null;
        try
        {
            victim = await RunningVictim.StartAsync(SharedServer(databases: 1), server.ConnectionStringFor("postgres").ConnectionString, cancellationToken);
            await MoveToHostAsync(admin, victim.Report, otherHost);

            await SweepAsNewRunAsync(server, cancellationToken);
            await Assert.That(await CountDatabasesAsync(admin, victim.Report)).IsEqualTo(1)
                .Because("a live run on another host holds its run lock, so its databases are not orphans");

            await victim.KillAsync();
            await WaitUntilNoSessionAsync(admin, victim.Report);
            await SweepAsNewRunAsync(server, cancellationToken);
            await Assert.That(await CountDatabasesAsync(admin, victim.Report)).IsEqualTo(0)
                .Because("a killed run on another host holds no lock and has no session left, so its databases are orphans");
        }
        finally
        {
            await DisposeAndDropAsync(admin, victim);
        }
    }

    [Test]
    [Timeout(300_000)]
    [NotInParallel(FaultOrphanTests.EmbeddedStartsKey)]
    public async Task The_embedded_server_of_a_killed_run_outlives_it_and_the_next_embedded_start_stops_and_removes_it(CancellationToken cancellationToken)
    {
        RunningVictim? victim = null;
        string? root = null;
        try
        {
            victim = await RunningVictim.StartAsync(
                ["--server", "embedded", "--migrations", TempFolders.SampleMigrations, "--databases", "1"], connectionString: null, cancellationToken);
            root = victim.Report.EmbeddedRoot!;
            var orphan = await OrphanConnectionStringAsync(root, cancellationToken);

            await victim.KillAsync();
            // Another test's embedded start may sweep it from now on; a sweep can only remove the folder of a server it
            // could stop, so a server that does not answer must at least have been swept.
            await Assert.That(await AnswersAsync(orphan, cancellationToken) || await FaultOrphanTests.RemovedAsync(root)).IsTrue()
                .Because("postgres is not a child of the run: it keeps running after the run is killed");

            await using (var next = await EmbeddedServer.StartAsync(KitTest.BinDirectory, keepIdle: null, logger: null, cancellationToken))
            {
                await Assert.That(await FaultOrphanTests.RemovedAsync(root)).IsTrue().Because("the killed run's folder must be removed");
                await Assert.That(await AnswersAsync(orphan, cancellationToken)).IsFalse()
                    .Because($"the killed run's server on port {victim.Report.Port} must be stopped");
            }
        }
        finally
        {
            if (victim is not null)
            {
                await victim.DisposeAsync();
            }

            if (root is not null && Directory.Exists(root))
            {
                await StopAndDeleteAsync(root);
            }
        }
    }

    private static string[] SharedServer(int databases) =>
        ["--server", "shared", "--migrations", TempFolders.SampleMigrations, "--databases", databases.ToString(System.Globalization.CultureInfo.InvariantCulture)];

    /// <summary>Makes the victim play a run on another host: its databases' markers name <paramref name="host"/>, as that run's would.</summary>
    private static async Task MoveToHostAsync(NpgsqlConnection admin, VictimReport report, string host)
    {
        var marker = RunMarker.Parse(report.Marker)!;
        await Assert.That(marker.Host).IsEqualTo(Environment.MachineName).Because("the victim runs on this host");
        foreach (var name in report.Databases)
        {
            await using var comment = new NpgsqlCommand("SELECT format('COMMENT ON DATABASE %I IS %L', $1::text, $2::text)", admin);
            comment.Parameters.Add(new NpgsqlParameter { Value = name });
            comment.Parameters.Add(new NpgsqlParameter { Value = (marker with { Host = host }).Format() });
            await ExecuteAsync(admin, (string)(await comment.ExecuteScalarAsync())!);
        }
    }

    /// <summary>What a new run does first on a server: sweep the orphans of dead runs.</summary>
    private static async Task SweepAsNewRunAsync(PostgresServer server, CancellationToken cancellationToken)
    {
        await using var run = new ServerRun(server);
        await OrphanSweep.RunAsync(run, cancellationToken);
    }

    private static async Task<long> CountDatabasesAsync(NpgsqlConnection admin, VictimReport report) =>
        await CountAsync(admin, "SELECT count(*) FROM pg_database WHERE datname = ANY($1)", (object)report.Databases.ToArray());

    /// <summary>
    /// Waits until the server has seen the killed victim's connections close (its backends exit on their own, a
    /// moment after the process is gone): only then is its run lock free.
    /// </summary>
    private static async Task WaitUntilNoSessionAsync(NpgsqlConnection admin, VictimReport report)
    {
        var deadline = DateTime.UtcNow + SessionsDeadline;
        long sessions;
        while ((sessions = await CountAsync(
                   admin,
                   "SELECT count(*) FROM pg_stat_activity WHERE starts_with(datname, $1) OR application_name = $2",
                   $"testkit_{report.RunId}_",
                   ApplicationNames.Run(report.RunId))) > 0
               && DateTime.UtcNow < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50));
        }

        await Assert.That(sessions).IsEqualTo(0).Because("the backends of a killed client end when its connections close");
    }

    /// <summary>Kills the victims that were started, then drops whatever of theirs is left on the shared server.</summary>
    private static async Task DisposeAndDropAsync(NpgsqlConnection admin, params RunningVictim?[] victims)
    {
        foreach (var victim in victims.OfType<RunningVictim>())
        {
            await victim.DisposeAsync();
            foreach (var name in victim.Report.Databases)
            {
                await ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {Sql.Quote(name)} WITH (FORCE)");
            }
        }
    }

    /// <summary>A connection string to the victim's embedded server, from the password file in its folder.</summary>
    private static async Task<string> OrphanConnectionStringAsync(string root, CancellationToken cancellationToken)
    {
        // host:port:*:user:password
        var fields = (await File.ReadAllTextAsync(Path.Combine(root, "pgpass"), cancellationToken)).Trim().Split(':');
        return new NpgsqlConnectionStringBuilder
        {
            Host = fields[0],
            Port = int.Parse(fields[1], System.Globalization.CultureInfo.InvariantCulture),
            Username = fields[3],
            Password = fields[4],
            Database = "postgres",
            Pooling = false,
            Timeout = 5,
        }.ConnectionString;
    }

    private static async Task<bool> AnswersAsync(string connectionString, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync(cancellationToken);
            return true;
        }
        catch (NpgsqlException)
        {
            return false;
        }
    }

    /// <summary>Cleans up after a failed test: stops the server in <paramref name="root"/> and removes the folder, as the kit's sweep would.</summary>
    private static async Task StopAndDeleteAsync(string root)
    {
        var folder = new EmbeddedFolder(root);
        await (await PgCtl.LocateAsync(KitTest.BinDirectory, CancellationToken.None)).StopAsync(folder, CancellationToken.None);
        await folder.DeleteAsync(CancellationToken.None);
    }
}
