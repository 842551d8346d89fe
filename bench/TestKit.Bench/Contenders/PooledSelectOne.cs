using Npgsql;
using TestKit.Bench.Measuring;

namespace TestKit.Bench.Contenders;

/// <summary>The cheapest thing a per-test hook can do: one round trip on a pooled connection. No workload.</summary>
internal sealed class PooledSelectOne(BenchServer server) : IContender
{
    public string Name => ContenderNames.SelectOne;

    public Task PrepareAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task<Sample> RunTestAsync(CancellationToken cancellationToken)
    {
        var timer = new CycleTimer();
        var connection = await server.Admin.OpenConnectionAsync(cancellationToken);
        await using (connection)
        {
            await using var command = new NpgsqlCommand("SELECT 1", connection);
            await command.ExecuteScalarAsync(cancellationToken);
            timer.SetUpDone();
            timer.WorkloadDone();
        }

        return timer.TearDownDone();
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
