using TestKit.Databases;
using TestKit.Diagnostics;
using TestKit.Server;

namespace TestKit.Migrations;

/// <summary>
/// Runs a strategy's first migration alone on the server: while it runs, the strategy's other migrations wait, and it
/// holds the server-wide first-migrations lock that template builds and other runs' first migrations take too. A
/// migration that creates an object every database of the server shares (a role, "if it does not exist yet") then runs
/// once before any other, and the others find the object instead of racing to create it (23505 on pg_authid).
/// Later migrations run in parallel. The run's other first migrations and template builds wait too (see
/// <see cref="ServerRun.Builds"/>), so that a run of many pools holds one lock connection for them, not one each.
/// </summary>
internal sealed class FirstMigration(ServerRun run) : IDisposable
{
    private readonly SemaphoreSlim _first = new(1, 1);
    private volatile bool _done;

    internal async Task RunAsync(Func<Task> migrate, CancellationToken cancellationToken)
    {
        if (!_done)
        {
            await _first.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (!_done)
                {
                    await run.Builds.WaitAsync(cancellationToken).ConfigureAwait(false);
                    try
                    {
                        var lockConnection = await KitConnections.OpenUnpooledAsync(run.Server, run.Server.LockDatabase, ApplicationNames.Kit, cancellationToken).ConfigureAwait(false);
                        await using (lockConnection.ConfigureAwait(false))
                        {
                            await AdvisoryLocks.WhileHeldAsync(lockConnection, AdvisoryLockKeys.FirstMigrations, migrate, cancellationToken).ConfigureAwait(false);
                        }
                    }
                    finally
                    {
                        run.Builds.Release();
                    }

                    _done = true;
                    return;
                }
            }
            finally
            {
                _first.Release();
            }
        }

        await migrate().ConfigureAwait(false);
    }

    public void Dispose() => _first.Dispose();
}
