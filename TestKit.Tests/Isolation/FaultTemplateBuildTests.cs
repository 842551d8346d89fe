
namespace TestKit.Tests;

/// <summary>
/// Two runs build the same template at once, each connected through a different maintenance database (one
/// names postgres, the other the application's database). Advisory locks belong to the database they are taken
/// in, so the build lock must be one both runs see: the second run waits for the first, it never drops the
/// template the first is still building.
/// </summary>
public sealed class FaultTemplateBuildTests : FaultKitTest
{
    [Test]
    [Timeout(180_000)]
    public async Task Runs_connected_through_different_maintenance_databases_build_one_template_without_breaking_each_other(CancellationToken cancellationToken)
    {
        var folder = TempFolders.UniqueCopyOfSampleMigrations();
        // A build long enough for the second run to arrive while the first is still migrating.
        await File.WriteAllTextAsync(Path.Combine(folder, "V8__slow.sql"), "SELECT pg_sleep(3);\n", cancellationToken);
        var maintenance = "other maintenance " + Guid.NewGuid().ToString("N")[..6];
        var first = await ServerAsync();
        await using var admin = await ConnectAsync("postgres");
        await ExecuteAsync(admin, $"CREATE DATABASE {Sql.Quote(maintenance)}");
        var secondSource = new ServerSource(first.ConnectionStringFor(maintenance), "TESTKIT_CONNECTION_STRING");
        var second = await ExternalServer.ConnectAsync(secondSource, cancellationToken);
        var firstStore = new TemplateStore(new ServerRun(first), new EvolveMigrator(MigrationSet.Load([folder])));
        var secondStore = new TemplateStore(new ServerRun(second), new EvolveMigrator(MigrationSet.Load([folder])));
        try
        {
            var firstBuild = firstStore.EnsureAsync(cancellationToken);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (await CountAsync(admin, "SELECT count(*) FROM pg_database WHERE datname = $1", firstStore.Name) == 0 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken);
            }

            var secondBuild = secondStore.EnsureAsync(cancellationToken);

            await Assert.That(await firstBuild).IsEqualTo(firstStore.Name).Because("the first run's build must not be killed by the second run");
            await Assert.That(await secondBuild).IsEqualTo(firstStore.Name);
            await Assert.That(await CountAsync(admin, "SELECT count(*) FROM pg_database WHERE datname = $1 AND shobj_description(oid, 'pg_database') LIKE '%state=ready'", firstStore.Name)).IsEqualTo(1);
        }
        finally
        {
            await firstStore.DisposeAsync();
            await secondStore.DisposeAsync();
            await second.DisposeAsync();
            await ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {Sql.Quote(firstStore.Name)} WITH (FORCE)");
            await ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {Sql.Quote(maintenance)} WITH (FORCE)");
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    [Timeout(300_000)]
    public async Task Disposing_the_template_strategy_while_it_prepares_warm_clones_leaves_no_clone_behind(CancellationToken cancellationToken)
    {
        // The end of a run comes at any moment of the background filler's work, CREATE DATABASE included.
        for (var round = 0; round < 12; round++)
        {
            var own = await NewOwnStrategyAsync(IsolationStrategy.Template, maxDatabases: 4);
            await using (own)
            {
                var database = await own.Strategy.AcquireAsync(cancellationToken);
                await own.Strategy.ReleaseAsync(database, cancellationToken);
                await Task.Delay(TimeSpan.FromMilliseconds(round * 7), cancellationToken);
                await own.DisposeAsync();
            }

            await AssertNothingLeftAsync(own.Catalog);
        }
    }
}
