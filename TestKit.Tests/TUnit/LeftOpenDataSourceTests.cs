using Npgsql;

namespace TestKit.Tests.Typed;

/// <summary>
/// A test that maps an enum on data sources — the kit's (ConfigureDataSource) and one it builds itself on the lease —
/// and leaves their connections open, one inside a transaction holding a lock: the next lease of the same database is at
/// its baseline, and an enum-mapped data source on it reads and writes the enum of the database as it is now.
/// </summary>
[Arguments(IsolationStrategy.MigrateErase)]
[Arguments(IsolationStrategy.Template)]
[Arguments(IsolationStrategy.Reset)]
public sealed class LeftOpenDataSourceTests(IsolationStrategy kind) : KitTest
{
    [Test]
    public async Task Connections_left_open_on_enum_mapped_data_sources_do_not_reach_the_next_lease()
    {
        // A pool of one of the test's own: migrate-erase and reset give the same database back, template a new clone.
        await using var strategy = await NewStrategyAsync(kind, configureDataSource: ShopDataSource.MapEnums);
        var first = await strategy.AcquireAsync(CancellationToken.None);
        var kitFirst = first.DataSource;
        var leftOpen = new List<NpgsqlConnection> { await WriteOrderAsync(kitFirst, OrderStatus.Shipped) };
        await using var ownFirst = OwnDataSource(first.ConnectionString);
        leftOpen.Add(await WriteOrderAsync(ownFirst, OrderStatus.Paid));

        // Npgsql's own pool for the connection string, as `new NpgsqlConnection(ConnectionString)` uses it.
        leftOpen.Add(await ReadStatusesAsync(first.ConnectionString, "shipped,paid"));

        // One more left inside a transaction that holds a lock on the table the next test needs.
        var locking = await kitFirst.OpenConnectionAsync();
        leftOpen.Add(locking);
        await ExecuteAsync(locking, "BEGIN; LOCK TABLE orders IN ACCESS EXCLUSIVE MODE");
        await strategy.ReleaseAsync(first, CancellationToken.None);

        var second = await strategy.AcquireAsync(CancellationToken.None);
        if (kind != IsolationStrategy.Template)
        {
            await Assert.That(second.Name).IsEqualTo(first.Name).Because("the strategy reuses its one database");
        }

        var kitSecond = second.DataSource;
        await using (var connection = await kitSecond.OpenConnectionAsync())
        {
            await Assert.That(await CountAsync(connection, "SELECT count(*) FROM orders")).IsEqualTo(0);
            await Assert.That(await CountAsync(connection, "SELECT count(*) FROM customers")).IsEqualTo(0);
        }

        // Migrate-erase creates the enum anew: every pool on the database must know its type as it is now.
        await WriteOrderAndReadBackAsync(kitSecond, OrderStatus.Cancelled);
        await using (var ownSecond = OwnDataSource(second.ConnectionString))
        {
            await WriteOrderAndReadBackAsync(ownSecond, OrderStatus.Pending);
        }

        await using (await ReadStatusesAsync(second.ConnectionString, "cancelled,pending"))
        {
        }

        await strategy.ReleaseAsync(second, CancellationToken.None);
        foreach (var connection in leftOpen)
        {
            await DisposeLeftoverAsync(connection);
        }
    }

    private static NpgsqlDataSource OwnDataSource(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.MapEnum<OrderStatus>("order_status");
        return builder.Build();
    }

    /// <summary>Writes a customer and an order of <paramref name="status"/> through a connection it leaves open.</summary>
    private static async Task<NpgsqlConnection> WriteOrderAsync(NpgsqlDataSource dataSource, OrderStatus status)
    {
        var connection = await dataSource.OpenConnectionAsync();
        await using var insert = new NpgsqlCommand(
            """
            WITH customer AS (INSERT INTO customers (name, email, country_code) VALUES ('Ann', $1, 'DE') RETURNING id)
            INSERT INTO orders (customer_id, status) SELECT id, $2 FROM customer
            """,
            connection);
        insert.Parameters.Add(new NpgsqlParameter { Value = $"ann.{status}@example.com".ToLowerInvariant() });
        insert.Parameters.Add(new NpgsqlParameter { Value = status });
        await insert.ExecuteNonQueryAsync();
        return connection;
    }

    /// <summary>Reads the order statuses, unmapped, through Npgsql's pool for the connection string, on a connection it leaves open.</summary>
    private static async Task<NpgsqlConnection> ReadStatusesAsync(string connectionString, string expected)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var read = new NpgsqlCommand("SELECT array_agg(status ORDER BY id) FROM orders", connection);
        await using var reader = await read.ExecuteReaderAsync();
        await reader.ReadAsync();
        await Assert.That(string.Join(',', reader.GetFieldValue<string[]>(0))).IsEqualTo(expected);
        return connection;
    }

    private static async Task WriteOrderAndReadBackAsync(NpgsqlDataSource dataSource, OrderStatus status)
    {
        await using var connection = await WriteOrderAsync(dataSource, status);
        await using var read = new NpgsqlCommand("SELECT status FROM orders ORDER BY id DESC LIMIT 1", connection);
        await Assert.That(await read.ExecuteScalarAsync()).IsEqualTo(status);
    }
}
