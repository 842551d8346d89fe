using Npgsql;

namespace TestKit.Tests;

/// <summary>
/// A seeded random workload on the sample schema, across several connections: inserts, updates and
/// deletes (of new rows and of rows the migrations inserted), triggers, cascades, TRUNCATE, sequence
/// moves, commits and rollbacks; it ends with one transaction left open and one connection not closed.
/// </summary>
internal sealed class RandomWorkload(string connectionString, int seed)
{
    private static readonly string[] Countries = ["DE", "FR", "GB", "NL", "US"];
    private static readonly string[] Statuses = ["pending", "paid", "shipped", "cancelled"];
    private readonly Random _random = new(seed);
    private int _serial;

    /// <summary>How many statements succeeded and were committed (not rolled back, not left open).</summary>
    internal int Committed { get; private set; }

    /// <summary>Runs <paramref name="operations"/> random operations; returns the connections it left open.</summary>
    internal async Task<List<NpgsqlConnection>> RunAsync(int connections = 3, int operations = 60)
    {
        var open = new List<(NpgsqlConnection Connection, NpgsqlTransaction? Transaction, int Pending)>();
        // One thread drives every connection: a statement that waits for another connection's lock would wait
        // forever, so lock waits time out and count as a failed statement.
        var withLockTimeout = new NpgsqlConnectionStringBuilder(connectionString) { Options = "-c lock_timeout=100", Pooling = false }.ConnectionString;
        for (var i = 0; i < connections; i++)
        {
            var connection = new NpgsqlConnection(withLockTimeout);
            await connection.OpenAsync();
            open.Add((connection, null, 0));
        }

        for (var i = 0; i < operations; i++)
        {
            var slot = _random.Next(open.Count);
            var (connection, transaction, pending) = open[slot];
            if (transaction is null && _random.Next(4) == 0)
            {
                transaction = await connection.BeginTransactionAsync();
            }

            try
            {
                await ExecuteAsync(connection, transaction, NextStatement());
                if (transaction is null)
                {
                    Committed++;
                }
                else
                {
                    pending++;
                }
            }
            catch (PostgresException)
            {
                // Random ids miss now and then (a foreign key, a unique e-mail): part of the workload.
                if (transaction is not null)
                {
                    await transaction.RollbackAsync();
                    transaction = null;
                    pending = 0;
                }
            }

            if (transaction is not null && _random.Next(5) == 0)
            {
                if (_random.Next(3) == 0)
                {
                    await transaction.RollbackAsync();
                }
                else
                {
                    await transaction.CommitAsync();
                    Committed += pending;
                }

                transaction = null;
                pending = 0;
            }

            open[slot] = (connection, transaction, pending);
        }

        // Leave the first connection inside an uncommitted transaction that wrote rows, as a failing test would.
        var (first, left, _) = open[0];
        left ??= await first.BeginTransactionAsync();
        await ExecuteAsync(first, left, "INSERT INTO products (sku, name, unit_price) VALUES ('UNCOMMITTED', 'x', 1)");
        return [.. open.Select(entry => entry.Connection)];
    }

    private string NextStatement()
    {
        var n = Interlocked.Increment(ref _serial);
        var country = Countries[_random.Next(Countries.Length)];
        var id = _random.Next(1, 12);
        return _random.Next(13) switch
        {
            0 => $"INSERT INTO customers (name, email, country_code) VALUES ('C{n}', 'c{n}.{_random.Next()}@example.com', '{country}')",
            1 => $"INSERT INTO products (sku, name, unit_price) VALUES ('SKU-{n}-{_random.Next()}', 'P{n}', {_random.Next(1, 100)}.50)",
            2 => $"INSERT INTO orders (customer_id) SELECT id FROM customers ORDER BY random() LIMIT 1",
            3 => $"INSERT INTO order_lines (order_id, line_no, product_id, quantity, unit_price) SELECT o.id, {n}, p.id, {_random.Next(1, 9)}, p.unit_price FROM orders o, products p ORDER BY random() LIMIT 1",
            4 => $"UPDATE orders SET status = '{Statuses[_random.Next(Statuses.Length)]}' WHERE id = {id}",
            5 => $"DELETE FROM orders WHERE id = {id}",
            6 => $"DELETE FROM customers WHERE id = {id}",
            7 => $"UPDATE countries SET name = name || '*' WHERE code = '{country}'",
            8 => $"DELETE FROM countries WHERE code = '{country}' AND NOT EXISTS (SELECT 1 FROM customers WHERE country_code = '{country}')",
            9 => $"INSERT INTO countries (code, name) VALUES ('X{(char)('A' + _random.Next(26))}', 'Land {n}')",
            10 => "TRUNCATE order_status_log",
            11 => "SELECT nextval(pg_get_serial_sequence('products', 'id'))",
            _ => $"SELECT setval(pg_get_serial_sequence('customers', 'id'), {_random.Next(100, 1000)})",
        };
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync();
    }
}
