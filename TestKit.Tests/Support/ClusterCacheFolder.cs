namespace TestKit.Tests;

/// <summary>
/// TestKit's own tests keep the embedded server's cluster cache in their build output (XDG_CACHE_HOME), not in the user's
/// cache folder: the cache tests damage entries on purpose, and they must not depend on whether the user's home can be
/// written (a CI machine's may not be), nor hurt another run of the kit on the same machine.
/// </summary>
public static class ClusterCacheFolder
{
    [Before(TestSession)]
    public static void UseOwnFolder()
    {
        var folder = Path.Combine(AppContext.BaseDirectory, "cache");
        Directory.CreateDirectory(folder);
        Environment.SetEnvironmentVariable("XDG_CACHE_HOME", folder);
    }
}
