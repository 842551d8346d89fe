
namespace TestKit.Tests;

public sealed class SqlTests
{
    [Test]
    [Arguments("plain", "\"plain\"")]
    [Arguments("with \"quotes\"", "\"with \"\"quotes\"\"\"")]
    [Arguments("größe; DROP TABLE x", "\"größe; DROP TABLE x\"")]
    public async Task Identifiers_are_double_quoted_with_inner_quotes_doubled(string name, string expected) =>
        await Assert.That(Sql.Quote(name)).IsEqualTo(expected);

    [Test]
    public async Task Literals_double_single_quotes() =>
        await Assert.That(Sql.Literal("it's")).IsEqualTo("'it''s'");
}
