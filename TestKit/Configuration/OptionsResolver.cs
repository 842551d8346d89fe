using System.Globalization;
using Npgsql;
using TestKit.Diagnostics;

namespace TestKit.Configuration;

/// <summary>
/// Applies the layers of configuration, most specific first: code, <c>TESTKIT_*</c> variables,
/// libpq's <c>PG*</c> variables, then the embedded default; and validates the result in one place.
/// Pure apart from the file-system look-up of migration folders, so it is unit-tested without a server.
/// </summary>
internal static class OptionsResolver
{
    internal const string ConnectionStringVariable = "TESTKIT_CONNECTION_STRING";
    internal const string MigrationsVariable = "TESTKIT_MIGRATIONS";
    internal const string IsolationVariable = "TESTKIT_ISOLATION";
    internal const string KeepFailedVariable = "TESTKIT_KEEP_FAILED";
    internal const string IsolateLeftoverClientsVariable = "TESTKIT_ISOLATE_LEFTOVER_CLIENTS";
    internal const string ServerMaxDatabasesVariable = "TESTKIT_SERVER_MAX_DATABASES";
    internal const string VerifyHeadVariable = "TESTKIT_VERIFY_HEAD";
    internal const string PostgresBinVariable = "TESTKIT_POSTGRES_BIN";
    internal const string KeepServerVariable = "TESTKIT_KEEP_SERVER";
    internal const string DefaultMigrationsFolder = "migrations";

    private static readonly string[] LibpqVariables = ["PGHOST", "PGPORT", "PGUSER", "PGPASSWORD", "PGDATABASE"];

    /// <summary>Resolves <paramref name="options"/> against the environment.</summary>
    /// <param name="options">What the code set.</param>
    /// <param name="environment">Reads an environment variable; null, empty or blank means unset.</param>
    /// <param name="searchRoots">Folders from which relative migration folders are looked up, upwards.</param>
    internal static ResolvedOptions Resolve(TestKitOptions options, Func<string, string?> environment, IReadOnlyList<string> searchRoots)
    {
        // The options come from the test author (TestKitSession, TestDatabases); the rest is the kit's own.
        ArgumentNullException.ThrowIfNull(options);

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
            ResolveServer(options, Variable) is { IsEmbedded: true } embedded && ResolveKeepServer(options, Variable) is { } idle ? embedded with { KeepIdle = idle } : ResolveServer(options, Variable),
            ResolveMigrationFolders(options, Variable, searchRoots),
            ResolveIsolation(options, Variable),
            options.MaxDatabases ?? Math.Max(4, Environment.ProcessorCount * 2))
        {
            KeepFailedDatabases = options.KeepFailedDatabases ?? ParseFlag(Variable(KeepFailedVariable), KeepFailedVariable),
            IsolateLeftoverClients = options.IsolateLeftoverClients ?? ParseFlag(Variable(IsolateLeftoverClientsVariable), IsolateLeftoverClientsVariable),
            VerifyHead = options.VerifyHead ?? ParseFlag(Variable(VerifyHeadVariable), VerifyHeadVariable),
            ServerMaxDatabases = options.ServerMaxDatabases ?? ParseNumber(Variable(ServerMaxDatabasesVariable), ServerMaxDatabasesVariable),
            Schemas = options.Schemas ?? [],
            ChangelogSchema = options.ChangelogSchema,
            Logger = options.Logger ?? Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance,
            ConfigureDataOptions = options.ConfigureDataOptions,
            ConfigureDataSource = options.ConfigureDataSource,
            Placeholders = [.. (options.Placeholders ?? new Dictionary<string, string>()).OrderBy(pair => pair.Key, StringComparer.Ordinal)],
            SeedFiles = [.. (options.SeedFiles ?? []).Select(file => PathLocator.Locate(file, "TestKitOptions.SeedFiles", searchRoots, isFile: true))],
        };

        // One meaning of unset (null, empty or blank) for every variable.
        string? Variable(string name) => string.IsNullOrWhiteSpace(environment(name)) ? null : environment(name);
    }

    private static bool ParseFlag(string? value, string variable) =>
        value?.Trim().ToLowerInvariant() switch
        {
            null or "0" or "false" or "no" => false,
            "1" or "true" or "yes" => true,
            _ => throw new TestKitException($"{variable} is '{value}': set it to 1 or true to turn it on, 0 or false (or unset it) to turn it off."),
        };

    /// <summary>A whole number from 1 to <paramref name="most"/> (a count, a port), or null for an unset variable.</summary>
    private static int? ParseNumber(string? value, string variable, int most = int.MaxValue) =>
        value is null
            ? null
            : int.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number >= 1 && number <= most
                ? number
                : throw new TestKitException($"{variable} is '{value}': set it to a whole number {(most == int.MaxValue ? "of at least 1" : $"from 1 to {most}")}, or unset it.");

    /// <summary>Resolves <paramref name="options"/> against this process's environment and folders.</summary>
    internal static ResolvedOptions FromEnvironment(TestKitOptions options) =>
        Resolve(options, Environment.GetEnvironmentVariable, PathLocator.DefaultSearchRoots());

    /// <summary>
    /// The kept embedded server <paramref name="environment"/> alone asks for (<c>TESTKIT_KEEP_SERVER</c> outside CI), for a
    /// session to reach before its first test asks; null when it asks for none, or for something the tests will report.
    /// </summary>
    internal static ServerSource? KeptServerFrom(Func<string, string?> environment)
    {
        try
        {
            return Resolve(TestKitOptions.Default with { MigrationFolders = [Path.GetTempPath()] }, environment, []).Server is { KeepIdle: not null } kept ? kept : null;
        }
        catch (Exception e) when (e is TestKitException or ArgumentException)
        {
            return null;
        }
    }

    /// <summary>How long the embedded server is kept after a run; never under CI (<c>CI</c> set), where every run starts clean.</summary>
    private static TimeSpan? ResolveKeepServer(TestKitOptions options, Func<string, string?> environment) =>
        environment("CI") is not null
            ? null
            : options.KeepServer ?? (ParseNumber(environment(KeepServerVariable), KeepServerVariable) is { } seconds ? TimeSpan.FromSeconds(seconds) : null);

    private static ServerSource ResolveServer(TestKitOptions options, Func<string, string?> environment)
    {
        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return new ServerSource(Parse(options.ConnectionString, "TestKitOptions.ConnectionString", fromCode: true), "TestKitOptions.ConnectionString");
        }

        if (environment(ConnectionStringVariable) is { } fromVariable)
        {
            return new ServerSource(Parse(fromVariable, ConnectionStringVariable, fromCode: false), ConnectionStringVariable);
        }

        if (LibpqVariables.Any(name => environment(name) is not null))
        {
            return new ServerSource(FromLibpqVariables(environment), "PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE");
        }

        if (options.PostgresBinDirectory is { } fromCodeBin)
        {
            return EmbeddedWith(fromCodeBin, "TestKitOptions.PostgresBinDirectory", fromCode: true);
        }

        return environment(PostgresBinVariable) is { } bin ? EmbeddedWith(bin, PostgresBinVariable, fromCode: false) : ServerSource.Embedded;
    }

    /// <summary>The embedded server run from the programs in <paramref name="directory"/>, which must hold initdb and pg_ctl.</summary>
    private static ServerSource EmbeddedWith(string directory, string origin, bool fromCode)
    {
        var full = string.IsNullOrWhiteSpace(directory) ? string.Empty : Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory.Trim()));
        if (full.Length > 0 && File.Exists(Path.Combine(full, "initdb")) && File.Exists(Path.Combine(full, "pg_ctl")))
        {
            return new ServerSource(null, origin, full);
        }

        var message = $"{origin} is '{directory}', which holds no PostgreSQL server programs (initdb and pg_ctl). " +
            "Name the bin folder of a PostgreSQL installation (pg_config --bindir prints it), or unset it to use the first one found on PATH.";
        throw fromCode ? new ArgumentException(message, "options") : new TestKitException(message);
    }

    private static NpgsqlConnectionStringBuilder Parse(string connectionString, string origin, bool fromCode)
    {
        try
        {
            return WithDefaults(new NpgsqlConnectionStringBuilder(connectionString));
        }
        catch (Exception e) when (e is ArgumentException or FormatException)
        {
            // The parser's message names the bad key, never a value, so it is safe to pass on.
            var message = $"{origin} is not a valid Npgsql connection string ({e.Message}). " +
                "Use the form Host=localhost;Port=5432;Username=me;Password=secret;Database=postgres, or unset it to use the embedded PostgreSQL.";
            throw fromCode ? new ArgumentException(message, "options", e) : new TestKitException(message, e);
        }
    }

    /// <summary>
    /// The server libpq's variables name. Npgsql reads PGUSER, PGPASSWORD and PGPASSFILE itself when a connection string
    /// leaves them out, but not PGHOST, PGPORT or PGDATABASE (Npgsql 10): those three are taken here.
    /// </summary>
    private static NpgsqlConnectionStringBuilder FromLibpqVariables(Func<string, string?> environment)
    {
        var builder = new NpgsqlConnectionStringBuilder { Host = environment("PGHOST") ?? "localhost", Database = environment("PGDATABASE") };
        if (ParseNumber(environment("PGPORT"), "PGPORT", most: 65535) is { } port)
        {
            builder.Port = port;
        }

        return WithDefaults(builder);
    }

    private static NpgsqlConnectionStringBuilder WithDefaults(NpgsqlConnectionStringBuilder builder)
    {
        if (string.IsNullOrEmpty(builder.Host))
        {
            throw new ArgumentException("the connection string names no Host");
        }

        // The named database is only where the kit connects to create its own; postgres always exists.
        if (string.IsNullOrEmpty(builder.Database))
        {
            builder.Database = "postgres";
        }

        return builder;
    }

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
