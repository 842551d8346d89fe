using EvolveDb;
using EvolveDb.Dialect;
using Npgsql;

namespace TestKit.Bench.Contenders;

/// <summary>Evolve 3.2 used directly, as the seed did: no TestKit in between.</summary>
internal static class BareEvolve
{
    /// <summary>Evolve's metadata table, which a reset must leave alone.</summary>
    internal const string MetadataTable = "changelog";

    internal static void Migrate(string connectionString, IReadOnlyList<string> folders) => Run(connectionString, folders, evolve => evolve.Migrate());

    internal static void Erase(string connectionString, IReadOnlyList<string> folders) => Run(connectionString, folders, evolve => evolve.Erase());

    private static void Run(string connectionString, IReadOnlyList<string> folders, Action<Evolve> command)
    {
        using var connection = new NpgsqlConnection(connectionString);
        connection.Open();
        // Nothing in between: a set with SQL-standard bodies (BEGIN ATOMIC) fails here, as it does for any bare Evolve
        // user (npgsql/npgsql#4445), and the report says so.
        command(new Evolve(connection, logDelegate: null, DBMS.PostgreSQL)
        {
            Locations = folders,
            // One database per contender, one test at a time: the cluster lock would only add its 3 s retry sleep.
            EnableClusterMode = false,
        });
    }
}
