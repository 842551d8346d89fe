using Npgsql;
using TestKit.Diagnostics;
using TestKit.Server;

namespace TestKit.Databases;

/// <summary>
/// Every session-level advisory lock one run holds on a server, on one unpooled connection to the server's
/// <see cref="PostgresServer.LockDatabase"/>, however many pools and templates the run has: its connections stay within
/// the documented budget.
/// <list type="bullet">
/// <item>The run lock, while the run holds any database of its own: how runs on other hosts tell it alive. A process killed
/// by SIGKILL loses its connection, so the server releases the lock, and another run's sweep (<see cref="OrphanSweep"/>)
/// finds it free.</item>
/// <item>The shared use lock of each template the run clones: a stale template is dropped only once no run holds it.</item>
/// <item>The server-wide database slots (see <see cref="DatabaseBudget"/>), when a bound across processes is set.</item>
/// </list>
/// Each lock is counted: taken at its first hold, released at its last. The connection is open only while something is
/// held, so that a run nobody disposes, such as a test's own, leaves no connection open; after a server restart (which
/// ends every session, and its locks) it is opened again and everything held is taken again.
/// </summary>
internal sealed class ServerLocks(PostgresServer server, string runId) : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<(long Key, bool Shared), int> _holds = [];
    private NpgsqlConnection? _connection;
    private bool _disposed;

    private (long, bool) RunLock => (AdvisoryLockKeys.Run(runId), false);

    /// <summary>
    /// Counts one more database of the run and makes sure the run lock is held. The connection is checked alive first:
    /// after a server restart the lock is gone, and is taken again on a new connection.
    /// </summary>
    internal Task HoldRunAsync(CancellationToken cancellationToken) => HoldAsync(RunLock, checkAlive: true, cancellationToken);

    /// <summary>Counts one database of the run fewer; with none left, releases the run lock.</summary>
    internal Task LetGoRunAsync() => LetGoAsync(RunLock);

    /// <summary>Takes a shared lock on <paramref name="key"/> (a template's use lock), waiting while someone holds it exclusively.</summary>
    internal Task HoldSharedAsync(long key, CancellationToken cancellationToken) => HoldAsync((key, true), checkAlive: false, cancellationToken);

    /// <summary>Lets go of one hold of the shared lock on <paramref name="key"/>.</summary>
    internal Task ReleaseSharedAsync(long key) => LetGoAsync((key, true));

    /// <summary>Takes a free one of <paramref name="slots"/> server-wide database slots, or null when every one is held.</summary>
    internal async Task<int?> TryTakeSlotAsync(int slots, CancellationToken cancellationToken)
    {
        int? taken = null;
        await WithConnectionAsync(
            async connection =>
            {
                // From a random start, so that runs do not all try the same slots first.
                var start = Random.Shared.Next(slots);
                for (var i = 0; i < slots && taken is null; i++)
                {
                    var slot = (start + i) % slots;
                    var key = (AdvisoryLockKeys.ServerSlot(slot), false);
                    if (!_holds.ContainsKey(key) && await AdvisoryLocks.TryLockAsync(connection, key.Item1, cancellationToken).ConfigureAwait(false))
                    {
                        _holds[key] = 1;
                        taken = slot;
                    }
                }
            },
            checkAlive: false,
            cancellationToken).ConfigureAwait(false);
        return taken;
    }

    /// <summary>Gives a server-wide database slot back.</summary>
    internal Task ReleaseSlotAsync(int slot) => LetGoAsync((AdvisoryLockKeys.ServerSlot(slot), false));

    /// <summary>Releases everything (closing the connection); the run takes no lock after this.</summary>
    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            _disposed = true;
            _holds.Clear();
            await CloseAsync().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private Task HoldAsync((long Key, bool Shared) held, bool checkAlive, CancellationToken cancellationToken) =>
        WithConnectionAsync(
            async connection =>
            {
                if (_holds.TryGetValue(held, out var count))
                {
                    _holds[held] = count + 1;
                    return;
                }

                // Blocking, not try: another run's sweep may hold a run's key for a moment while it checks the run.
                await AdvisoryLocks.LockAsync(connection, held.Key, cancellationToken, held.Shared).ConfigureAwait(false);
                _holds[held] = 1;
            },
            checkAlive,
            cancellationToken);

    private async Task LetGoAsync((long Key, bool Shared) held)
    {
        await _gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            if (!_holds.TryGetValue(held, out var count))
            {
                return;
            }

            if (count > 1)
            {
                _holds[held] = count - 1;
                return;
            }

            _holds.Remove(held);
            if (_connection is not null)
            {
                try
                {
                    await AdvisoryLocks.UnlockAsync(_connection, held.Key, held.Shared).ConfigureAwait(false);
                }
                catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
                {
                    // Broken (its backend ended, or the server restarted): what it held went with it; the next hold reopens.
                    await CloseAsync().ConfigureAwait(false);
                }
            }

            await CloseIfNothingHeldAsync().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Runs <paramref name="action"/> on the connection, opened (and everything held taken again) if need be.</summary>
    private async Task WithConnectionAsync(Func<NpgsqlConnection, Task> action, bool checkAlive, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_connection is not null && checkAlive && !await KitConnections.IsAliveAsync(_connection, cancellationToken).ConfigureAwait(false))
            {
                await CloseAsync().ConfigureAwait(false);
            }

            _connection ??= await OpenAndRetakeAsync(cancellationToken).ConfigureAwait(false);
            await action(_connection).ConfigureAwait(false);
            await CloseIfNothingHeldAsync().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<NpgsqlConnection> OpenAndRetakeAsync(CancellationToken cancellationToken)
    {
        var connection = await KitConnections.OpenUnpooledAsync(server, server.LockDatabase, ApplicationNames.Run(runId), cancellationToken).ConfigureAwait(false);
        try
        {
            foreach (var (key, shared) in _holds.Keys)
            {
                await AdvisoryLocks.LockAsync(connection, key, cancellationToken, shared).ConfigureAwait(false);
            }

            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private Task CloseIfNothingHeldAsync() => _holds.Count == 0 ? CloseAsync() : Task.CompletedTask;

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
