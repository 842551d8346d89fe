using Npgsql;
using TestKit.Server;

namespace TestKit.Isolation.MigrateErase;

/// <summary>
/// The user-visible objects of a database, as sorted text lines: schemas, relations, types, functions,
/// schema and default privileges, extensions, event triggers, publications and database-level settings. Two equal snapshots mean
/// no object was added or left behind.
/// </summary>
internal sealed record CatalogSnapshot(IReadOnlyList<string> Objects)
{
    private const string UserNamespaces = "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'";
    private const string SchemaPrefix = "schema ";

    private static readonly string Query = $"""
        SELECT 'schema ' || n.nspname FROM pg_namespace n WHERE {UserNamespaces}
        UNION ALL
        SELECT 'relation ' || n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE {UserNamespaces}
        UNION ALL
        SELECT 'type ' || n.nspname || '.' || t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace WHERE {UserNamespaces}
        UNION ALL
        SELECT 'function ' || n.nspname || '.' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE {UserNamespaces}
        UNION ALL
        SELECT 'privileges on schema ' || n.nspname || ' ' || coalesce(n.nspacl::text, '') FROM pg_namespace n WHERE {UserNamespaces}
        UNION ALL
        SELECT 'default privileges ' || coalesce(n.nspname, '') || ' ' || d.defaclobjtype::text || ' ' || d.defaclacl::text
        FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace
        UNION ALL
        SELECT 'extension ' || extname FROM pg_extension
        UNION ALL
        SELECT 'event trigger ' || evtname FROM pg_event_trigger
        UNION ALL
        SELECT 'publication ' || pubname FROM pg_publication
        UNION ALL
        SELECT 'database ' || concat_ws('|', d.datallowconn, d.datconnlimit, d.datistemplate, d.datacl, shobj_description(d.oid, 'pg_database')) FROM pg_database d WHERE d.datname = current_database()
        UNION ALL
        SELECT 'setting ' || array_to_string(setconfig, ',') FROM pg_db_role_setting
        WHERE setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())
        """;

    /// <summary>The user schemas of the snapshot.</summary>
    internal IEnumerable<string> Schemas =>
        Objects.Where(line => line.StartsWith(SchemaPrefix, StringComparison.Ordinal)).Select(line => line[SchemaPrefix.Length..]);

    /// <summary>The user schemas of the connection's database now.</summary>
    internal static Task<List<string>> SchemasAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        Sql.QueryAsync(connection, $"SELECT n.nspname FROM pg_namespace n WHERE {UserNamespaces}", reader => reader.GetString(0), cancellationToken);

    internal static async Task<CatalogSnapshot> TakeAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var objects = await Sql.QueryAsync(connection, Query, reader => reader.GetString(0), cancellationToken).ConfigureAwait(false);
        objects.Sort(StringComparer.Ordinal);
        return new CatalogSnapshot(objects);
    }

    /// <summary>Objects here that <paramref name="baseline"/> lacks, and objects of the baseline missing here.</summary>
    internal (IReadOnlyList<string> Added, IReadOnlyList<string> Missing) Compare(CatalogSnapshot baseline) =>
        ([.. Objects.Except(baseline.Objects, StringComparer.Ordinal)], [.. baseline.Objects.Except(Objects, StringComparer.Ordinal)]);
}
