using System.Diagnostics;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CliWrap;
using CliWrap.Buffered;
using Npgsql;
using TestKit.Victim;

namespace TestKit.Tests.Integration;

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
            var options = TestKitSession.Resolve(new TestKitOptions { ConnectionString = connectionString, MaxDatabases = 1 });
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
            victim = await RunningVictim.StartAsync(
                SharedServer(databases: 1, host: otherHost), server.ConnectionStringFor("postgres").ConnectionString, cancellationToken);
            await Assert.That(victim.Report.Marker).Contains($";host={otherHost};").Because("the victim plays a run on another host");

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

            await using (var next = await EmbeddedServer.StartAsync(logger: null, cancellationToken))
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

    private static string[] SharedServer(int databases, string? host = null)
    {
        string[] arguments = ["--server", "shared", "--migrations", TempFolders.SampleMigrations, "--databases", databases.ToString(System.Globalization.CultureInfo.InvariantCulture)];
        return host is null ? arguments : [.. arguments, "--host", host];
    }

    /// <summary>What a new run does first on a server: sweep the orphans of dead runs.</summary>
    private static async Task SweepAsNewRunAsync(IPostgresServer server, CancellationToken cancellationToken)
    {
        await using var run = new ServerRun(server);
        await run.SweepOrphansAsync(cancellationToken);
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

    /// <summary>Cleans up after a failed test: stops the server in <paramref name="root"/> at once and removes the folder.</summary>
    private static async Task StopAndDeleteAsync(string root)
    {
        var binaries = await PostgresBinaries.LocateAsync(CancellationToken.None);
        var user = await ServerProcessUser.ChooseAsync(CancellationToken.None);
        if (File.Exists(Path.Combine(root, "data", "postmaster.pid")))
        {
            await user.Wrap(binaries.PgCtl, ["stop", "--pgdata", Path.Combine(root, "data"), "--mode", "immediate", "--wait"])
                .WithValidation(CommandResultValidation.None)
                .ExecuteBufferedAsync();
        }

        Directory.Delete(root, recursive: true);
    }

    /// <summary>A victim process: started, read until it reports what it holds, killed with SIGKILL.</summary>
    private sealed class RunningVictim : IAsyncDisposable
    {
        private static readonly TimeSpan ReportDeadline = TimeSpan.FromSeconds(120);
        private static readonly TimeSpan ExitDeadline = TimeSpan.FromSeconds(30);

        private readonly Process _process;
        private readonly StringBuilder _errors = new();

        private RunningVictim(Process process)
        {
            _process = process;
        }

        internal VictimReport Report { get; private set; } = null!;

        /// <summary>Starts the victim and waits (with a deadline) for its report; kills it if that fails.</summary>
        internal static async Task<RunningVictim> StartAsync(string[] arguments, string? connectionString, CancellationToken cancellationToken)
        {
            // The dotnet host this test process was started by, when the CLI says which.
            var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
            {
                UseShellExecute = false,
                // Its standard input stays open while this process lives: the victim's signal that someone will kill it.
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            start.ArgumentList.Add(VictimPath());
            foreach (var argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }

            if (connectionString is not null)
            {
                start.Environment["VICTIM_CONNECTION_STRING"] = connectionString;
            }

            var victim = new RunningVictim(Process.Start(start)!);
            try
            {
                victim._process.ErrorDataReceived += (_, line) =>
                {
                    lock (victim._errors)
                    {
                        victim._errors.AppendLine(line.Data);
                    }
                };
                victim._process.BeginErrorReadLine();
                victim.Report = await victim.ReadReportAsync(cancellationToken).WaitAsync(ReportDeadline, cancellationToken);
                return victim;
            }
            catch
            {
                await victim.DisposeAsync();
                throw;
            }
        }

        /// <summary>SIGKILL (what <see cref="Process.Kill()"/> sends on Linux), then waits for the process to be gone.</summary>
        internal async Task KillAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
            }

            await _process.WaitForExitAsync().WaitAsync(ExitDeadline);
        }

        public async ValueTask DisposeAsync()
        {
            try
            {
                await KillAsync();
            }
            finally
            {
                _process.Dispose();
            }
        }

        private static string VictimPath()
        {
            var path = typeof(RunningVictim).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .Single(attribute => attribute.Key == "TestKit.Victim").Value!;
            return File.Exists(path) ? path : throw new FileNotFoundException("The victim program was not built; build TestKit.sln.", path);
        }

        private async Task<VictimReport> ReadReportAsync(CancellationToken cancellationToken)
        {
            while (await _process.StandardOutput.ReadLineAsync(cancellationToken) is { } line)
            {
                if (line.StartsWith('{'))
                {
                    return JsonSerializer.Deserialize<VictimReport>(line)!;
                }
            }

            await _process.WaitForExitAsync(cancellationToken);
            string errors;
            lock (_errors)
            {
                errors = _errors.ToString();
            }

            throw new InvalidOperationException($"The victim exited (code {_process.ExitCode}) before it reported what it holds: {errors}");
        }
    }
}
