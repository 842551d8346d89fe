using Npgsql;

namespace TestKit.Server;

/// <summary>
/// The one place the kit builds SQL text: identifiers are quoted here, values go as parameters.
/// Also the few query shapes the kit needs, so callers do not repeat command/reader plumbing.
/// </summary>
internal static class Sql
{
    /// <summary>The text of one of the kit's .sql files, embedded in the assembly as TestKit.NAME.</summary>
    internal static string Resource(string name)
    {
        using var stream = typeof(Sql).Assembly.GetManifestResourceStream("TestKit." + name)
            ?? throw new TestKitException($"The resource TestKit.{name} is missing from the TestKit assembly: the package is broken; restore it again.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>A double-quoted identifier, with embedded quotes doubled: safe for any name.</summary>
    internal static string Quote(string identifier)
    {
        ArgumentException.ThrowIfNullOrEmpty(identifier);
        return identifier.Contains('\0', StringComparison.Ordinal)
            ? throw new ArgumentException("An identifier cannot hold a NUL character.", nameof(identifier))
            : "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }

    /// <summary>
    /// A single-quoted literal, for the one statement that takes a value but neither parameters nor a place in a DO block:
    /// ROLLBACK PREPARED (it cannot run inside a transaction block). With standard_conforming_strings on (the default
    /// since 9.1) doubling quotes is the whole escape. Every other value goes as a parameter.
    /// </summary>
    internal static string Literal(string value) =>
        "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>
    /// Runs a utility statement that takes values but no parameters (COMMENT ON ... IS, CREATE ROLE ... PASSWORD), with the
    /// values as parameters all the same: they go to the server as parameters of set_config, and a DO block formats them
    /// into <paramref name="format"/> (PostgreSQL's format(): %I for an identifier, %L for a literal), in one round trip.
    /// <paramref name="format"/> is the kit's own constant text.
    /// </summary>
    internal static async Task ExecuteFormattedAsync(NpgsqlConnection connection, string format, CancellationToken cancellationToken, params string[] arguments)
    {
        var batch = new NpgsqlBatch(connection);
        await using var disposing = batch.ConfigureAwait(false);
        var settings = new List<string>();
        for (var i = 0; i < arguments.Length; i++)
        {
            var setting = $"testkit.argument{i + 1}";
            settings.Add($"current_setting('{setting}')");
            batch.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT set_config('{setting}', $1, false)") { Parameters = { new NpgsqlParameter { Value = arguments[i] } } });
        }

        batch.BatchCommands.Add(new NpgsqlBatchCommand($"DO $testkit$ BEGIN EXECUTE format($format${format}$format$, {string.Join(", ", settings)}); END $testkit$"));
        await batch.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    internal static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params object[] parameters)
    {
        using var command = Command(connection, sql, parameters);
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    internal static async Task<T?> ScalarAsync<T>(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params object[] parameters)
    {
        using var command = Command(connection, sql, parameters);
        var value = await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false);
        return value is null or DBNull ? default : (T)value;
    }

    internal static Task<List<T>> QueryAsync<T>(NpgsqlConnection connection, string sql, Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken, params object[] parameters) =>
        QueryAsync(Command(connection, sql, parameters), read, prepare: false, cancellationToken);

    /// <summary>
    /// A query the kit runs on a connection again and again, prepared: Npgsql keeps the prepared statement with the physical
    /// connection (a pooled one's reset keeps it too), so the server plans it once per session instead of at every run.
    /// </summary>
    internal static Task<List<T>> QueryPreparedAsync<T>(NpgsqlConnection connection, string sql, Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken) =>
        QueryAsync(Command(connection, sql, []), read, prepare: true, cancellationToken);

    private static async Task<List<T>> QueryAsync<T>(NpgsqlCommand command, Func<NpgsqlDataReader, T> read, bool prepare, CancellationToken cancellationToken)
    {
        using var disposing = command;
        if (prepare)
        {
            await command.PrepareAsync(cancellationToken).ConfigureAwait(false);
        }

        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using var disposingReader = reader.ConfigureAwait(false);
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    private static NpgsqlCommand Command(NpgsqlConnection connection, string sql, object[] parameters)
    {
        var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            // Positional parameters ($1, $2, ...): values never become SQL text.
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        return command;
    }
}
