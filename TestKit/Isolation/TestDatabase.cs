namespace TestKit.Isolation;

/// <summary>A database that one test holds: migrated to head when handed out, taken back by its strategy.</summary>
internal sealed class TestDatabase
{
    internal TestDatabase(string name, string connectionString, string serverDescription)
    {
        Name = name;
        ConnectionString = connectionString;
        ServerDescription = serverDescription;
    }

    internal string Name { get; }

    /// <summary>The test's own connection string (with the password: for the test, never for output).</summary>
    internal string ConnectionString { get; }

    internal string ServerDescription { get; }
}
