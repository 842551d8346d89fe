using Npgsql;

namespace TestKit.Server;

/// <summary>
/// The one place the kit builds SQL text: identifiers are quoted here, values go as parameters.
/// Also the few query shapes the kit needs, so callers do not repeat command/reader plumbing.
/// </summary>
internal static class Sql
{
    /// <summary>A double-quoted identifier, with embedded quotes doubled: safe for any name.</summary>
    internal static string Quote(string identifier)
    {
        ArgumentException.ThrowIfNullOrEmpty(identifier);
        return identifier.Contains('\0', StringComparison.Ordinal)
            ? throw new ArgumentException("An identifier cannot hold a NUL character.", nameof(identifier))
            : "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }

    /// <summary>
    /// A single-quoted literal, for the few statements that take no parameters (COMMENT ON).
    /// With standard_conforming_strings on (the default since 9.1) doubling quotes is the whole escape.
    /// </summary>
    internal static string Literal(string value) =>
        "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

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

    internal static async Task<List<T>> QueryAsync<T>(NpgsqlConnection connection, string sql, Func<NpgsqlDataReader, T> read, CancellationToken cancellationToken, params object[] parameters)
    {
        using var command = Command(connection, sql, parameters);
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            var rows = new List<T>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                rows.Add(read(reader));
            }

            return rows;
        }
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
