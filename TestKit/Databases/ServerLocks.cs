using Npgsql;
using TestKit.Diagnostics;
using TestKit.Server;

namespace TestKit.Databases;

/// <summary>
/// Every session-level advisory lock one run holds on a server, on one unpooled connection to the server's <see cref="IPostgresServer.LockDatabase"/>,
/// however many pools and templates the run has: its connections stay within the documented budget.
/// <list type="bullet">
/// <item>The run lock, while the run holds any database of its own: how runs on other hosts tell it alive. A process killed
/// by SIGKILL loses its connection, so the server releases the lock, and another run's sweep
/// (<see cref="OrphanSweep"/>) finds it free.</item>
/// <item>The shared use lock of each template the run clones: a stale template is dropped only once no run holds it.</item>
/// <item>The server-wide database slots (see <see cref="DatabaseBudget"/>), when a bound across processes is set.</item>
/// </list>
/// The connection is open only while something is held, so that a catalog nobody disposes, such as a test's own, leaves no
/// connection open; after a server restart (which ends every session, and its locks) it is opened again and everything
/// held is taken again.
/// </summary>
internal sealed class ServerLocks : IAsyncDisposable
{
    private readonly IPostgresServer _server;
    private readonly string _runId;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Dictionary<long, int> _shared = [];
    private readonly HashSet<int> _slots = [];
    private NpgsqlConnection? _connection;
    private int _runHolds;
    private bool _disposed;

    internal ServerLocks(IPostgresServer server, string runId)
    {
        _server = server;
        _runId = runId;
    }

    /// <summary>
    /// One template build or first migration of this run at a time opens its lock connection and waits on the server-wide
    /// locks: without it, a run of many templates would hold a connection per template while they wait for each other.
    /// </summary>
    internal SemaphoreSlim Builds { get; } = new(1, 1);

    /// <summary>
    /// Counts one more database of the run and makes sure the run lock is held: taken on first use, and again on a new
    /// connection when the old one broke.
    /// </summary>
    internal Task HoldRunAsync(CancellationToken cancellationToken) =>
        WithConnectionAsync(
            async connection =>
            {
                if (_runHolds++ == 0)
                {
                    // Blocking, not try: another run's sweep may hold this key for a moment while it checks this run.
                    await LockAsync(connection, AdvisoryLockKeys.Run(_runId), shared: false, cancellationToken).ConfigureAwait(false);
                }
            },
            checkAlive: true,
            cancellationToken);

    /// <summary>Counts one database of the run fewer; with none left, releases the run lock.</summary>
    internal Task LetGoRunAsync() =>
        WithHeldAsync(async connection =>
        {
            if (_runHolds > 0 && --_runHolds == 0)
            {
                await UnlockAsync(connection, AdvisoryLockKeys.Run(_runId), shared: false).ConfigureAwait(false);
            }
        });

    /// <summary>Takes a shared lock on <paramref name="key"/> (a template's use lock), waiting while someone holds it exclusively.</summary>
    internal Task HoldSharedAsync(long key, CancellationToken cancellationToken) =>
        WithConnectionAsync(
            async connection =>
            {
                if (_shared.TryGetValue(key, out var count))
                {
                    _shared[key] = count + 1;
                    return;
                }

                await LockAsync(connection, key, shared: true, cancellationToken).ConfigureAwait(false);
                _shared[key] = 1;
            },
            checkAlive: false,
            cancellationToken);

    /// <summary>Lets go of one hold of the shared lock on <paramref name="key"/>.</summary>
    internal Task ReleaseSharedAsync(long key) =>
        WithHeldAsync(async connection =>
        {
            if (_shared.TryGetValue(key, out var count) && count > 1)
            {
                _shared[key] = count - 1;
                return;
            }

            if (_shared.Remove(key))
            {
                await UnlockAsync(connection, key, shared: true).ConfigureAwait(false);
            }
        });

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
                    if (!_slots.Contains(slot)
                        && await Sql.ScalarAsync<bool>(connection, "SELECT pg_try_advisory_lock($1)", cancellationToken, AdvisoryLockKeys.ServerSlot(slot)).ConfigureAwait(false))
                    {
                        _slots.Add(slot);
                        taken = slot;
                    }
                }
            },
            checkAlive: false,
            cancellationToken).ConfigureAwait(false);
        return taken;
    }

    /// <summary>Gives a server-wide database slot back.</summary>
    internal Task ReleaseSlotAsync(int slot) =>
        WithHeldAsync(async connection =>
        {
            if (_slots.Remove(slot))
            {
                await UnlockAsync(connection, AdvisoryLockKeys.ServerSlot(slot), shared: false).ConfigureAwait(false);
            }
        });

    /// <summary>Releases everything (closing the connection); the run takes no lock after this.</summary>
    public async ValueTask DisposeAsync()
    {
        await _gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            _disposed = true;
            _runHolds = 0;
            _shared.Clear();
            _slots.Clear();
            await CloseAsync().ConfigureAwait(false);
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
            if (_connection is not null && checkAlive && !await IsAliveAsync(_connection, cancellationToken).ConfigureAwait(false))
            {
                await CloseAsync().ConfigureAwait(false);
            }

            if (_connection is null)
            {
                _connection = await OpenAndRetakeAsync(cancellationToken).ConfigureAwait(false);
            }

            await action(_connection).ConfigureAwait(false);
            await CloseIfNothingHeldAsync().ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Runs <paramref name="action"/> on the connection if it is open (nothing is held otherwise); a broken one is dropped.</summary>
    private async Task WithHeldAsync(Func<NpgsqlConnection, Task> action)
    {
        await _gate.WaitAsync(CancellationToken.None).ConfigureAwait(false);
        try
        {
            if (_connection is not null)
            {
                try
                {
                    await action(_connection).ConfigureAwait(false);
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

    private async Task<NpgsqlConnection> OpenAndRetakeAsync(CancellationToken cancellationToken)
    {
        var connection = await KitConnections.OpenUnpooledAsync(_server, _server.LockDatabase, ApplicationNames.Run(_runId), cancellationToken).ConfigureAwait(false);
        try
        {
            if (_runHolds > 0)
            {
                await LockAsync(connection, AdvisoryLockKeys.Run(_runId), shared: false, cancellationToken).ConfigureAwait(false);
            }

            foreach (var key in _shared.Keys)
            {
                await LockAsync(connection, key, shared: true, cancellationToken).ConfigureAwait(false);
            }

            foreach (var slot in _slots)
            {
                await LockAsync(connection, AdvisoryLockKeys.ServerSlot(slot), shared: false, cancellationToken).ConfigureAwait(false);
            }

            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private static Task LockAsync(NpgsqlConnection connection, long key, bool shared, CancellationToken cancellationToken) =>
        Sql.ExecuteAsync(connection, shared ? "SELECT pg_advisory_lock_shared($1)" : "SELECT pg_advisory_lock($1)", cancellationToken, key);

    private static Task UnlockAsync(NpgsqlConnection connection, long key, bool shared) =>
        Sql.ExecuteAsync(connection, shared ? "SELECT pg_advisory_unlock_shared($1)" : "SELECT pg_advisory_unlock($1)", CancellationToken.None, key);

    private static async Task<bool> IsAliveAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            await Sql.ExecuteAsync(connection, "SELECT 1", cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
        {
            // Broken (its backend ended, or the server restarted): the locks went with it.
            return false;
        }
    }

    private Task CloseIfNothingHeldAsync() =>
        _runHolds == 0 && _shared.Count == 0 && _slots.Count == 0 ? CloseAsync() : Task.CompletedTask;

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
