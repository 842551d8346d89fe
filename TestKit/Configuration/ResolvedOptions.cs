namespace TestKit.Configuration;

/// <summary>Options after every layer has been applied and validated: nothing here is optional.</summary>
internal sealed record ResolvedOptions(
    ServerSource Server,
    IReadOnlyList<string> MigrationFolders,
    IsolationStrategy Isolation,
    int MaxDatabases)
{
    /// <summary>A key for the databases these options may share: same server, same folders, same strategy.</summary>
    internal string PoolKey => string.Join('|', [Server.Key, Isolation.ToString(), MaxDatabases.ToString(System.Globalization.CultureInfo.InvariantCulture), .. MigrationFolders]);
}
