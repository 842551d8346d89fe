
namespace TestKit.Tests;

/// <summary>
/// Two runs on one server whose migration folders hold the same scripts at different paths (two checkouts,
/// two worktrees, two CI jobs): they share one template, since its name comes from the scripts alone, and
/// neither may drop or rebuild it while the other uses it.
/// </summary>
[Arguments(IsolationStrategy.Template)]
[Arguments(IsolationStrategy.Reset)]
public sealed class FaultTemplateTests(IsolationStrategy kind) : FaultKitTest
{
    /// <summary>Names the strategy in the test's output: the test's name alone does not say which one failed.</summary>
    [Before(Test)]
    public void NameTheStrategy() => TestContext.Current?.Output.WriteLine($"strategy: {kind}");

    [Test]
    public async Task A_run_of_the_same_scripts_at_another_path_does_not_rebuild_the_template_a_live_run_uses()
    {
        var first = TempFolders.UniqueCopyOfSampleMigrations();
        var second = TempFolders.Create();
        foreach (var file in Directory.GetFiles(first))
        {
            File.Copy(file, Path.Combine(second, Path.GetFileName(file)));
        }

        var template = TemplateIdentity.Of(MigrationSet.Load([first]), (await ServerAsync()).Version).Name;
        await using var admin = await ConnectAsync("postgres");
        try
        {
            await using var live = await NewOwnStrategyAsync(kind, first);
            var lease = await live.Strategy.AcquireAsync(CancellationToken.None);
            var oid = await CountAsync(admin, "SELECT oid::bigint FROM pg_database WHERE datname = $1", template);

            await using (var other = await NewOwnStrategyAsync(kind, second))
            {
                var theirs = await other.Strategy.AcquireAsync(CancellationToken.None);
                await other.Strategy.ReleaseAsync(theirs, CancellationToken.None);
            }

            await Assert.That(await CountAsync(admin, "SELECT coalesce(max(oid::bigint), 0) FROM pg_database WHERE datname = $1", template)).IsEqualTo(oid)
                .Because("the template is the same for both folders; dropping it under a live run makes its next clone fail");

            await live.Strategy.ReleaseAsync(lease, CancellationToken.None);
            var next = await live.Strategy.AcquireAsync(CancellationToken.None);
            await live.Strategy.ReleaseAsync(next, CancellationToken.None);
        }
        finally
        {
            await ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {Sql.Quote(template)} WITH (FORCE)");
            Directory.Delete(first, recursive: true);
            Directory.Delete(second, recursive: true);
        }
    }
}
