using Npgsql;
using Respawn;
using TestKit.Bench.Measuring;
using TestKit.Bench.MigrationSets;

namespace TestKit.Bench.Contenders;

/// <summary>
/// Respawn 7 on one migrated database: after each test it empties every table of the public schema
/// but Evolve's changelog (TRUNCATE ... CASCADE on PostgreSQL). It also deletes the rows the migrations
/// inserted (reference data), so it does not give the next test head; it is timed all the same.
/// </summary>
internal sealed class RespawnReset(ScratchDatabases databases, BenchMigrationSet set) : IContender
{
    private string? _database;
    private Respawner? _respawner;

    public string Name => ContenderNames.Respawn;

    public async Task PrepareAsync(CancellationToken cancellationToken)
    {
        _database = await databases.CreateMigratedAsync([set.Folder], cancellationToken);
        await using var connection = await OpenAsync(cancellationToken);
        _respawner = await Respawner.CreateAsync(connection, new RespawnerOptions
        {
            DbAdapter = DbAdapter.Postgres,
            SchemasToInclude = ["public"],
            TablesToIgnore = [BareEvolve.MetadataTable],
        });
    }

    public async Task<Sample> RunTestAsync(CancellationToken cancellationToken)
    {
        var timer = new CycleTimer();
        timer.SetUpDone();
        await set.Workload.RunAsync(databases.ConnectionStringFor(_database!), cancellationToken);
        timer.WorkloadDone();
        await using (var connection = await OpenAsync(cancellationToken))
        {
            await _respawner!.ResetAsync(connection);
        }

        return timer.TearDownDone();
    }

    public async ValueTask DisposeAsync()
    {
        if (_database is not null)
        {
            await databases.DropAsync(_database, CancellationToken.None);
        }
    }

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new NpgsqlConnection(databases.ConnectionStringFor(_database!));
        await connection.OpenAsync(cancellationToken);
        return connection;
    }
}
