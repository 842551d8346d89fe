using System.Globalization;
using System.Security.Cryptography;

namespace TestKit.Server.Embedded;

/// <summary>
/// The embedded server kept between runs on request (<see cref="TestKitOptions.KeepServer"/>), as pg_tmp keeps one: one per
/// OS user, server programs and settings, in a folder of a fixed name; a run of other programs or settings replaces it
/// unless a run uses it. A run finds or starts it under an exclusive lock on
/// the folder's ".lock" file, uses it under a shared lock on its "attached" file, and a server that does not answer is
/// replaced, not trusted. Its watchdog, a shell loop that every run (and every run's sweep) starts again if it is gone,
/// stops it and removes its folder once no run has used it for its idle time. Linux only (flock, setsid, stat -c).
/// </summary>
internal static class KeptServer
{
    /// <summary>The name of a kept server's folder starts so: testkit-pg-kept-HASH.</summary>
    internal const string Prefix = EmbeddedFolder.Prefix + "kept-";

    private const UnixFileMode ReadableByAll = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    /// <summary>
    /// The watchdog. $1: the folder; $2: pg_ctl; $3: its ticket, the "watchdog" file's text ("RANDOM IDLE_SECONDS"), which a
    /// replaced server's folder no longer holds. It locks the start lock and "attached" through descriptors that only open
    /// files which are there: flock on a path would create the start lock of a folder removed meanwhile.
    /// </summary>
    private const string Watchdog = """
        while [ "$(cat "$1/watchdog" 2>/dev/null)" = "$3" ] && sleep 1; do
          [ -e "$1/kept" ] && exit 0
          [ $(( $(date +%s) - $(stat -c %Y "$1/attached" 2>/dev/null || echo 0) )) -ge "${3#* }" ] || continue
          { flock -n 8 && flock -n 9 && [ "$(cat "$1/watchdog")" = "$3" ] && { "$2" stop -D "$1/data" -m fast -w; rm -rf "$1"; exit 0; }; } 8<"$1.lock" 9<"$1/attached" 2>/dev/null
        done
        """;

    /// <summary>The kept server of <paramref name="pgCtl"/>'s programs, started if there is none (or none that answers), attached to by this run until it is disposed.</summary>
    internal static async Task<EmbeddedServer> AttachAsync(PgCtl pgCtl, TimeSpan idle, CancellationToken cancellationToken)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new TestKitException("Keeping the embedded PostgreSQL between runs needs Linux (flock and setsid). Unset TESTKIT_KEEP_SERVER.");
        }

        var folder = FolderFor(pgCtl);
        var starting = await LockAsync(folder.Root + ".lock", cancellationToken).ConfigureAwait(false);
        await using var releasing = starting.ConfigureAwait(false);
        EmbeddedServer? server = null;
        if (Directory.Exists(folder.Root))
        {
            var attachment = Attach(folder);
            try
            {
                server = await EmbeddedServer.ReuseAsync(folder, pgCtl, attachment, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception stale) when (stale is not OperationCanceledException)
            {
                // Stopped, damaged, or of a password nobody knows: replaced, unless runs still use it (full, say).
                await attachment.DisposeAsync().ConfigureAwait(false);
                using (var unused = TryLock(folder.AttachedFile))
                {
                    if (unused is null)
                    {
                        throw new TestKitException($"The kept embedded PostgreSQL in {folder.Root} did not answer ({stale.Message}), and other runs use it, so it was not replaced. Try again once they end.", stale);
                    }
                }

                await pgCtl.StopAsync(folder, cancellationToken).ConfigureAwait(false);
                await folder.DeleteAsync(cancellationToken).ConfigureAwait(false);
            }
        }

        if (server is null)
        {
            folder = await EmbeddedFolder.CreateAsync(Path.GetFileName(folder.Root)[EmbeddedFolder.Prefix.Length..], cancellationToken).ConfigureAwait(false);
            server = await EmbeddedServer.StartNewAsync(folder, pgCtl, Attach(folder), cancellationToken).ConfigureAwait(false);
        }

        if (!File.Exists(folder.WatchdogFile) || new FileInfo(folder.WatchdogFile).Length == 0)
        {
            // The watchdog's user reads it (umask aside). Not cancelled half-way: an empty ticket would leave no watchdog.
            var ticket = $"{RandomNumberGenerator.GetHexString(8, lowercase: true)} {((int)idle.TotalSeconds).ToString(CultureInfo.InvariantCulture)}";
            await File.WriteAllTextAsync(folder.WatchdogFile, ticket, CancellationToken.None).ConfigureAwait(false);
            File.SetUnixFileMode(folder.WatchdogFile, ReadableByAll);
        }

        await ReplaceOthersAsync(folder, pgCtl, cancellationToken).ConfigureAwait(false);
        await WatchAsync(folder, pgCtl, cancellationToken).ConfigureAwait(false);
        return server;
    }

    /// <summary>
    /// The sweep's part for a kept server's folder, under its start lock (taken by a run meanwhile: left to that run): starts
    /// its watchdog again if it died, or removes a folder that has no ticket (its start was cut short, or its removal).
    /// </summary>
    internal static async Task LookAfterAsync(EmbeddedFolder folder, PgCtl pgCtl, CancellationToken cancellationToken)
    {
        using var starting = TryLock(folder.Root + ".lock", FileMode.Open);
        if (starting is null)
        {
            return;
        }

        if (File.Exists(folder.WatchdogFile) && new FileInfo(folder.WatchdogFile).Length > 0)
        {
            await WatchAsync(folder, pgCtl, cancellationToken).ConfigureAwait(false);
            return;
        }

        await pgCtl.StopAsync(folder, cancellationToken).ConfigureAwait(false);
        await folder.DeleteAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// One kept server per OS user: stops and removes this user's kept servers of other programs or settings that no run
    /// uses (as their watchdog would: under their start lock, attached by nobody). One that a run uses stays.
    /// </summary>
    private static async Task ReplaceOthersAsync(EmbeddedFolder own, PgCtl pgCtl, CancellationToken cancellationToken)
    {
        foreach (var other in Directory.GetDirectories(EmbeddedFolder.Parent(), Prefix + "*").Where(root => root != own.Root).Select(root => new EmbeddedFolder(root)))
        {
            // Another OS user's folder cannot be read: its watchdog file is not there for this run.
            using var starting = TryLock(other.Root + ".lock", FileMode.Open);
            using var unused = starting is null || !File.Exists(other.WatchdogFile) ? null : TryLock(other.AttachedFile);
            if (unused is not null)
            {
                await pgCtl.StopAsync(other, cancellationToken).ConfigureAwait(false);
                await other.DeleteAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>The kept server's folder for this OS user, <paramref name="pgCtl"/>'s programs (their path and date) and the server's settings.</summary>
    internal static EmbeddedFolder FolderFor(PgCtl pgCtl)
    {
        var fingerprint = $"{Environment.UserName}\n{pgCtl.Binaries.Directory}\n{File.GetLastWriteTimeUtc(pgCtl.Binaries.PgCtl):O}\n{ServerSettings.For(new(EmbeddedFolder.Parent() + "/"), 0)}";
        return new EmbeddedFolder(Path.Combine(EmbeddedFolder.Parent(), Prefix + Hashes.Hex(fingerprint)[..16]));
    }

    /// <summary>
    /// Starts the watchdog of the kept server in <paramref name="folder"/> unless it runs (it holds a lock on "watchdog.lock"),
    /// detached from this process. Called under the server's start lock, so its ticket is whole and its folder stays.
    /// </summary>
    private static async Task WatchAsync(EmbeddedFolder folder, PgCtl pgCtl, CancellationToken cancellationToken)
    {
        var ticket = await File.ReadAllTextAsync(folder.WatchdogFile, cancellationToken).ConfigureAwait(false);
        // The lock is free only when no watchdog runs; one that starts meanwhile and finds it taken ends, and this run starts one.
        if (TryLock(folder.WatchdogFile + ".lock") is not { } free)
        {
            return;
        }

        free.Dispose();
        // No output of it may hold this process's output open: the caller's reader would wait for the watchdog to end.
        var started = await pgCtl.User.RunAsync(
            "setsid",
            ["-f", "sh", "-c", "exec flock -n -o \"$1/watchdog.lock\" sh -c \"$0\" sh \"$@\" </dev/null >/dev/null 2>&1", Watchdog, folder.Root, pgCtl.Binaries.PgCtl, ticket],
            cancellationToken).ConfigureAwait(false);
        if (!started.IsSuccess)
        {
            throw new TestKitException($"TestKit could not start the watchdog of the kept embedded PostgreSQL in {folder.Root} (setsid exit code {started.ExitCode}): {started.StandardError.Trim()}. It needs util-linux (setsid, flock); or unset TESTKIT_KEEP_SERVER.");
        }
    }

    /// <summary>This run's use of the server: a shared lock on its "attached" file, which the watchdog needs alone to stop it.</summary>
    private static FileStream Attach(EmbeddedFolder folder) =>
        new(folder.AttachedFile, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite);

    /// <summary>The exclusive lock on <paramref name="path"/>, waited for while another run starts the server or the watchdog stops it.</summary>
    private static async Task<FileStream> LockAsync(string path, CancellationToken cancellationToken)
    {
        FileStream? held = null;
        return await Poll.UntilAsync(() => Task.FromResult((held = TryLock(path)) is not null), TimeSpan.FromMilliseconds(20), Limits.ServerStart, cancellationToken).ConfigureAwait(false)
            ? held!
            : throw new TestKitException($"Another run held {path} for {Limits.ServerStart.TotalSeconds:0} s while it started or stopped the kept embedded PostgreSQL (a lock ends with the process that holds it: see which one does with fuser {path}), or unset TESTKIT_KEEP_SERVER.");
    }

    /// <summary>
    /// The exclusive lock on <paramref name="path"/> (a flock, as the shell's flock takes), or null when someone holds a lock
    /// on it, it is another OS user's, or (<paramref name="mode"/> Open: for a look at another server, which must not leave a
    /// lock file behind for a folder removed meanwhile) it is not there. A file it creates is readable by all, so that the
    /// watchdog (maybe another OS user) can lock it too.
    /// </summary>
    private static FileStream? TryLock(string path, FileMode mode = FileMode.OpenOrCreate)
    {
        try
        {
            var held = new FileStream(path, mode, FileAccess.ReadWrite, FileShare.None);
            if (OperatingSystem.IsLinux())
            {
                File.SetUnixFileMode(held.SafeFileHandle, ReadableByAll);
            }

            return held;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
