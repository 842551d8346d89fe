using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using CliWrap;
using CliWrap.Buffered;
using Npgsql;
using TestKit.Diagnostics;

namespace TestKit.Server;

/// <summary>
/// A throw-away PostgreSQL started from this machine's own server programs: a fresh data folder
/// (on tmpfs where there is one), TCP on loopback only at a port chosen at run time, a password
/// generated for this run, durability off. Stopped and deleted on dispose, at process exit, and —
/// if this process dies before that — by the next run's sweep of orphans.
/// </summary>
internal sealed class EmbeddedServer : IPostgresServer
{
    private const string DirectoryPrefix = "testkit-pg-";
    private const string OwnerFileName = "owner";
    private const string KeptFileName = "kept";
    private const string PassFileName = "pgpass";
    private const string SuperUser = "testkit";
    private const int PortAttempts = 3;
    private static readonly TimeSpan ReadinessDeadline = TimeSpan.FromSeconds(60);

    private readonly string _root;
    private readonly PostgresBinaries _binaries;
    private readonly ServerProcessUser _user;
    private readonly NpgsqlConnectionStringBuilder _builder;
    private int _stopped;
    private bool _keepRunning;

    private EmbeddedServer(string root, PostgresBinaries binaries, ServerProcessUser user, NpgsqlConnectionStringBuilder builder)
    {
        _root = root;
        _binaries = binaries;
        _user = user;
        _builder = builder;
        Admin = NpgsqlDataSource.Create(KitSessionSettings.Admin(builder));
        Description = $"embedded PostgreSQL at {builder.Host}:{builder.Port}";
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
    }

    public string Description { get; private set; }

    public NpgsqlDataSource Admin { get; }

    public string LockDatabase => "postgres";

    /// <summary>The folder that holds the data folder, the log and the owner file.</summary>
    internal string RootDirectory => _root;

    private static string DataDirectory(string root) => Path.Combine(root, "data");

    private static string LogFile(string root) => Path.Combine(root, "server.log");

    /// <summary>Sweeps orphans of dead runs, then creates, starts and connects to a new server.</summary>
    internal static async Task<EmbeddedServer> StartAsync(CancellationToken cancellationToken)
    {
        var binaries = await PostgresBinaries.LocateAsync(cancellationToken).ConfigureAwait(false);
        var user = await ServerProcessUser.ChooseAsync(cancellationToken).ConfigureAwait(false);
        var parent = ParentDirectory();
        await SweepOrphansAsync(parent, binaries, user, cancellationToken).ConfigureAwait(false);

        var root = Path.Combine(parent, DirectoryPrefix + RandomNumberGenerator.GetHexString(12, lowercase: true));
        var password = RandomNumberGenerator.GetHexString(32, lowercase: true);
        try
        {
            await InitDbAsync(root, binaries, user, password, cancellationToken).ConfigureAwait(false);
            var port = await StartProcessAsync(root, binaries, user, cancellationToken).ConfigureAwait(false);
            var builder = new NpgsqlConnectionStringBuilder
            {
                Host = IPAddress.Loopback.ToString(),
                Port = port,
                Username = SuperUser,
                Password = password,
                Database = "postgres",
            };
            // A libpq password file, so that the psql command printed for a kept database needs no password in it.
            var passFile = Path.Combine(root, PassFileName);
            await File.WriteAllTextAsync(passFile, $"{builder.Host}:{port}:*:{SuperUser}:{password}\n", cancellationToken).ConfigureAwait(false);
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(passFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            var server = new EmbeddedServer(root, binaries, user, builder);
            try
            {
                await server.WaitUntilReadyAsync(cancellationToken).ConfigureAwait(false);
                return server;
            }
            catch
            {
                await server.DisposeAsync().ConfigureAwait(false);
                throw;
            }
        }
        catch (Exception) when (Directory.Exists(root))
        {
            await StopAndDeleteAsync(root, binaries, user, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    public NpgsqlConnectionStringBuilder ConnectionStringFor(string database) =>
        new(_builder.ConnectionString) { Database = database };

    public string PsqlCommand(string database) =>
        $"PGPASSFILE={Path.Combine(_root, PassFileName)} psql \"host={_builder.Host} port={_builder.Port} user={SuperUser} dbname={database}\"";

    /// <summary>Keeps the server and its folder after the session, for kept databases; the next run's sweep skips it.</summary>
    public void KeepRunning()
    {
        _keepRunning = true;
        File.WriteAllText(Path.Combine(_root, KeptFileName), "kept for inspection: stop with pg_ctl stop -D " + DataDirectory(_root));
    }

    /// <summary>How to stop a kept server and remove it, for the session summary.</summary>
    internal string StopCommand => $"{(_user.IsOtherUser ? $"runuser -u {_user.UserName} -- " : string.Empty)}{_binaries.PgCtl} stop -D {DataDirectory(_root)} && rm -rf {_root}";

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        await Admin.DisposeAsync().ConfigureAwait(false);
        if (!_keepRunning)
        {
            await StopAndDeleteAsync(_root, _binaries, _user, CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>tmpfs when the machine has one (clones and erases are steadier there), else the temp folder.</summary>
    private static string ParentDirectory()
    {
        const string SharedMemory = "/dev/shm";
        return OperatingSystem.IsLinux() && Directory.Exists(SharedMemory) ? SharedMemory : Path.GetTempPath();
    }

    private static async Task InitDbAsync(string root, PostgresBinaries binaries, ServerProcessUser user, string password, CancellationToken cancellationToken)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new TestKitException("The embedded PostgreSQL runs on Linux and macOS only. On Windows, set TESTKIT_CONNECTION_STRING to a server you run yourself.");
        }

        Directory.CreateDirectory(root);
        File.SetUnixFileMode(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        await File.WriteAllTextAsync(Path.Combine(root, OwnerFileName), OwnerStamp(Environment.ProcessId), cancellationToken).ConfigureAwait(false);
        var passwordFile = Path.Combine(root, "password");
        await File.WriteAllTextAsync(passwordFile, password, cancellationToken).ConfigureAwait(false);
        File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await user.GiveAsync(root, cancellationToken).ConfigureAwait(false);

        try
        {
            await RunAsync(
                user.Wrap(binaries.InitDb,
                [
                    "--pgdata", DataDirectory(root),
                    "--username", SuperUser,
                    "--pwfile", passwordFile,
                    "--auth", "scram-sha-256",
                    "--encoding", "UTF8",
                    "--locale", "C.UTF-8",
                    // Throw-away data: skipping the final fsync saves most of initdb's time.
                    "--no-sync",
                ]),
                "initdb",
                cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(passwordFile);
        }
    }

    /// <summary>Starts postgres on a free loopback port, trying another port if one is taken meanwhile.</summary>
    private static async Task<int> StartProcessAsync(string root, PostgresBinaries binaries, ServerProcessUser user, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var port = FreeLoopbackPort();
            var settings = string.Join(' ',
                "-c listen_addresses=127.0.0.1",
                $"-c port={port.ToString(CultureInfo.InvariantCulture)}",
                // The socket lives in the run's own folder, so runs never collide on /var/run/postgresql.
                $"-c unix_socket_directories={root}",
                // Durability off: the data is thrown away at the end of the run.
                // See https://www.postgresql.org/docs/current/non-durability.html
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off");
            var result = await user.Wrap(binaries.PgCtl,
                [
                    "start",
                    "--pgdata", DataDirectory(root),
                    "--log", LogFile(root),
                    "--wait",
                    "--timeout", ((int)ReadinessDeadline.TotalSeconds).ToString(CultureInfo.InvariantCulture),
                    "-o", settings,
                ])
                .WithValidation(CommandResultValidation.None)
                .ExecuteBufferedAsync(cancellationToken)
                .ConfigureAwait(false);
            if (result.IsSuccess)
            {
                return port;
            }

            var log = File.Exists(LogFile(root)) ? await File.ReadAllTextAsync(LogFile(root), cancellationToken).ConfigureAwait(false) : string.Empty;
            if (attempt < PortAttempts && log.Contains("already in use", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            throw new TestKitException(
                $"The embedded PostgreSQL did not start (pg_ctl exit code {result.ExitCode}): {result.StandardError.Trim()} {Tail(log)} " +
                "Check that the machine's PostgreSQL installation works, or set TESTKIT_CONNECTION_STRING to a server you run yourself.");
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Polls with a deadline until the server answers a query; pg_ctl --wait already did most of the waiting.</summary>
    private async Task WaitUntilReadyAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + ReadinessDeadline;
        while (true)
        {
            try
            {
                var connection = await Admin.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                string? version;
                await using (connection.ConfigureAwait(false))
                {
                    version = await Sql.ScalarAsync<string>(connection, "SELECT current_setting('server_version')", cancellationToken).ConfigureAwait(false);
                }

                Description = $"embedded PostgreSQL {version} at {_builder.Host}:{_builder.Port} (data in {_root})";
                return;
            }
            catch (NpgsqlException e) when (DateTime.UtcNow < deadline && e is not PostgresException { SqlState: not PostgresErrorCodes.CannotConnectNow })
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static async Task RunAsync(Command command, string what, CancellationToken cancellationToken)
    {
        var result = await command.WithValidation(CommandResultValidation.None).ExecuteBufferedAsync(cancellationToken).ConfigureAwait(false);
        if (!result.IsSuccess)
        {
            throw new TestKitException(
                $"{what} failed for the embedded PostgreSQL (exit code {result.ExitCode}): {result.StandardError.Trim()} " +
                "Check that the machine's PostgreSQL installation works, or set TESTKIT_CONNECTION_STRING to a server you run yourself.");
        }
    }

    /// <summary>Stops the server of <paramref name="root"/> if one runs there, then deletes the folder.</summary>
    private static async Task StopAndDeleteAsync(string root, PostgresBinaries binaries, ServerProcessUser user, CancellationToken cancellationToken)
    {
        if (File.Exists(Path.Combine(DataDirectory(root), "postmaster.pid")))
        {
            var fast = await user.Wrap(binaries.PgCtl, ["stop", "--pgdata", DataDirectory(root), "--mode", "fast", "--wait", "--timeout", "30"])
                .WithValidation(CommandResultValidation.None)
                .ExecuteBufferedAsync(cancellationToken)
                .ConfigureAwait(false);
            if (!fast.IsSuccess && File.Exists(Path.Combine(DataDirectory(root), "postmaster.pid")))
            {
                await RunAsync(user.Wrap(binaries.PgCtl, ["stop", "--pgdata", DataDirectory(root), "--mode", "immediate", "--wait"]), "pg_ctl stop", cancellationToken)
                    .ConfigureAwait(false);
            }
        }

        await DeleteFolderAsync(root, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Deletes <paramref name="root"/>, and goes on while another run's sweep deletes it at the same time (each then finds
    /// files gone under it): it returns only once the folder is gone.
    /// </summary>
    private static async Task DeleteFolderAsync(string root, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                Directory.Delete(root, recursive: true);
                return;
            }
            catch (IOException) when (attempt < 50)
            {
                // DirectoryNotFoundException included: someone else removed part of it, or all of it.
                if (!Directory.Exists(root))
                {
                    return;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Removes the servers and folders of earlier runs whose process is gone (killed before it could clean up).</summary>
    private static async Task SweepOrphansAsync(string parent, PostgresBinaries binaries, ServerProcessUser user, CancellationToken cancellationToken)
    {
        foreach (var root in Directory.GetDirectories(parent, DirectoryPrefix + "*"))
        {
            var ownerFile = Path.Combine(root, OwnerFileName);
            if (File.Exists(Path.Combine(root, KeptFileName)) || !File.Exists(ownerFile) || IsOwnerAlive(await File.ReadAllTextAsync(ownerFile, cancellationToken).ConfigureAwait(false)))
            {
                continue;
            }

            try
            {
                await StopAndDeleteAsync(root, binaries, user, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or TestKitException)
            {
                // Someone else's leftover must not stop this run; say what is left so a person can remove it.
                await Console.Error.WriteLineAsync($"TestKit: could not remove the orphaned embedded server in {root}: {e.Message}").ConfigureAwait(false);
            }
        }
    }

    /// <summary>"pid start-time": the start time tells a live owner from a new process that reuses its pid.</summary>
    internal static string OwnerStamp(int processId) =>
        $"{processId.ToString(CultureInfo.InvariantCulture)} {StartTicks(processId).ToString(CultureInfo.InvariantCulture)}";

    internal static bool IsOwnerAlive(string stamp)
    {
        var parts = stamp.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 2
            || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out var processId)
            || !long.TryParse(parts[1], CultureInfo.InvariantCulture, out var startTicks))
        {
            // An owner file we cannot read is not ours to judge: leave that folder alone.
            return true;
        }

        try
        {
            // .NET derives a start time from the boot time, which it recomputes on each call: allow for that jitter.
            return Math.Abs(StartTicks(processId) - startTicks) < TimeSpan.TicksPerSecond;
        }
        catch (ArgumentException)
        {
            // GetProcessById throws ArgumentException when no process has that id.
            return false;
        }
    }

    private static long StartTicks(int processId)
    {
        using var process = System.Diagnostics.Process.GetProcessById(processId);
        return process.StartTime.ToUniversalTime().Ticks;
    }

    private static string Tail(string log)
    {
        var lines = log.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return string.Join(" | ", lines.TakeLast(5));
    }

    private void OnProcessExit(object? sender, EventArgs e)
    {
        // The runtime is exiting without the session having been disposed (for example on SIGTERM):
        // stop the server now rather than leave it to the next run's sweep.
        if (Interlocked.Exchange(ref _stopped, 1) == 0 && !_keepRunning)
        {
            StopAndDeleteAsync(_root, _binaries, _user, CancellationToken.None).GetAwaiter().GetResult();
        }
    }
}
