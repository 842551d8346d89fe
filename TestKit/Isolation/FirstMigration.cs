using TestKit.Server;

namespace TestKit.Isolation;

/// <summary>
/// Runs a strategy's first migration alone on the server: while it runs, the strategy's other migrations wait, and it
/// holds the server-wide first-migrations lock that template builds and other runs' first migrations take too. A
/// migration that creates an object every database of the server shares (a role, "if it does not exist yet") then runs
/// once before any other, and the others find the object instead of racing to create it (23505 on pg_authid).
/// Later migrations run in parallel.
/// </summary>
internal sealed class FirstMigration(IPostgresServer server) : IDisposable
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
                    var lockConnection = await LockDatabase.OpenAsync(server, "testkit", cancellationToken).ConfigureAwait(false);
                    await using (lockConnection.ConfigureAwait(false))
                    {
                        // Released with the connection.
                        await Sql.ExecuteAsync(lockConnection, "SELECT pg_advisory_lock($1)", cancellationToken, AdvisoryLockKeys.FirstMigrations).ConfigureAwait(false);
                        await migrate().ConfigureAwait(false);
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
