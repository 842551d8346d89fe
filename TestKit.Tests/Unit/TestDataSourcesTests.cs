using Npgsql;

namespace TestKit.Tests.Unit;

public sealed class TestDataSourcesTests
{
    private const string ConnectionString = "Host=127.0.0.1;Port=1;Username=u;Password=p;Database=d";

    [Test]
    public async Task One_data_source_per_delegate_and_the_oldest_goes_past_the_limit()
    {
        await using var dataSources = new TestDataSources();
        Action<NpgsqlDataSourceBuilder> shared = builder => builder.EnableParameterLogging();
        var first = dataSources.For(ConnectionString, shared);
        await Assert.That(dataSources.For(ConnectionString, shared)).IsSameReferenceAs(first).Because("the same delegate gets the same data source");

        // A lambda that captures something is a new delegate each time, as a per-test one would be.
        var built = Enumerable.Range(0, TestDataSources.MaxKept)
            .Select(i => dataSources.For(ConnectionString, builder => builder.Name = "test " + i))
            .ToList();

        await Assert.That(() => first.OpenConnection()).Throws<ObjectDisposedException>().Because("the least recently used one is disposed");
        await Assert.That(built[^1].CreateConnection()).IsNotNull();
    }
}
