using LinqToDB.Data;
using TestKit;

namespace Shop.Tests;

// Db is the shop's own ShopDb, on a database of this test's own, migrated to head from ../migrations.
public sealed class CustomerRepositoryTests : DatabaseTest<ShopDb>
{
    [Test]
    public async Task A_new_customer_is_found_in_its_country()
    {
        var repository = new CustomerRepository(Db);
        await repository.AddAsync("Ann", "ann@example.com", "DE");
        await repository.AddAsync("Bea", "bea@example.com", "FR");

        var germans = await repository.InCountryAsync("DE");

        await Assert.That(germans.Select(customer => customer.Name)).IsEquivalentTo(["Ann"]);
    }

    [Test]
    public async Task Lifetime_value_sums_the_order_lines()
    {
        var repository = new CustomerRepository(Db);
        await Db.ExecuteAsync("INSERT INTO products (sku, name, unit_price) VALUES ('TEA-1', 'Green tea', 3.20)");
        var customer = await repository.AddAsync("Cem", "cem@example.com", "NL");

        await repository.PlaceOrderAsync(customer, "TEA-1", 5);

        await Assert.That(await repository.LifetimeValueAsync(customer)).IsEqualTo(16.00m);
    }

    [Test]
    public async Task Each_test_starts_from_an_empty_customers_table()
    {
        var repository = new CustomerRepository(Db);
        await Assert.That(await repository.InCountryAsync("DE")).IsEmpty();
        await repository.AddAsync("Dan", "dan@example.com", "DE");
    }

    [Test]
    public async Task A_second_connection_sees_the_committed_rows()
    {
        await new CustomerRepository(Db).AddAsync("Eva", "eva@example.com", "GB");

        await using var second = new Npgsql.NpgsqlConnection(ConnectionString);
        await second.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT count(*) FROM customers", second);

        await Assert.That((long)(await command.ExecuteScalarAsync())!).IsEqualTo(1);
    }
}
