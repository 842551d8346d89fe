
namespace TestKit.Tests;

public sealed class MigrationSetTests
{
    private readonly string _folder = TempFolders.Create();

    [After(Test)]
    public void DeleteFolder() => Directory.Delete(_folder, recursive: true);

    private void Write(string name, string sql = "SELECT 1;") => File.WriteAllText(Path.Combine(_folder, name), sql);

    [Test]
    public async Task The_sample_migrations_load_with_versions_and_one_repeatable_script()
    {
        var set = MigrationSet.Load([TempFolders.SampleMigrations]);
        await Assert.That(set.Scripts.Count(script => !script.IsRepeatable)).IsGreaterThanOrEqualTo(6);
        await Assert.That(set.Scripts.Count(script => script.IsRepeatable)).IsEqualTo(1);
    }

    [Test]
    public async Task An_empty_folder_is_an_error()
    {
        var error = await Assert.That(() => MigrationSet.Load([_folder])).Throws<TestKitException>();
        await Assert.That(error!.Message).Contains(_folder).And.Contains("no .sql scripts");
    }

    [Test]
    public async Task A_name_Evolve_cannot_parse_is_an_error_naming_the_file()
    {
        Write("V1__ok.sql");
        Write("create_tables.sql");
        var error = await Assert.That(() => MigrationSet.Load([_folder])).Throws<TestKitException>();
        await Assert.That(error!.MigrationFile).IsEqualTo("create_tables.sql");
        await Assert.That(error.Message).Contains("V<version>__<description>.sql");
    }

    [Test]
    public async Task Two_scripts_with_one_version_are_an_error()
    {
        Write("V1__first.sql");
        Write("V01__second.sql");
        var error = await Assert.That(() => MigrationSet.Load([_folder])).Throws<TestKitException>();
        await Assert.That(error!.Message).Contains("same version");
    }

    [Test]
    public async Task Editing_a_script_changes_the_fingerprint()
    {
        Write("V1__a.sql", "CREATE TABLE a (id int);");
        var before = MigrationSet.Load([_folder]).Fingerprint;
        Write("V1__a.sql", "CREATE TABLE a (id bigint);");
        var after = MigrationSet.Load([_folder]).Fingerprint;
        await Assert.That(after).IsNotEqualTo(before);
    }
}
