using System.Text.RegularExpressions;
using EvolveDb;
using Npgsql;
using TestKit.Diagnostics;

namespace TestKit.Migrations;

/// <summary>
/// Turns Evolve's and the server's migration failures into <see cref="TestKitException"/>s that name the file, the line,
/// the SQLSTATE, the cause and the remedy, with Evolve's own log of the run that failed.
/// </summary>
internal static partial class MigrationErrors
{
    /// <summary>A migration or erase Evolve reported failed.</summary>
    internal static TestKitException Translate(EvolveException error, string what, NpgsqlConnection connection, MigrationSet migrations, IReadOnlyList<string> evolveLog)
    {
        var postgres = ExceptionChain.Find<PostgresException>(error);
        var fileName = FailedScript().Match(error.Message) is { Success: true } match ? match.Groups["file"].Value : null;
        var script = fileName is null ? null : migrations.Scripts.FirstOrDefault(candidate => candidate.FileName == fileName);
        var line = script is null || postgres is null ? null : LineOf(script, postgres, connection);
        var at = script is null ? string.Empty : $"Migration {script.Path}{(line is null ? string.Empty : $" line {line}")} failed: ";

        var message = (postgres, script) switch
        {
            ({ } server, not null) when ManagedSchemaCreatedAgain(server, migrations) is { } schema =>
                $"{at}{server.SqlState} {server.MessageText}. " +
                $"Schema '{schema}' is one TestKit tells Evolve to manage (TestKitOptions.Schemas or ChangelogSchema), so Evolve created it before the first script ran. " +
                "Leave it out of TestKitOptions.Schemas (TestKit drops after each test whatever schemas the migrations created), or create it with CREATE SCHEMA IF NOT EXISTS.",
            ({ } server, not null) when SharedObject(server) is { } shared =>
                $"{at}{server.SqlState} {server.MessageText}. " +
                $"A {shared.Kind} belongs to the whole server: every database of a PostgreSQL server shares it, so a migration that creates {shared.Kind} " +
                $"'{shared.Name}' succeeds once per server and fails on the next database it migrates (migrate-erase migrates every test's database). " +
                $"Create it only when it is missing ({IdempotentForm(shared)}), " +
                "or use the template or reset strategy (TESTKIT_ISOLATION=template or reset), which migrate once per server.",
            ({ } server, not null) =>
                $"{at}{server.SqlState} {server.MessageText}" +
                $"{(server.Position > 0 ? $" (position {server.Position} of its statement)" : string.Empty)}. Fix the script and run again.",
            ({ } server, null) =>
                $"Evolve {what} failed on database '{connection.Database}': {server.SqlState} {server.MessageText}.",
            _ =>
                $"Evolve {what} failed on database '{connection.Database}': {error.Message}",
        };

        return Failure(message + LogTail(evolveLog), error, postgres, fileName, line);
    }

    /// <summary>A seed file that failed.</summary>
    internal static TestKitException SeedFailed(MigrationScript seed, PostgresException error, NpgsqlConnection connection)
    {
        var line = LineOf(seed, error, connection);
        return Failure(
            $"Seed {seed.Path}{(line is null ? string.Empty : $" line {line}")} failed: {error.SqlState} {error.MessageText}. Fix the seed file and run again.",
            error,
            error,
            seed.FileName,
            line);
    }

    /// <summary>Evolve lost its connection (a server restart, or a session ended by someone else): the driver's error came through.</summary>
    internal static TestKitException ConnectionLost(Exception lost, string what, NpgsqlConnection connection, IReadOnlyList<string> evolveLog)
    {
        var cause = ExceptionChain.Find<NpgsqlException>(lost)!;
        return Failure(
            $"Evolve {what} on database '{connection.Database}' lost its connection: {(cause as PostgresException)?.SqlState} {cause.Message}. " +
            "The server restarted or another session ended this one; run the tests again." + LogTail(evolveLog),
            lost,
            cause as PostgresException,
            null,
            null);
    }

    /// <summary>The exception of a failed migration, erase or seed, with what the server said of it as properties.</summary>
    private static TestKitException Failure(string message, Exception error, PostgresException? server, string? file, int? line) =>
        new(message, error) { SqlState = server?.SqlState, MigrationFile = file, Position = server?.Position > 0 ? server.Position : null, Line = line };

    private static string LogTail(IReadOnlyList<string> evolveLog) =>
        evolveLog.Count == 0 ? string.Empty : $" Evolve's log: {string.Join(" | ", evolveLog.TakeLast(8))}";

    /// <summary>The managed schema a "42P06 schema ... already exists" error names, if it is one Evolve created itself.</summary>
    private static string? ManagedSchemaCreatedAgain(PostgresException error, MigrationSet migrations) =>
        error.SqlState == PostgresErrorCodes.DuplicateSchema && SchemaExists().Match(error.MessageText) is { Success: true } match
            && (migrations.Schemas.Contains(match.Groups["name"].Value, StringComparer.Ordinal) || migrations.ChangelogSchema == match.Groups["name"].Value)
            ? match.Groups["name"].Value
            : null;

    /// <summary>The role or tablespace a "42710 ... already exists" error names: an object every database of the server shares.</summary>
    private static (string Kind, string Name)? SharedObject(PostgresException error) =>
        error.SqlState == PostgresErrorCodes.DuplicateObject && SharedObjectExists().Match(error.MessageText) is { Success: true } match
            ? (match.Groups["kind"].Value, match.Groups["name"].Value)
            : null;

    private static string IdempotentForm((string Kind, string Name) shared) =>
        shared.Kind == "role"
            ? $"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{shared.Name.Replace("'", "''", StringComparison.Ordinal)}') THEN CREATE ROLE ...; END IF; END $$"
            : "check pg_tablespace first";

    /// <summary>
    /// The script line of the error. The server reports a position within the failing statement, not the script, and does
    /// not say which statement failed: on this error path only, the script's statements are replayed one by one (each sent
    /// unsplit) in a transaction that is rolled back, to find it.
    /// </summary>
    private static int? LineOf(MigrationScript script, PostgresException error, NpgsqlConnection connection)
    {
        if (error.Position <= 0 || !File.Exists(script.Path))
        {
            return null;
        }

        var text = File.ReadAllText(script.Path);
        var statements = SqlScript.Split(text);
        if (statements.Count == 1)
        {
            return SqlScript.LineOf(text, statements[0], error.Position);
        }

        using var transaction = connection.BeginTransaction();
        foreach (var statement in statements)
        {
            try
            {
                using var batch = new NpgsqlBatch(connection, transaction) { BatchCommands = { new NpgsqlBatchCommand(statement.Text) } };
                batch.ExecuteNonQuery();
            }
            catch (PostgresException replayed) when (replayed.SqlState == error.SqlState && replayed.Position == error.Position)
            {
                return SqlScript.LineOf(text, statement, error.Position);
            }
            catch (PostgresException)
            {
                // The replay went another way (placeholders, a different state): no line rather than a wrong one.
                return null;
            }
        }

        return null;
    }

    [GeneratedRegex(@"Error executing script: (?<file>\S+\.sql)", RegexOptions.CultureInvariant)]
    private static partial Regex FailedScript();

    [GeneratedRegex(@"^(?<kind>role|tablespace) ""(?<name>.+)"" already exists$", RegexOptions.CultureInvariant)]
    private static partial Regex SharedObjectExists();

    [GeneratedRegex(@"^schema ""(?<name>.+)"" already exists$", RegexOptions.CultureInvariant)]
    private static partial Regex SchemaExists();
}
