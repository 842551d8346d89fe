using LinqToDB.Data;
using TestKit;

namespace TestKit.Suite;

/// <summary>A thousand tests of the size most suites are made of: one insert, one count (SUITE_TESTS sets another number).</summary>
public sealed class SmallTests : DatabaseTest
{
    public static IEnumerable<int> Numbers() =>
        Enumerable.Range(1, int.TryParse(Environment.GetEnvironmentVariable("SUITE_TESTS"), out var count) ? count : 1000);

    [Test]
    [MethodDataSource(nameof(Numbers))]
    public async Task Inserts_a_customer_into_an_empty_table(int number)
    {
        await Db.ExecuteAsync($"INSERT INTO customers (name, email, country_code) VALUES ('C{number}', 'c{number}@example.com', 'DE')");
        await Assert.That(await Db.ExecuteAsync<long>("SELECT count(*) FROM customers")).IsEqualTo(1);
    }
}
