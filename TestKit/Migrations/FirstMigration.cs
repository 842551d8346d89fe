using Npgsql;
using TestKit.Databases;

namespace TestKit.Migrations;

/// <summary>
/// Runs a strategy's first migration alone on the server: while it runs, the strategy's other migrations wait, and it
/// holds the server-wide first-migrations lock that template builds and other runs' first migrations take too. A
/// migration that creates an object every database of the server shares (a role, "if it does not exist yet") then runs
/// once before any other, and the others find the object instead of racing to create it (23505 on pg_authid).
/// Later migrations run in parallel. The run's other first migrations and template builds wait too (see
/// <see cref="ServerRun.OnLockConnectionAsync"/>), so that a run of many pools holds one lock connection for them, not one each.
/// </summary>
internal sealed class FirstMigration(ServerRun run) : IDisposable
{
    private readonly SemaphoreSlim _first = new(1, 1);
    private volatile bool _done;

    /// <summary>
    /// Runs <paramref name="migrate"/> while <paramref name="lockConnection"/> holds the server-wide first-migrations lock:
    /// how every strategy runs a migration onto an empty database (a pool's first, a template's build).
    /// </summary>
    internal static Task AloneAsync(NpgsqlConnection lockConnection, Func<Task> migrate, CancellationToken cancellationToken) =>
        AdvisoryLocks.WhileHeldAsync(lockConnection, AdvisoryLockKeys.FirstMigrations, migrate, cancellationToken);

    /// <summary>Runs <paramref name="migrate"/>, alone on the server if no migration of this strategy has succeeded yet.</summary>
    internal async Task RunAsync(Func<Task> migrate, CancellationToken cancellationToken)
    {
        if (!_done)
        {
            await _first.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                if (!_done)
                {
                    await run.OnLockConnectionAsync(lockConnection => AloneAsync(lockConnection, migrate, cancellationToken), cancellationToken).ConfigureAwait(false);
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
