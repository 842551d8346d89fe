using LinqToDB.Data;

namespace TestKit;

/// <summary>
/// The base class of a database test whose <see cref="DatabaseTest{TDb}.Db"/> is a plain linq2db
/// <see cref="DataConnection"/>: the short form of <see cref="DatabaseTest{TDb}"/>.
/// </summary>
/// <example>
/// <code>
/// public sealed class CustomerTests : DatabaseTest
/// {
///     [Test]
///     public async Task Saves_a_customer()
///     {
///         await Db.ExecuteAsync("INSERT INTO customers (name, email, country_code) VALUES ('Ann', 'ann@example.com', 'DE')");
///         await Assert.That(await Db.ExecuteAsync&lt;long&gt;("SELECT count(*) FROM customers")).IsEqualTo(1);
///     }
/// }
/// </code>
/// </example>
public abstract class DatabaseTest : DatabaseTest<DataConnection>;
