using System.Globalization;

namespace TestKit.Server.Embedded;

/// <summary>
/// The server programs of an embedded server, run as the right OS user: initdb, and pg_ctl to start and stop. Their
/// failures become <see cref="TestKitException"/>s that name the remedy.
/// </summary>
internal sealed class PgCtl(PostgresBinaries binaries, ServerProcessUser user)
{
    /// <summary>What to do when the machine's server programs fail, for the end of an error message.</summary>
    internal const string Remedy = "Check that the machine's PostgreSQL installation works, or set TESTKIT_CONNECTION_STRING to a server you run yourself.";

    internal static async Task<PgCtl> LocateAsync(string? binDirectory, CancellationToken cancellationToken)
    {
        // Each may start a process (pg_config, id): at once.
        var binaries = binDirectory is null ? PostgresBinaries.LocateAsync(cancellationToken) : Task.FromResult(new PostgresBinaries(binDirectory));
        var user = ServerProcessUser.ChooseAsync(cancellationToken);
        await Task.WhenAll(binaries, user).ConfigureAwait(false);
        return new(await binaries.ConfigureAwait(false), await user.ConfigureAwait(false));
    }

    internal ServerProcessUser User => user;

    internal PostgresBinaries Binaries => binaries;

    /// <summary>How to stop the server of <paramref name="folder"/> and remove it, as a shell command.</summary>
    internal string StopCommand(EmbeddedFolder folder) =>
        $"{(user.IsOtherUser ? $"runuser -u {user.UserName} -- " : string.Empty)}{binaries.PgCtl} stop -D {folder.DataDirectory} && rm -rf {folder.Root}";

    /// <summary>
    /// initdb: a UTF-8 cluster in <paramref name="folder"/>, which it gives to the server's user, with a superuser
    /// <paramref name="superUser"/> whose password is <paramref name="password"/> (handed over in a file only that user reads).
    /// </summary>
    internal async Task InitDbAsync(EmbeddedFolder folder, string superUser, string password, CancellationToken cancellationToken)
    {
        var passwordFile = Path.Combine(folder.Root, "password");
        await EmbeddedFolder.WritePrivateFileAsync(passwordFile, password, cancellationToken).ConfigureAwait(false);

        await user.GiveAsync(folder.Root, cancellationToken).ConfigureAwait(false);
        try
        {
            await RunAsync(
                binaries.InitDb,
                [
                    "--pgdata", folder.DataDirectory,
                    "--username", superUser,
                    "--pwfile", passwordFile,
                    "--auth", "scram-sha-256",
                    "--encoding", "UTF8",
                    "--locale", "C.UTF-8",
                    // Throw-away data: skipping the final fsync saves most of initdb's time.
                    "--no-sync",
                ],
                "initdb",
                cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(passwordFile);
        }
    }

    /// <summary>
    /// pg_ctl start with <paramref name="settings"/> (postgres -c options), waiting up to <paramref name="wait"/>; false, with
    /// the log, when it did not start. pg_ctl looks at the server every 100 ms, and a server on tmpfs is up in about 40: the
    /// kit also reads the server's own "ready" mark in postmaster.pid every 5 ms, and goes on at whichever comes first
    /// (pg_ctl then ends on its own in the background). A server that fails to start is told by pg_ctl, as before.
    /// </summary>
    internal async Task<(bool Started, string Error)> TryStartAsync(EmbeddedFolder folder, string settings, TimeSpan wait, CancellationToken cancellationToken)
    {
        var start = user.RunAsync(
            binaries.PgCtl,
            [
                "start",
                "--pgdata", folder.DataDirectory,
                "--log", folder.LogFile,
                "--wait",
                "--timeout", ((int)wait.TotalSeconds).ToString(CultureInfo.InvariantCulture),
                "-o", settings,
            ],
            cancellationToken);
        using (var looking = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            var ready = WaitForReadyMarkAsync(folder, looking.Token);
            if (await Task.WhenAny(start, ready).ConfigureAwait(false) == ready && await ready.ConfigureAwait(false))
            {
                _ = start.ContinueWith(static ended => ended.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
                return (true, string.Empty);
            }

            await looking.CancelAsync().ConfigureAwait(false);
            await ready.ConfigureAwait(false);
        }

        var result = await start.ConfigureAwait(false);
        var log = File.Exists(folder.LogFile) ? await File.ReadAllTextAsync(folder.LogFile, cancellationToken).ConfigureAwait(false) : string.Empty;
        return (result.IsSuccess, $"pg_ctl exit code {result.ExitCode}: {result.StandardError.Trim()} {Tail(log)}");
    }

    /// <summary>True once postmaster.pid carries the postmaster's "ready" status (its 8th line, as pg_ctl reads it); false when cancelled.</summary>
    private static async Task<bool> WaitForReadyMarkAsync(EmbeddedFolder folder, CancellationToken cancellationToken)
    {
        var pidFile = Path.Combine(folder.DataDirectory, "postmaster.pid");
        async Task<bool> Ready()
        {
            try
            {
                var lines = await File.ReadAllLinesAsync(pidFile, CancellationToken.None).ConfigureAwait(false);
                return lines.Length >= 8 && lines[7].Trim() == "ready";
            }
            catch (IOException)
            {
                // Not written yet, or being rewritten.
                return false;
            }
        }

        try
        {
            return await Poll.UntilAsync(Ready, TimeSpan.FromMilliseconds(5), Limits.ServerStart, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // pg_ctl's own wait finished first.
            return false;
        }
    }

    /// <summary>Stops the server of <paramref name="folder"/> if one runs there: fast, and immediately if that fails.</summary>
    internal async Task StopAsync(EmbeddedFolder folder, CancellationToken cancellationToken)
    {
        if (!folder.HasRunningServer)
        {
            return;
        }

        var fast = await user.RunAsync(binaries.PgCtl, ["stop", "--pgdata", folder.DataDirectory, "--mode", "fast", "--wait", "--timeout", "30"], cancellationToken)
            .ConfigureAwait(false);
        // A server killed outright (the machine's container restarted, say) leaves its postmaster.pid behind: pg_ctl stop
        // then fails for want of a process, and pg_ctl status says no server runs there.
        if (!fast.IsSuccess && folder.HasRunningServer && await IsRunningAsync(folder, cancellationToken).ConfigureAwait(false))
        {
            await RunAsync(binaries.PgCtl, ["stop", "--pgdata", folder.DataDirectory, "--mode", "immediate", "--wait"], "pg_ctl stop", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>pg_ctl status: whether the process postmaster.pid names runs (exit code 0; 3 when it does not).</summary>
    private async Task<bool> IsRunningAsync(EmbeddedFolder folder, CancellationToken cancellationToken)
    {
        var status = await user.RunAsync(binaries.PgCtl, ["status", "--pgdata", folder.DataDirectory], cancellationToken).ConfigureAwait(false);
        return status.ExitCode != 3;
    }

    /// <summary>Stops the server of <paramref name="folder"/> at once, synchronously: for process exit, where nothing may be awaited.</summary>
    internal void StopNow(EmbeddedFolder folder)
    {
        if (!folder.HasRunningServer)
        {
            return;
        }

        // At process exit: blocking is all that is left to do.
        user.RunAsync(binaries.PgCtl, ["stop", "--pgdata", folder.DataDirectory, "--mode", "immediate", "--wait"], CancellationToken.None)
            .Wait(Limits.ServerStopAtExit);
    }

    private async Task RunAsync(string program, IReadOnlyList<string> arguments, string what, CancellationToken cancellationToken)
    {
        var result = await user.RunAsync(program, arguments, cancellationToken).ConfigureAwait(false);
        if (!result.IsSuccess)
        {
            throw new TestKitException($"{what} failed for the embedded PostgreSQL (exit code {result.ExitCode}): {result.StandardError.Trim()} {Remedy}");
        }
    }

    private static string Tail(string log) => string.Join(" | ", log.Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(5));
}
