using Npgsql;

namespace TestKit.Tests;

public sealed class ConnectionStringsTests
{
    [Test]
    public async Task The_password_is_masked()
    {
        var masked = ConnectionStrings.Mask(new NpgsqlConnectionStringBuilder("Host=h;Username=u;Password=hunter2;Database=d"));
        await Assert.That(masked).DoesNotContain("hunter2");
        await Assert.That(masked).Contains("Password=********").And.Contains("Host=h");
    }

    [Test]
    public async Task A_string_without_password_is_shown_as_it_is()
    {
        var masked = ConnectionStrings.Mask(new NpgsqlConnectionStringBuilder("Host=h;Username=u"));
        await Assert.That(masked).Contains("Host=h").And.DoesNotContain("Password");
    }

    [Test]
    public async Task The_builder_keeps_its_password()
    {
        var builder = new NpgsqlConnectionStringBuilder("Host=h;Password=hunter2");
        ConnectionStrings.Mask(builder);
        await Assert.That(builder.Password).IsEqualTo("hunter2");
    }
}
