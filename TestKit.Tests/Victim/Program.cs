using System.Text.Json;
using Npgsql;
using TestKit.Configuration;
using TestKit.Databases;
using TestKit.Isolation;
using TestKit.Migrations;
using TestKit.Server;
using TestKit.Server.Embedded;

namespace TestKit.Victim;

/// <summary>
/// A TestKit run in a process of its own, for the tests that kill one with SIGKILL. It starts or connects to a
/// server, leases databases from a migrate-erase strategy (one with a connection open, as a test in progress has),
/// prints one JSON line with what it holds, then waits until its standard input closes — which a SIGKILL never lets
/// it see. If it does see it (the test process died), it cleans up as a run that ends normally.
/// <list type="bullet">
/// <item>--server shared: the server of VICTIM_CONNECTION_STRING (an environment variable: it holds a password).</item>
/// <item>--server embedded: an embedded server of its own.</item>
/// <item>--migrations FOLDER, --databases N: what to lease.</item>
/// <item>--host NAME: the host its run says it runs on, to play a run on another machine.</item>
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

        IPostgresServer server = options["server"] switch
        {
            "embedded" => await EmbeddedServer.StartAsync(logger: null, cancellationToken),
            "shared" => await ExternalServer.ConnectAsync(
                new ServerSource(new NpgsqlConnectionStringBuilder(Environment.GetEnvironmentVariable("VICTIM_CONNECTION_STRING")), "VICTIM_CONNECTION_STRING"),
                cancellationToken),
            var other => throw new ArgumentException($"Unknown --server {other}: say shared or embedded.", nameof(args)),
        };
        await using (server)
        {
            await using var run = new ServerRun(server, host: options.GetValueOrDefault("host"));
            var count = int.Parse(options["databases"], System.Globalization.CultureInfo.InvariantCulture);
            var migrations = MigrationSet.Load([options["migrations"]]);
            await using var strategy = StrategyFactory.Create(IsolationStrategy.MigrateErase, run, new EvolveMigrator(migrations), count);
            var leases = new List<TestDatabase>();
            for (var i = 0; i < count; i++)
            {
                leases.Add(await strategy.AcquireAsync(cancellationToken));
            }

            await using var inTest = new NpgsqlConnection(leases[0].ConnectionString);
            await inTest.OpenAsync(cancellationToken);

            var builder = server.ConnectionStringFor("postgres");
            Console.WriteLine(JsonSerializer.Serialize(new VictimReport(
                Environment.ProcessId,
                run.Marker.Format(),
                [.. leases.Select(lease => lease.Name)],
                options["server"] == "embedded" ? Path.GetDirectoryName(await DataDirectoryAsync(server, cancellationToken)) : null,
                builder.Host ?? string.Empty,
                builder.Port)));

            // Until the test kills it; a closed standard input means the test is gone and nobody will.
            await Console.In.ReadToEndAsync(cancellationToken);
            foreach (var lease in leases)
            {
                await strategy.ReleaseAsync(lease, CancellationToken.None);
            }
        }

        return 0;
    }

    /// <summary>Where the server keeps its data (the embedded server's folder is its parent).</summary>
    private static async Task<string> DataDirectoryAsync(IPostgresServer server, CancellationToken cancellationToken)
    {
        await using var connection = await server.Admin.OpenConnectionAsync(cancellationToken);
        return (await Sql.ScalarAsync<string>(connection, "SELECT current_setting('data_directory')", cancellationToken))!;
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
