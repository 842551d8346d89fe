using Npgsql;
using TestKit.Server;

namespace TestKit.Databases;

/// <summary>
/// Session-level advisory locks on a connection to the server's lock database (keys from <see cref="AdvisoryLockKeys"/>):
/// the few statements the kit takes, tries and releases them with.
/// </summary>
internal static class AdvisoryLocks
{
    /// <summary>Waits for the lock on <paramref name="key"/> (shared, or exclusive).</summary>
    internal static Task LockAsync(NpgsqlConnection connection, long key, CancellationToken cancellationToken, bool shared = false) =>
        Sql.ExecuteAsync(connection, shared ? "SELECT pg_advisory_lock_shared($1)" : "SELECT pg_advisory_lock($1)", cancellationToken, key);

    /// <summary>Takes the exclusive lock on <paramref name="key"/> if nobody holds it; true when taken.</summary>
    internal static async Task<bool> TryLockAsync(NpgsqlConnection connection, long key, CancellationToken cancellationToken) =>
        await Sql.ScalarAsync<bool>(connection, "SELECT pg_try_advisory_lock($1)", cancellationToken, key).ConfigureAwait(false);

    /// <summary>
    /// Runs <paramref name="action"/> while holding the exclusive lock on <paramref name="key"/>, and releases it after; with
    /// <paramref name="onlyIfFree"/>, runs nothing when another session holds it. True when it ran.
    /// </summary>
    internal static async Task<bool> WhileHeldAsync(NpgsqlConnection connection, long key, Func<Task> action, CancellationToken cancellationToken, bool onlyIfFree = false)
    {
        if (!onlyIfFree)
        {
            await LockAsync(connection, key, cancellationToken).ConfigureAwait(false);
        }
        else if (!await TryLockAsync(connection, key, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        try
        {
            await action().ConfigureAwait(false);
        }
        finally
        {
            await UnlockAsync(connection, key).ConfigureAwait(false);
        }

        return true;
    }

    /// <summary>Releases one hold of the lock on <paramref name="key"/>; never cancelled, so that a lock is never left held.</summary>
    internal static Task UnlockAsync(NpgsqlConnection connection, long key, bool shared = false) =>
        Sql.ExecuteAsync(connection, shared ? "SELECT pg_advisory_unlock_shared($1)" : "SELECT pg_advisory_unlock($1)", CancellationToken.None, key);
}
