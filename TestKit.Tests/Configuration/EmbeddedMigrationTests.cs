using LinqToDB;
using LinqToDB.Async;
using TestKit.Tests.Typed;

namespace TestKit.Tests;

/// <summary>Migrations embedded as resources (sample-migrations/*.sql, the sample folder embedded) work like the folder on disk.</summary>
public sealed class EmbeddedMigrationTests
{
    private static readonly EmbeddedMigrations Sample = new(typeof(EmbeddedMigrationTests).Assembly, "sample-migrations/");

    [Test]
    public async Task Embedded_scripts_have_the_fingerprint_of_the_same_folder_on_disk()
    {
        var embedded = OptionsResolver.FromEnvironment(new TestKitOptions { EmbeddedMigrations = [Sample] });
        var onDisk = OptionsResolver.FromEnvironment(new TestKitOptions { MigrationFolders = [TempFolders.SampleMigrations] });

        var fromResources = MigrationSet.Load(embedded.MigrationFolders);
        var fromDisk = MigrationSet.Load(onDisk.MigrationFolders);
        await Assert.That(fromResources.Fingerprint).IsEqualTo(fromDisk.Fingerprint);
        await Assert.That(Directory.GetFiles(embedded.MigrationFolders.Single()).Select(Path.GetFileName).Order())
            .IsEquivalentTo(Directory.GetFiles(TempFolders.SampleMigrations).Select(Path.GetFileName).Order());
        await Assert.That(embedded.PoolKey).IsEqualTo(OptionsResolver.FromEnvironment(new TestKitOptions { EmbeddedMigrations = [Sample] }).PoolKey)
            .Because("the same resources give the same folder, so tests of both classes share one pool");
    }

    [Test]
    public async Task A_prefix_that_names_no_resource_is_reported_with_the_way_to_embed_them()
    {
        var missing = new EmbeddedMigrations(typeof(EmbeddedMigrationTests).Assembly, "no-such-prefix/");
        var error = await Assert.That(() => OptionsResolver.FromEnvironment(new TestKitOptions { EmbeddedMigrations = [missing] })).Throws<TestKitException>();
        await Assert.That(error!.Message).Contains("'no-such-prefix/'").And.Contains("<EmbeddedResource");
    }

    [Test]
    public async Task An_empty_list_is_a_caller_mistake()
    {
        await Assert.That(() => OptionsResolver.FromEnvironment(new TestKitOptions { EmbeddedMigrations = [] })).Throws<ArgumentException>();
    }
}

/// <summary>A test class whose migrations come from resources only: its database is at head like any other.</summary>
[Arguments(IsolationStrategy.MigrateErase)]
[Arguments(IsolationStrategy.Template)]
[Arguments(IsolationStrategy.Reset)]
public sealed class EmbeddedMigrationDatabaseTests(IsolationStrategy kind) : DatabaseTest<ShopDb>
{
    protected override TestKitOptions Options => new()
    {
        Isolation = kind,
        EmbeddedMigrations = [new EmbeddedMigrations(typeof(EmbeddedMigrationTests).Assembly, "sample-migrations/")],
    };

    [Test]
    public async Task The_database_is_at_head_of_the_embedded_scripts()
    {
        await Assert.That(await Db.GetTable<Country>().CountAsync()).IsEqualTo(5).Because("V2 fills the countries");
        await Db.InsertAsync(new Customer { Name = "Ann", Email = "ann@example.com", CountryCode = "FR" });
        await Assert.That(await Db.Customers.CountAsync()).IsEqualTo(1);
    }
}
