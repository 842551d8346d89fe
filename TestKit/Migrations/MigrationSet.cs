using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using TestKit.Diagnostics;

namespace TestKit.Migrations;

/// <summary>
/// The scripts of one or more migration folders, checked before Evolve sees them: Evolve skips an empty folder silently
/// and stumbles late on bad names, so the kit checks both up front (a missing folder is refused with the options).
/// </summary>
internal sealed partial class MigrationSet
{
    private long _lookedAt = Stopwatch.GetTimestamp();
    private MigrationScript? _change;

    /// <summary>The schemas Evolve manages; empty for the connection's default schema.</summary>
    internal IReadOnlyList<string> Schemas { get; private init; } = [];

    /// <summary>The schema of Evolve's changelog, or null for Evolve's default.</summary>
    internal string? ChangelogSchema { get; private init; }

    /// <summary>Placeholder names (without <c>${}</c>) and their values.</summary>
    internal IReadOnlyList<KeyValuePair<string, string>> Placeholders { get; private init; } = [];

    /// <summary>SQL files applied after the migrations, in order.</summary>
    internal IReadOnlyList<MigrationScript> Seeds { get; private init; } = [];

    internal IReadOnlyList<string> Folders { get; private init; } = [];

    internal IReadOnlyList<MigrationScript> Scripts { get; private init; } = [];

    /// <summary>
    /// SHA-256 over every script's folder-relative name and content, the schemas and the placeholder values: any change
    /// that could change the migrated database gives a new value. With seeds, the hash of that (head's) and of the seeds.
    /// </summary>
    internal string Fingerprint { get; private init; } = string.Empty;

    /// <summary>The fingerprint of the migrations alone (head's): <see cref="Fingerprint"/> when there are no seeds.</summary>
    private string HeadFingerprint { get; init; } = string.Empty;

    /// <summary>The same migrations without seeds: head itself, which the seeded states are built on.</summary>
    internal MigrationSet WithoutSeeds() =>
        new() { Folders = Folders, Scripts = Scripts, Schemas = Schemas, ChangelogSchema = ChangelogSchema, Placeholders = Placeholders, Fingerprint = HeadFingerprint, HeadFingerprint = HeadFingerprint };

    /// <summary>
    /// Throws when a script or seed changed, vanished or appeared since the set was loaded: the run's databases (and its
    /// template) hold the old scripts, and Evolve would apply the new ones to later tests only. Every strategy asks before it
    /// hands out a database; a look at every file costs about 1 ms per 200 scripts, so there a look less than a second old
    /// stands for one (<paramref name="lookedLately"/>): a test that starts within a second of an edit may still get the
    /// schema the run began with, never a mix. Once found, a change is reported to every later caller.
    /// </summary>
    internal void EnsureUnchanged(bool lookedLately = false)
    {
        if (Volatile.Read(ref _change) is { } found)
        {
            throw Changed(found);
        }

        if (lookedLately && Stopwatch.GetElapsedTime(Interlocked.Read(ref _lookedAt)) < Server.Limits.ScriptRecheck)
        {
            return;
        }

        var known = Scripts.Select(script => script.Path).ToHashSet(StringComparer.Ordinal);
        var changed = Scripts.Concat(Seeds).FirstOrDefault(script => MigrationScript.StampOf(script.Path) != script.Stamp)
            ?? Folders.SelectMany(folder => Directory.GetFiles(folder, "*.sql", SearchOption.AllDirectories))
                .Where(path => !known.Contains(path))
                .Select(path => new MigrationScript(path, null))
                .FirstOrDefault();
        Interlocked.Exchange(ref _lookedAt, Stopwatch.GetTimestamp());
        if (changed is not null)
        {
            Volatile.Write(ref _change, changed);
            throw Changed(changed);
        }
    }

    private static TestKitException Changed(MigrationScript changed) =>
        new(
            $"Migration {changed.Path} changed (or appeared, or vanished) while the tests ran, so tests before and after the edit would see different schemas. " +
            "Run the tests again: the new run migrates (and, with the template and reset strategies, builds a new template) from the edited scripts.")
        {
            MigrationFile = changed.FileName,
        };

    /// <summary>Reads and checks the scripts of <paramref name="folders"/> (absolute paths of folders that exist: see <see cref="Configuration.PathLocator"/>).</summary>
    internal static MigrationSet Load(
        IReadOnlyList<string> folders,
        IReadOnlyList<string>? seedFiles = null,
        IReadOnlyList<string>? schemas = null,
        IReadOnlyList<KeyValuePair<string, string>>? placeholders = null,
        string? changelogSchema = null)
    {
        var scripts = new List<MigrationScript>();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var folder in folders)
        {
            // Evolve scans folders recursively for files that end in .sql; so does this check.
            var files = Directory.GetFiles(folder, "*.sql", SearchOption.AllDirectories).Order(StringComparer.Ordinal).ToList();
            if (files.Count == 0)
            {
                throw new TestKitException(
                    $"Migrations folder '{folder}' holds no .sql scripts, so a test would run on an empty database. " +
                    "Add scripts named like V1__create_customers.sql, or point TESTKIT_MIGRATIONS at the folder that holds them.");
            }

            foreach (var file in files)
            {
                var content = File.ReadAllBytes(file);
                scripts.Add(Parse(file));
                EnsurePlaceholdersDefined(file, Encoding.UTF8.GetString(content), placeholders);
                hash.AppendData(Encoding.UTF8.GetBytes(Path.GetRelativePath(folder, file) + "\n"));
                hash.AppendData(content);
            }
        }

        var duplicate = scripts.Where(script => !script.IsRepeatable)
            .GroupBy(script => NormalizeVersion(script.Version!))
            .FirstOrDefault(group => group.Count() > 1);
        if (duplicate is not null)
        {
            throw new TestKitException(
                $"Migrations {string.Join(" and ", duplicate.Select(script => script.Path))} have the same version {duplicate.Key}. " +
                "Give each versioned script its own version number.")
            {
                MigrationFile = duplicate.Last().FileName,
            };
        }

        hash.AppendData(Encoding.UTF8.GetBytes("schemas " + string.Join(',', schemas ?? []) + "\n"));
        if (changelogSchema is not null)
        {
            hash.AppendData(Encoding.UTF8.GetBytes("changelog " + changelogSchema + "\n"));
        }

        foreach (var (name, value) in placeholders ?? [])
        {
            hash.AppendData(Encoding.UTF8.GetBytes($"placeholder {name}={value}\n"));
        }

        var headFingerprint = Convert.ToHexStringLower(hash.GetHashAndReset());
        var seeds = new List<MigrationScript>();
        hash.AppendData(Encoding.UTF8.GetBytes(headFingerprint + "\n"));
        foreach (var seed in seedFiles ?? [])
        {
            seeds.Add(new MigrationScript(seed, null));
            hash.AppendData(Encoding.UTF8.GetBytes("seed " + seed + "\n"));
            hash.AppendData(File.ReadAllBytes(seed));
        }

        return new MigrationSet
        {
            Folders = folders,
            Scripts = scripts,
            HeadFingerprint = headFingerprint,
            Seeds = seeds,
            Schemas = schemas ?? [],
            ChangelogSchema = changelogSchema,
            Placeholders = placeholders ?? [],
            Fingerprint = seeds.Count == 0 ? headFingerprint : Convert.ToHexStringLower(hash.GetHashAndReset()),
        };
    }

    private static MigrationScript Parse(string path)
    {
        var name = Path.GetFileName(path);
        var versioned = VersionedName().Match(name);
        if (versioned.Success)
        {
            return new MigrationScript(path, versioned.Groups["version"].Value);
        }

        if (RepeatableName().IsMatch(name))
        {
            return new MigrationScript(path, null);
        }

        throw new TestKitException(
            $"Migration '{path}' is not named the way Evolve reads scripts. " +
            "Name versioned scripts V<version>__<description>.sql (V1__create_customers.sql, V1_1__add_index.sql) " +
            "and repeatable ones R__<description>.sql.")
        {
            MigrationFile = name,
        };
    }

    /// <summary>
    /// Evolve replaces the placeholders it is given and leaves any other <c>${name}</c> in the SQL as it is: inside a string
    /// literal it is stored silently, elsewhere the server reports a syntax error at "$" that names nothing. Both are a
    /// missing placeholder: say so, with its name and the file, before any database is migrated.
    /// </summary>
    private static void EnsurePlaceholdersDefined(string path, string content, IReadOnlyList<KeyValuePair<string, string>>? placeholders)
    {
        foreach (Match used in Placeholder().Matches(content))
        {
            var name = used.Groups["name"].Value;
            if (placeholders?.Any(pair => pair.Key == name) != true)
            {
                throw new TestKitException(
                    $"Migration {path} uses the placeholder ${{{name}}}, and TestKitOptions.Placeholders does not define it, so Evolve would leave it in the SQL as it is. " +
                    $"Define it (Placeholders = new Dictionary<string, string> {{ [\"{name}\"] = \"...\" }}); a value of \"${{{name}}}\" keeps the text as written.")
                {
                    MigrationFile = Path.GetFileName(path),
                    Line = 1 + content.AsSpan(0, used.Index).Count('\n'),
                };
            }
        }
    }

    /// <summary>"1_1", "1.1" and "01.1" are the same version to Evolve.</summary>
    private static string NormalizeVersion(string version) =>
        string.Join('.', version.Split('.', '_').Select(part => part.TrimStart('0') is { Length: > 0 } trimmed ? trimmed : "0"));

    [GeneratedRegex(@"^V(?<version>\d+([._]\d+)*)__.+\.sql$", RegexOptions.CultureInvariant)]
    private static partial Regex VersionedName();

    [GeneratedRegex(@"^R__.+\.sql$", RegexOptions.CultureInvariant)]
    private static partial Regex RepeatableName();

    /// <summary>Evolve's placeholder syntax: <c>${name}</c>.</summary>
    [GeneratedRegex(@"\$\{(?<name>[^{}\r\n]+)\}", RegexOptions.CultureInvariant)]
    private static partial Regex Placeholder();
}
