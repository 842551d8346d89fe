using System.Text.Json;
using Npgsql;

namespace TestKit.Victim;

/// <summary>
/// A TestKit run in a process of its own, for the tests that kill one with SIGKILL, written against the kit's public API
/// as any host would be: it starts <see cref="TestDatabases"/> (migrate-erase), leases databases (one with a connection
/// open, as a test in progress has), prints one JSON line with what it holds, then waits until its standard input closes
/// — which a SIGKILL never lets it see. If it does see it (the test process died), it gives everything back as a run
/// that ends normally.
/// <list type="bullet">
/// <item>--server shared: the server of VICTIM_CONNECTION_STRING (an environment variable: it holds a password).</item>
/// <item>--server embedded: an embedded server of its own.</item>
/// <item>--migrations FOLDER, --databases N: what to lease.</item>
/// <item>--server-max-databases N: its ServerMaxDatabases (optional).</item>
/// </list>
/// </summary>
internal static class Program
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    private static async Task<int> Main(string[] args)
    {
        var options = Parse(args);
        using var lifetime = new CancellationTokenSource(Lifetime);
        var cancellationToken = lifetime.Token;
        var count = int.Parse(options["databases"], System.Globalization.CultureInfo.InvariantCulture);
        var connectionString = options["server"] switch
        {
            "shared" => Environment.GetEnvironmentVariable("VICTIM_CONNECTION_STRING"),
            "embedded" => null,
            var other => throw new ArgumentException($"Unknown --server {other}: say shared or embedded.", nameof(args)),
        };

        // The test process's environment may name a server; an embedded victim must start its own.
        Environment.SetEnvironmentVariable("TESTKIT_CONNECTION_STRING", null);
        await using var databases = await TestDatabases.StartAsync(
            new TestKitOptions
            {
                ConnectionString = connectionString,
                Isolation = IsolationStrategy.MigrateErase,
                MigrationFolders = [options["migrations"]],
                MaxDatabases = count,
                ServerMaxDatabases = options.TryGetValue("server-max-databases", out var slots) ? int.Parse(slots, System.Globalization.CultureInfo.InvariantCulture) : null,
            },
            cancellationToken);
        var leases = new List<DatabaseLease>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                leases.Add(await databases.LeaseAsync(cancellationToken));
            }

            await using var inTest = await leases[0].DataSource.OpenConnectionAsync(cancellationToken);
            var server = new NpgsqlConnectionStringBuilder(databases.ServerConnectionString);
            Console.WriteLine(JsonSerializer.Serialize(new VictimReport(
                Environment.ProcessId,
                await ScalarAsync(inTest, "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = current_database()", cancellationToken),
                [.. leases.Select(lease => lease.Name)],
                connectionString is null ? Path.GetDirectoryName(await ScalarAsync(inTest, "SELECT current_setting('data_directory')", cancellationToken)) : null,
                server.Host ?? string.Empty,
                server.Port)));

            // Until the test kills it; a closed standard input means the test is gone and nobody will.
            await Console.In.ReadToEndAsync(cancellationToken);
        }
        finally
        {
            foreach (var lease in leases)
            {
                await lease.DisposeAsync();
            }
        }

        return 0;
    }

    private static async Task<string> ScalarAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return (string)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static Dictionary<string, string> Parse(string[] args)
    {
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            options[args[i].TrimStart('-')] = args[i + 1];
        }

        return options;
    }
}
