using Npgsql;

namespace TestKit.Tests;

/// <summary>The kit's own full <see cref="StateDigest"/> of a database, read on a connection of its own, as the tests compare it.</summary>
internal static class Digest
{
    internal static async Task<List<string>> ComputeAsync(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, ApplicationName = "testkit-digest" };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        return [.. (await StateDigest.TakeAsync(connection, full: true, CancellationToken.None)).Lines];
    }
}
