
namespace TestKit.Tests;

public sealed class ConnectionStringsTests
{
    [Test]
    public async Task The_password_is_masked()
    {
        var masked = ConnectionStrings.Mask("Host=h;Username=u;Password=hunter2;Database=d");
        await Assert.That(masked).DoesNotContain("hunter2");
        await Assert.That(masked).Contains("Password=********").And.Contains("Host=h");
    }

    [Test]
    public async Task A_string_without_password_is_shown_as_it_is()
    {
        var masked = ConnectionStrings.Mask("Host=h;Username=u");
        await Assert.That(masked).Contains("Host=h").And.DoesNotContain("Password");
    }

    [Test]
    public async Task A_malformed_string_is_not_shown_at_all()
    {
        var masked = ConnectionStrings.Mask("Host=h;Password=hunter2;Nonsense");
        await Assert.That(masked).DoesNotContain("hunter2");
        await Assert.That(masked).Contains("malformed");
    }
}
