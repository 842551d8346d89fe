using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Npgsql;
using TestKit.Isolation;
using TestKit.Migrations;
using TestKit.Server;

namespace TestKit.Tests.Integration;

/// <summary>
/// The test process was killed (SIGKILL) and the suite runs again: what the dead run left is swept, what a
/// live run owns is left alone. A dead run is simulated by its leftovers: an owner file or a database marker
/// that names a process that no longer exists.
/// </summary>
public sealed class FaultOrphanTests : FaultKitTest
{
    [Test]
    [Timeout(180_000)]
    public async Task The_embedded_server_of_a_dead_run_is_stopped_and_removed_and_live_or_unknown_folders_are_left(CancellationToken cancellationToken)
    {
        var parent = OperatingSystem.IsLinux() && Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath();
        var live = Path.Combine(parent, "testkit-pg-" + RandomNumberGenerator.GetHexString(12, lowercase: true));
        var unknown = Path.Combine(parent, "testkit-pg-" + RandomNumberGenerator.GetHexString(12, lowercase: true));
        Directory.CreateDirectory(live);
        Directory.CreateDirectory(unknown);
        await File.WriteAllTextAsync(Path.Combine(live, "owner"), EmbeddedServer.OwnerStamp(Environment.ProcessId), cancellationToken);
        await File.WriteAllTextAsync(Path.Combine(unknown, "owner"), "not a stamp", cancellationToken);

        var orphan = await EmbeddedServer.StartAsync(cancellationToken);
        try
        {
            var orphanPort = orphan.ConnectionStringFor("postgres").Port;
            // The run that started it was killed: its owner file now names a process that is gone.
            await File.WriteAllTextAsync(Path.Combine(orphan.RootDirectory, "owner"), $"{DeadProcessId().ToString(CultureInfo.InvariantCulture)} 638000000000000000", cancellationToken);

            await using (var next = await EmbeddedServer.StartAsync(cancellationToken))
            {
                await Assert.That(Directory.Exists(orphan.RootDirectory)).IsFalse().Because("the dead run's folder must be removed");
                var unreachable = new NpgsqlConnectionStringBuilder(orphan.ConnectionStringFor("postgres").ConnectionString) { Pooling = false, Timeout = 5 };
                await using var probe = new NpgsqlConnection(unreachable.ConnectionString);
                await Assert.That(async () => await probe.OpenAsync(cancellationToken)).Throws<NpgsqlException>().Because($"the dead run's server on port {orphanPort} must be stopped");
                await Assert.That(Directory.Exists(live)).IsTrue().Because("a live run's folder is not an orphan");
                await Assert.That(Directory.Exists(unknown)).IsTrue().Because("a folder whose owner cannot be read is not the kit's to judge");
            }
        }
        finally
        {
            try
            {
                // Its folder was swept already, if the sweep worked: only the in-process handle is left to close.
                await orphan.DisposeAsync();
            }
            catch (DirectoryNotFoundException e)
            {
                TestContext.Current?.Output.WriteLine($"disposing the swept server: {e.Message}");
            }

            Directory.Delete(live, recursive: true);
            Directory.Delete(unknown, recursive: true);
        }
    }

    [Test]
    public async Task The_databases_of_a_dead_run_are_swept_when_a_run_starts_and_a_live_runs_are_left()
    {
        var server = await ServerAsync();
        var deadRun = RandomNumberGenerator.GetHexString(10, lowercase: true);
        var dead = $"testkit_{deadRun}_001";
        var deadMarker = $"{DatabaseCatalog.MarkerPrefix}{deadRun};pid={DeadProcessId().ToString(CultureInfo.InvariantCulture)};host={Environment.MachineName}";
        var liveRun = new DatabaseCatalog(server);
        string? live = null;
        await using var admin = await ConnectAsync("postgres");
        try
        {
            await ExecuteAsync(admin, $"CREATE DATABASE {Sql.Quote(dead)} TEMPLATE template0");
            await ExecuteAsync(admin, $"COMMENT ON DATABASE {Sql.Quote(dead)} IS {Sql.Literal(deadMarker)}");
            live = await liveRun.CreateAsync(CancellationToken.None);

            // A new run starts on the same server, as the next `make test` after a killed one would.
            var options = TestKitSession.Resolve(new TestKitOptions { ConnectionString = server.ConnectionStringFor("postgres").ConnectionString, MaxDatabases = 1 });
            await using (var broker = new IsolationBroker())
            {
                var lease = await broker.AcquireAsync(options, CancellationToken.None);
                await lease.ReleaseAsync(CancellationToken.None);
            }

            await Assert.That(await CountAsync(admin, "SELECT count(*) FROM pg_database WHERE datname = $1", live)).IsEqualTo(1).Because("a live run's database is not an orphan");
            await Assert.That(await CountAsync(admin, "SELECT count(*) FROM pg_database WHERE datname = $1", dead)).IsEqualTo(0)
                .Because("the database of a run whose process is gone is an orphan of the kit's and must be dropped");
        }
        finally
        {
            await ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {Sql.Quote(dead)} WITH (FORCE)");
            if (live is not null)
            {
                await liveRun.DropAsync(live, CancellationToken.None);
            }
        }
    }

    [Test]
    [Arguments(IsolationStrategy.Template)]
    [Arguments(IsolationStrategy.Reset)]
    public async Task A_template_whose_builder_died_half_way_is_built_again(IsolationStrategy kind)
    {
        var folder = TempFolders.UniqueCopyOfSampleMigrations();
        var server = await ServerAsync();
        var set = MigrationSet.Load([folder]);
        var template = new TemplateStore(server, new EvolveMigrator(set));
        await using var admin = await ConnectAsync("postgres");
        try
        {
            // What a builder killed in the middle of its migration leaves: the database, a part of the schema, the building marker.
            var fingerprint = template.Name["testkit_template_".Length..];
            var lineage = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('|', set.Folders))))[..12];
            await ExecuteAsync(admin, $"CREATE DATABASE {Sql.Quote(template.Name)} TEMPLATE template0");
            await ExecuteAsync(admin, $"COMMENT ON DATABASE {Sql.Quote(template.Name)} IS {Sql.Literal($"{TemplateStore.MarkerPrefix}{fingerprint};lineage={lineage};state=building")}");
            await using (var half = await ConnectAsync(template.Name))
            {
                await ExecuteAsync(half, "CREATE TABLE customers (id int)");
            }

            await using (var own = await NewOwnStrategyAsync(kind, folder))
            {
                var database = await own.Strategy.AcquireAsync(CancellationToken.None);
                await using (var connection = await ConnectAsync(database.Name))
                {
                    await Assert.That(await CountAsync(connection, "SELECT count(*) FROM changelog WHERE success AND name LIKE '%.sql'")).IsEqualTo(set.Scripts.Count);
                    await Assert.That(await CountAsync(connection, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'customers'")).IsGreaterThan(1);
                }

                await own.Strategy.ReleaseAsync(database, CancellationToken.None);
            }

            await Assert.That(await CountAsync(admin, "SELECT count(*) FROM pg_database WHERE datname = $1 AND shobj_description(oid, 'pg_database') LIKE '%state=ready'", template.Name)).IsEqualTo(1);
        }
        finally
        {
            await ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {Sql.Quote(template.Name)} WITH (FORCE)");
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>A copy of the sample migrations with a fingerprint of its own, so that its template is this test's alone.</summary>

    /// <summary>The id of a process that has exited: a child that ran and was reaped.</summary>
    internal static int DeadProcessId()
    {
        using var child = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        child.WaitForExit();
        return child.Id;
    }
}
