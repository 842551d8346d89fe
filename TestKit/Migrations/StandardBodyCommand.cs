using System.Data;
using System.Data.Common;
using System.Diagnostics.CodeAnalysis;
using Npgsql;

namespace TestKit.Migrations;

/// <summary>
/// A command of <see cref="StandardBodyConnection"/>. Npgsql splits a parameterless command's text at top-level
/// semicolons (npgsql/npgsql#4445), which breaks a function with an SQL-standard body (<c>BEGIN ATOMIC ... END</c>). A
/// text that holds one is split here as psql splits it (<see cref="SqlScript"/>) and sent as one <see cref="NpgsqlBatch"/>,
/// whose commands Npgsql sends unparsed, in the command's transaction. Every other command goes to Npgsql as is.
/// </summary>
internal sealed class StandardBodyCommand(StandardBodyConnection connection, NpgsqlCommand inner) : DbCommand
{
    private StandardBodyConnection? _connection = connection;

    [AllowNull]
    public override string CommandText
    {
        get => inner.CommandText;
        set => inner.CommandText = value;
    }

    public override int CommandTimeout
    {
        get => inner.CommandTimeout;
        set => inner.CommandTimeout = value;
    }

    public override CommandType CommandType
    {
        get => inner.CommandType;
        set => inner.CommandType = value;
    }

    public override bool DesignTimeVisible
    {
        get => inner.DesignTimeVisible;
        set => inner.DesignTimeVisible = value;
    }

    public override UpdateRowSource UpdatedRowSource
    {
        get => inner.UpdatedRowSource;
        set => inner.UpdatedRowSource = value;
    }

    protected override DbConnection? DbConnection
    {
        get => _connection;
        set
        {
            _connection = (StandardBodyConnection?)value;
            inner.Connection = _connection?.Inner;
        }
    }

    protected override DbParameterCollection DbParameterCollection => inner.Parameters;

    protected override DbTransaction? DbTransaction
    {
        get => inner.Transaction;
        set => inner.Transaction = (NpgsqlTransaction?)value;
    }

    public override void Cancel() => inner.Cancel();

    public override int ExecuteNonQuery()
    {
        // A cheap test first: only a text with the word BEGIN in it is scanned, and only once.
        var statements = inner.Parameters.Count == 0 && inner.CommandText.Contains("begin", StringComparison.OrdinalIgnoreCase) ? SqlScript.Split(inner.CommandText) : [];
        if (!statements.Any(statement => statement.HasStandardBody))
        {
            return inner.ExecuteNonQuery();
        }

        using var batch = new NpgsqlBatch(inner.Connection, inner.Transaction) { Timeout = inner.CommandTimeout };
        foreach (var statement in statements)
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand(statement.Text));
        }

        return batch.ExecuteNonQuery();
    }

    public override object? ExecuteScalar() => inner.ExecuteScalar();

    public override void Prepare() => inner.Prepare();

    protected override DbParameter CreateDbParameter() => inner.CreateParameter();

    protected override DbDataReader ExecuteDbDataReader(CommandBehavior behavior) => inner.ExecuteReader(behavior);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}
