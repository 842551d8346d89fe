using System.Globalization;
using System.Text;

namespace TestKit.Histories;

/// <summary>
/// Writes a long migration history of the kind real projects have, the same every time (so its fingerprint, and its
/// template, are stable): 233 versioned scripts and one repeatable one. It has extensions (pgcrypto, ltree, pg_trgm),
/// a schema a versioned script creates plainly (utils) and one the repeatable script drops and creates again
/// (reporting), enums, functions with an SQL-standard body (BEGIN ATOMIC), 74 tables with foreign keys, 243 indexes
/// (primary keys included), generated columns, and 33 triggers that keep an aggregate table. The kit's tests and the bench both use it.
/// </summary>
internal static class MigrationHistory
{
    internal const int Tables = 73;

    /// <summary>A test's write: a row in the first table, which the triggers count in table_stats.</summary>
    internal const string WorkloadSql = "INSERT INTO item_001 (code, name) VALUES ('bench', 'bench')";

    /// <summary>Writes the history into <paramref name="folder"/> (created if need be) and returns how many scripts it wrote.</summary>
    internal static int Write(string folder)
    {
        Directory.CreateDirectory(folder);
        var version = 0;
        void Versioned(string description, string sql) =>
            File.WriteAllText(Path.Combine(folder, string.Create(CultureInfo.InvariantCulture, $"V{++version}__{description}.sql")), sql);

        Versioned("extensions", "CREATE EXTENSION IF NOT EXISTS pgcrypto;\nCREATE EXTENSION IF NOT EXISTS ltree;\nCREATE EXTENSION IF NOT EXISTS pg_trgm;\n");
        Versioned("utils_schema", """
            CREATE SCHEMA utils;

            CREATE FUNCTION utils.slugify(input text) RETURNS text LANGUAGE sql IMMUTABLE
            BEGIN ATOMIC
                SELECT trim(BOTH '-' FROM lower(regexp_replace(input, '[^a-zA-Z0-9]+', '-', 'g')));
            END;

            CREATE FUNCTION utils.grade(amount numeric) RETURNS text LANGUAGE sql IMMUTABLE
            BEGIN ATOMIC
                SELECT CASE WHEN amount >= 1000 THEN 'large' WHEN amount >= 100 THEN 'medium' ELSE 'small' END;
            END;

            """);
        Versioned("enums", "CREATE TYPE item_status AS ENUM ('draft', 'active', 'archived');\nCREATE TYPE priority AS ENUM ('low', 'normal', 'high');\n");
        Versioned("table_stats", """
            CREATE TABLE table_stats (table_name text PRIMARY KEY, row_count bigint NOT NULL DEFAULT 0);

            CREATE FUNCTION utils.count_rows() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'INSERT' THEN
                    INSERT INTO table_stats AS s (table_name, row_count) VALUES (TG_TABLE_NAME, 1)
                    ON CONFLICT (table_name) DO UPDATE SET row_count = s.row_count + 1;
                ELSE
                    UPDATE table_stats SET row_count = row_count - 1 WHERE table_name = TG_TABLE_NAME;
                END IF;
                RETURN NULL;
            END;
            $$;

            """);

        for (var table = 1; table <= Tables; table++)
        {
            Versioned($"create_{Name(table)}", CreateTable(table));
            Versioned($"index_{Name(table)}", Indexes(table));
            if (table % 2 == 1 && table <= 65)
            {
                Versioned($"count_{Name(table)}", $"CREATE TRIGGER {Name(table)}_count AFTER INSERT OR DELETE ON {Name(table)} FOR EACH ROW EXECUTE FUNCTION utils.count_rows();\n");
            }

            if (table <= 49)
            {
                Versioned($"extend_{Name(table)}", $"ALTER TABLE {Name(table)} ADD COLUMN priority priority NOT NULL DEFAULT 'normal';\nCOMMENT ON TABLE {Name(table)} IS 'Items of kind {table}';\n");
            }
        }

        Versioned("reference_rows", string.Concat(Enumerable.Range(1, 10).Select(table =>
            // Fixed ids and times: two migrations of the history give the same rows.
            $"INSERT INTO {Name(table * 7)} (public_id, code, name, path, created_at) VALUES " +
            $"(md5('{table}a')::uuid, 'ref-a', 'Reference A', 'root.a', '2024-01-01'), (md5('{table}b')::uuid, 'ref-b', 'Reference B', 'root.b', '2024-01-01');\n")));
        File.WriteAllText(Path.Combine(folder, "R__reporting.sql"), """
            DROP SCHEMA IF EXISTS reporting CASCADE;
            CREATE SCHEMA reporting;

            CREATE VIEW reporting.busiest_tables AS
                SELECT table_name, row_count FROM table_stats WHERE row_count > 0 ORDER BY row_count DESC;

            CREATE FUNCTION reporting.total_rows() RETURNS bigint LANGUAGE sql STABLE
            BEGIN ATOMIC
                SELECT coalesce(sum(row_count), 0) FROM table_stats;
            END;

            """);
        return version + 1;
    }

    private static string CreateTable(int table)
    {
        var sql = new StringBuilder();
        sql.AppendLine(CultureInfo.InvariantCulture, $"CREATE TABLE {Name(table)} (");
        sql.AppendLine("    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,");
        sql.AppendLine("    public_id  uuid NOT NULL DEFAULT gen_random_uuid(),");
        sql.AppendLine("    code       text NOT NULL,");
        sql.AppendLine("    name       text NOT NULL,");
        sql.AppendLine("    slug       text GENERATED ALWAYS AS (utils.slugify(name)) STORED,");
        sql.AppendLine("    path       ltree,");
        sql.AppendLine("    status     item_status NOT NULL DEFAULT 'draft',");
        if (table > 1)
        {
            sql.AppendLine(CultureInfo.InvariantCulture, $"    parent_id  bigint REFERENCES {Name(table - 1)} (id),");
        }

        sql.AppendLine("    amount     numeric(12, 2) NOT NULL DEFAULT 0,");
        sql.AppendLine("    created_at timestamptz NOT NULL DEFAULT now()");
        sql.AppendLine(");");
        return sql.ToString();
    }

    /// <summary>Beside its primary key, each table's code, the name of each but the last (trigram) and the path of every third.</summary>
    private static string Indexes(int table)
    {
        var sql = new StringBuilder();
        sql.AppendLine(CultureInfo.InvariantCulture, $"CREATE UNIQUE INDEX {Name(table)}_code_idx ON {Name(table)} (code);");
        if (table < Tables)
        {
            sql.AppendLine(CultureInfo.InvariantCulture, $"CREATE INDEX {Name(table)}_name_trgm_idx ON {Name(table)} USING gin (name gin_trgm_ops);");
        }

        if (table % 3 == 0)
        {
            sql.AppendLine(CultureInfo.InvariantCulture, $"CREATE INDEX {Name(table)}_path_idx ON {Name(table)} USING gist (path);");
        }

        return sql.ToString();
    }

    private static string Name(int table) => string.Create(CultureInfo.InvariantCulture, $"item_{table:D3}");
}
