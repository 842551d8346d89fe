using LinqToDB;
using LinqToDB.Data;
using LinqToDB.Mapping;

namespace TestKit.Tests.Typed;

/// <summary>A team's own connection class, as linq2db code is usually written.</summary>
public sealed class ShopDb(DataOptions options) : DataConnection(options)
{
    public ITable<Customer> Customers => this.GetTable<Customer>();

    public ITable<Order> Orders => this.GetTable<Order>();
}

[Table("customers")]
public sealed class Customer
{
    [Column("id"), PrimaryKey, Identity]
    public long Id { get; set; }

    [Column("name"), NotNull]
    public string Name { get; set; } = "";

    [Column("email"), NotNull]
    public string Email { get; set; } = "";

    [Column("country_code"), NotNull]
    public string CountryCode { get; set; } = "";
}

[Table("orders")]
public sealed class Order
{
    [Column("id"), PrimaryKey, Identity]
    public long Id { get; set; }

    [Column("customer_id")]
    public long CustomerId { get; set; }

    // A mapped PostgreSQL enum: DataType.Enum makes linq2db hand the value to Npgsql as the enum, not as text.
    [Column("status", DataType = DataType.Enum)]
    public OrderStatus Status { get; set; }
}

/// <summary>The sample schema's order_status enum, mapped with NpgsqlDataSourceBuilder.MapEnum.</summary>
/// <remarks>[MapValue] gives linq2db the label to write when it puts a value into SQL as a literal (else a number).</remarks>
public enum OrderStatus
{
    [MapValue("pending")]
    Pending,
    [MapValue("paid")]
    Paid,
    [MapValue("shipped")]
    Shipped,
    [MapValue("cancelled")]
    Cancelled,
}
