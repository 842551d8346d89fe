using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace TestKit.Tests;

/// <summary>
/// The test process was killed (SIGKILL) and the suite runs again: what the dead run left is swept, what a
/// live run owns is left alone. A dead run is simulated here by its leftovers: an owner file or a database marker
/// that names a process that no longer exists, or a marker of another host whose run lock is free
/// (<see cref="FaultKilledRunTests"/> kills real runs).
/// </summary>
public sealed class FaultOrphanTests : FaultKitTest
{
    /// <summary>
    /// The tests of this kind that start embedded servers run one at a time: every embedded start sweeps every orphaned
    /// server folder, and two sweeps of one folder at once get in each other's way.
    /// </summary>
    internal const string EmbeddedStartsKey = "embedded-server-starts";

    private static readonly TimeSpan RemovalDeadline = TimeSpan.FromSeconds(60);

    [Test]
    [Timeout(180_000)]
    [NotInParallel(EmbeddedStartsKey)]
    public async Task The_embedded_server_of_a_dead_run_is_stopped_and_removed_and_live_or_unknown_folders_are_left(CancellationToken cancellationToken)
    {
        var parent = OperatingSystem.IsLinux() && Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        var live = Path.Combine(parent, "testkit-pg-" + RandomNumberGenerator.GetHexString(12, lowercase: true));
        var unknown = Path.Combine(parent, "testkit-pg-" + RandomNumberGenerator.GetHexString(12, lowercase: true));
        Directory.CreateDirectory(live);
        Directory.CreateDirectory(unknown);
        await File.WriteAllTextAsync(Path.Combine(live, "owner"), OwnerStamp.Of(Environment.ProcessId), cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(unknown, "owner"), "not a stamp", cancellationToken);

        var orphan = await EmbeddedServer.StartAsync(KitTest.BinDirectory, keepIdle: null, logger: null, cancellationToken);
        try
        {
            var orphanPort = orphan.ConnectionStringFor("postgres").Port;
            // The run that started it was killed: its owner file now names a process that is gone.
            var orphanFolder = await FolderOfAsync(orphan);
            await File.WriteAllTextAsync(Path.Combine(orphanFolder, "owner"), $"{DeadProcessId().ToString(CultureInfo.InvariantCulture)} 638000000000000000", cancellationToken);

            await using (var next = await EmbeddedServer.StartAsync(KitTest.BinDirectory, keepIdle: null, logger: null, cancellationToken))
            {
                await Assert.That(await RemovedAsync(orphanFolder)).IsTrue().Because("the dead run's folder must be removed");
                var unreachable = new NpgsqlConnectionStringBuilder(orphan.ConnectionStringFor("postgres").ConnectionString) { Pooling = false, Timeout = 5 };
                await using var probe = new NpgsqlConnection(unreachable.ConnectionString);
                await Assert.That(async () => await probe.OpenAsync(cancellationToken)).Throws<NpgsqlException>().Because($"the dead run's server on port {orphanPort} must be stopped");
                await Assert.That(Directory.Exists(live)).IsTrue().Because("a live run's folder is not an orphan");
                await Assert.That(Directory.Exists(unknown)).IsTrue().Because("a folder whose owner cannot be read is not the kit's to judge");
            }
        }
        finally
        {
            try
            {
                // Its folder was swept already, if the sweep worked: only the in-process handle is left to close.
                await orphan.DisposeAsync();
            }
            catch (DirectoryNotFoundException e)
            {
                TestContext.Current?.Output.WriteLine($"disposing the swept server: {e.Message}");
            }

            Directory.Delete(live, recursive: true);
            Directory.Delete(unknown, recursive: true);
        }
    }

    [Test]
    [Timeout(180_000)]
    [NotInParallel(EmbeddedStartsKey)]
    public async Task The_folder_of_a_server_killed_outright_is_removed_though_its_pid_file_is_left(CancellationToken cancellationToken)
    {
        var orphan = await EmbeddedServer.StartAsync(KitTest.BinDirectory, keepIdle: null, logger: null, cancellationToken);
        var orphanFolder = await FolderOfAsync(orphan);
        // The machine's container restarted, say: the postmaster and its run died at once, postmaster.pid stayed.
        var pidFile = Path.Combine(orphanFolder, "data", "postmaster.pid");
        // Its dynamic shared memory lives in its data folder (not in /dev/shm/PostgreSQL.*, where a killed server's stays).
        await Assert.That(Directory.GetFiles(Path.Combine(orphanFolder, "data", "pg_dynshmem"))).IsNotEmpty();
        var postmaster = int.Parse((await File.ReadAllLinesAsync(pidFile, cancellationToken))[0], CultureInfo.InvariantCulture);
        using (var process = Process.GetProcessById(postmaster))
        {
            process.Kill();
        }

        while (File.Exists($"/proc/{postmaster.ToString(CultureInfo.InvariantCulture)}/stat"))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken);
        }

        await File.WriteAllTextAsync(Path.Combine(orphanFolder, "owner"), $"{DeadProcessId().ToString(CultureInfo.InvariantCulture)} 638000000000000000", cancellationToken);
        await Assert.That(File.Exists(pidFile)).IsTrue();
        try
        {
            await using var next = await EmbeddedServer.StartAsync(KitTest.BinDirectory, keepIdle: null, logger: null, cancellationToken);
            await Assert.That(await RemovedAsync(orphanFolder)).IsTrue().Because("a folder whose server is gone must be removed, pid file or not");
        }
        finally
        {
            try
            {
                await orphan.DisposeAsync();
            }
            catch (Exception e) when (e is DirectoryNotFoundException or TestKitException)
            {
                TestContext.Current?.Output.WriteLine($"disposing the killed server: {e.Message}");
            }
        }
    }

    [Test]
    public async Task The_databases_of_a_dead_run_are_swept_when_a_run_starts_and_a_live_runs_are_left()
    {
        var server = await ServerAsync();
        var deadRun = RandomNumberGenerator.GetHexString(10, lowercase: true);
        var dead = $"testkit_{deadRun}_001";
        var deadMarker = $"{RunMarker.Prefix}{deadRun};pid={DeadProcessId().ToString(CultureInfo.InvariantCulture)};host={Environment.MachineName}";
        await using var liveRun = new ServerRun(server);
        string? live = null;
        string? liveRole = null;
        await using var admin = await ConnectAsync("postgres");
        try
        {
            await ExecuteAsync(admin, $"CREATE DATABASE {Sql.Quote(dead)} TEMPLATE template0");
            await ExecuteAsync(admin, $"COMMENT ON DATABASE {Sql.Quote(dead)} IS {Sql.Literal(deadMarker)}");
            // The reset strategy's login role of that database, left behind too.
            await ExecuteAsync(admin, $"CREATE ROLE {Sql.Quote(dead)} LOGIN; COMMENT ON ROLE {Sql.Quote(dead)} IS {Sql.Literal(deadMarker)}");
            live = await liveRun.Catalog.CreateAsync(CancellationToken.None);
            liveRole = await liveRun.LoginRoles.CreateAsync(LeaseCredentials.ScramVerifier(LeaseCredentials.NewPassword()), CancellationToken.None);

            // A new run starts on the same server, as the next `make test` after a killed one would.
            var options = OptionsResolver.FromEnvironment(new TestKitOptions { ConnectionString = server.ConnectionStringFor("postgres").ConnectionString, MaxDatabases = 1 });
            await using (var broker = new SessionBroker())
            {
                var lease = await broker.AcquireAsync(options, CancellationToken.None);
                await lease.ReleaseAsync(CancellationToken.None);
            }

            await Assert.That(await CountAsync(admin, "SELECT count(*) FROM pg_database WHERE datname = $1", live)).IsEqualTo(1).Because("a live run's database is not an orphan");
            await Assert.That(await CountAsync(admin, "SELECT count(*) FROM pg_database WHERE datname = $1", dead)).IsEqualTo(0)
                .Because("the database of a run whose process is gone is an orphan of the kit's and must be dropped");
            await Assert.That(await CountAsync(admin, "SELECT count(*) FROM pg_roles WHERE rolname = $1", liveRole)).IsEqualTo(1).Because("a live run's login role is not an orphan");
            await Assert.That(await CountAsync(admin, "SELECT count(*) FROM pg_roles WHERE rolname = $1", dead)).IsEqualTo(0)
                .Because("the login role of a run whose process is gone must be dropped");
        }
        finally
        {
            await ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {Sql.Quote(dead)} WITH (FORCE)");
            await ExecuteAsync(admin, $"DROP ROLE IF EXISTS {Sql.Quote(dead)}");
            if (live is not null)
            {
                await liveRun.Catalog.DropAsync(live, CancellationToken.None);
            }

            if (liveRole is not null)
            {
                await liveRun.LoginRoles.DropAsync(liveRole, CancellationToken.None);
            }
        }
    }

    [Test]
    public async Task A_run_on_another_host_is_swept_only_once_its_lock_is_free_and_no_session_of_it_is_left()
    {
        var server = await ServerAsync();
        var otherHost = "testkit-other-host-" + RandomNumberGenerator.GetHexString(8, lowercase: true);
        var run = RandomNumberGenerator.GetHexString(10, lowercase: true);
        var database = $"testkit_{run}_001";
        await using var admin = await ConnectAsync("postgres");
        try
        {
            // The fake run is never without its lock or a session until the last step: other tests' runs sweep meanwhile.
            await using (var holder = await ConnectAsync(server.LockDatabase))
            {
                await ExecuteAsync(holder, $"SELECT pg_advisory_lock({AdvisoryLockKeys.Run(run).ToString(CultureInfo.InvariantCulture)})");
                await ExecuteAsync(admin, $"CREATE DATABASE {Sql.Quote(database)} TEMPLATE template0");
                await ExecuteAsync(admin, $"COMMENT ON DATABASE {Sql.Quote(database)} IS {Sql.Literal($"{RunMarker.Prefix}{run};pid=1;host={otherHost}")}");

                await SweepAsNewRunAsync(server);
                await Assert.That(await CountAsync(admin, "SELECT count(*) FROM pg_database WHERE datname = $1", database)).IsEqualTo(1)
                    .Because("a run whose lock is held lives");

                await using var inside = await ConnectAsync(database);
                // Now, not when the connection closes: its backend releases its locks a moment after that.
                await ExecuteAsync(holder, $"SELECT pg_advisory_unlock({AdvisoryLockKeys.Run(run).ToString(CultureInfo.InvariantCulture)})");
                await SweepAsNewRunAsync(server);
                await Assert.That(await CountAsync(admin, "SELECT count(*) FROM pg_database WHERE datname = $1", database)).IsEqualTo(1)
                    .Because("a session in a run's database means the run may live: its lock connection may have been ended by a server restart");
            }

            // The closed session's backend exits a moment later.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
            while (await CountAsync(admin, "SELECT count(*) FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend'", database) > 0 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50));
            }

            await SweepAsNewRunAsync(server);
            await Assert.That(await CountAsync(admin, "SELECT count(*) FROM pg_database WHERE datname = $1", database)).IsEqualTo(0)
                .Because("a run that holds no lock and has no session left is dead, whatever host it ran on");
        }
        finally
        {
            await ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {Sql.Quote(database)} WITH (FORCE)");
        }
    }

    [Test]
    [Timeout(180_000)]
    [NotInParallel(EmbeddedStartsKey)]
    public async Task A_run_holds_its_lock_while_it_holds_a_database_and_takes_it_again_after_a_server_restart(CancellationToken cancellationToken)
    {
        await using var server = await EmbeddedServer.StartAsync(KitTest.BinDirectory, keepIdle: null, logger: null, cancellationToken);
        await using var catalog = new ServerRun(server);
        var run = catalog.Marker.RunId;
        await using var probe = await OpenAsync(LockConnectionString(server, server.LockDatabase));
        await Assert.That(await IsFreeAsync(probe, run)).IsTrue().Because("a run that holds no database holds no lock (nor a connection for it)");

        var first = await catalog.Catalog.CreateAsync(cancellationToken);
        await Assert.That(await IsFreeAsync(probe, run)).IsFalse().Because("a run holds its lock while it holds a database");

        await FaultServerTests.RestartAsync(server, "fast", cancellationToken);
        await using var afterRestart = await OpenAsync(LockConnectionString(server, probe.Database));
        await Assert.That(await IsFreeAsync(afterRestart, run)).IsTrue().Because("a restart ends every session, and the lock with it");

        var second = await catalog.Catalog.CreateAsync(cancellationToken);
        await Assert.That(await IsFreeAsync(afterRestart, run)).IsFalse().Because("the run takes its lock again before it creates another database");

        await catalog.Catalog.DropAsync(first, cancellationToken);
        await Assert.That(await IsFreeAsync(afterRestart, run)).IsFalse().Because("the run still holds a database");
        await catalog.Catalog.DropAsync(second, cancellationToken);
        // The lock connection's backend exits a moment after the run closes it.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        bool free;
        while (!(free = await IsFreeAsync(afterRestart, run)) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken);
        }

        await Assert.That(free).IsTrue().Because("a run that dropped its last database lets its lock go");
    }

    [Test]
    public async Task A_database_a_killed_run_created_but_never_marked_is_swept_and_a_live_runs_unmarked_one_is_left()
    {
        var server = await ServerAsync();
        var deadRun = RandomNumberGenerator.GetHexString(10, lowercase: true);
        var dead = $"testkit_{deadRun}_014";
        var liveRun = RandomNumberGenerator.GetHexString(10, lowercase: true);
        var live = $"testkit_{liveRun}_001";
        await using var admin = await ConnectAsync("postgres");
        try
        {
            // CREATE DATABASE and its COMMENT are two statements: a run killed between them (SIGKILL) leaves a database with
            // no marker. A live run between the two holds its run lock, which it takes before it creates one.
            await using var holder = await ConnectAsync(server.LockDatabase);
            await ExecuteAsync(holder, $"SELECT pg_advisory_lock({AdvisoryLockKeys.Run(liveRun).ToString(CultureInfo.InvariantCulture)})");
            await ExecuteAsync(admin, $"CREATE DATABASE {Sql.Quote(dead)} TEMPLATE template0");
            await ExecuteAsync(admin, $"CREATE DATABASE {Sql.Quote(live)} TEMPLATE template0");

            await SweepAsNewRunAsync(server);
            await Assert.That(await CountAsync(admin, "SELECT count(*) FROM pg_database WHERE datname = $1", dead)).IsEqualTo(0)
                .Because("a database named as a run's, unmarked, whose run holds no lock and has no session, is a dead run's");
            await Assert.That(await CountAsync(admin, "SELECT count(*) FROM pg_database WHERE datname = $1", live)).IsEqualTo(1)
                .Because("an unmarked database of a run that holds its lock may be one it is about to mark");
        }
        finally
        {
            await ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {Sql.Quote(dead)} WITH (FORCE)");
            await ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {Sql.Quote(live)} WITH (FORCE)");
        }
    }

    [Test]
    [Arguments(IsolationStrategy.Template, true)]
    [Arguments(IsolationStrategy.Reset, true)]
    [Arguments(IsolationStrategy.Template, false)]
    public async Task A_template_whose_builder_died_half_way_is_built_again(IsolationStrategy kind, bool marked)
    {
        var folder = TempFolders.UniqueCopyOfSampleMigrations();
        var server = await ServerAsync();
        var set = MigrationSet.Load([folder]);
        var template = new TemplateStore(new ServerRun(server), new EvolveMigrator(set));
        await using var admin = await ConnectAsync("postgres");
        try
        {
            // What a builder killed in the middle of its migration leaves: the database, a part of the schema, the building
            // marker; or, killed between CREATE DATABASE and COMMENT, no marker at all.
            await ExecuteAsync(admin, $"CREATE DATABASE {Sql.Quote(template.Name)} TEMPLATE template0");
            if (marked)
            {
                await ExecuteAsync(admin, $"COMMENT ON DATABASE {Sql.Quote(template.Name)} IS {Sql.Literal(TemplateIdentity.Of(set, server.Version).BuildingMarker)}");
            }

            await using (var half = await ConnectAsync(template.Name))
            {
                await ExecuteAsync(half, "CREATE TABLE customers (id int)");
            }

            await using (var own = await NewOwnStrategyAsync(kind, folder))
            {
                var database = await own.Strategy.AcquireAsync(CancellationToken.None);
                await using (var connection = await ConnectAsync(database.Name))
                {
                    await Assert.That(await CountAsync(connection, "SELECT count(*) FROM changelog WHERE success AND name LIKE '%.sql'")).IsEqualTo(set.Scripts.Count);
                    await Assert.That(await CountAsync(connection, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'customers'")).IsGreaterThan(1);
                }

                await own.Strategy.ReleaseAsync(database, CancellationToken.None);
            }

            await Assert.That(await CountAsync(admin, "SELECT count(*) FROM pg_database WHERE datname = $1 AND shobj_description(oid, 'pg_database') LIKE '%state=ready'", template.Name)).IsEqualTo(1);
        }
        finally
        {
            await ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {Sql.Quote(template.Name)} WITH (FORCE)");
            Directory.Delete(folder, recursive: true);
        }
    }

    private static string LockConnectionString(PostgresServer server, string lockDatabase)
    {
        var builder = server.ConnectionStringFor(lockDatabase);
        builder.Pooling = false;
        return builder.ConnectionString;
    }

    /// <summary>True when nobody holds the run lock of <paramref name="run"/>: tried, and released at once.</summary>
    private static async Task<bool> IsFreeAsync(NpgsqlConnection connection, string run)
    {
        var key = AdvisoryLockKeys.Run(run).ToString(CultureInfo.InvariantCulture);
        await using var command = new NpgsqlCommand($"SELECT pg_try_advisory_lock({key})", connection);
        var free = (bool)(await command.ExecuteScalarAsync())!;
        if (free)
        {
            await ExecuteAsync(connection, $"SELECT pg_advisory_unlock({key})");
        }

        return free;
    }

    /// <summary>
    /// True once the folder of an orphaned embedded server is gone, waiting with a deadline: the start that swept it may
    /// be another test's, started at the same moment, still stopping the server (a sweep stops it before it deletes the
    /// folder, so a folder gone means a server stopped).
    /// </summary>
    internal static async Task<bool> RemovedAsync(string root)
    {
        var deadline = DateTime.UtcNow + RemovalDeadline;
        while (Directory.Exists(root) && DateTime.UtcNow < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50));
        }

        return !Directory.Exists(root);
    }

    /// <summary>What a new run does first on a server: sweep the orphans of dead runs.</summary>
    private static async Task SweepAsNewRunAsync(PostgresServer server)
    {
        await using var run = new ServerRun(server);
        await OrphanSweep.RunAsync(run, CancellationToken.None);
    }

    /// <summary>The id of a process that has exited: a child that ran and was reaped.</summary>
    internal static int DeadProcessId()
    {
        using var child = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        child.WaitForExit();
        return child.Id;
    }
}
