namespace TestKit.Server.Embedded;

/// <summary>
/// Makes the data folder of a new embedded server and gives it to the server's OS user: a copy of the cluster cached in
/// the user's <see cref="ClusterCache"/>, or initdb's output (which then fills the cache).
/// </summary>
internal static class EmbeddedCluster
{
    /// <summary>
    /// Makes the cluster in <paramref name="folder"/>; answers the password its superuser has: the cached cluster's, or
    /// <paramref name="password"/> when initdb made it.
    /// </summary>
    internal static async Task<string> CreateAsync(EmbeddedFolder folder, PgCtl pgCtl, string superUser, string password, CancellationToken cancellationToken)
    {
        var cache = ClusterCache.For(pgCtl.Binaries);
        if (cache is not null && await cache.TryCopyToAsync(folder.DataDirectory, cancellationToken).ConfigureAwait(false) is { } cachedPassword)
        {
            await pgCtl.User.GiveAsync(folder.Root, cancellationToken).ConfigureAwait(false);
            return cachedPassword;
        }

        await InitDbAsync(folder, pgCtl, superUser, password, cancellationToken).ConfigureAwait(false);
        if (cache is not null)
        {
            await cache.FillAsync(folder.DataDirectory, password, cancellationToken).ConfigureAwait(false);
        }

        return password;
    }

    private static async Task InitDbAsync(EmbeddedFolder folder, PgCtl pgCtl, string superUser, string password, CancellationToken cancellationToken)
    {
        var passwordFile = Path.Combine(folder.Root, "password");
        await File.WriteAllTextAsync(passwordFile, password, cancellationToken).ConfigureAwait(false);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        await pgCtl.User.GiveAsync(folder.Root, cancellationToken).ConfigureAwait(false);
        try
        {
            await pgCtl.InitDbAsync(folder, superUser, passwordFile, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(passwordFile);
        }
    }
}
