using System.Globalization;
using System.Security.Cryptography;
using TestKit.Bench.Measuring;

namespace TestKit.Bench.MigrationSets;

/// <summary>
/// The migration sets of the bench: the repository's sample, the ERP schema kept beside the bench, generated sets of 50 and
/// 800 one-table scripts (how each strategy grows with the schema, a test touching one table), and a long history of the kind real projects have (234 scripts: schemas the migrations create,
/// BEGIN ATOMIC bodies, triggers; see <see cref="Histories.MigrationHistory"/>). The generated ones are written to
/// temporary folders, deleted on dispose.
/// </summary>
internal sealed class BenchMigrationSets : IDisposable
{
    private const int GeneratedCount = 50;
    private const int LargeGeneratedCount = 800;

    private readonly string[] _temporaryFolders;

    private BenchMigrationSets(string[] temporaryFolders, IReadOnlyList<BenchMigrationSet> all)
    {
        _temporaryFolders = temporaryFolders;
        All = all;
    }

    /// <summary>Ordered by script count, as on the chart.</summary>
    internal IReadOnlyList<BenchMigrationSet> All { get; }

    /// <summary>Keeps only the sets whose label starts with one of <paramref name="names"/> (all when none is given).</summary>
    internal IReadOnlyList<BenchMigrationSet> Selected(IReadOnlyList<string> names) =>
        names.Count == 0 ? All : [.. All.Where(set => names.Any(name => set.Label.StartsWith(name, StringComparison.OrdinalIgnoreCase)))];

    internal BenchMigrationSet Sample => All.Single(set => set.Name == "sample");

    internal static BenchMigrationSets Create()
    {
        // The sample is found the way a test project finds it: the nearest "migrations" folder above the program.
        var sampleFolder = NearestMigrationsFolder();
        string[] folders = [Temporary("generated"), Temporary("generated-large"), Temporary("history")];
        try
        {
            GeneratedMigrations.Write(folders[0], GeneratedCount);
            GeneratedMigrations.Write(folders[1], LargeGeneratedCount);
            Histories.MigrationHistory.Write(folders[2]);
            BenchMigrationSet[] sets =
            [
                Load("sample", sampleFolder, "INSERT INTO products (sku, name, unit_price) VALUES ('{0}', 'bench', 1)"),
                Load("erp", Path.Combine(AppContext.BaseDirectory, "erp"), "INSERT INTO leads (company_name, email) VALUES ('bench', '{0}@example.com')"),
                Load("generated", folders[0], GeneratedMigrations.WorkloadSql),
                Load("generated", folders[1], GeneratedMigrations.WorkloadSql),
                Load("history", folders[2], "INSERT INTO item_001 (code, name) VALUES ('{0}', 'bench')"),
            ];
            return new BenchMigrationSets(folders, [.. sets.OrderBy(set => set.ScriptCount)]);
        }
        catch
        {
            Delete(folders);
            throw;
        }
    }

    public void Dispose() => Delete(_temporaryFolders);

    private static string Temporary(string name) =>
        Path.Combine(Path.GetTempPath(), $"testkit-bench-{name}-" + RandomNumberGenerator.GetHexString(8, lowercase: true));

    private static void Delete(string[] folders)
    {
        foreach (var folder in folders.Where(Directory.Exists))
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    // The workloads insert into tables that refer to no reference data, so they also run after Respawn has emptied it;
    // each inserts two fixed unique values ({0}), so a database that was not cleaned makes the next test fail.
    private static BenchMigrationSet Load(string name, string folder, string insertSql) =>
        new(name, folder, ScriptCount(folder), new Workload(string.Format(CultureInfo.InvariantCulture, insertSql, "bench-1"), string.Format(CultureInfo.InvariantCulture, insertSql, "bench-2")));

    /// <summary>The scripts Evolve applies: versioned (V1__name.sql) and repeatable (R__name.sql) ones.</summary>
    private static int ScriptCount(string folder) =>
        Directory.GetFiles(folder, "*.sql", SearchOption.AllDirectories)
            .Select(Path.GetFileName)
            .Count(file => file!.Contains("__", StringComparison.Ordinal) && (file.StartsWith('V') || file.StartsWith("R__", StringComparison.Ordinal)));

    private static string NearestMigrationsFolder()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var candidate = Path.Combine(directory.FullName, "migrations");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException($"No 'migrations' folder above {AppContext.BaseDirectory}.");
    }
}
