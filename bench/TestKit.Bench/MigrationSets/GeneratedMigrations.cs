using System.Globalization;
using System.Text;

namespace TestKit.Bench.MigrationSets;

/// <summary>
/// Writes a synthetic migration history: one table per script, each with an identity key, a unique
/// code, foreign keys to two earlier tables, an index, and reference rows in every fifth script.
/// </summary>
internal static class GeneratedMigrations
{
    private const int ReferenceRowsEvery = 5;

    /// <summary>The workload's INSERT ({0}: its unique code): into the first table, which refers to no other table.</summary>
    internal const string WorkloadSql = "INSERT INTO table_01 (code, name) VALUES ('{0}', 'bench')";

    internal static void Write(string folder, int count)
    {
        Directory.CreateDirectory(folder);
        for (var i = 1; i <= count; i++)
        {
            File.WriteAllText(Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $"V{i}__create_table_{i:D2}.sql")), Script(i));
        }
    }

    private static string Script(int i)
    {
        var table = TableName(i);
        var script = new StringBuilder();
        script.AppendLine(CultureInfo.InvariantCulture, $"CREATE TABLE {table} (");
        script.AppendLine("    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,");
        script.AppendLine("    code       text NOT NULL UNIQUE,");
        script.AppendLine("    name       text NOT NULL,");
        if (i > 1)
        {
            script.AppendLine(CultureInfo.InvariantCulture, $"    parent_id  bigint REFERENCES {TableName(i - 1)} (id),");
        }

        if (i > 3)
        {
            script.AppendLine(CultureInfo.InvariantCulture, $"    related_id bigint REFERENCES {TableName(i / 2)} (id) ON DELETE SET NULL,");
        }

        script.AppendLine("    amount     numeric(12, 2) NOT NULL DEFAULT 0,");
        script.AppendLine("    created_at timestamptz NOT NULL DEFAULT now()");
        script.AppendLine(");");
        script.AppendLine(CultureInfo.InvariantCulture, $"CREATE INDEX {table}_name_idx ON {table} (name);");
        if (i % ReferenceRowsEvery == 0)
        {
            script.AppendLine(CultureInfo.InvariantCulture, $"INSERT INTO {table} (code, name) VALUES ('ref-1', 'Reference 1'), ('ref-2', 'Reference 2'), ('ref-3', 'Reference 3');");
        }

        return script.ToString();
    }

    private static string TableName(int i) => string.Create(CultureInfo.InvariantCulture, $"table_{i:D2}");
}
