using Npgsql;

namespace TestKit.Isolation;

/// <summary>A database that one test holds: migrated to head when handed out, taken back by its strategy.</summary>
internal sealed class TestDatabase(string name, string connectionString, string serverDescription, Func<Action<NpgsqlDataSourceBuilder>?, NpgsqlDataSource> dataSource)
{
    internal string Name { get; } = name;

    /// <summary>The test's own connection string (with the password: for the test, never for output).</summary>
    internal string ConnectionString { get; } = connectionString;

    internal string ServerDescription { get; } = serverDescription;

    /// <summary>
    /// The data source of this database for the test, configured by <paramref name="configure"/>: kept with the database
    /// from test to test, and cleared by the kit when it clears the test's connections.
    /// </summary>
    internal NpgsqlDataSource DataSource(Action<NpgsqlDataSourceBuilder>? configure) => dataSource(configure);
}
