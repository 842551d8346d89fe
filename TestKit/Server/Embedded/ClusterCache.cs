using System.Globalization;
using System.Security.Cryptography;
using TestKit.Server;

namespace TestKit.Server.Embedded;

/// <summary>
/// Makes a new embedded server's cluster, from a copy of initdb's output when it can. That output (a cluster never started)
/// is kept per server installation in the user's cache folder, with its superuser's password: an embedded server copies it
/// to its own folder instead of running initdb (about 0.9 s of a 1.5 s start on two cores), and then gives its superuser a
/// new password. The first run that misses it runs initdb and fills it, atomically (a folder renamed into place), so that
/// runs starting at the same time never see half of one. An entry lists its files: one that lacks a listed file or cannot be
/// read is damaged, and is removed, so that this run's initdb output replaces it. A cache that cannot be read or written is
/// passed over: the server runs initdb as before.
/// </summary>
/// <param name="entry">The entry's folder; <see cref="For"/> names the user's.</param>
internal sealed class ClusterCache(string entry)
{
    /// <summary>Part of the key: change it whenever <see cref="PgCtl.InitDbAsync"/> makes a different cluster.</summary>
    private const string Layout = "superuser testkit, scram-sha-256, UTF8, C.UTF-8, no-sync; 1";

    /// <summary>The cached cluster's data folder.</summary>
    internal string DataDirectory => Path.Combine(entry, "data");

    private string PasswordFile => Path.Combine(entry, "password");

    private string FileList => Path.Combine(entry, "files");

    /// <summary>
    /// The cache entry for <paramref name="binaries"/>: under <c>$XDG_CACHE_HOME</c> or <c>~/.cache</c>, in
    /// <c>testkit/clusters</c>, named after the initdb program (path, size, time) and <see cref="Layout"/>; null when the
    /// user has no home folder or <c>TESTKIT_CLUSTER_CACHE=off</c>.
    /// </summary>
    internal static ClusterCache? For(PostgresBinaries binaries)
    {
        if (string.Equals(Environment.GetEnvironmentVariable("TESTKIT_CLUSTER_CACHE"), "off", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var root = Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } xdg
            ? xdg
            : Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) is { Length: > 0 } home ? Path.Combine(home, ".cache") : null;
        if (root is null || !File.Exists(binaries.InitDb))
        {
            return null;
        }

        var initDb = new FileInfo(binaries.InitDb);
        var identity = string.Join('\n', initDb.FullName, initDb.Length.ToString(CultureInfo.InvariantCulture), initDb.LastWriteTimeUtc.Ticks.ToString(CultureInfo.InvariantCulture), Layout);
        var key = Hashes.Hex(identity)[..16];
        return new ClusterCache(Path.Combine(root, "testkit", "clusters", key));
    }

    /// <summary>
    /// Makes the cluster in <paramref name="folder"/> and gives it to the server's OS user: a copy of the cached cluster, or
    /// initdb's output (which then fills the cache). Answers the password its superuser has: the cached cluster's, or
    /// <paramref name="password"/> when initdb made it.
    /// </summary>
    internal static async Task<string> CreateClusterAsync(EmbeddedFolder folder, PgCtl pgCtl, string superUser, string password, CancellationToken cancellationToken)
    {
        var cache = For(pgCtl.Binaries);
        if (cache is not null && await cache.TryCopyToAsync(folder.DataDirectory, cancellationToken).ConfigureAwait(false) is { } cachedPassword)
        {
            await pgCtl.User.GiveAsync(folder.Root, cancellationToken).ConfigureAwait(false);
            return cachedPassword;
        }

        await pgCtl.InitDbAsync(folder, superUser, password, cancellationToken).ConfigureAwait(false);
        if (cache is not null)
        {
            await cache.FillAsync(folder.DataDirectory, password, cancellationToken).ConfigureAwait(false);
        }

        return password;
    }

    /// <summary>
    /// Copies the cached cluster to <paramref name="dataDirectory"/> (which must not exist) and answers its superuser's
    /// password; null on a miss, and on a damaged entry, which it removes.
    /// </summary>
    internal async Task<string?> TryCopyToAsync(string dataDirectory, CancellationToken cancellationToken)
    {
        if (!File.Exists(PasswordFile))
        {
            return null;
        }

        string? password = null;
        try
        {
            password = await File.ReadAllTextAsync(PasswordFile, cancellationToken).ConfigureAwait(false);
            var listed = File.Exists(FileList) ? await File.ReadAllLinesAsync(FileList, cancellationToken).ConfigureAwait(false) : [];
            var copied = Copy(DataDirectory, dataDirectory);
            if (listed.Length > 0 && copied.SetEquals(listed))
            {
                return password;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or AggregateException)
        {
            // A file went missing or cannot be read (the parallel copy wraps what it met): the entry is damaged.
        }

        EmbeddedFolder.Remove(dataDirectory);
        if (password is not null)
        {
            RemoveDamaged(password);
        }

        return null;
    }

    /// <summary>
    /// Removes the entry if it is still the one this run copied, whose superuser's password is <paramref name="password"/>
    /// (each fill has a new one): compared, then moved aside and compared again, so that an entry another run filled in its
    /// place meanwhile is left alone, or put back, rather than removed.
    /// </summary>
    internal void RemoveDamaged(string password)
    {
        if (ReadPassword(entry) != password)
        {
            return;
        }

        var aside = entry + ".damaged-" + RandomNumberGenerator.GetHexString(8, lowercase: true);
        try
        {
            Directory.Move(entry, aside);
            if (ReadPassword(aside) != password)
            {
                Directory.Move(aside, entry);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Gone already, or another run filled the entry before this one could put it back.
        }

        EmbeddedFolder.Remove(aside);
    }

    /// <summary>Keeps a copy of the fresh cluster in <paramref name="dataDirectory"/>, whose superuser's password is <paramref name="password"/>, unless another run did first.</summary>
    internal async Task FillAsync(string dataDirectory, string password, CancellationToken cancellationToken)
    {
        var staging = entry + ".filling-" + RandomNumberGenerator.GetHexString(8, lowercase: true);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(entry)!);
            EmbeddedFolder.CreateDirectory(staging, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var files = Copy(dataDirectory, Path.Combine(staging, "data"));
            await File.WriteAllLinesAsync(Path.Combine(staging, "files"), files.Order(StringComparer.Ordinal), cancellationToken).ConfigureAwait(false);
            await EmbeddedFolder.WritePrivateFileAsync(Path.Combine(staging, "password"), password, cancellationToken).ConfigureAwait(false);

            // The password is written last and the folder renamed into place whole: an entry with a password is complete.
            Directory.Move(staging, entry);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Another run filled it meanwhile, or the cache folder cannot be written: the next run runs initdb again.
        }
        finally
        {
            EmbeddedFolder.Remove(staging);
        }
    }

    /// <summary>
    /// Copies a folder tree, keeping the permissions of every folder and file (PostgreSQL checks its data folder's): the
    /// folders first, then the files (about a thousand, most of them small) on every core. Answers the files' paths
    /// relative to <paramref name="source"/>.
    /// </summary>
    private static HashSet<string> Copy(string source, string target)
    {
        var files = new List<string>();
        CopyFolders(source, target, files);
        Parallel.ForEach(files, file => File.Copy(file, Path.Combine(target, Path.GetRelativePath(source, file))));
        return files.Select(file => Path.GetRelativePath(source, file)).ToHashSet(StringComparer.Ordinal);
    }

    private static string? ReadPassword(string entry)
    {
        try
        {
            return File.ReadAllText(Path.Combine(entry, "password"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static void CopyFolders(string source, string target, List<string> files)
    {
        EmbeddedFolder.CreateDirectory(target, OperatingSystem.IsWindows() ? default : File.GetUnixFileMode(source));
        files.AddRange(Directory.EnumerateFiles(source));
        foreach (var directory in Directory.EnumerateDirectories(source))
        {
            CopyFolders(directory, Path.Combine(target, Path.GetFileName(directory)), files);
        }
    }
}
