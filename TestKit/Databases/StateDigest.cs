using Npgsql;
using TestKit.Server;

namespace TestKit.Databases;

/// <summary>
/// The state of one database as a test can observe it, as sorted lines without OIDs or the database's name: so two
/// databases in the same state have equal digests, and a difference names what differs. The catalog part holds every
/// object of the user's schemas with its definition, owner, privileges and comment, the objects outside schemas (casts,
/// languages, extensions, event triggers with their enabled state, publications, ...), default privileges, large objects,
/// the database's own properties, comment and settings, and its prepared transactions. The full digest adds every row
/// (a hash per table), each sequence's value and whether it was used, comments and privileges on built-in objects, and
/// the locks and busy sessions other sessions hold in the database. The reset strategy's tracking schema and triggers
/// and when Evolve applied each script, and how long it took, are left out.
/// </summary>
internal sealed class StateDigest
{
    private const int Shown = 10;
    private static readonly string Catalog = Sql.Resource("StateDigest.Catalog.sql");
    private static readonly string Full = Catalog + "\nUNION ALL\n" + Sql.Resource("StateDigest.Surroundings.sql");
    private static readonly string Sources = Sql.Resource("StateDigest.Sources.sql");

    private StateDigest(List<string> lines, IReadOnlyList<string> schemas)
    {
        lines.Sort(StringComparer.Ordinal);
        Lines = lines;
        Schemas = schemas;
    }

    /// <summary>The digest, sorted.</summary>
    internal IReadOnlyList<string> Lines { get; }

    /// <summary>The user schemas of the database.</summary>
    internal IReadOnlyList<string> Schemas { get; }

    /// <summary>What differs from <paramref name="expected"/> in words (at most ten lines each way), or null when nothing does.</summary>
    internal string? DifferenceFrom(StateDigest expected)
    {
        var left = Lines.Except(expected.Lines, StringComparer.Ordinal).ToList();
        var gone = expected.Lines.Except(Lines, StringComparer.Ordinal).ToList();
        return left.Count == 0 && gone.Count == 0
            ? null
            : $"{left.Count} line(s) not expected, {gone.Count} missing: " +
              string.Join("; ", left.Take(Shown).Select(line => "has: " + line).Concat(gone.Take(Shown).Select(line => "lacks: " + line)));
    }

    /// <summary>
    /// The catalog part (what a change of the schema, its privileges or the database's own properties shows in), or with
    /// <paramref name="full"/> also every row, every sequence's value, and what other sessions hold in the database.
    /// </summary>
    /// <param name="connection">A connection to the database.</param>
    /// <param name="full">The full digest, not only the catalog part.</param>
    /// <param name="cancellationToken">Cancels the reading.</param>
    /// <param name="rowContents">
    /// Each table's rows by a hash of their contents; false: by their count only, for databases migrated anew for each test,
    /// whose rows hold what the scripts compute when they run (now(), random()).
    /// </param>
    internal static async Task<StateDigest> TakeAsync(NpgsqlConnection connection, bool full, CancellationToken cancellationToken, bool rowContents = true)
    {
        // Prepared: planning the catalog's many branches costs more than reading an erased database (about 4 of 5 ms).
        var lines = await Sql.QueryPreparedAsync(connection, full ? Full : Catalog, ReadLine, cancellationToken).ConfigureAwait(false);
        var sources = await Sql.QueryPreparedAsync(
            connection,
            Sources,
            reader => (Schema: reader.GetString(0), Name: reader.GetString(1), Kind: reader.GetChar(2), IsChangelog: reader.GetBoolean(3)),
            cancellationToken).ConfigureAwait(false);
        var contents = sources.Where(source => source.Kind != 'n').ToList();
        if (full && contents.Count > 0)
        {
            // One statement for every table and sequence: a round trip each would dominate on a large schema.
            var names = contents.Select(source => $"{Sql.Quote(source.Schema)}.{Sql.Quote(source.Name)}").ToArray();
            var query = string.Join("\nUNION ALL\n", contents.Select((source, i) => ContentQuery(names[i], i + 1, source.Kind, source.IsChangelog, rowContents)));
            lines.AddRange(await Sql.QueryAsync(connection, query, ReadLine, cancellationToken, names).ConfigureAwait(false));
        }

        var schemas = sources.Where(source => source.Kind == 'n').Select(source => source.Name).ToList();
        return new StateDigest(lines, schemas);
    }

    /// <summary>
    /// The line of one table (its row count and a hash of its rows) or sequence (its value, and whether it was used). Evolve's
    /// changelog records when each script ran and how long it took (in its description), which differs between two migrations
    /// of the same scripts: those columns are left out.
    /// </summary>
    private static string ContentQuery(string relation, int parameter, char kind, bool isChangelog, bool rowContents)
    {
        var label = $"${parameter}::text";
        if (kind == 'S')
        {
            return $"SELECT 'sequence value ' || {label} || ' ' || last_value || ' ' || is_called FROM {relation}";
        }

        if (!rowContents)
        {
            return $"SELECT 'rows ' || {label} || ' ' || count(*) FROM ONLY {relation}";
        }

        var row = isChangelog ? "(to_jsonb(t) - 'installed_on' - 'description')::text" : "t::text";
        return $"SELECT 'rows ' || {label} || ' ' || count(*) || ' ' || coalesce(md5(string_agg({row}, E'\\n' ORDER BY {row})), '') FROM ONLY {relation} t";
    }

    private static string ReadLine(NpgsqlDataReader reader) => reader.IsDBNull(0) ? "(null)" : reader.GetString(0);
}
