using Npgsql;

namespace TestKit.Bench.Measuring;

/// <summary>What each benchmarked test does: one INSERT of one row, committed (or rolled back by the floor contender).</summary>
internal sealed record Workload(string InsertSql)
{
    /// <summary>Runs as a test would: opens a (pooled) connection of its own, inserts, closes.</summary>
    internal async Task RunAsync(string connectionString, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await RunAsync(connection, cancellationToken);
    }

    /// <summary>Runs on <paramref name="connection"/>, inside whatever transaction it has open.</summary>
    internal async Task RunAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(InsertSql, connection);
        var rows = await command.ExecuteNonQueryAsync(cancellationToken);
        if (rows != 1)
        {
            throw new InvalidOperationException($"The workload '{InsertSql}' inserted {rows} rows instead of 1.");
        }
    }
}
