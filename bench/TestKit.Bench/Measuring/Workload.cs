using Npgsql;

namespace TestKit.Bench.Measuring;

/// <summary>
/// What each benchmarked test does: two INSERTs of one row each, committed through two connections open at once (the shape
/// of a test that writes through the code under test and checks through a connection of its own). The floor contender runs
/// both in its one rolled-back transaction.
/// </summary>
internal sealed record Workload(string FirstInsertSql, string SecondInsertSql)
{
    /// <summary>Runs as a test would: two (pooled) connections of its own, an INSERT committed on each.</summary>
    internal Task RunAsync(string connectionString, CancellationToken cancellationToken) =>
        RunAsync(token => OpenAsync(connectionString, token), cancellationToken);

    /// <summary>Runs as a test of the kit does: two connections of the lease's data source (where Db's come from), an INSERT committed on each.</summary>
    internal Task RunAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        RunAsync(token => dataSource.OpenConnectionAsync(token).AsTask(), cancellationToken);

    private async Task RunAsync(Func<CancellationToken, Task<NpgsqlConnection>> open, CancellationToken cancellationToken)
    {
        await using var first = await open(cancellationToken);
        await InsertAsync(first, FirstInsertSql, cancellationToken);
        await using var second = await open(cancellationToken);
        await InsertAsync(second, SecondInsertSql, cancellationToken);
    }

    private static async Task<NpgsqlConnection> OpenAsync(string connectionString, CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    /// <summary>Runs both INSERTs on <paramref name="connection"/>, inside whatever transaction it has open.</summary>
    internal async Task RunAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await InsertAsync(connection, FirstInsertSql, cancellationToken);
        await InsertAsync(connection, SecondInsertSql, cancellationToken);
    }

    private static async Task InsertAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        var rows = await command.ExecuteNonQueryAsync(cancellationToken);
        if (rows != 1)
        {
            throw new InvalidOperationException($"The workload '{sql}' inserted {rows} rows instead of 1.");
        }
    }
}
