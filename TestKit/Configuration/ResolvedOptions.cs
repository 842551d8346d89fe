using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace TestKit.Configuration;

/// <summary>Options after every layer has been applied and validated: nothing here is optional.</summary>
internal sealed record ResolvedOptions(
    ServerSource Server,
    IReadOnlyList<string> MigrationFolders,
    IsolationStrategy Isolation,
    int MaxDatabases)
{
    internal bool KeepFailedDatabases { get; init; }

    /// <summary>A new connection string per lease, so that a test's leftovers reach nothing (see <see cref="TestKitOptions.IsolateLeftoverClients"/>).</summary>
    internal bool IsolateLeftoverClients { get; init; }

    /// <summary>Every database a test gets is compared with head by its full state digest (see <see cref="TestKitOptions.VerifyHead"/>).</summary>
    internal bool VerifyHead { get; init; }

    /// <summary>Where the kit tells what concerns no single test (see <see cref="TestKitOptions.Logger"/>).</summary>
    internal ILogger Logger { get; init; } = NullLogger.Instance;

    /// <summary>The bound on the kit's databases over every process on the server, or null for none.</summary>
    internal int? ServerMaxDatabases { get; init; }

    internal IReadOnlyList<string> Schemas { get; init; } = [];

    /// <summary>Shapes each test's linq2db options (see <see cref="TestKitOptions.ConfigureDataOptions"/>).</summary>
    internal Func<LinqToDB.DataOptions, LinqToDB.DataOptions>? ConfigureDataOptions { get; init; }

    /// <summary>Shapes each test's data source (see <see cref="TestKitOptions.ConfigureDataSource"/>).</summary>
    internal Action<Npgsql.NpgsqlDataSourceBuilder>? ConfigureDataSource { get; init; }

    /// <summary>The schema of Evolve's changelog, or null for Evolve's default (the first managed schema).</summary>
    internal string? ChangelogSchema { get; init; }

    internal IReadOnlyList<KeyValuePair<string, string>> Placeholders { get; init; } = [];

    internal IReadOnlyList<string> SeedFiles { get; init; } = [];

    /// <summary>A key for the databases these options may share: same server, scripts, settings and strategy.</summary>
    internal string PoolKey => string.Join(
        '|',
        [
            Server.Key,
            Isolation.ToString(),
            MaxDatabases.ToString(CultureInfo.InvariantCulture),
            IsolateLeftoverClients ? "isolate-leftovers" : "share-connection-string",
            VerifyHead ? "verify-head" : "trust-the-strategy",
            "server-max", ServerMaxDatabases?.ToString(CultureInfo.InvariantCulture) ?? "none",
            "folders", .. MigrationFolders,
            "schemas", .. Schemas,
            "changelog", ChangelogSchema ?? "default",
            "placeholders", .. Placeholders.Select(pair => pair.Key + "=" + pair.Value),
            "seeds", .. SeedFiles,
        ]);
}
