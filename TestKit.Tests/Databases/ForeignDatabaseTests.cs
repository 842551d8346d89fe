using Npgsql;

namespace TestKit.Tests;

/// <summary>A database that holds someone's data, on the server TestKit uses: TestKit must never touch it.</summary>
public sealed class ForeignDatabaseTests : KitTest
{
    private readonly string _userDatabase = "user data " + Guid.NewGuid().ToString("N")[..8];

    [Before(Test)]
    public async Task CreateUserDatabase()
    {
        await using var admin = await ConnectAsync("postgres");
        await ExecuteAsync(admin, $"CREATE DATABASE {Sql.Quote(_userDatabase)}");
        await using var user = await ConnectAsync(_userDatabase);
        await ExecuteAsync(user, "CREATE TABLE precious (id int); INSERT INTO precious VALUES (1), (2), (3)");
    }

    [After(Test)]
    public async Task DropUserDatabase()
    {
        await using var admin = await ConnectAsync("postgres");
        await ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {Sql.Quote(_userDatabase)} WITH (FORCE)");
    }

    [Test]
    public async Task A_connection_string_naming_a_user_database_leaves_it_untouched()
    {
        var server = await ServerAsync();
        var options = new TestKitOptions
        {
            ConnectionString = server.ConnectionStringFor(_userDatabase).ConnectionString,
            MaxDatabases = 1,
        };
        var resolved = OptionsResolver.FromEnvironment(options);

        // A broker of this test's own, done with before the user database is dropped.
        await using (var broker = new SessionBroker())
        {
            var lease = await broker.AcquireAsync(resolved, CancellationToken.None);
            await Assert.That(lease.Name).IsNotEqualTo(_userDatabase);
            await lease.ReleaseAsync(CancellationToken.None);
        }

        await using var user = await ConnectAsync(_userDatabase);
        await Assert.That(await CountAsync(user, "SELECT count(*) FROM precious")).IsEqualTo(3);
    }

    [Test]
    public async Task The_catalog_refuses_to_drop_a_database_it_did_not_create()
    {
        var catalog = new ServerRun(await ServerAsync());

        var error = await Assert.That(() => catalog.Catalog.DropAsync(_userDatabase, CancellationToken.None)).Throws<TestKitException>();

        await Assert.That(error!.Message).Contains("was not created by this TestKit run");
        await using var user = await ConnectAsync(_userDatabase);
        await Assert.That(await CountAsync(user, "SELECT count(*) FROM precious")).IsEqualTo(3);
    }

    [Test]
    public async Task A_database_of_another_run_is_not_ours_either()
    {
        var ours = new ServerRun(await ServerAsync());
        var theirs = new ServerRun(await ServerAsync());
        var name = await theirs.Catalog.CreateAsync(CancellationToken.None);
        try
        {
            await using var admin = await ConnectAsync("postgres");
            await Assert.That(await ours.Catalog.IsOursAsync(admin, name, CancellationToken.None)).IsFalse();
            await Assert.That(await theirs.Catalog.IsOursAsync(admin, name, CancellationToken.None)).IsTrue();
        }
        finally
        {
            await theirs.Catalog.DropAsync(name, CancellationToken.None);
        }
    }
}
