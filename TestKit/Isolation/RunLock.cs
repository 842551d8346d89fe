using Npgsql;
using TestKit.Server;

namespace TestKit.Isolation;

/// <summary>
/// How a run shows runs on other hosts that it is alive: while it holds any database of its own, it holds a
/// session-level advisory lock keyed on its run id, on one unpooled connection to the <see cref="LockDatabase"/>.
/// A process killed by SIGKILL loses its connection, so the server releases the lock, and another run's sweep
/// (<see cref="DatabaseCatalog.SweepOrphansAsync"/>) finds it free. Held from before the run's first CREATE
/// DATABASE until its last database is dropped or kept (not for the catalog's whole life), so that a catalog
/// nobody disposes, such as a test's own, leaves no connection open.
/// </summary>
internal sealed class RunLock : IAsyncDisposable
{
    private const string ApplicationNamePrefix = "testkit-run-";

    private readonly IPostgresServer _server;
    private readonly string _runId;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private NpgsqlConnection? _connection;
    private int _holds;
    private bool _disposed;

    internal RunLock(IPostgresServer server, string runId)
    {
        _server = server;
        _runId = runId;
    }

    /// <summary>
    /// The application name of a run's lock connection: a session of that run that another run's sweep can see in
    /// pg_stat_activity, even while the connection waits for the lock (after a server restart, say).
    /// </summary>
    internal static string ApplicationName(string runId) => ApplicationNamePrefix + runId;

    /// <summary>
    /// Counts one more database of the run and makes sure the lock is held: takes it on first use, and again on a
    /// new connection when the old one broke (a server restart ends every session, and with it the lock).
    /// </summary>
    internal async Task HoldAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_connection is not null && !await IsAliveAsync(_connection, cancellationToken).ConfigureAwait(false))
            {
                await CloseAsync().ConfigureAwait(false);
            }

            if (_connection is null)
            {
                var connection = await LockDatabase.OpenAsync(_server, ApplicationName(_runId), cancellationToken).ConfigureAwait(false);
                try
                {
                    // Blocking, not try: another run's sweep may hold this key for a moment while it checks this run.
                    await Sql.ExecuteAsync(connection, "SELECT pg_advisory_lock($1)", cancellationToken, AdvisoryLockKeys.Run(_runId)).ConfigureAwait(false);
                }
                catch
                {
                    await connection.DisposeAsync().ConfigureAwait(false);
                    throw;
                }

                _connection = connection;
            }

            _holds++;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Counts one database of the run fewer; with none left, releases the lock and closes its connection.</summary>
    internal async Task LetGoAsync()
    {
        await _gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            if (_holds > 0 && --_holds == 0)
            {
                await CloseAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Releases the lock (closing its connection) whatever the count; the run takes no lock after this.</summary>
    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            _disposed = true;
            _holds = 0;
            await CloseAsync().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private static async Task<bool> IsAliveAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            await Sql.ExecuteAsync(connection, "SELECT 1", cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            // Broken (its backend ended, or the server restarted): the lock went with it.
            return false;
        }
    }

    private async Task CloseAsync()
    {
        if (_connection is not null)
        {
            // Closing the session releases its advisory locks.
            await _connection.DisposeAsync().ConfigureAwait(false);
            _connection = null;
        }
    }
}
