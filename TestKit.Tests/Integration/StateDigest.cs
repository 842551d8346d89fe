using Npgsql;

namespace TestKit.Tests.Integration;

/// <summary>
/// The full state of a database as sorted text lines: every schema object with its definition,
/// every row of every table (as a hash per table), and every sequence's value. Two databases with
/// equal digests are in the same state as far as a test can observe. The reset strategy's own
/// tracking schema and triggers are left out, and so is the time at which Evolve applied a script.
/// </summary>
internal static class StateDigest
{
    private const string UserSchemas = "NOT IN ('pg_catalog', 'information_schema', 'testkit_reset') AND {0} NOT LIKE 'pg\\_%'";

    private static string InUserSchema(string column) => column + " " + string.Format(System.Globalization.CultureInfo.InvariantCulture, UserSchemas, column);

    private static readonly string[] CatalogQueries =
    [
        $"SELECT 'schema ' || nspname FROM pg_namespace WHERE {InUserSchema("nspname")}",
        $"""
        SELECT 'column ' || c.oid::regclass || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
               || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
               || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '') || ' ' || a.attidentity::text || a.attgenerated::text
        FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
        WHERE {InUserSchema("n.nspname")}
        """,
        $"SELECT 'relation ' || c.oid::regclass || ' ' || c.relkind::text || ' ' || c.relpersistence::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {InUserSchema("n.nspname")}",
        $"SELECT 'constraint ' || n.nspname || '.' || con.conname || ' ' || pg_get_constraintdef(con.oid) FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace WHERE {InUserSchema("n.nspname")}",
        $"SELECT 'index ' || pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {InUserSchema("n.nspname")}",
        "SELECT 'trigger ' || pg_get_triggerdef(t.oid) || ' ' || t.tgenabled::text FROM pg_trigger t WHERE NOT t.tgisinternal AND t.tgname <> 'testkit_reset_dirty'",
        $"SELECT 'view ' || c.oid::regclass || ' ' || pg_get_viewdef(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('v', 'm') AND {InUserSchema("n.nspname")}",
        $"SELECT 'function ' || pg_get_functiondef(p.oid) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.prokind IN ('f', 'p') AND {InUserSchema("n.nspname")}",
        $"SELECT 'type ' || t.oid::regtype || ' ' || t.typtype::text || ' ' || coalesce((SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum WHERE enumtypid = t.oid), '') FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE {InUserSchema("n.nspname")}",
        $"SELECT 'sequence ' || schemaname || '.' || sequencename || ' ' || coalesce(last_value::text, 'unused') || ' ' || increment_by || ' ' || start_value FROM pg_sequences WHERE {InUserSchema("schemaname")}",
        "SELECT 'extension ' || extname || ' ' || extversion FROM pg_extension",
        "SELECT 'event trigger ' || evtname || ' ' || evtenabled::text FROM pg_event_trigger WHERE evtname NOT LIKE 'testkit\\_reset\\_%'",
        "SELECT 'setting ' || array_to_string(setconfig, ',') FROM pg_db_role_setting WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())",
        "SELECT 'large objects ' || count(*) FROM pg_largeobject_metadata",
    ];

    internal static async Task<List<string>> ComputeAsync(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, ApplicationName = "testkit-digest" };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        var lines = new List<string>();
        foreach (var query in CatalogQueries)
        {
            lines.AddRange(await ReadAsync(connection, query));
        }

        var tables = await ReadAsync(connection, $"SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' AND {InUserSchema("n.nspname")}");
        foreach (var table in tables)
        {
            // Evolve's bookkeeping records when each script ran: that differs between two migrations of the same scripts.
            var rows = table.EndsWith("changelog", StringComparison.Ordinal)
                ? $"SELECT count(*) || ' ' || coalesce(md5(string_agg(concat_ws('|', version, name, checksum, success), E'\\n' ORDER BY name)), '') FROM {table}"
                : $"SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, E'\\n' ORDER BY t::text)), '') FROM {table} t";
            lines.AddRange((await ReadAsync(connection, rows)).Select(value => $"rows {table} {value}"));
        }

        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    private static async Task<List<string>> ReadAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var lines = new List<string>();
        while (await reader.ReadAsync())
        {
            lines.Add(reader.IsDBNull(0) ? "(null)" : reader.GetString(0));
        }

        return lines;
    }
}
