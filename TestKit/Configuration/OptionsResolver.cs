using System.Globalization;
using TestKit.Diagnostics;

namespace TestKit.Configuration;

/// <summary>
/// Applies the layers of configuration, most specific first: code, then <c>TESTKIT_*</c> variables, then the default
/// (the server through <see cref="ServerResolver"/>); and validates the result in one place.
/// Pure apart from the file-system look-up of migration folders, so it is unit-tested without a server.
/// </summary>
internal static class OptionsResolver
{
    internal const string MigrationsVariable = "TESTKIT_MIGRATIONS";
    internal const string IsolationVariable = "TESTKIT_ISOLATION";
    internal const string KeepFailedVariable = "TESTKIT_KEEP_FAILED";
    internal const string IsolateLeftoverClientsVariable = "TESTKIT_ISOLATE_LEFTOVER_CLIENTS";
    internal const string ServerMaxDatabasesVariable = "TESTKIT_SERVER_MAX_DATABASES";
    internal const string VerifyHeadVariable = "TESTKIT_VERIFY_HEAD";
    internal const string DefaultMigrationsFolder = "migrations";

    /// <summary>Resolves <paramref name="options"/> against the environment.</summary>
    /// <param name="options">What the code set.</param>
    /// <param name="environment">Reads an environment variable; null, empty or blank means unset.</param>
    /// <param name="searchRoots">Folders from which relative migration folders are looked up, upwards.</param>
    internal static ResolvedOptions Resolve(TestKitOptions options, Func<string, string?> environment, IReadOnlyList<string> searchRoots)
    {
        // The options come from the test author (TestKitSession, TestDatabases); the rest is the kit's own.
        ArgumentNullException.ThrowIfNull(options);
        environment = Normalized(environment);

        if (options.MaxDatabases is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.MaxDatabases, "TestKitOptions.MaxDatabases must be at least 1.");
        }

        if (options.ServerMaxDatabases is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.ServerMaxDatabases, "TestKitOptions.ServerMaxDatabases must be at least 1.");
        }

        if (options.ChangelogSchema is { } changelog && string.IsNullOrWhiteSpace(changelog))
        {
            throw new ArgumentException("TestKitOptions.ChangelogSchema must name a schema, or be left unset for the default.", nameof(options));
        }

        if (options.Schemas is { } schemas && (schemas.Count == 0 || schemas.Any(string.IsNullOrWhiteSpace)))
        {
            throw new ArgumentException("TestKitOptions.Schemas must name at least one schema and no empty one.", nameof(options));
        }

        if (options.KeepServer is { } keep && keep < TimeSpan.FromSeconds(1))
        {
            throw new ArgumentOutOfRangeException(nameof(options), keep, "TestKitOptions.KeepServer must be at least one second, or unset.");
        }

        return new ResolvedOptions(
            ServerResolver.Resolve(options, environment),
            ResolveMigrationFolders(options, environment, searchRoots),
            ResolveIsolation(options, environment),
            options.MaxDatabases ?? Math.Max(4, Environment.ProcessorCount * 2))
        {
            KeepFailedDatabases = options.KeepFailedDatabases ?? ParseFlag(environment(KeepFailedVariable), KeepFailedVariable),
            IsolateLeftoverClients = options.IsolateLeftoverClients ?? ParseFlag(environment(IsolateLeftoverClientsVariable), IsolateLeftoverClientsVariable),
            VerifyHead = options.VerifyHead ?? ParseFlag(environment(VerifyHeadVariable), VerifyHeadVariable),
            ServerMaxDatabases = options.ServerMaxDatabases ?? ParseNumber(environment(ServerMaxDatabasesVariable), ServerMaxDatabasesVariable),
            Schemas = options.Schemas ?? [],
            ChangelogSchema = options.ChangelogSchema,
            Logger = options.Logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance,
            ConfigureDataOptions = options.ConfigureDataOptions,
            ConfigureDataSource = options.ConfigureDataSource,
            Placeholders = [.. (options.Placeholders ?? new Dictionary<string, string>()).OrderBy(pair => pair.Key, StringComparer.Ordinal)],
            SeedFiles = [.. (options.SeedFiles ?? []).Select(file => PathLocator.Locate(file, "TestKitOptions.SeedFiles", searchRoots, isFile: true))],
        };
    }

    /// <summary><paramref name="environment"/> with one meaning of unset: null, empty or blank all read as null.</summary>
    internal static Func<string, string?> Normalized(Func<string, string?> environment) =>
        name => string.IsNullOrWhiteSpace(environment(name)) ? null : environment(name);

    private static bool ParseFlag(string? value, string variable) =>
        value?.Trim().ToLowerInvariant() switch
        {
            null or "0" or "false" or "no" => false,
            "1" or "true" or "yes" => true,
            _ => throw new TestKitException($"{variable} is '{value}': set it to 1 or true to turn it on, 0 or false (or unset it) to turn it off."),
        };

    /// <summary>A whole number from 1 to <paramref name="most"/> (a count, a port), or null for an unset variable.</summary>
    internal static int? ParseNumber(string? value, string variable, int most = int.MaxValue) =>
        value is null
            ? null
            : int.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number >= 1 && number <= most
                ? number
                : throw new TestKitException($"{variable} is '{value}': set it to a whole number {(most == int.MaxValue ? "of at least 1" : $"from 1 to {most}")}, or unset it.");

    /// <summary>Resolves <paramref name="options"/> against this process's environment and folders.</summary>
    internal static ResolvedOptions FromEnvironment(TestKitOptions options) =>
        Resolve(options, Environment.GetEnvironmentVariable, PathLocator.DefaultSearchRoots());


    private static IReadOnlyList<string> ResolveMigrationFolders(TestKitOptions options, Func<string, string?> environment, IReadOnlyList<string> searchRoots)
    {
        if (options.EmbeddedMigrations is { } embedded)
        {
            if (embedded.Count == 0 || embedded.Any(item => item is null))
            {
                throw new ArgumentException("TestKitOptions.EmbeddedMigrations must name at least one set of resources and no null one.", nameof(options));
            }

            var onDisk = options.MigrationFolders is null ? [] : FoldersOnDisk(options, environment, searchRoots);
            return [.. onDisk, .. embedded.Select(EmbeddedMigrationFolders.Extract)];
        }

        return FoldersOnDisk(options, environment, searchRoots);
    }

    private static IReadOnlyList<string> FoldersOnDisk(TestKitOptions options, Func<string, string?> environment, IReadOnlyList<string> searchRoots)
    {
        if (options.MigrationFolders is not null)
        {
            if (options.MigrationFolders.Count == 0 || options.MigrationFolders.Any(string.IsNullOrWhiteSpace))
            {
                throw new ArgumentException("TestKitOptions.MigrationFolders must name at least one folder and no empty one.", nameof(options));
            }

            return [.. options.MigrationFolders.Select(folder => PathLocator.Locate(folder, "TestKitOptions.MigrationFolders", searchRoots))];
        }

        if (environment(MigrationsVariable) is { } fromVariable)
        {
            var folders = fromVariable.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            return [.. folders.Select(folder => PathLocator.Locate(folder, MigrationsVariable, searchRoots))];
        }

        return [PathLocator.Locate(DefaultMigrationsFolder, "the default", searchRoots)];
    }

    private static IsolationStrategy ResolveIsolation(TestKitOptions options, Func<string, string?> environment)
    {
        if (options.Isolation is { } fromCode)
        {
            return Enum.IsDefined(fromCode)
                ? fromCode
                : throw new ArgumentOutOfRangeException(nameof(options), fromCode, "TestKitOptions.Isolation is not a known strategy.");
        }

        if (environment(IsolationVariable) is not { } fromVariable)
        {
            return IsolationStrategy.MigrateErase;
        }

        return IsolationStrategyNames.TryParse(fromVariable.Trim(), out var strategy)
            ? strategy
            : throw new TestKitException(
                $"{IsolationVariable} is '{fromVariable}', which is not a strategy TestKit knows. " +
                $"Use one of: {string.Join(", ", IsolationStrategyNames.All)}, or unset it for the default.");
    }
}
