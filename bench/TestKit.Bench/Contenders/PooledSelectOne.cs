using TestKit.Bench.Measuring;
using TestKit.Server;

namespace TestKit.Bench.Contenders;

/// <summary>The cheapest thing a per-test hook can do: one round trip on a pooled connection. No workload.</summary>
internal sealed class PooledSelectOne(IPostgresServer server) : IContender
{
    public string Name => ContenderNames.SelectOne;

    public Task PrepareAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task<Sample> RunTestAsync(CancellationToken cancellationToken)
    {
        var timer = new CycleTimer();
        var connection = await server.Admin.OpenConnectionAsync(cancellationToken);
        await using (connection)
        {
            await Sql.ExecuteAsync(connection, "SELECT 1", cancellationToken);
            timer.SetUpDone();
            timer.WorkloadDone();
        }

        return timer.TearDownDone();
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
