using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;

namespace Shop;

/// <summary>The shop's data access for customers and their orders, on linq2db.</summary>
/// <param name="db">The shop's connection.</param>
public sealed class CustomerRepository(ShopDb db)
{
    /// <summary>Registers a customer and returns its id.</summary>
    public Task<long> AddAsync(string name, string email, string countryCode, CancellationToken cancellationToken = default) =>
        db.InsertWithInt64IdentityAsync(new Customer { Name = name, Email = email, CountryCode = countryCode }, token: cancellationToken);

    /// <summary>The customers of one country, by name.</summary>
    public Task<List<Customer>> InCountryAsync(string countryCode, CancellationToken cancellationToken = default) =>
        db.Customers.Where(customer => customer.CountryCode == countryCode).OrderBy(customer => customer.Name).ToListAsync(cancellationToken);

    /// <summary>Places an order with one line and returns the order id.</summary>
    public async Task<long> PlaceOrderAsync(long customerId, string sku, int quantity, CancellationToken cancellationToken = default)
    {
        await using var transaction = await db.BeginTransactionAsync(cancellationToken);
        var orderId = await db.ExecuteAsync<long>(
            "INSERT INTO orders (customer_id) VALUES (@customer) RETURNING id",
            cancellationToken,
            new DataParameter("customer", customerId));
        await db.ExecuteAsync(
            "INSERT INTO order_lines (order_id, line_no, product_id, quantity, unit_price) SELECT @order, 1, id, @quantity, unit_price FROM products WHERE sku = @sku",
            cancellationToken,
            new DataParameter("order", orderId), new DataParameter("quantity", quantity), new DataParameter("sku", sku));
        await transaction.CommitAsync(cancellationToken);
        return orderId;
    }

    /// <summary>What a customer has spent on orders that were not cancelled (the <c>customer_order_summary</c> view).</summary>
    public Task<decimal> LifetimeValueAsync(long customerId, CancellationToken cancellationToken = default) =>
        db.ExecuteAsync<decimal>(
            "SELECT lifetime_value FROM customer_order_summary WHERE customer_id = @customer",
            cancellationToken,
            new DataParameter("customer", customerId));
}
