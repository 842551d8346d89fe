using Npgsql;
using TestKit.Bench.Measuring;
using TestKit.Bench.MigrationSets;

namespace TestKit.Bench.Contenders;

/// <summary>
/// The floor of any isolation: each test runs in a transaction that is rolled back, on one migrated
/// database. It cannot serve tests that commit or use a second connection; it is here as the lower bound.
/// </summary>
internal sealed class RollbackFloor(ScratchDatabases databases, BenchMigrationSet set) : IContender
{
    private string? _database;

    public string Name => ContenderNames.Rollback;

    public async Task PrepareAsync(CancellationToken cancellationToken) =>
        _database = await databases.CreateMigratedAsync([set.Folder], cancellationToken);

    public async Task<Sample> RunTestAsync(CancellationToken cancellationToken)
    {
        var timer = new CycleTimer();
        await using var connection = new NpgsqlConnection(databases.ConnectionStringFor(_database!));
        await connection.OpenAsync(cancellationToken);
        // Npgsql sends BEGIN with the first command of the transaction, so its round trip lands in the workload.
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        timer.SetUpDone();
        await set.Workload.RunAsync(connection, cancellationToken);
        timer.WorkloadDone();
        await transaction.RollbackAsync(cancellationToken);
        await connection.CloseAsync();
        return timer.TearDownDone();
    }

    public async ValueTask DisposeAsync()
    {
        if (_database is not null)
        {
            await databases.DropAsync(_database, CancellationToken.None);
        }
    }
}
