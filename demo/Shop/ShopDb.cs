using LinqToDB;
using LinqToDB.Data;

namespace Shop;

/// <summary>The shop's linq2db connection: its tables, on the database that <see cref="DataOptions"/> name.</summary>
/// <param name="options">linq2db options: the provider and connection string, a data source, a mapping schema.</param>
public sealed class ShopDb(DataOptions options) : DataConnection(options)
{
    /// <summary>The customers.</summary>
    public ITable<Customer> Customers => this.GetTable<Customer>();

    /// <summary>The orders.</summary>
    public ITable<Order> Orders => this.GetTable<Order>();
}
