using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using Npgsql;

namespace TestKit.Tests.Typed;

/// <summary>A test class of the team's own connection class: Db is a ShopDb, with its tables, created through its DataOptions constructor.</summary>
[Arguments(IsolationStrategy.MigrateErase)]
[Arguments(IsolationStrategy.Template)]
[Arguments(IsolationStrategy.Reset)]
public sealed class TypedConnectionTests(IsolationStrategy kind) : DatabaseTest<ShopDb>
{
    protected override TestKitOptions Options => new() { Isolation = kind };

    [Test]
    public async Task Db_is_the_teams_own_connection_class_on_the_tests_database()
    {
        await Assert.That(Db).IsTypeOf<ShopDb>();
        await Db.InsertAsync(new Customer { Name = "Ann", Email = "ann@example.com", CountryCode = "DE" });
        await Assert.That(await Db.Customers.CountAsync()).IsEqualTo(1);
        await using var second = new NpgsqlConnection(ConnectionString);
        await second.OpenAsync();
        await using var count = new NpgsqlCommand("SELECT count(*) FROM customers", second);
        await Assert.That((long)(await count.ExecuteScalarAsync())!).IsEqualTo(1).Because("Db and ConnectionString reach the same database");
    }

    [Test]
    public async Task A_connection_class_without_a_DataOptions_constructor_is_refused_with_the_remedy()
    {
        var refused = await Assert.That(() => CreateConnection<NoOptionsDb>()).Throws<ArgumentException>();
        await Assert.That(refused!.Message).Contains("NoOptionsDb has no public constructor that takes DataOptions");
        await Assert.That(refused.Message).Contains("override CreateDb");
    }

    /// <summary>A connection class linq2db's convention does not fit: it has no constructor that takes DataOptions.</summary>
    private sealed class NoOptionsDb : DataConnection;
}

/// <summary>Options that shape the connection: DataOptions (a mapping schema here) and the data source (a mapped enum).</summary>
public sealed class ShapedConnectionTests : DatabaseTest<ShopDb>
{
    protected override TestKitOptions Options => new()
    {
        Isolation = IsolationStrategy.Reset,
        ConfigureDataOptions = ShopDataSource.WithClients,
        ConfigureDataSource = ShopDataSource.MapEnums,
    };

    [Test]
    public async Task DataOptions_and_the_data_source_are_shaped_by_the_options()
    {
        // Client has no attributes: only the mapping schema of ConfigureDataOptions maps it to the customers table.
        await Db.InsertAsync(new Client { Name = "Ann", Email = "ann@example.com", CountryCode = "DE" });
        await Assert.That(await Db.GetTable<Client>().CountAsync()).IsEqualTo(1);

        await using (var insert = DataSource.CreateCommand("INSERT INTO orders (customer_id, status) SELECT id, $1 FROM customers"))
        {
            insert.Parameters.Add(new NpgsqlParameter { Value = OrderStatus.Shipped });
            await insert.ExecuteNonQueryAsync();
        }

        // Db's own connection comes from the data source: Npgsql gives the enum back as the CLR type its builder mapped.
        await using var read = ((NpgsqlConnection)await Db.OpenDbConnectionAsync(CancellationToken.None)).CreateCommand();
        read.CommandText = "SELECT status FROM orders";
        await Assert.That(await read.ExecuteScalarAsync()).IsEqualTo(OrderStatus.Shipped);
    }
}

/// <summary>A class that builds its Db itself: CreateDb is overridden.</summary>
public sealed class OwnFactoryTests : DatabaseTest<ShopDb>
{
    private bool _builtHere;

    [Test]
    public async Task CreateDb_builds_Db_when_overridden()
    {
        await Assert.That(_builtHere).IsTrue();
        await Assert.That(await Db.Customers.CountAsync()).IsEqualTo(0);
    }

    protected override ShopDb CreateDb(DatabaseLease lease)
    {
        _builtHere = true;
        return new ShopDb(lease.DataOptions);
    }
}

/// <summary>The team's connection configuration: the sample's enums, and a mapping schema for a class without attributes.</summary>
internal static class ShopDataSource
{
    private static readonly LinqToDB.Mapping.MappingSchema Clients = BuildClients();

    internal static void MapEnums(NpgsqlDataSourceBuilder builder) => builder.MapEnum<OrderStatus>("order_status");

    internal static DataOptions WithClients(DataOptions options) => options.UseMappingSchema(Clients);

    private static LinqToDB.Mapping.MappingSchema BuildClients()
    {
        var schema = new LinqToDB.Mapping.MappingSchema();
        new LinqToDB.Mapping.FluentMappingBuilder(schema).Entity<Client>()
            .HasTableName("customers")
            .Property(client => client.Id).HasColumnName("id").IsPrimaryKey().IsIdentity()
            .Property(client => client.Name).HasColumnName("name")
            .Property(client => client.Email).HasColumnName("email")
            .Property(client => client.CountryCode).HasColumnName("country_code")
            .Build();
        return schema;
    }
}

/// <summary>A customer class mapped by a fluent mapping schema only.</summary>
public sealed class Client
{
    public long Id { get; set; }

    public string Name { get; set; } = "";

    public string Email { get; set; } = "";

    public string CountryCode { get; set; } = "";
}
