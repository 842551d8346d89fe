
namespace TestKit.Tests;

/// <summary>
/// [Before(Test)] fails (a broken migration): TUnit still runs [After(Test)], which must not fail on the
/// half-made setup, and no database of the failed setup may be left. The hooks of a DatabaseTest are driven
/// here by hand, on a session of the test's own, so that the failure stays inside this test.
/// </summary>
[Arguments(IsolationStrategy.MigrateErase)]
[Arguments(IsolationStrategy.Template)]
[Arguments(IsolationStrategy.Reset)]
public sealed class FaultSetupTests(IsolationStrategy kind) : FaultKitTest
{
    /// <summary>Names the strategy in the test's output: the test's name alone does not say which one failed.</summary>
    [Before(Test)]
    public void NameTheStrategy() => TestContext.Current?.Output.WriteLine($"strategy: {kind}");

    [Test]
    public async Task A_setup_that_failed_on_a_broken_migration_reports_it_tears_down_cleanly_and_leaves_no_database()
    {
        // A fingerprint of its own: the three strategies' copies would otherwise share one template name, and race for it.
        var folder = TempFolders.UniqueCopyOfSampleMigrations();
        try
        {
            await File.WriteAllTextAsync(Path.Combine(folder, "V8__broken.sql"), "CREATE TABLE fine (id int);\nCREATE TABLE broken (id int, name txet);\n");
            // The session's server, named by its connection string: a session of the test's own would start another embedded one.
            var server = (await ServerAsync()).ConnectionStringFor("postgres").ConnectionString;
            var options = new TestKitOptions { ConnectionString = server, Isolation = kind, MigrationFolders = [folder], MaxDatabases = 1 };
            var context = TestContext.Current!;
            var session = new TestKitSession();
            await using (session)
            {
                var test = new HookedTest(options) { TestKitSession = session };

                var error = await Assert.That(async () => await test.TestKitSetUpAsync(context, CancellationToken.None)).Throws<TestKitException>();
                await Assert.That(error!.MigrationFile).IsEqualTo("V8__broken.sql");
                await Assert.That(error.Line).IsEqualTo(2);
                await Assert.That(error.Message).Contains("V8__broken.sql line 2").And.Contains("42704");

                // What TUnit does next: the teardown, which has nothing to release.
                await test.TestKitTearDownAsync(context, CancellationToken.None);
                await Assert.That(() => test.Db).Throws<TestKitException>();

                // Every database the failed setup created (template and reset: none, the template build failed) was dropped.
                var report = session.Broker.ServerReports().Single();
                await Assert.That(report.Created).IsEqualTo(report.Dropped);

                // The second test of the same class reports the same failure, and leaves nothing either.
                var second = new HookedTest(options) { TestKitSession = session };
                await Assert.That(async () => await second.TestKitSetUpAsync(context, CancellationToken.None)).Throws<TestKitException>();
                await second.TestKitTearDownAsync(context, CancellationToken.None);
            }

            var template = TemplateIdentity.Of(MigrationSet.Load([folder]), (await ServerAsync()).Version).Name;
            await using var admin = await ConnectAsync("postgres");
            await Assert.That(await CountAsync(admin, "SELECT count(*) FROM pg_database WHERE datname = $1", template)).IsEqualTo(0);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
