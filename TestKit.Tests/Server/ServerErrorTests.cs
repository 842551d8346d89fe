using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace TestKit.Tests;

/// <summary>Each way of pointing TestKit at a server wrongly gives a TestKitException that names the cause and the remedy.</summary>
public sealed class ServerErrorTests : KitTest
{
    private static ServerSource External(string connectionString) => new(new NpgsqlConnectionStringBuilder(connectionString), "TESTKIT_CONNECTION_STRING");

    [Test]
    public async Task An_unreachable_server_is_reported_with_host_port_and_remedy()
    {
        int closedPort;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            closedPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        var error = await Assert.That(async () => { await ExternalServer.ConnectAsync(External($"Host=127.0.0.1;Port={closedPort};Username=u;Password=p;Timeout=5"), CancellationToken.None); })
            .Throws<TestKitException>();

        await Assert.That(error!.Message).Contains($"Cannot reach PostgreSQL at 127.0.0.1:{closedPort}").And.Contains("TESTKIT_CONNECTION_STRING");
    }

    [Test]
    public async Task A_cancellation_while_the_kit_checks_a_pooled_connection_gives_the_connection_back()
    {
        // A pool of one, as the kit's admin pool is a pool of three: a connection lost to a cancellation is lost for good.
        var builder = (await ServerAsync()).ConnectionStringFor("postgres");
        builder.MaxPoolSize = 1;
        builder.Timeout = 3;
        using var cancel = new CancellationTokenSource();
        var dataSourceBuilder = new NpgsqlDataSourceBuilder(builder.ConnectionString);
        // Cancelled once the connection is open, before the kit's check of it runs.
        dataSourceBuilder.UsePhysicalConnectionInitializer(_ => cancel.Cancel(), _ =>
        {
            cancel.Cancel();
            return Task.CompletedTask;
        });
        await using var dataSource = dataSourceBuilder.Build();

        await Assert.That(async () => { await using var _ = await ServerErrors.OpenAsync(dataSource, "the test", cancel.Token); }).Throws<OperationCanceledException>();

        await using var again = await ServerErrors.OpenAsync(dataSource, "the test", CancellationToken.None);
        await Assert.That(again.State).IsEqualTo(System.Data.ConnectionState.Open).Because("the pool's only connection came back after the cancellation");
    }

    [Test]
    public async Task A_wrong_password_is_reported_without_the_password()
    {
        var builder = (await ServerAsync()).ConnectionStringFor("postgres");
        builder.Password = "wrong-password-4711";

        var error = await Assert.That(async () => { await ExternalServer.ConnectAsync(External(builder.ConnectionString), CancellationToken.None); }).Throws<TestKitException>();

        await Assert.That(error!.Message).Contains("authentication failed").And.DoesNotContain("wrong-password-4711");
        await Assert.That(error.ConnectionString).DoesNotContain("wrong-password-4711");
        await Assert.That(error.SqlState).IsEqualTo(PostgresErrorCodes.InvalidPassword);
    }

    [Test]
    public async Task A_missing_maintenance_database_is_reported_by_name()
    {
        var builder = (await ServerAsync()).ConnectionStringFor("no_such_database");

        var error = await Assert.That(async () => { await ExternalServer.ConnectAsync(External(builder.ConnectionString), CancellationToken.None); }).Throws<TestKitException>();

        await Assert.That(error!.Message).Contains("no database 'no_such_database'");
    }

    [Test]
    public async Task A_role_without_CREATEDB_is_told_so()
    {
        var role = "nocreatedb_" + Guid.NewGuid().ToString("N")[..8];
        await using var admin = await ConnectAsync("postgres");
        await ExecuteAsync(admin, $"CREATE ROLE {Sql.Quote(role)} LOGIN PASSWORD 'role-password' NOCREATEDB");
        try
        {
            var builder = (await ServerAsync()).ConnectionStringFor("postgres");
            builder.Username = role;
            builder.Password = "role-password";

            var error = await Assert.That(async () => { await ExternalServer.ConnectAsync(External(builder.ConnectionString), CancellationToken.None); }).Throws<TestKitException>();

            await Assert.That(error!.Message).Contains("may not create databases").And.Contains("CREATEDB");
        }
        finally
        {
            await ExecuteAsync(admin, $"DROP ROLE {Sql.Quote(role)}");
        }
    }

    [Test]
    [Arguments(IsolationStrategy.MigrateErase)]
    [Arguments(IsolationStrategy.Template)]
    [Arguments(IsolationStrategy.Reset)]
    public async Task A_role_with_CREATEDB_and_no_superuser_runs_migrate_erase_and_template_and_is_told_reset_needs_one(IsolationStrategy kind)
    {
        // PostgreSQL 15 took CREATE on the public schema from PUBLIC and 16 changed what CREATEROLE grants: the kit's
        // own databases are the role's, so neither may matter. Checked on every version by make versions.
        var role = "createdb_" + Guid.NewGuid().ToString("N")[..8];
        await using var admin = await ConnectAsync("postgres");
        await ExecuteAsync(admin, $"CREATE ROLE {Sql.Quote(role)} LOGIN PASSWORD 'role-password' CREATEDB");
        try
        {
            var builder = (await ServerAsync()).ConnectionStringFor("postgres");
            builder.Username = role;
            builder.Password = "role-password";
            var options = new TestKitOptions { ConnectionString = builder.ConnectionString, Isolation = kind, MigrationFolders = [TempFolders.UniqueCopyOfSampleMigrations()], MaxDatabases = 1 };
            await using var databases = await TestDatabases.StartAsync(options);
            if (kind == IsolationStrategy.Reset)
            {
                var error = await Assert.That(async () => { await databases.LeaseAsync(); }).Throws<TestKitException>();
                await Assert.That(error!.Message).Contains("needs a superuser role").And.Contains(role);
                return;
            }

            for (var test = 0; test < 2; test++)
            {
                await using var lease = await databases.LeaseAsync();
                await using var connection = new NpgsqlConnection(lease.ConnectionString);
                await connection.OpenAsync();
                await Assert.That(await CountAsync(connection, "SELECT count(*) FROM customers WHERE email = 'role@example.com'")).IsEqualTo(0)
                    .Because("each test starts at head");
                await ExecuteAsync(connection, "INSERT INTO customers (name, email, country_code) VALUES ('Role', 'role@example.com', 'DE')");
            }
        }
        finally
        {
            // The role's template (of migrations of this test's own) is kept across runs: it goes with the role.
            var owned = new List<string>();
            await using (var command = new NpgsqlCommand("SELECT datname FROM pg_database WHERE datdba = (SELECT oid FROM pg_roles WHERE rolname = $1)", admin) { Parameters = { new() { Value = role } } })
            await using (var reader = await command.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    owned.Add(reader.GetString(0));
                }
            }

            foreach (var database in owned)
            {
                await ExecuteAsync(admin, $"ALTER DATABASE {Sql.Quote(database)} IS_TEMPLATE false");
                await ExecuteAsync(admin, $"DROP DATABASE {Sql.Quote(database)} WITH (FORCE)");
            }

            await ExecuteAsync(admin, $"DROP ROLE {Sql.Quote(role)}");
        }
    }

    [Test]
    public async Task A_missing_migrations_folder_fails_the_setup_with_the_folder_named()
    {
        var error = await Assert.That(() => OptionsResolver.FromEnvironment(new TestKitOptions { MigrationFolders = ["/no/such/migrations"] })).Throws<TestKitException>();
        await Assert.That(error!.Message).Contains("/no/such/migrations").And.Contains("does not exist");
    }

    [Test]
    public async Task An_empty_migrations_folder_fails_the_setup()
    {
        var folder = TempFolders.Create();
        try
        {
            var options = OptionsResolver.FromEnvironment(new TestKitOptions { MigrationFolders = [folder] });
            var error = await Assert.That(async () => { await Session.Broker.AcquireAsync(options, CancellationToken.None); }).Throws<TestKitException>();
            await Assert.That(error!.Message).Contains("holds no .sql scripts");
        }
        finally
        {
            Directory.Delete(folder);
        }
    }
}
