using System.Security.Cryptography;
using TestKit.Bench.Measuring;

namespace TestKit.Bench.MigrationSets;

/// <summary>
/// The migration sets of the bench: the repository's sample, the ERP schema kept beside the bench, a generated set of 50
/// one-table scripts, and a long history of the kind real projects have (234 scripts: schemas the migrations create,
/// BEGIN ATOMIC bodies, triggers; see <see cref="Histories.MigrationHistory"/>). The generated ones are written to
/// temporary folders, deleted on dispose.
/// </summary>
internal sealed class BenchMigrationSets : IDisposable
{
    private const int GeneratedCount = 50;

    private readonly string _generatedFolder;
    private readonly string _historyFolder;

    private BenchMigrationSets(string generatedFolder, string historyFolder, IReadOnlyList<BenchMigrationSet> all)
    {
        _generatedFolder = generatedFolder;
        _historyFolder = historyFolder;
        All = all;
    }

    /// <summary>Ordered by script count, as on the chart.</summary>
    internal IReadOnlyList<BenchMigrationSet> All { get; }

    internal BenchMigrationSet Sample => All.Single(set => set.Name == "sample");

    internal static BenchMigrationSets Create()
    {
        // The sample is found the way a test project finds it: the nearest "migrations" folder above the program.
        var sampleFolder = NearestMigrationsFolder();
        var generatedFolder = Path.Combine(Path.GetTempPath(), "testkit-bench-" + RandomNumberGenerator.GetHexString(8, lowercase: true));
        var historyFolder = Path.Combine(Path.GetTempPath(), "testkit-bench-history-" + RandomNumberGenerator.GetHexString(8, lowercase: true));
        GeneratedMigrations.Write(generatedFolder, GeneratedCount);
        Histories.MigrationHistory.Write(historyFolder);
        try
        {
            BenchMigrationSet[] sets =
            [
                Load("sample", sampleFolder, "INSERT INTO products (sku, name, unit_price) VALUES ('bench', 'bench', 1)"),
                Load("erp", Path.Combine(AppContext.BaseDirectory, "erp"), "INSERT INTO leads (company_name, email) VALUES ('bench', 'bench@example.com')"),
                Load("generated", generatedFolder, GeneratedMigrations.WorkloadSql),
                Load("history", historyFolder, Histories.MigrationHistory.WorkloadSql),
            ];
            return new BenchMigrationSets(generatedFolder, historyFolder, [.. sets.OrderBy(set => set.ScriptCount)]);
        }
        catch
        {
            Directory.Delete(generatedFolder, recursive: true);
            Directory.Delete(historyFolder, recursive: true);
            throw;
        }
    }

    public void Dispose()
    {
        Directory.Delete(_generatedFolder, recursive: true);
        Directory.Delete(_historyFolder, recursive: true);
    }

    // The workloads insert into tables that refer to no reference data, so they also run after Respawn has emptied it;
    // each inserts a fixed unique value, so a database that was not cleaned makes the next test fail.
    private static BenchMigrationSet Load(string name, string folder, string workloadSql) =>
        new(name, folder, ScriptCount(folder), new Workload(workloadSql));

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
