using System.Text.RegularExpressions;
using EvolveDb;
using EvolveDb.Dialect;
using Npgsql;
using TestKit.Diagnostics;

namespace TestKit.Migrations;

/// <summary>Evolve 3.2 behind <see cref="IMigrator"/>, with its failures turned into <see cref="TestKitException"/>s.</summary>
internal sealed partial class EvolveMigrator(MigrationSet migrations) : IMigrator
{
    public MigrationSet Migrations { get; } = migrations;

    public Task MigrateAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        RunAsync(
            connection,
            evolve =>
            {
                Migrations.EnsureUnchanged();
                evolve.Migrate();
                foreach (var seed in Migrations.Seeds)
                {
                    ApplySeed(connection, seed);
                }
            },
            "migrate",
            cancellationToken);

    public Task SeedAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        Task.Run(
            () =>
            {
                Migrations.EnsureUnchanged();
                foreach (var seed in Migrations.Seeds)
                {
                    ApplySeed(connection, seed);
                }
            },
            cancellationToken);

    public IMigrator WithoutSeeds() => new EvolveMigrator(Migrations.WithoutSeeds());

    public Task EraseAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        RunAsync(
            connection,
            evolve =>
            {
                evolve.Erase();

                // Evolve skips, without an error, a schema that was not empty when it first migrated it.
                if (evolve.NbSchemaToEraseSkipped > 0)
                {
                    throw new TestKitException(
                        $"Evolve skipped {evolve.NbSchemaToEraseSkipped} schema(s) while erasing database '{connection.Database}', " +
                        "because they held objects before the first migration; the database would stay dirty. " +
                        "Create every schema your migrations use inside the migrations themselves.");
                }
            },
            "erase",
            cancellationToken);

    private Task RunAsync(NpgsqlConnection connection, Action<Evolve> command, string what, CancellationToken cancellationToken) =>
        // Evolve is synchronous: run it off the caller's thread so parallel tests keep their threads.
        Task.Run(
            () =>
            {
                // Through the wrapper: a script with an SQL-standard function body is sent unsplit by Npgsql.
                using var migrating = new StandardBodyConnection(connection);
                var evolve = new Evolve(migrating, logDelegate: null, DBMS.PostgreSQL)
                {
                    Locations = Migrations.Folders,
                    // Each database is used by one test at a time, so Evolve's cluster lock would only
                    // cost its fixed 3 s retry sleep when two runs meet.
                    EnableClusterMode = false,
                    IsEraseDisabled = false,
                    MustEraseOnValidationError = false,
                    Placeholders = Migrations.Placeholders.ToDictionary(pair => "${" + pair.Key + "}", pair => pair.Value, StringComparer.Ordinal),
                };
                if (Migrations.Schemas.Count > 0)
                {
                    evolve.Schemas = Migrations.Schemas;
                }

                if (Migrations.ChangelogSchema is { } changelog)
                {
                    evolve.MetadataTableSchema = changelog;
                }

                try
                {
                    command(evolve);
                }
                catch (EvolveException e)
                {
                    throw Translate(e, what, connection);
                }
                catch (Exception lost) when (lost is not TestKitException && (lost is NpgsqlException || lost.InnerException is NpgsqlException))
                {
                    // Evolve lets driver errors through when the connection itself went away (its rollback then
                    // throws ObjectDisposedException): a server restart, or a session ended by someone else.
                    var cause = lost as NpgsqlException ?? (NpgsqlException)lost.InnerException!;
                    throw new TestKitException(
                        $"Evolve {what} on database '{connection.Database}' lost its connection: {(cause as PostgresException)?.SqlState} {cause.Message}. " +
                        "The server restarted or another session ended this one; run the tests again.",
                        lost)
                    {
                        SqlState = (cause as PostgresException)?.SqlState,
                    };
                }
            },
            cancellationToken);

    private TestKitException Translate(EvolveException error, string what, NpgsqlConnection connection)
    {
        var postgres = Find<PostgresException>(error);
        var fileName = FailedScript().Match(error.Message) is { Success: true } match ? match.Groups["file"].Value : null;
        var script = fileName is null ? null : Migrations.Scripts.FirstOrDefault(candidate => candidate.FileName == fileName);
        var line = script is null || postgres is null ? null : LineOf(script, postgres, connection);

        var message = (postgres, script) switch
        {
            ({ } server, { } failed) when ManagedSchemaCreatedAgain(server) is { } schema =>
                $"Migration {failed.Path}{(line is null ? string.Empty : $" line {line}")} failed: {server.SqlState} {server.MessageText}. " +
                $"Schema '{schema}' is one TestKit tells Evolve to manage (TestKitOptions.Schemas or ChangelogSchema), so Evolve created it before the first script ran. " +
                $"Leave it out of TestKitOptions.Schemas (TestKit drops after each test whatever schemas the migrations created), or create it with CREATE SCHEMA IF NOT EXISTS.",
            ({ } server, { } failed) when SharedObject(server) is { } shared =>
                $"Migration {failed.Path}{(line is null ? string.Empty : $" line {line}")} failed: {server.SqlState} {server.MessageText}. " +
                $"A {shared.Kind} belongs to the whole server: every database of a PostgreSQL server shares it, so a migration that creates {shared.Kind} " +
                $"'{shared.Name}' succeeds once per server and fails on the next database it migrates (migrate-erase migrates every test's database). " +
                $"Create it only when it is missing ({IdempotentForm(shared)}), " +
                "or use the template or reset strategy (TESTKIT_ISOLATION=template or reset), which migrate once per server.",
            ({ } server, { } failed) =>
                $"Migration {failed.Path}{(line is null ? string.Empty : $" line {line}")} failed: {server.SqlState} {server.MessageText}" +
                $"{(server.Position > 0 ? $" (position {server.Position} of its statement)" : string.Empty)}. Fix the script and run again.",
            ({ } server, null) =>
                $"Evolve {what} failed on database '{connection.Database}': {server.SqlState} {server.MessageText}.",
            _ =>
                $"Evolve {what} failed on database '{connection.Database}': {error.Message}",
        };

        return new TestKitException(message, error)
        {
            SqlState = postgres?.SqlState,
            MigrationFile = script?.FileName ?? fileName,
            Position = postgres?.Position > 0 ? postgres.Position : null,
            Line = line,
        };
    }

    /// <summary>The managed schema a "42P06 schema ... already exists" error names, if it is one Evolve created itself.</summary>
    private string? ManagedSchemaCreatedAgain(PostgresException error) =>
        error.SqlState == PostgresErrorCodes.DuplicateSchema && SchemaExists().Match(error.MessageText) is { Success: true } match
            && (Migrations.Schemas.Contains(match.Groups["name"].Value, StringComparer.Ordinal) || Migrations.ChangelogSchema == match.Groups["name"].Value)
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

    /// <summary>Runs one seed file in its own transaction; a failure names the file, the line and the SQLSTATE.</summary>
    private static void ApplySeed(NpgsqlConnection connection, MigrationScript seed)
    {
        using var transaction = connection.BeginTransaction();
        try
        {
            using var command = new NpgsqlCommand(File.ReadAllText(seed.Path), connection, transaction);
            command.ExecuteNonQuery();
            transaction.Commit();
        }
        catch (PostgresException error)
        {
            transaction.Rollback();
            var line = LineOf(seed, error, connection);
            throw new TestKitException(
                $"Seed {seed.Path}{(line is null ? string.Empty : $" line {line}")} failed: {error.SqlState} {error.MessageText}. Fix the seed file and run again.",
                error)
            {
                SqlState = error.SqlState,
                MigrationFile = seed.FileName,
                Position = error.Position > 0 ? error.Position : null,
                Line = line,
            };
        }
    }

    /// <summary>
    /// The script line of the error. The server reports a position within the failing statement, not
    /// the script, and does not say which statement failed: on this error path only, the script's
    /// statements are replayed one by one in a transaction that is rolled back, to find it.
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
                using var command = new NpgsqlCommand(statement.Text, connection, transaction);
                command.ExecuteNonQuery();
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

    private static T? Find<T>(Exception error)
        where T : Exception
    {
        for (Exception? current = error; current is not null; current = current.InnerException)
        {
            if (current is T found)
            {
                return found;
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
