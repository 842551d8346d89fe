using Npgsql;

namespace TestKit.Tests;

/// <summary>Where a test run's server comes from, for tests that play a whole run.</summary>
public enum ServerKind
{
    /// <summary>An embedded server of the run's own, started and removed with it.</summary>
    Embedded,

    /// <summary>A server that outlives the run: the session's server, named by its connection string.</summary>
    External,
}

/// <summary>
/// Roles belong to the whole server: every database of it shares them, and they outlive the databases. Migrations that
/// create one (for row-level security, say) must work under every strategy, with parallel tests, on an embedded server
/// and on one that outlives the run, or fail with a message that says why and what to do. Each test plays whole runs
/// through brokers of its own, with a role of its own.
/// </summary>
[Arguments(IsolationStrategy.MigrateErase, ServerKind.Embedded)]
[Arguments(IsolationStrategy.MigrateErase, ServerKind.External)]
[Arguments(IsolationStrategy.Template, ServerKind.Embedded)]
[Arguments(IsolationStrategy.Template, ServerKind.External)]
[Arguments(IsolationStrategy.Reset, ServerKind.Embedded)]
[Arguments(IsolationStrategy.Reset, ServerKind.External)]
public sealed class ServerWideObjectTests(IsolationStrategy kind, ServerKind serverKind) : KitTest
{
    [Test]
    [Timeout(180_000)]
    public async Task A_migration_that_creates_a_role_only_when_it_is_missing_works_with_parallel_tests(CancellationToken cancellationToken)
    {
        var role = UniqueRole();
        var folder = TempFolders.RoleMigrations(role, idempotent: true);
        try
        {
            await using var broker = new SessionBroker();
            var options = await OptionsAsync(folder, maxDatabases: 4);
            // Eight tests at once, four databases: the first migrations of every strategy meet on the shared catalog.
            await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => PlayTestAsync(broker, options, role, cancellationToken), cancellationToken)));
        }
        finally
        {
            await CleanUpAsync(folder, role);
        }
    }

    [Test]
    [Timeout(180_000)]
    public async Task A_migration_that_creates_a_role_plainly_works_run_after_run_or_fails_naming_the_role_and_the_remedies(CancellationToken cancellationToken)
    {
        var role = UniqueRole();
        var folder = TempFolders.RoleMigrations(role, idempotent: false);
        try
        {
            if (kind == IsolationStrategy.MigrateErase)
            {
                // Every test's database is migrated: the second migration on the server meets the role the first created.
                await using var broker = new SessionBroker();
                var options = await OptionsAsync(folder, maxDatabases: 1);
                await PlayTestAsync(broker, options, role, cancellationToken);
                var error = await Assert.That(async () => await broker.AcquireAsync(options, cancellationToken)).Throws<TestKitException>();
                await Assert.That(error!.Message).Contains($"role '{role}'").And.Contains("belongs to the whole server")
                    .And.Contains("IF NOT EXISTS").And.Contains("template or reset");
                await Assert.That(error.MigrationFile).IsEqualTo("V1__roles.sql");
                return;
            }

            // Template and reset migrate once per server, and a server that outlives the run keeps the template.
            for (var run = 1; run <= 2; run++)
            {
                var broker = new SessionBroker();
                await using (broker)
                {
                    var options = await OptionsAsync(folder, maxDatabases: 2);
                    await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => PlayTestAsync(broker, options, role, cancellationToken), cancellationToken)));
                }

                var left = broker.ServerReports().Single().RolesLeft;
                if (serverKind == ServerKind.Embedded)
                {
                    await Assert.That(left).IsEmpty().Because("the embedded server's roles go with it");
                }
                else if (run == 1)
                {
                    await Assert.That(left).Contains(role).Because("a role the run's migrations created stays on a server that outlives the run: the summary says so");
                }
                else
                {
                    await Assert.That(left).DoesNotContain(role).Because("the role was there before this run");
                }
            }
        }
        finally
        {
            await CleanUpAsync(folder, role);
        }
    }

    /// <summary>One test: a database at head whose row-level security works for the role, released after.</summary>
    private static async Task PlayTestAsync(SessionBroker broker, ResolvedOptions options, string role, CancellationToken cancellationToken)
    {
        var lease = await broker.AcquireAsync(options, cancellationToken);
        try
        {
            var builder = new NpgsqlConnectionStringBuilder(lease.ConnectionString) { Pooling = false };
            await using var connection = new NpgsqlConnection(builder.ConnectionString);
            await connection.OpenAsync(cancellationToken);
            await ExecuteAsync(connection, $"SET ROLE {Sql.Quote(role)}");
            await Assert.That(await CountAsync(connection, "SELECT count(*) FROM accounts")).IsEqualTo(1).Because("the role sees its own rows only");
        }
        finally
        {
            await lease.ReleaseAsync(cancellationToken);
        }
    }

    private async Task<ResolvedOptions> OptionsAsync(string folder, int maxDatabases)
    {
        var external = (await ServerAsync()).ConnectionStringFor("postgres").ConnectionString;
        var options = OptionsResolver.FromEnvironment(new TestKitOptions
        {
            ConnectionString = external,
            MigrationFolders = [folder],
            Isolation = kind,
            MaxDatabases = maxDatabases,
        });
        return serverKind == ServerKind.External ? options : options with { Server = ServerSource.Embedded };
    }

    /// <summary>The test's template (kept by the kit on purpose) and its role, on the session's server; the embedded ones went with their server.</summary>
    private async Task CleanUpAsync(string folder, string role)
    {
        if (serverKind == ServerKind.External)
        {
            var template = TemplateIdentity.Of(MigrationSet.Load([folder]), (await ServerAsync()).Version).Name;
            await using var admin = await ConnectAsync("postgres");
            await ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {Sql.Quote(template)} WITH (FORCE)");
            await ExecuteAsync(admin, $"DROP ROLE IF EXISTS {Sql.Quote(role)}");
        }

        Directory.Delete(folder, recursive: true);
    }

    private static string UniqueRole() => "app_reader_" + Guid.NewGuid().ToString("N")[..10];
}
