using LinqToDB;
using LinqToDB.Async;
using LinqToDB.Data;
using Npgsql;

namespace TestKit.Tests;

/// <summary>
/// Eight tests that each commit a customer: if any test saw another's rows, through Db or through a
/// second connection, isolation would be broken. They run in parallel, as TUnit does by default.
/// </summary>
[Arguments(IsolationStrategy.MigrateErase)]
[Arguments(IsolationStrategy.Template)]
[Arguments(IsolationStrategy.Reset)]
public sealed class IsolationTests(IsolationStrategy strategy) : DatabaseTest
{
    protected override TestKitOptions Options { get; } = new() { Isolation = strategy };

    public static IEnumerable<int> Workers() => Enumerable.Range(1, 8);

    [Test]
    [MethodDataSource(nameof(Workers))]
    public async Task Rows_committed_by_other_tests_are_never_visible(int worker)
    {
        await Assert.That(await Db.GetTable<Customer>().CountAsync()).IsEqualTo(0);

        await Db.InsertAsync(new Customer { Name = $"Worker {worker}", Email = $"worker{worker}@example.com", CountryCode = "DE" });

        await using var second = new NpgsqlConnection(ConnectionString);
        await second.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT name FROM customers", second);
        var names = new List<string>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                names.Add(reader.GetString(0));
            }
        }

        await Assert.That(names).IsEquivalentTo([$"Worker {worker}"]);
    }

    [Test]
    public async Task Every_test_sees_the_migrations_at_head()
    {
        var expected = MigrationSet.Load([TempFolders.SampleMigrations]).Scripts.Select(script => script.FileName).Order().ToList();
        var applied = await Db.QueryToListAsync<string>("SELECT name FROM changelog WHERE success AND name LIKE '%.sql' ORDER BY name");
        await Assert.That(applied.Order().ToList()).IsEquivalentTo(expected);
    }

    [Test]
    public async Task Reference_rows_inserted_by_a_migration_are_there()
    {
        var codes = await Db.GetTable<Country>().OrderBy(country => country.Code).Select(country => country.Code).ToListAsync();
        await Assert.That(codes).IsEquivalentTo(["DE", "FR", "GB", "NL", "US"]);
    }

    [Test]
    public async Task Functions_triggers_and_the_repeatable_view_work()
    {
        var customerId = await Db.InsertWithInt64IdentityAsync(new Customer { Name = "Ann", Email = "ann@example.com", CountryCode = "FR" });
        await Db.ExecuteAsync("INSERT INTO products (sku, name, unit_price) VALUES ('SKU-1', 'Tea', 2.50)");
        var orderId = await Db.ExecuteAsync<long>("INSERT INTO orders (customer_id) VALUES (@id) RETURNING id", new DataParameter("id", customerId));
        await Db.ExecuteAsync("INSERT INTO order_lines (order_id, line_no, product_id, quantity, unit_price) SELECT @id, 1, id, 4, unit_price FROM products", new DataParameter("id", orderId));
        await Db.ExecuteAsync("UPDATE orders SET status = 'paid' WHERE id = @id", new DataParameter("id", orderId));

        await Assert.That(await Db.ExecuteAsync<decimal>("SELECT lifetime_value FROM customer_order_summary WHERE customer_id = @id", new DataParameter("id", customerId))).IsEqualTo(10.00m);
        await Assert.That(await Db.ExecuteAsync<long>("SELECT count(*) FROM order_status_log WHERE order_id = @id", new DataParameter("id", orderId))).IsEqualTo(2);
    }

    [Test]
    public async Task The_domain_rejects_a_bad_email()
    {
        var error = await Assert.That(() => Db.InsertAsync(new Customer { Name = "Bob", Email = "not-an-email", CountryCode = "GB" }))
            .Throws<PostgresException>();
        await Assert.That(error!.SqlState).IsEqualTo(PostgresErrorCodes.CheckViolation);
    }
}
