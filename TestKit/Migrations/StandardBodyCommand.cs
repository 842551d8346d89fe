using Npgsql;

namespace TestKit.Migrations;

/// <summary>
/// A command of <see cref="StandardBodyConnection"/>. Npgsql splits a parameterless command's text at top-level
/// semicolons (npgsql/npgsql#4445), which breaks a function with an SQL-standard body (<c>BEGIN ATOMIC ... END</c>). A
/// text that holds one is split here as psql splits it (<see cref="SqlScript"/>) and sent as one <see cref="NpgsqlBatch"/>,
/// whose commands Npgsql sends unparsed, in the command's transaction. Every other command is Npgsql's own.
/// </summary>
internal sealed class StandardBodyCommand(string? text, NpgsqlConnection connection, NpgsqlTransaction? transaction = null)
    : NpgsqlCommand(text, connection, transaction)
{
    public override int ExecuteNonQuery()
    {
        // A cheap test first: only a text with the word BEGIN in it is scanned, and only once.
        var statements = Parameters.Count == 0 && CommandText.Contains("begin", StringComparison.OrdinalIgnoreCase) ? SqlScript.Split(CommandText) : [];
        if (!statements.Any(statement => statement.HasStandardBody))
        {
            return base.ExecuteNonQuery();
        }

        using var batch = new NpgsqlBatch(Connection, Transaction) { Timeout = CommandTimeout };
        foreach (var statement in statements)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand(statement.Text));
        }

        return batch.ExecuteNonQuery();
    }
}
