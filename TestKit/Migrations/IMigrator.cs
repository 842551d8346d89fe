using Npgsql;

namespace TestKit.Migrations;

/// <summary>Brings a database to head and back to its empty baseline. Evolve hides behind it.</summary>
internal interface IMigrator
{
    /// <summary>The scripts this migrator applies.</summary>
    MigrationSet Migrations { get; }

    /// <summary>Applies every pending script, then the seeds, to the database of <paramref name="connection"/>.</summary>
    Task MigrateAsync(NpgsqlConnection connection, CancellationToken cancellationToken);

    /// <summary>Applies only the seeds, to a database at head (a clone of the template without seeds).</summary>
    Task SeedAsync(NpgsqlConnection connection, CancellationToken cancellationToken);

    /// <summary>A migrator of the same scripts without the seeds: it brings a database to head itself.</summary>
    IMigrator WithoutSeeds();

    /// <summary>Erases what the migrations (and the test) made, back to the baseline; fails if a schema was skipped.</summary>
    Task EraseAsync(NpgsqlConnection connection, CancellationToken cancellationToken);
}
