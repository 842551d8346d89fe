
namespace TestKit.Tests;

public sealed class OptionsResolverTests
{
    private readonly string _root = TempFolders.Create();

    [After(Test)]
    public void DeleteRoot() => Directory.Delete(_root, recursive: true);

    private ResolvedOptions Resolve(TestKitOptions options, params (string Name, string Value)[] environment)
    {
        var variables = environment.ToDictionary(pair => pair.Name, pair => pair.Value);
        return OptionsResolver.Resolve(options, name => variables.GetValueOrDefault(name), [_root]);
    }

    private string MigrationsFolder(string name = "migrations")
    {
        var folder = Path.Combine(_root, name);
        Directory.CreateDirectory(folder);
        return folder;
    }

    [Test]
    public async Task Nothing_set_means_the_embedded_server()
    {
        MigrationsFolder();
        var resolved = Resolve(TestKitOptions.Default);
        await Assert.That(resolved.Server.IsEmbedded).IsTrue();
        await Assert.That(resolved.Isolation).IsEqualTo(IsolationStrategy.MigrateErase);
    }

    [Test]
    public async Task The_connection_string_variable_names_an_external_server()
    {
        MigrationsFolder();
        var resolved = Resolve(TestKitOptions.Default, ("TESTKIT_CONNECTION_STRING", "Host=db.example;Port=6543;Username=u;Password=p"));
        await Assert.That(resolved.Server.IsEmbedded).IsFalse();
        await Assert.That(resolved.Server.ConnectionString!.Host).IsEqualTo("db.example");
        await Assert.That(resolved.Server.ConnectionString.Port).IsEqualTo(6543);
        await Assert.That(resolved.Server.ConnectionString.Database).IsEqualTo("postgres");
    }

    [Test]
    public async Task Code_beats_the_environment()
    {
        MigrationsFolder();
        var resolved = Resolve(
            new TestKitOptions { ConnectionString = "Host=from-code;Username=u" },
            ("TESTKIT_CONNECTION_STRING", "Host=from-variable;Username=u"),
            ("PGHOST", "from-libpq"));
        await Assert.That(resolved.Server.ConnectionString!.Host).IsEqualTo("from-code");
        await Assert.That(resolved.Server.Origin).IsEqualTo("TestKitOptions.ConnectionString");
    }

    [Test]
    public async Task The_testkit_variable_beats_libpq_variables()
    {
        MigrationsFolder();
        var resolved = Resolve(TestKitOptions.Default, ("TESTKIT_CONNECTION_STRING", "Host=from-variable;Username=u"), ("PGHOST", "from-libpq"));
        await Assert.That(resolved.Server.ConnectionString!.Host).IsEqualTo("from-variable");
    }

    [Test]
    public async Task Libpq_variables_name_the_server_and_Npgsql_reads_the_credentials_itself()
    {
        MigrationsFolder();
        var resolved = Resolve(
            TestKitOptions.Default,
            ("PGHOST", "pg.local"), ("PGPORT", "5433"), ("PGUSER", "app"), ("PGPASSWORD", "s3cret"), ("PGDATABASE", "maint"));
        var builder = resolved.Server.ConnectionString!;
        await Assert.That(builder.Host).IsEqualTo("pg.local");
        await Assert.That(builder.Port).IsEqualTo(5433);
        await Assert.That(builder.Database).IsEqualTo("maint");
        // Npgsql itself takes PGUSER, PGPASSWORD and PGPASSFILE (with ~/.pgpass) when the string leaves them out.
        await Assert.That(builder.Username).IsNull();
        await Assert.That(builder.Password).IsNull();
    }

    [Test]
    public async Task A_bad_PGPORT_is_reported_by_name()
    {
        MigrationsFolder();
        var error = await Assert.That(() => Resolve(TestKitOptions.Default, ("PGPORT", "fifty"))).Throws<TestKitException>();
        await Assert.That(error!.Message).Contains("PGPORT").And.Contains("fifty");
    }

    [Test]
    public async Task A_malformed_connection_string_variable_is_a_TestKitException_without_the_password()
    {
        MigrationsFolder();
        var error = await Assert.That(() => Resolve(TestKitOptions.Default, ("TESTKIT_CONNECTION_STRING", "Host=h;Password=hunter2;Nonsense=1"))).Throws<TestKitException>();
        await Assert.That(error!.Message).Contains("TESTKIT_CONNECTION_STRING").And.Contains("not a valid");
        await Assert.That(error.Message).DoesNotContain("hunter2");
    }

    [Test]
    public async Task A_malformed_connection_string_in_code_is_an_argument_exception()
    {
        MigrationsFolder();
        var error = await Assert.That(() => Resolve(new TestKitOptions { ConnectionString = "Host=h;Port=notanumber" })).Throws<ArgumentException>();
        await Assert.That(error!.Message).Contains("TestKitOptions.ConnectionString");
    }

    [Test]
    public async Task The_default_migrations_folder_is_found_above_the_start_folder()
    {
        var expected = MigrationsFolder();
        var nested = Path.Combine(_root, "bin", "Debug", "net10.0");
        Directory.CreateDirectory(nested);
        var resolved = OptionsResolver.Resolve(TestKitOptions.Default, _ => null, [nested]);
        await Assert.That(resolved.MigrationFolders).IsEquivalentTo([expected]);
    }

    [Test]
    public async Task The_migrations_variable_takes_several_folders()
    {
        var first = MigrationsFolder("first");
        var second = MigrationsFolder("second");
        var resolved = Resolve(TestKitOptions.Default, ("TESTKIT_MIGRATIONS", first + Path.PathSeparator + second));
        await Assert.That(resolved.MigrationFolders).IsEquivalentTo([first, second]);
    }

    [Test]
    public async Task A_missing_migrations_folder_names_the_folder_and_the_remedy()
    {
        var error = await Assert.That(() => Resolve(new TestKitOptions { MigrationFolders = ["no-such-folder"] })).Throws<TestKitException>();
        await Assert.That(error!.Message).Contains("no-such-folder").And.Contains("does not exist").And.Contains("TESTKIT_MIGRATIONS");
    }

    [Test]
    public async Task An_unknown_isolation_name_lists_the_known_ones()
    {
        MigrationsFolder();
        var error = await Assert.That(() => Resolve(TestKitOptions.Default, ("TESTKIT_ISOLATION", "snapshot"))).Throws<TestKitException>();
        await Assert.That(error!.Message).Contains("snapshot").And.Contains("migrate-erase");
    }

    [Test]
    public async Task Zero_max_databases_is_a_caller_mistake()
    {
        MigrationsFolder();
        await Assert.That(() => Resolve(new TestKitOptions { MaxDatabases = 0 })).Throws<ArgumentOutOfRangeException>();
    }

    [Test]
    [Arguments("1", true)]
    [Arguments("true", true)]
    [Arguments("0", false)]
    [Arguments("", false)]
    public async Task TESTKIT_KEEP_FAILED_turns_keeping_on_and_off(string value, bool expected)
    {
        MigrationsFolder();
        await Assert.That(Resolve(TestKitOptions.Default, ("TESTKIT_KEEP_FAILED", value)).KeepFailedDatabases).IsEqualTo(expected);
    }

    [Test]
    public async Task A_bad_TESTKIT_KEEP_FAILED_is_reported()
    {
        MigrationsFolder();
        var error = await Assert.That(() => Resolve(TestKitOptions.Default, ("TESTKIT_KEEP_FAILED", "maybe"))).Throws<TestKitException>();
        await Assert.That(error!.Message).Contains("TESTKIT_KEEP_FAILED").And.Contains("maybe");
    }

    [Test]
    [Arguments("1", true)]
    [Arguments("no", false)]
    [Arguments("", false)]
    public async Task TESTKIT_ISOLATE_LEFTOVER_CLIENTS_turns_a_new_connection_string_per_lease_on_and_off_and_code_wins(string value, bool expected)
    {
        MigrationsFolder();
        var fromEnvironment = Resolve(TestKitOptions.Default, ("TESTKIT_ISOLATE_LEFTOVER_CLIENTS", value));
        var fromCode = Resolve(new TestKitOptions { IsolateLeftoverClients = !expected }, ("TESTKIT_ISOLATE_LEFTOVER_CLIENTS", value));

        await Assert.That(fromEnvironment.IsolateLeftoverClients).IsEqualTo(expected);
        await Assert.That(fromCode.IsolateLeftoverClients).IsEqualTo(!expected);
        await Assert.That(fromCode.PoolKey).IsNotEqualTo(fromEnvironment.PoolKey).Because("the two settings must not share a pool of databases");
    }

    [Test]
    public async Task A_missing_seed_file_is_named()
    {
        MigrationsFolder();
        var error = await Assert.That(() => Resolve(new TestKitOptions { SeedFiles = ["seeds/none.sql"] })).Throws<TestKitException>();
        await Assert.That(error!.Message).Contains("Seed file 'seeds/none.sql'").And.Contains("does not exist");
    }

    [Test]
    public async Task TESTKIT_SERVER_MAX_DATABASES_bounds_the_server_and_code_wins_over_it()
    {
        MigrationsFolder();
        await Assert.That(Resolve(TestKitOptions.Default).ServerMaxDatabases).IsNull();
        await Assert.That(Resolve(TestKitOptions.Default, ("TESTKIT_SERVER_MAX_DATABASES", " 12 ")).ServerMaxDatabases).IsEqualTo(12);
        await Assert.That(Resolve(new TestKitOptions { ServerMaxDatabases = 3 }, ("TESTKIT_SERVER_MAX_DATABASES", "12")).ServerMaxDatabases).IsEqualTo(3);
    }

    [Test]
    [Arguments("0")]
    [Arguments("-2")]
    [Arguments("many")]
    public async Task A_bad_TESTKIT_SERVER_MAX_DATABASES_is_reported(string value)
    {
        MigrationsFolder();
        var error = await Assert.That(() => Resolve(TestKitOptions.Default, ("TESTKIT_SERVER_MAX_DATABASES", value))).Throws<TestKitException>();
        await Assert.That(error!.Message).Contains("TESTKIT_SERVER_MAX_DATABASES").And.Contains(value);
    }

    [Test]
    public async Task A_server_bound_below_one_in_code_is_an_argument_exception()
    {
        MigrationsFolder();
        await Assert.That(() => Resolve(new TestKitOptions { ServerMaxDatabases = 0 })).Throws<ArgumentOutOfRangeException>();
    }

    private string BinFolder()
    {
        var folder = Path.Combine(_root, "bin");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "initdb"), string.Empty);
        File.WriteAllText(Path.Combine(folder, "pg_ctl"), string.Empty);
        return folder;
    }

    [Test]
    public async Task The_postgres_bin_variable_names_the_embedded_servers_programs_and_code_beats_it()
    {
        MigrationsFolder();
        var bin = BinFolder();
        var fromVariable = Resolve(TestKitOptions.Default, ("TESTKIT_POSTGRES_BIN", bin));
        await Assert.That(fromVariable.Server.IsEmbedded).IsTrue();
        await Assert.That(fromVariable.Server.BinDirectory).IsEqualTo(bin);
        await Assert.That(fromVariable.Server).IsNotEqualTo(ServerSource.Embedded).Because("servers of two sets of programs are two servers");
        await Assert.That(Resolve(TestKitOptions.Default, ("TESTKIT_POSTGRES_BIN", bin + Path.DirectorySeparatorChar)).Server).IsEqualTo(fromVariable.Server)
            .Because("a trailing separator names the same programs, so the same server");

        var other = Path.Combine(_root, "other");
        Directory.CreateDirectory(other);
        File.Copy(Path.Combine(bin, "initdb"), Path.Combine(other, "initdb"));
        File.Copy(Path.Combine(bin, "pg_ctl"), Path.Combine(other, "pg_ctl"));
        var fromCode = Resolve(new TestKitOptions { PostgresBinDirectory = other }, ("TESTKIT_POSTGRES_BIN", bin));
        await Assert.That(fromCode.Server.BinDirectory).IsEqualTo(other);
        await Assert.That(fromCode.Server.Origin).IsEqualTo("TestKitOptions.PostgresBinDirectory");
    }

    [Test]
    public async Task A_named_server_beats_the_postgres_bin_folder()
    {
        MigrationsFolder();
        var resolved = Resolve(TestKitOptions.Default, ("TESTKIT_POSTGRES_BIN", BinFolder()), ("TESTKIT_CONNECTION_STRING", "Host=db.example;Username=u"));
        await Assert.That(resolved.Server.IsEmbedded).IsFalse();
        await Assert.That(resolved.Server.BinDirectory).IsNull();
    }

    [Test]
    public async Task A_postgres_bin_folder_without_the_programs_is_refused_with_the_setting_named()
    {
        MigrationsFolder();
        var empty = Path.Combine(_root, "empty");
        Directory.CreateDirectory(empty);
        var fromVariable = await Assert.That(() => Resolve(TestKitOptions.Default, ("TESTKIT_POSTGRES_BIN", empty))).Throws<TestKitException>();
        await Assert.That(fromVariable!.Message).Contains("TESTKIT_POSTGRES_BIN").And.Contains("initdb and pg_ctl");
        var fromCode = await Assert.That(() => Resolve(new TestKitOptions { PostgresBinDirectory = " " })).Throws<ArgumentException>();
        await Assert.That(fromCode!.Message).Contains("TestKitOptions.PostgresBinDirectory");
    }
}
