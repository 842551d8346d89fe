using Microsoft.Extensions.Logging;

namespace TestKit.Server.Embedded;

/// <summary>
/// The folder of one embedded server (testkit-pg-*, on tmpfs where there is one), from its creation to its removal: its
/// data folder, log, owner stamp, libpq password file and "kept" mark; and the removal of the folders dead runs left.
/// </summary>
internal sealed class EmbeddedFolder(string root)
{
    internal const string Prefix = "testkit-pg-";

    internal string Root { get; } = root;

    internal string DataDirectory => Path.Combine(Root, "data");

    internal string LogFile => Path.Combine(Root, "server.log");

    internal string PassFile => Path.Combine(Root, "pgpass");

    internal string OwnerFile => Path.Combine(Root, "owner");

    /// <summary>A kept server's: the file each run using it holds a shared lock on (see <see cref="KeptServer"/>).</summary>
    internal string AttachedFile => Path.Combine(Root, "attached");

    /// <summary>A kept server's: its watchdog's ticket, and the lock that watchdog holds.</summary>
    internal string WatchdogFile => Path.Combine(Root, "watchdog");

    private string KeptFile => Path.Combine(Root, "kept");

    private const string SharedMemory = "/dev/shm";

    /// <summary>Whether the folder is on tmpfs (<see cref="Parent"/>).</summary>
    internal bool InSharedMemory => Root.StartsWith(SharedMemory + "/", StringComparison.Ordinal);

    /// <summary>tmpfs when the machine has one (clones and erases are steadier there), else the temp folder.</summary>
    internal static string Parent() =>
        OperatingSystem.IsLinux() && Directory.Exists(SharedMemory) ? SharedMemory : Path.GetTempPath();

    /// <summary>Creates a new folder, private to this user, stamped with this process as its owner.</summary>
    internal static async Task<EmbeddedFolder> CreateAsync(string name, CancellationToken cancellationToken)
    {
        var folder = new EmbeddedFolder(Path.Combine(Parent(), Prefix + name));
        CreateDirectory(folder.Root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        await File.WriteAllTextAsync(folder.OwnerFile, OwnerStamp.Of(Environment.ProcessId), cancellationToken).ConfigureAwait(false);
        return folder;
    }

    /// <summary>
    /// Stops and removes the embedded servers of runs whose process is gone (killed before they could clean up): a folder
    /// whose owner stamp names a dead process and that is not kept. A folder this process cannot judge is left alone; one it
    /// cannot remove is logged, and the run goes on.
    /// </summary>
    internal static async Task SweepOrphansAsync(PgCtl pgCtl, ILogger logger, CancellationToken cancellationToken)
    {
        // The folders of every embedded server on this machine, this run's included.
        foreach (var folder in Directory.GetDirectories(Parent(), Prefix + "*").Select(root => new EmbeddedFolder(root)))
        {
            try
            {
                if (Path.GetFileName(folder.Root).StartsWith(KeptServer.Prefix, StringComparison.Ordinal))
                {
                    // A kept server is never an orphan: its watchdog removes it, and is started again here if it died.
                    await KeptServer.LookAfterAsync(folder, pgCtl, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                if (!await folder.IsOrphanAsync(cancellationToken).ConfigureAwait(false))
                {
                    continue;
                }

                await pgCtl.StopAsync(folder, cancellationToken).ConfigureAwait(false);
                await folder.DeleteAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or TestKitException)
            {
                // Someone else's leftover must not stop this run; say what is left so a person can remove it.
                logger.LogWarning(e, "TestKit could not remove the orphaned embedded server in {Folder}: {Reason}", folder.Root, e.Message);
            }
        }
    }

    /// <summary>True when no live process owns the folder and it is not kept: a dead run's leftover.</summary>
    private async Task<bool> IsOrphanAsync(CancellationToken cancellationToken) =>
        !File.Exists(KeptFile) && File.Exists(OwnerFile) && !OwnerStamp.IsAlive(await File.ReadAllTextAsync(OwnerFile, cancellationToken).ConfigureAwait(false));

    /// <summary>A libpq password file, so that a psql command printed for a kept database needs no password in it.</summary>
    internal Task WritePassFileAsync(string host, int port, string user, string password, CancellationToken cancellationToken) =>
        WritePrivateFileAsync(PassFile, $"{host}:{port}:*:{user}:{password}\n", cancellationToken);

    /// <summary>Writes a file that only this OS user may read and write: a password, in any of the kit's files that hold one.</summary>
    internal static async Task WritePrivateFileAsync(string path, string text, CancellationToken cancellationToken)
    {
        await File.WriteAllTextAsync(path, text, cancellationToken).ConfigureAwait(false);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }

    /// <summary>Marks the folder kept (it holds kept databases): no run's sweep removes it.</summary>
    internal void MarkKept(string stopCommand) => File.WriteAllText(KeptFile, "kept for inspection; when done: " + stopCommand);

    internal bool HasRunningServer => File.Exists(Path.Combine(DataDirectory, "postmaster.pid"));

    /// <summary>
    /// Deletes the folder, and goes on while another run's sweep deletes it at the same time (each then finds files gone
    /// under it): it returns only once the folder is gone.
    /// </summary>
    internal async Task DeleteAsync(CancellationToken cancellationToken)
    {
        bool Deleted()
        {
            try
            {
                Directory.Delete(Root, recursive: true);
                return true;
            }
            catch (IOException)
            {
                // DirectoryNotFoundException included: someone else removed part of it, or all of it.
                return !Directory.Exists(Root);
            }
        }

        if (!await Poll.UntilAsync(() => Task.FromResult(Deleted()), TimeSpan.FromMilliseconds(20), Limits.FolderDelete, cancellationToken).ConfigureAwait(false))
        {
            // The last try's error says what keeps it.
            Directory.Delete(Root, recursive: true);
        }
    }

    /// <summary>Removes a folder tree if it is there; another run removing it at the same time is no error, nor one not ours to remove.</summary>
    internal static void Remove(string folder)
    {
        try
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Gone already, or not ours to remove: what is left is the next run's sweep's, or a person's.
        }
    }

    /// <summary>Creates a folder with <paramref name="mode"/> (where the OS has Unix file modes).</summary>
    internal static void CreateDirectory(string path, UnixFileMode mode)
    {
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, mode);
        }
    }
}
