using EvolveDb;
using Npgsql;

namespace TestKit.Tests;

/// <summary>
/// Evolve's and the server's migration failures, without a server: each becomes a TestKitException that names the file,
/// the line, the SQLSTATE, the cause and the remedy, with the tail of Evolve's log.
/// </summary>
public sealed class MigrationErrorsTests
{
    private readonly string _folder = TempFolders.Create();

    /// <summary>Never opened: the messages only read its database name.</summary>
    private readonly NpgsqlConnection _connection = new("Host=127.0.0.1;Database=shop");

    [After(Test)]
    public async Task Clean()
    {
        await _connection.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Test]
    public async Task A_failed_script_is_named_with_its_line_sqlstate_and_position()
    {
        // One statement: its line comes from the position alone, with no replay on the server.
        File.WriteAllText(Path.Combine(_folder, "V1__customers.sql"), "-- customers\n\nCREATE TABLE customers (id int, name txet);\n");
        var migrations = MigrationSet.Load([_folder]);
        var server = new PostgresException("type \"txet\" does not exist", "ERROR", "ERROR", PostgresErrorCodes.UndefinedObject, position: 37);

        var error = MigrationErrors.Translate(Failed("V1__customers.sql", server), "migrate", _connection, migrations, ["one", "two"]);

        await Assert.That(error.MigrationFile).IsEqualTo("V1__customers.sql");
        await Assert.That(error.SqlState).IsEqualTo(PostgresErrorCodes.UndefinedObject);
        await Assert.That(error.Position).IsEqualTo(37);
        await Assert.That(error.Line).IsEqualTo(3);
        await Assert.That(error.Message).Contains($"Migration {Path.Combine(_folder, "V1__customers.sql")} line 3 failed: 42704 type \"txet\" does not exist (position 37 of its statement). Fix the script and run again.");
        await Assert.That(error.Message).EndsWith("Evolve's log: one | two");
        await Assert.That(error.InnerException).IsTypeOf<EvolveException>();
    }

    [Test]
    public async Task A_role_created_twice_is_told_to_belong_to_the_whole_server_with_the_idempotent_form()
    {
        File.WriteAllText(Path.Combine(_folder, "V1__roles.sql"), "CREATE ROLE app_o'reader;\n");
        var migrations = MigrationSet.Load([_folder]);
        var server = new PostgresException("role \"app_o'reader\" already exists", "ERROR", "ERROR", PostgresErrorCodes.DuplicateObject);

        var error = MigrationErrors.Translate(Failed("V1__roles.sql", server), "migrate", _connection, migrations, []);

        await Assert.That(error.Message).Contains("A role belongs to the whole server");
        await Assert.That(error.Message).Contains("WHERE rolname = 'app_o''reader'").Because("the name is quoted as SQL the user can paste");
        await Assert.That(error.Message).Contains("TESTKIT_ISOLATION=template or reset");
        await Assert.That(error.Message).DoesNotContain("Evolve's log").Because("an empty log adds nothing");
    }

    [Test]
    public async Task A_schema_Evolve_manages_created_again_names_the_schema_and_the_two_remedies()
    {
        File.WriteAllText(Path.Combine(_folder, "V1__sales.sql"), "CREATE SCHEMA sales;\n");
        var migrations = MigrationSet.Load([_folder], schemas: ["public", "sales"]);
        var server = new PostgresException("schema \"sales\" already exists", "ERROR", "ERROR", PostgresErrorCodes.DuplicateSchema);

        var error = MigrationErrors.Translate(Failed("V1__sales.sql", server), "migrate", _connection, migrations, []);

        await Assert.That(error.Message).Contains("Schema 'sales' is one TestKit tells Evolve to manage");
        await Assert.That(error.Message).Contains("CREATE SCHEMA IF NOT EXISTS");

        var unmanaged = MigrationErrors.Translate(Failed("V1__sales.sql", server), "migrate", _connection, MigrationSet.Load([_folder]), []);
        await Assert.That(unmanaged.Message).DoesNotContain("tells Evolve to manage").Because("a schema Evolve was not told about is the script's own mistake");
    }

    [Test]
    public async Task A_failure_outside_any_script_names_the_database_and_keeps_the_last_eight_log_lines()
    {
        File.WriteAllText(Path.Combine(_folder, "V1__one.sql"), "SELECT 1;\n");
        var migrations = MigrationSet.Load([_folder]);
        var log = Enumerable.Range(1, 10).Select(i => $"line {i}").ToList();

        var plain = MigrationErrors.Translate(new EvolveException("Validation failed: checksum mismatch"), "erase", _connection, migrations, log);
        await Assert.That(plain.Message).StartsWith("Evolve erase failed on database 'shop': Validation failed: checksum mismatch");
        await Assert.That(plain.Message).EndsWith("Evolve's log: line 3 | line 4 | line 5 | line 6 | line 7 | line 8 | line 9 | line 10");
        await Assert.That(plain.MigrationFile).IsNull();

        var server = new PostgresException("permission denied for database shop", "ERROR", "ERROR", PostgresErrorCodes.InsufficientPrivilege);
        var fromServer = MigrationErrors.Translate(new EvolveException("Evolve could not erase", server), "erase", _connection, migrations, []);
        await Assert.That(fromServer.Message).IsEqualTo("Evolve erase failed on database 'shop': 42501 permission denied for database shop.");
        await Assert.That(fromServer.SqlState).IsEqualTo(PostgresErrorCodes.InsufficientPrivilege);
    }

    [Test]
    public async Task A_failed_seed_is_named_with_its_line()
    {
        var seed = Path.Combine(_folder, "two_customers.sql");
        File.WriteAllText(seed, "INSERT INTO customers VALUES\n  (1, 'A'),\n  (2, 'B', 'extra');\n");
        var script = MigrationSet.Load([TempFolders.SampleMigrations], seedFiles: [seed]).Seeds.Single();
        var server = new PostgresException("INSERT has more expressions than target columns", "ERROR", "ERROR", PostgresErrorCodes.SyntaxError, position: 53);

        var error = MigrationErrors.SeedFailed(script, server, _connection);

        await Assert.That(error.Message).IsEqualTo($"Seed {seed} line 3 failed: 42601 INSERT has more expressions than target columns. Fix the seed file and run again.");
        await Assert.That(error.MigrationFile).IsEqualTo("two_customers.sql");
        await Assert.That(error.Line).IsEqualTo(3);
    }

    /// <summary>Evolve's error for a script that failed, as it words it.</summary>
    private static EvolveException Failed(string file, Exception cause) => new($"Error executing script: {file}.", cause);
}
