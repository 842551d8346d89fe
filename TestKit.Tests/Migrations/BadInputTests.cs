using Npgsql;

namespace TestKit.Tests;

/// <summary>
/// Bad migrations and odd names, for every strategy: each failure is a TestKitException whose message and
/// properties say what is wrong and where; odd but valid names simply work; nothing is left behind.
/// </summary>
[Arguments(IsolationStrategy.MigrateErase)]
[Arguments(IsolationStrategy.Template)]
[Arguments(IsolationStrategy.Reset)]
public sealed class BadInputTests(IsolationStrategy kind) : FaultKitTest
{
    /// <summary>Names the strategy in the test's output: the test's name alone does not say which one failed.</summary>
    [Before(Test)]
    public void NameTheStrategy() => TestContext.Current?.Output.WriteLine($"strategy: {kind}");

    [Test]
    public async Task A_syntax_error_inside_a_statement_is_reported_with_its_file_line_and_sqlstate_and_leaves_nothing()
    {
        var folder = TempFolders.UniqueCopyOfSampleMigrations();
        try
        {
            await File.WriteAllTextAsync(Path.Combine(folder, "V8__syntax.sql"), """
                -- A script whose third statement has a syntax error on its third line.
                CREATE TABLE fine_one (id int);

                INSERT INTO fine_one VALUES (1);

                CREATE VIEW broken AS
                    SELECT id
                    FROM fine_one
                    WHERE id = = 1;

                """);
            var own = await NewOwnStrategyAsync(kind, folder);
            await using (own)
            {
                var error = await Assert.That(async () => { await own.Strategy.AcquireAsync(CancellationToken.None); }).Throws<TestKitException>();

                await Assert.That(error!.SqlState).IsEqualTo(PostgresErrorCodes.SyntaxError);
                await Assert.That(error.MigrationFile).IsEqualTo("V8__syntax.sql");
                await Assert.That(error.Line).IsEqualTo(9);
                await Assert.That(error.Message).Contains("V8__syntax.sql line 9").And.Contains("42601").And.Contains("syntax error");
            }

            await AssertNothingLeftAsync(own.Catalog);
            await AssertNoTemplateAsync(folder);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public async Task A_syntax_error_in_a_repeatable_script_is_reported_with_its_file_and_line()
    {
        var folder = TempFolders.UniqueCopyOfSampleMigrations();
        try
        {
            await File.WriteAllTextAsync(Path.Combine(folder, "R__zz_broken_view.sql"), "CREATE OR REPLACE VIEW broken AS\nSELECT FROM FROM customers;\n");
            var own = await NewOwnStrategyAsync(kind, folder);
            await using (own)
            {
                var error = await Assert.That(async () => { await own.Strategy.AcquireAsync(CancellationToken.None); }).Throws<TestKitException>();

                await Assert.That(error!.SqlState).IsEqualTo(PostgresErrorCodes.SyntaxError);
                await Assert.That(error.MigrationFile).IsEqualTo("R__zz_broken_view.sql");
                await Assert.That(error.Line).IsEqualTo(2);
                await Assert.That(error.Message).Contains("R__zz_broken_view.sql line 2");
            }

            await AssertNothingLeftAsync(own.Catalog);
            await AssertNoTemplateAsync(folder);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public async Task A_script_edited_between_two_runs_is_applied_by_the_second_run()
    {
        var folder = TempFolders.UniqueCopyOfSampleMigrations();
        var templates = new List<string>();
        try
        {
            await using (var before = await NewOwnStrategyAsync(kind, folder))
            {
                var database = await before.Strategy.AcquireAsync(CancellationToken.None);
                await Assert.That(await ColumnCountAsync(database, "nickname")).IsEqualTo(0);
                await before.Strategy.ReleaseAsync(database, CancellationToken.None);
            }

            templates.Add(await TemplateNameAsync(folder));
            await File.AppendAllTextAsync(Path.Combine(folder, "V3__create_customers.sql"), "\nALTER TABLE customers ADD COLUMN nickname text;\n");
            templates.Add(await TemplateNameAsync(folder));

            await using (var after = await NewOwnStrategyAsync(kind, folder))
            {
                var database = await after.Strategy.AcquireAsync(CancellationToken.None);
                await Assert.That(await ColumnCountAsync(database, "nickname")).IsEqualTo(1).Because("an edited script gives a new fingerprint, so a new template");
                await after.Strategy.ReleaseAsync(database, CancellationToken.None);
            }

            await using var admin = await ConnectAsync("postgres");
            await Assert.That(templates[1]).IsNotEqualTo(templates[0]);
            await Assert.That(await CountAsync(admin, "SELECT count(*) FROM pg_database WHERE datname = $1", templates[0])).IsEqualTo(0)
                .Because("the template of the scripts before the edit is stale once no run uses it");
        }
        finally
        {
            await DropTemplatesAsync(templates);
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public async Task A_script_edited_during_a_run_is_reported_to_the_tests_after_it_and_never_reaches_them()
    {
        var folder = TempFolders.UniqueCopyOfSampleMigrations();
        var template = await TemplateNameAsync(folder);
        try
        {
            await using var own = await NewOwnStrategyAsync(kind, folder);
            var first = await own.Strategy.AcquireAsync(CancellationToken.None);
            var head = await HeadAsync(first.ConnectionString);
            await own.Strategy.ReleaseAsync(first, CancellationToken.None);

            await File.AppendAllTextAsync(Path.Combine(folder, "V3__create_customers.sql"), "\nALTER TABLE customers ADD COLUMN nickname text;\n");

            // Every test of a run must see one schema: the one of the scripts as the run loaded them. Every strategy reports
            // the edit to the tests that start after it (a look at the files less than a second old stands for one, so a test
            // that starts within that second still gets the run's schema, never the edited one).
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
            TestKitException? reported = null;
            while (reported is null && DateTime.UtcNow < deadline)
            {
                try
                {
                    var next = await own.Strategy.AcquireAsync(CancellationToken.None);
                    await Assert.That(await ColumnCountAsync(next, "nickname")).IsEqualTo(0).Because("a script edited during the run must not reach the tests after the edit");
                    await AssertAtHeadAsync(next, head);
                    await own.Strategy.ReleaseAsync(next, CancellationToken.None);
                    await Task.Delay(TimeSpan.FromMilliseconds(100));
                }
                catch (TestKitException e)
                {
                    reported = e;
                }
            }

            await Assert.That(reported?.Message).Contains("V3__create_customers.sql").And.Contains("changed");
            await own.DisposeAsync();
            await AssertNothingLeftAsync(own.Catalog);
        }
        finally
        {
            await DropTemplatesAsync([template]);
            Directory.Delete(folder, recursive: true);
        }
    }

    [Test]
    public async Task A_migrations_folder_whose_path_has_spaces_quotes_and_non_ASCII_letters_works()
    {
        var parent = TempFolders.Create();
        var folder = Path.Combine(parent, "mi gra\"tions ü 'x'");
        Directory.CreateDirectory(folder);
        var unique = TempFolders.UniqueCopyOfSampleMigrations();
        foreach (var file in Directory.GetFiles(unique))
        {
            File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        }

        try
        {
            await using var own = await NewOwnStrategyAsync(kind, folder);
            var database = await own.Strategy.AcquireAsync(CancellationToken.None);
            await using (var connection = await ConnectAsync(database.Name))
            {
                await Assert.That(await CountAsync(connection, "SELECT count(*) FROM changelog WHERE success AND name LIKE '%.sql'")).IsEqualTo(9);
                await Assert.That(await CountAsync(connection, "SELECT count(*) FROM countries")).IsEqualTo(5);
            }

            await own.Strategy.ReleaseAsync(database, CancellationToken.None);
            await own.DisposeAsync();
            await AssertNothingLeftAsync(own.Catalog);
        }
        finally
        {
            await DropTemplatesAsync([await TemplateNameAsync(folder)]);
            Directory.Delete(parent, recursive: true);
            Directory.Delete(unique, recursive: true);
        }
    }

    [Test]
    public async Task A_maintenance_database_named_with_quotes_spaces_and_non_ASCII_letters_works_and_is_left_untouched()
    {
        var name = "we\"ird db ü " + Guid.NewGuid().ToString("N")[..6];
        var server = await ServerAsync();
        await using var admin = await ConnectAsync("postgres");
        await ExecuteAsync(admin, $"CREATE DATABASE {Sql.Quote(name)}");
        try
        {
            await using (var user = await ConnectAsync(name))
            {
                await ExecuteAsync(user, "CREATE TABLE precious (id int); INSERT INTO precious VALUES (1), (2), (3)");
            }

            var before = await Digest.ComputeAsync(server.ConnectionStringFor(name).ConnectionString);
            var options = OptionsResolver.FromEnvironment(new TestKitOptions { ConnectionString = server.ConnectionStringFor(name).ConnectionString, Isolation = kind, MaxDatabases = 1 });
            await using (var broker = new SessionBroker())
            {
                var lease = await broker.AcquireAsync(options, CancellationToken.None);
                await Assert.That(lease.Name).IsNotEqualTo(name);
                await using (var connection = await OpenAsync(lease.ConnectionString))
                {
                    await Assert.That(await CountAsync(connection, "SELECT count(*) FROM countries")).IsEqualTo(5);
                }

                await lease.ReleaseAsync(CancellationToken.None);
                var second = await broker.AcquireAsync(options, CancellationToken.None);
                await second.ReleaseAsync(CancellationToken.None);
            }

            await Assert.That(await Digest.ComputeAsync(server.ConnectionStringFor(name).ConnectionString)).IsEquivalentTo(before);
        }
        finally
        {
            await ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {Sql.Quote(name)} WITH (FORCE)");
        }
    }

    [Test]
    [Timeout(180_000)]
    public async Task A_server_whose_only_maintenance_database_has_an_odd_name_works(CancellationToken cancellationToken)
    {
        // A server without a database named postgres, as managed services and locked-down servers have: the kit must
        // use the database the connection string names, never assume postgres.
        await using var server = await EmbeddedServer.StartAsync(KitTest.BinDirectory, keepIdle: null, logger: null, cancellationToken);
        var name = "we\"ird db ü";
        await using (var admin = await server.Admin.OpenConnectionAsync(cancellationToken))
        {
            await ExecuteAsync(admin, $"CREATE DATABASE {Sql.Quote(name)}");
        }

        var odd = server.ConnectionStringFor(name);
        odd.Pooling = false;
        await using (var connection = await OpenAsync(odd.ConnectionString))
        {
            await ExecuteAsync(connection, "DROP DATABASE postgres WITH (FORCE)");
        }

        var options = OptionsResolver.FromEnvironment(new TestKitOptions { ConnectionString = server.ConnectionStringFor(name).ConnectionString, Isolation = kind, MaxDatabases = 1 });
        await using (var broker = new SessionBroker())
        {
            var lease = await broker.AcquireAsync(options, cancellationToken);
            await using (var connection = await OpenAsync(lease.ConnectionString))
            {
                await Assert.That(await CountAsync(connection, "SELECT count(*) FROM countries")).IsEqualTo(5);
            }

            await lease.ReleaseAsync(cancellationToken);
        }

        await using (var connection = await OpenAsync(odd.ConnectionString))
        {
            await Assert.That(await CountAsync(connection, "SELECT count(*) FROM pg_database WHERE datname LIKE 'testkit\\_%' AND datname NOT LIKE 'testkit\\_template\\_%'")).IsEqualTo(0);
        }
    }

    private static async Task<long> ColumnCountAsync(PooledDatabase database, string column)
    {
        var builder = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Pooling = false };
        await using var connection = await OpenAsync(builder.ConnectionString);
        return await CountAsync(connection, "SELECT count(*) FROM information_schema.columns WHERE table_name = 'customers' AND column_name = $1", column);
    }

    private async Task<string> TemplateNameAsync(string folder) =>
        TemplateIdentity.Of(MigrationSet.Load([folder]), (await ServerAsync()).Version).Name;

    private async Task AssertNoTemplateAsync(string folder)
    {
        await using var admin = await ConnectAsync("postgres");
        await Assert.That(await CountAsync(admin, "SELECT count(*) FROM pg_database WHERE datname = $1", await TemplateNameAsync(folder))).IsEqualTo(0)
            .Because("a template whose migration failed must not be left half-built");
    }

    /// <summary>Templates of this test's own folders are kept by the kit on purpose; this test removes them.</summary>
    private async Task DropTemplatesAsync(IEnumerable<string> names)
    {
        await using var admin = await ConnectAsync("postgres");
        foreach (var name in names)
        {
            await ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {Sql.Quote(name)} WITH (FORCE)");
        }
    }
}
