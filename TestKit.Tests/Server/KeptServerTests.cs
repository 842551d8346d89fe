using System.Diagnostics;
using Npgsql;

namespace TestKit.Tests;

/// <summary>
/// The embedded server kept between runs (TESTKIT_KEEP_SERVER): reused by the next run, replaced when damaged or by a run
/// of other programs, stopped by its watchdog after its idle time (never while a run uses it), shared by runs that start at
/// once, never kept under CI. Each test has programs of its own (a link to the machine's bin folder under a new path), so
/// it has a kept server of its own. One at a time: a run replaces this user's kept servers of other programs that no run
/// uses, the other tests' included (and a kept server of the user's own that is idle).
/// </summary>
[NotInParallel(nameof(KeptServerTests))]
public sealed class KeptServerTests
{
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(600);

    [Test]
    [Timeout(120_000)]
    public async Task The_next_run_reuses_the_kept_server_and_what_it_holds(CancellationToken cancellationToken)
    {
        await using var programs = await OwnProgramsAsync(cancellationToken);
        int port;
        await using (var first = await StartAsync(programs, Idle, cancellationToken))
        {
            port = first.ConnectionStringFor("postgres").Port;
            await ExecuteAsync(first, "CREATE DATABASE left_by_the_first_run", cancellationToken);
            await Assert.That(first.Description).Contains("kept server (started ");
        }

        // As if another process had started it: the next run's summary says it reused the server.
        await File.WriteAllTextAsync(Path.Combine(KeptServer.FolderFor(programs.PgCtl).Root, "owner"), OwnerStamp.Of(1), cancellationToken);
        await using var second = await StartAsync(programs, Idle, cancellationToken);
        await Assert.That(second.ConnectionStringFor("postgres").Port).IsEqualTo(port);
        await Assert.That(second.Description).Contains("reused server (started ");
        await Assert.That(await CountAsync(second, "SELECT count(*) FROM pg_database WHERE datname = 'left_by_the_first_run'", cancellationToken)).IsEqualTo(1);
    }

    [Test]
    [Timeout(120_000)]
    public async Task Roles_a_run_leaves_on_the_kept_server_are_reported_as_on_a_server_of_the_user(CancellationToken cancellationToken)
    {
        await using var programs = await OwnProgramsAsync(cancellationToken);
        var run = await ServerRun.StartAsync(new ServerSource(null, "test", programs.Directory, Idle), logger: null, cancellationToken);
        await using (run.Server)
        await using (run)
        {
            await ExecuteAsync((EmbeddedServer)run.Server, "CREATE ROLE left_by_a_test", cancellationToken);
            await run.NoteRolesLeftAsync();
            await Assert.That(run.RolesLeft).IsEquivalentTo(["left_by_a_test"]);
        }
    }

    [Test]
    [Arguments("killed")]
    [Arguments("password file lost")]
    [Timeout(120_000)]
    public async Task A_damaged_kept_server_is_replaced_not_trusted(string damage, CancellationToken cancellationToken)
    {
        await using var programs = await OwnProgramsAsync(cancellationToken);
        string folder;
        await using (var first = await StartAsync(programs, Idle, cancellationToken))
        {
            folder = await KitTest.FolderOfAsync(first);
            await ExecuteAsync(first, "CREATE DATABASE left_by_the_first_run", cancellationToken);
        }

        if (damage == "killed")
        {
            var postmaster = int.Parse(File.ReadLines(Path.Combine(folder, "data", "postmaster.pid")).First());
            Process.GetProcessById(postmaster).Kill();
            await Assert.That(await EventuallyAsync(() => !IsAlive(postmaster), cancellationToken)).IsTrue();
        }
        else
        {
            File.Delete(Path.Combine(folder, "pgpass"));
        }

        await using var second = await StartAsync(programs, Idle, cancellationToken);
        await Assert.That(await KitTest.FolderOfAsync(second)).IsEqualTo(folder);
        await Assert.That(await CountAsync(second, "SELECT count(*) FROM pg_database WHERE datname = 'left_by_the_first_run'", cancellationToken)).IsEqualTo(0);
    }

    [Test]
    [Timeout(120_000)]
    public async Task A_run_of_other_programs_replaces_the_kept_server_unless_a_run_uses_it(CancellationToken cancellationToken)
    {
        await using var programs = await OwnProgramsAsync(cancellationToken);
        await using var others = await OwnProgramsAsync(cancellationToken);
        string folder;
        await using (var first = await StartAsync(programs, Idle, cancellationToken))
        {
            folder = await KitTest.FolderOfAsync(first);
            // A run uses it: the run of other programs gets a server of its own beside it.
            await using (var second = await StartAsync(others, Idle, cancellationToken))
            {
                await Assert.That(await KitTest.FolderOfAsync(second)).IsNotEqualTo(folder);
            }

            await Assert.That(await CountAsync(first, "SELECT 1", cancellationToken)).IsEqualTo(1);
        }

        // Nobody uses it any more: the next run of other programs stops and removes it.
        await using var third = await StartAsync(others, Idle, cancellationToken);
        await Assert.That(Directory.Exists(folder)).IsFalse();
    }

    [Test]
    [Timeout(120_000)]
    public async Task The_kept_server_stops_and_goes_after_its_idle_time_but_never_while_a_run_uses_it(CancellationToken cancellationToken)
    {
        await using var programs = await OwnProgramsAsync(cancellationToken);
        string folder;
        await using (var run = await StartAsync(programs, TimeSpan.FromSeconds(1), cancellationToken))
        {
            folder = await KitTest.FolderOfAsync(run);
            // Three idle times and more with a run attached: the watchdog looks every second.
            await Task.Delay(TimeSpan.FromSeconds(4), cancellationToken);
            await Assert.That(await CountAsync(run, "SELECT 1", cancellationToken)).IsEqualTo(1);
        }

        await Assert.That(await EventuallyAsync(() => !Directory.Exists(folder), cancellationToken)).IsTrue();
    }

    [Test]
    [Timeout(120_000)]
    public async Task Runs_that_start_at_once_share_one_kept_server(CancellationToken cancellationToken)
    {
        await using var programs = await OwnProgramsAsync(cancellationToken);
        var runs = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => StartAsync(programs, Idle, cancellationToken)));
        try
        {
            await Assert.That(runs.Select(run => run.ConnectionStringFor("postgres").Port).Distinct().Count()).IsEqualTo(1);
            foreach (var run in runs)
            {
                await Assert.That(await CountAsync(run, "SELECT 1", cancellationToken)).IsEqualTo(1);
            }
        }
        finally
        {
            foreach (var run in runs)
            {
                await run.DisposeAsync();
            }
        }
    }

    [Test]
    [Timeout(240_000)]
    public async Task Two_processes_that_start_at_once_share_one_kept_server_and_both_end_well(CancellationToken cancellationToken)
    {
        await using var programs = await OwnProgramsAsync(cancellationToken);
        // What a developer's two terminals would have: no CI, the variable set, the same programs.
        var environment = new Dictionary<string, string?> { ["CI"] = null, ["TESTKIT_KEEP_SERVER"] = "600", ["TESTKIT_POSTGRES_BIN"] = programs.Directory };
        string[] arguments = ["--server", "embedded", "--migrations", TempFolders.SampleMigrations, "--databases", "1"];
        var victims = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ => RunningVictim.StartAsync(arguments, null, cancellationToken, environment)));
        try
        {
            await Assert.That(victims.Select(victim => victim.Report.EmbeddedRoot!).Distinct().ToList()).IsEquivalentTo([KeptServer.FolderFor(programs.PgCtl).Root]);
            foreach (var victim in victims)
            {
                await victim.EndAsync();
            }
        }
        finally
        {
            foreach (var victim in victims)
            {
                await victim.DisposeAsync();
            }
        }
    }

    [Test]
    [Timeout(120_000)]
    public async Task A_run_starts_the_watchdog_again_when_it_died(CancellationToken cancellationToken)
    {
        await using var programs = await OwnProgramsAsync(cancellationToken);
        string folder;
        await using (var first = await StartAsync(programs, Idle, cancellationToken))
        {
            folder = await KitTest.FolderOfAsync(first);
        }

        // The ticket (the watchdog file's text) is in the command lines of the watchdog's flock and loop, and nowhere else.
        var ticket = await File.ReadAllTextAsync(Path.Combine(folder, "watchdog"), cancellationToken);
        await Assert.That(await EventuallyAsync(() => WatchdogProcesses(ticket).Count > 0, cancellationToken)).IsTrue();
        var killed = WatchdogProcesses(ticket);
        await RunAsync("pkill", ["-f", ticket], cancellationToken);
        await Assert.That(await EventuallyAsync(() => !WatchdogProcesses(ticket).Intersect(killed).Any(), cancellationToken)).IsTrue();

        // Any embedded run's sweep looks after kept servers, its own programs' or not (another test's run may be first).
        await using (await EmbeddedServer.StartAsync(KitTest.BinDirectory, keepIdle: null, logger: null, cancellationToken))
        {
            await Assert.That(await EventuallyAsync(() => WatchdogProcesses(ticket).Except(killed).Any(), cancellationToken)).IsTrue();
        }
    }

    /// <summary>The processes whose command line holds <paramref name="ticket"/>: a watchdog's flock and loop.</summary>
    private static List<int> WatchdogProcesses(string ticket)
    {
        using var pgrep = Process.Start(new ProcessStartInfo("pgrep", ["-f", ticket]) { RedirectStandardOutput = true })!;
        var found = pgrep.StandardOutput.ReadToEnd();
        pgrep.WaitForExit();
        return [.. found.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse)];
    }

    [Test]
    [Timeout(120_000)]
    public async Task A_session_reaches_the_kept_server_before_its_first_test_asks_and_leaves_it_running(CancellationToken cancellationToken)
    {
        await using var programs = await OwnProgramsAsync(cancellationToken);
        var folder = KeptServer.FolderFor(programs.PgCtl).Root;
        var broker = new SessionBroker();
        await using (broker)
        {
            broker.ReachAhead(new ServerSource(null, "test", programs.Directory, Idle));
            // No test asked: the server is started, and this session is attached to it.
            await Assert.That(await EventuallyAsync(() => broker.ServerReports().Any(), cancellationToken)).IsTrue();
            await Assert.That(IsLocked(Path.Combine(folder, "attached"))).IsTrue();
        }

        await Assert.That(IsLocked(Path.Combine(folder, "attached"))).IsFalse();
        await using var next = await StartAsync(programs, Idle, cancellationToken);
        await Assert.That(await KitTest.FolderOfAsync(next)).IsEqualTo(folder);
    }

    [Test]
    public async Task The_server_is_kept_only_on_request_and_never_under_CI()
    {
        ResolvedOptions Resolve(TestKitOptions options, params (string Name, string Value)[] variables) =>
            OptionsResolver.Resolve(options, name => variables.FirstOrDefault(variable => variable.Name == name).Value, [TempFolders.SampleMigrations]);

        await Assert.That(Resolve(TestKitOptions.Default).Server.KeepIdle).IsNull();
        await Assert.That(Resolve(TestKitOptions.Default, ("TESTKIT_KEEP_SERVER", "900")).Server.KeepIdle).IsEqualTo(TimeSpan.FromSeconds(900));
        await Assert.That(Resolve(new() { KeepServer = TimeSpan.FromMinutes(5) }).Server.KeepIdle).IsEqualTo(TimeSpan.FromMinutes(5));
        await Assert.That(Resolve(new() { KeepServer = TimeSpan.FromMinutes(5) }, ("CI", "true")).Server.KeepIdle).IsNull();
        await Assert.That(Resolve(TestKitOptions.Default, ("TESTKIT_KEEP_SERVER", "900"), ("CI", "1")).Server.KeepIdle).IsNull();
        // A server the user runs is theirs to keep.
        await Assert.That(Resolve(new() { KeepServer = TimeSpan.FromMinutes(5), ConnectionString = "Host=localhost" }).Server.KeepIdle).IsNull();
        await Assert.That(() => Resolve(TestKitOptions.Default, ("TESTKIT_KEEP_SERVER", "soon"))).Throws<TestKitException>();

        // What a session reaches before its first test asks: only the kept server the environment alone asks for.
        Func<string, string?> Environment(params (string Name, string Value)[] variables) => name => variables.FirstOrDefault(variable => variable.Name == name).Value;
        await Assert.That(ServerResolver.KeptServerFrom(Environment(("TESTKIT_KEEP_SERVER", "900")))?.KeepIdle).IsEqualTo(TimeSpan.FromSeconds(900));
        await Assert.That(ServerResolver.KeptServerFrom(Environment(("TESTKIT_KEEP_SERVER", "900"), ("CI", "true")))).IsNull();
        await Assert.That(ServerResolver.KeptServerFrom(Environment(("TESTKIT_KEEP_SERVER", "900"), ("TESTKIT_CONNECTION_STRING", "Host=localhost")))).IsNull();
        await Assert.That(ServerResolver.KeptServerFrom(Environment(("TESTKIT_KEEP_SERVER", "soon")))).IsNull();
        await Assert.That(ServerResolver.KeptServerFrom(Environment())).IsNull();
    }

    /// <summary>A kept server's run as the kit starts one, on the programs of <paramref name="programs"/>.</summary>
    private static Task<EmbeddedServer> StartAsync(OwnPrograms programs, TimeSpan idle, CancellationToken cancellationToken) =>
        EmbeddedServer.StartAsync(programs.Directory, idle, logger: null, cancellationToken);

    /// <summary>
    /// A new path to the machine's server programs, so that the test's kept server is its own; disposing it stops that
    /// server and removes its folder, as its watchdog would after the idle time.
    /// </summary>
    private static async Task<OwnPrograms> OwnProgramsAsync(CancellationToken cancellationToken)
    {
        var pgCtl = await PgCtl.LocateAsync(KitTest.BinDirectory, cancellationToken);
        var link = Path.Combine(Path.GetTempPath(), $"testkit-kept-bin-{Guid.NewGuid():N}");
        Directory.CreateSymbolicLink(link, pgCtl.Binaries.Directory);
        return new OwnPrograms(link, await PgCtl.LocateAsync(link, cancellationToken));
    }

    private sealed record OwnPrograms(string Directory, PgCtl PgCtl) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            var folder = KeptServer.FolderFor(PgCtl);
            await PgCtl.StopAsync(folder, CancellationToken.None);
            EmbeddedFolder.Remove(folder.Root);
            File.Delete(folder.Root + ".lock");
            System.IO.Directory.Delete(Directory);
        }
    }

    private static async Task ExecuteAsync(EmbeddedServer server, string sql, CancellationToken cancellationToken)
    {
        await using var connection = await server.Admin.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<long> CountAsync(EmbeddedServer server, string sql, CancellationToken cancellationToken)
    {
        await using var connection = await server.Admin.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken));
    }

    /// <summary>Whether another process holds a lock on <paramref name="path"/> (the watchdog on its file).</summary>
    private static bool IsLocked(string path)
    {
        try
        {
            using var probe = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.None);
            return false;
        }
        catch (IOException)
        {
            return true;
        }
    }

    private static bool IsAlive(int processId)
    {
        try
        {
            using var process = Process.GetProcessById(processId);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    /// <summary>Waits for what a process outside the test does in its own time (the watchdog looks every second).</summary>
    private static async Task<bool> EventuallyAsync(Func<bool> condition, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
        }

        return true;
    }

    private static async Task RunAsync(string program, string[] arguments, CancellationToken cancellationToken)
    {
        using var process = Process.Start(program, arguments);
        await process.WaitForExitAsync(cancellationToken);
    }
}
