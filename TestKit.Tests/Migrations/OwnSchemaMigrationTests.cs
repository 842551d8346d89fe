using Npgsql;

namespace TestKit.Tests;

/// <summary>
/// Migration histories as real projects write them, with no option set: schemas the migrations create (plainly, or
/// dropped and created again by a repeatable script), functions with SQL-standard bodies (BEGIN ATOMIC), and a long
/// history with all of them. Under every strategy, a short suite on each: every test starts at exactly head, commits
/// rows through a second connection, and leaves nothing for the next; nothing of the kit is left at the end.
/// </summary>
[Arguments(IsolationStrategy.MigrateErase)]
[Arguments(IsolationStrategy.Template)]
[Arguments(IsolationStrategy.Reset)]
public sealed class OwnSchemaMigrationTests(IsolationStrategy kind) : FaultKitTest
{
    private const int Tests = 3;

    [Test]
    public Task Migrations_that_create_a_schema_plainly_leave_every_test_at_head() =>
        PlaySuiteAsync(TempFolders.SchemaCreatingMigrations(), "INSERT INTO utils.audit (what) VALUES ('written by the test')");

    [Test]
    public Task A_repeatable_script_that_drops_and_creates_a_schema_again_leaves_every_test_at_head() =>
        PlaySuiteAsync(TempFolders.SchemaRecreatingMigrations(), "INSERT INTO reports.snapshots (customers) SELECT customers FROM reports.customer_count");

    [Test]
    public Task Functions_with_SQL_standard_bodies_migrate_and_work() =>
        PlaySuiteAsync(
            TempFolders.StandardBodyMigrations(),
            "CALL add_country('XX', 'Nowhere'); INSERT INTO price_bands VALUES (1000, price_band(1000))",
            "SELECT count(*) FROM price_bands WHERE band = 'high' AND amount = 1000");

    [Test]
    [Timeout(600_000)]
    public Task A_history_of_233_scripts_leaves_every_test_at_head(CancellationToken cancellationToken) =>
        PlaySuiteAsync(TempFolders.MigrationHistoryFolder(), Histories.MigrationHistory.WorkloadSql, "SELECT count(*) FROM table_stats WHERE table_name = 'item_001' AND row_count = 1");

    [Test]
    public async Task A_changelog_schema_of_its_own_keeps_the_application_schema_as_production_has_it()
    {
        var folder = TempFolders.UniqueCopyOfSampleMigrations();
        try
        {
            var migrations = MigrationSet.Load([folder], changelogSchema: "evolve");
            await using var own = await NewOwnStrategyAsync(kind, migrations);
            for (var test = 0; test < Tests; test++)
            {
                var database = await own.Strategy.AcquireAsync(CancellationToken.None);
                await using (var connection = await ConnectAsync(database.Name))
                {
                    await Assert.That(await CountAsync(connection, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename = 'changelog'")).IsEqualTo(0);
                    await Assert.That(await CountAsync(connection, "SELECT count(*) FROM evolve.changelog WHERE success AND name LIKE '%.sql'")).IsEqualTo(migrations.Scripts.Count);
                    await ExecuteAsync(connection, "INSERT INTO customers (name, email, country_code) VALUES ('Ann', 'ann@example.com', 'DE')");
                }

                await Release.Cleans.CheckAsync(own.Strategy, database);
            }

            await own.DisposeAsync();
            await AssertNothingLeftAsync(own.Catalog);
        }
        finally
        {
            await DropTemplateAsync(MigrationSet.Load([folder], changelogSchema: "evolve"));
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public async Task A_script_that_creates_a_schema_Evolve_was_told_to_manage_fails_with_the_cause_and_the_remedy()
    {
        var folder = TempFolders.SchemaCreatingMigrations();
        try
        {
            var migrations = MigrationSet.Load([folder], schemas: ["public", "utils"]);
            await using var own = await NewOwnStrategyAsync(kind, migrations);
            var error = await Assert.That(async () => await own.Strategy.AcquireAsync(CancellationToken.None)).Throws<TestKitException>();
            await Assert.That(error!.Message).Contains("V8__utils_schema.sql").And.Contains("Schema 'utils'").And.Contains("Evolve created it before the first script ran")
                .And.Contains("Leave it out of TestKitOptions.Schemas");
            await Assert.That(error.SqlState).IsEqualTo(PostgresErrorCodes.DuplicateSchema);
            await own.DisposeAsync();
            await AssertNothingLeftAsync(own.Catalog);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>
    /// Plays <see cref="Tests"/> tests on a strategy of this test's own: each checks head by the full state digest, commits
    /// <paramref name="write"/> through a second connection (and finds it with <paramref name="check"/>), and its release
    /// must clean without a word.
    /// </summary>
    private async Task PlaySuiteAsync(string folder, string write, string? check = null)
    {
        var migrations = MigrationSet.Load([folder]);
        try
        {
            await using var own = await NewOwnStrategyAsync(kind, migrations);
            List<string>? head = null;
            for (var test = 0; test < Tests; test++)
            {
                var database = await own.Strategy.AcquireAsync(CancellationToken.None);
                var now = await HeadAsync(database.ConnectionString);
                head ??= now;
                await Assert.That(now).IsEquivalentTo(head).Because($"test {test + 1} must start at exactly head");
                await using (var second = await OpenAsync(new NpgsqlConnectionStringBuilder(database.ConnectionString) { Pooling = false }.ConnectionString))
                {
                    await ExecuteAsync(second, write);
                    if (check is not null)
                    {
                        await Assert.That(await CountAsync(second, check)).IsEqualTo(1);
                    }
                }

                await Release.Cleans.CheckAsync(own.Strategy, database);
            }

            await own.DisposeAsync();
            await AssertNothingLeftAsync(own.Catalog);
        }
        finally
        {
            await DropTemplateAsync(migrations);
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>The template the kit keeps on purpose across runs; this test's migration sets are its own.</summary>
    private async Task DropTemplateAsync(MigrationSet migrations)
    {
        await using var admin = await ConnectAsync("postgres");
        await ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {Sql.Quote(TemplateIdentity.Of(migrations, (await ServerAsync()).Version).Name)} WITH (FORCE)");
    }
}
