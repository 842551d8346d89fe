using EvolveDb;
using EvolveDb.Dialect;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using TestKit.Diagnostics;

namespace TestKit.Migrations;

/// <summary>
/// Brings a database to head and back to its empty baseline, with Evolve 3.2: migrates and erases through a <see cref="StandardBodyConnection"/>, applies
/// the seeds, sends Evolve's log to the logger, and turns failures into <see cref="TestKitException"/>s (see
/// <see cref="MigrationErrors"/>) that carry the log's last lines.
/// </summary>
internal sealed class EvolveMigrator(MigrationSet migrations, ILogger? logger = null)
{
    private readonly ILogger _logger = logger ?? NullLogger.Instance;

    /// <summary>The scripts this migrator applies.</summary>
    internal MigrationSet Migrations { get; } = migrations;

    /// <summary>Applies every pending script, then the seeds, to the database of <paramref name="connection"/>.</summary>
    internal Task MigrateAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        RunAsync(
            connection,
            evolve =>
            {
                Migrations.EnsureUnchanged();
                evolve.Migrate();
                ApplySeeds(connection);
            },
            "migrate",
            cancellationToken);

    /// <summary>Applies only the seeds, to a database at head (a clone of the template without seeds).</summary>
    internal Task SeedAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        Task.Run(
            () =>
            {
                Migrations.EnsureUnchanged();
                ApplySeeds(connection);
            },
            cancellationToken);

    /// <summary>A migrator of the same scripts without the seeds: it brings a database to head itself.</summary>
    internal EvolveMigrator WithoutSeeds() => new EvolveMigrator(Migrations.WithoutSeeds(), _logger);

    /// <summary>Erases what the migrations (and the test) made, back to the baseline; fails if a schema was skipped.</summary>
    internal Task EraseAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
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
                var log = new List<string>();
                // Through the wrapper: a script with an SQL-standard function body is sent unsplit by Npgsql.
                using var migrating = new StandardBodyConnection(connection);
                var evolve = new Evolve(migrating, line => Log(log, line), DBMS.PostgreSQL)
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
                    throw MigrationErrors.Translate(e, what, connection, Migrations, log);
                }
                catch (Exception lost) when (lost is not TestKitException && ExceptionChain.Find<NpgsqlException>(lost) is not null)
                {
                    // Evolve lets driver errors through when the connection itself went away (its rollback then
                    // throws ObjectDisposedException): a server restart, or a session ended by someone else.
                    throw MigrationErrors.ConnectionLost(lost, what, connection, log);
                }
            },
            cancellationToken);

    private void Log(List<string> log, string line)
    {
        log.Add(line);
        _logger.LogDebug("Evolve: {Line}", line);
    }

    /// <summary>Runs each seed file in its own transaction (sent like a migration: SQL-standard bodies unsplit).</summary>
    private void ApplySeeds(NpgsqlConnection connection)
    {
        foreach (var seed in Migrations.Seeds)
        {
            using var transaction = connection.BeginTransaction();
            try
            {
                using var command = new StandardBodyCommand(File.ReadAllText(seed.Path), connection, transaction);
                command.ExecuteNonQuery();
                transaction.Commit();
            }
            catch (PostgresException error)
            {
                transaction.Rollback();
                throw MigrationErrors.SeedFailed(seed, error, connection);
            }
        }
    }
}
