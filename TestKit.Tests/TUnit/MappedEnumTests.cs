using LinqToDB;
using LinqToDB.Async;

namespace TestKit.Tests.Typed;

/// <summary>
/// A PostgreSQL enum mapped on the data source (ConfigureDataSource) and written and read through linq2db — parameters,
/// a constant in the SQL, a second connection of the team's class — under every strategy. Several tests, so that some run
/// on a database a test before them used (under migrate-erase, the enum is created anew there).
/// </summary>
[Arguments(IsolationStrategy.MigrateErase)]
[Arguments(IsolationStrategy.Template)]
[Arguments(IsolationStrategy.Reset)]
public sealed class MappedEnumTests(IsolationStrategy kind) : DatabaseTest<ShopDb>
{
    protected override TestKitOptions Options => new() { Isolation = kind, MaxDatabases = 1, ConfigureDataSource = ShopDataSource.MapEnums };

    public static IEnumerable<int> Rounds() => Enumerable.Range(1, 3);

    [Test]
    [MethodDataSource(nameof(Rounds))]
    public async Task A_mapped_enum_goes_in_and_out_through_linq2db(int round)
    {
        var customer = await Db.InsertWithInt64IdentityAsync(new Customer { Name = $"Ann {round}", Email = $"ann{round}@example.com", CountryCode = "DE" });
        await Db.InsertAsync(new Order { CustomerId = customer, Status = OrderStatus.Shipped });
        await Db.InsertAsync(new Order { CustomerId = customer, Status = OrderStatus.Paid });

        var shipped = await Db.Orders.Where(order => order.Status == OrderStatus.Shipped).Select(order => order.Status).ToListAsync();
        var status = OrderStatus.Paid;
        var paid = await Db.Orders.CountAsync(order => order.Status == status);
        await using var second = CreateConnection<ShopDb>();
        var all = await second.Orders.OrderBy(order => order.Id).Select(order => order.Status).ToListAsync();

        await Assert.That(shipped).IsEquivalentTo([OrderStatus.Shipped]);
        await Assert.That(paid).IsEqualTo(1);
        await Assert.That(all).IsEquivalentTo([OrderStatus.Shipped, OrderStatus.Paid]).Because("each test starts at head: no order of an earlier test");
    }
}

/// <summary>
/// An enum read through Npgsql's own pool for the lease's connection string, one test after another on the one database:
/// under migrate-erase the enum has a new OID in every test, and a pool that kept the types of its first connection would
/// not know it ('-.-').
/// </summary>
[Arguments(IsolationStrategy.MigrateErase)]
[Arguments(IsolationStrategy.Reset)]
public sealed class ConnectionStringEnumTests(IsolationStrategy kind) : DatabaseTest<ShopDb>
{
    protected override TestKitOptions Options => new() { Isolation = kind, MaxDatabases = 1 };

    public static IEnumerable<int> Rounds() => Enumerable.Range(1, 3);

    [Test]
    [MethodDataSource(nameof(Rounds))]
    public async Task An_enum_reads_through_the_connection_strings_own_pool(int round)
    {
        await using var connection = new Npgsql.NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT 'paid'::order_status, $1", connection) { Parameters = { new() { Value = round } } };
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();

        await Assert.That(reader.GetFieldValue<string>(0)).IsEqualTo("paid");
        await Assert.That(reader.GetDataTypeName(0)).EndsWith("order_status");
    }
}
