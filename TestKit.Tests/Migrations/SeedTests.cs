using LinqToDB.Data;

namespace TestKit.Tests;

/// <summary>Seeded states: each test starts from exactly "head + its seed", whatever the test before it did.</summary>
[Arguments(IsolationStrategy.MigrateErase)]
[Arguments(IsolationStrategy.Template)]
[Arguments(IsolationStrategy.Reset)]
[Seed("seeds/two_customers.sql")]
public sealed class SeedTests(IsolationStrategy strategy) : DatabaseTest
{
    protected override TestKitOptions Options { get; } = new() { Isolation = strategy };

    public static IEnumerable<int> Rounds() => Enumerable.Range(1, 3);

    [Test]
    [MethodDataSource(nameof(Rounds))]
    public async Task A_class_seed_is_there_in_every_test_and_changes_do_not_last(int round)
    {
        var names = await Db.QueryToListAsync<string>("SELECT name FROM customers ORDER BY name");
        await Assert.That(names).IsEquivalentTo(["Seeded Ann", "Seeded Ben"]);
        await Db.ExecuteAsync($"DELETE FROM customers WHERE name = 'Seeded Ann'; INSERT INTO customers (name, email, country_code) VALUES ('Round {round}', 'r{round}@example.com', 'NL')");
    }

    [Test]
    [Seed("seeds/one_product.sql")]
    public async Task A_method_seed_comes_on_top_of_the_class_seed()
    {
        await Assert.That(await Db.ExecuteAsync<long>("SELECT count(*) FROM customers")).IsEqualTo(2);
        await Assert.That(await Db.ExecuteAsync<string>("SELECT name FROM products")).IsEqualTo("Seeded tea");
    }

    [Test]
    public async Task Tests_without_the_method_seed_do_not_see_it() =>
        await Assert.That(await Db.ExecuteAsync<long>("SELECT count(*) FROM products")).IsEqualTo(0);
}
