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
