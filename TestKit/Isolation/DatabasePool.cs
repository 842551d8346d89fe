using System.Collections.Concurrent;
using Npgsql;
using TestKit.Diagnostics;

namespace TestKit.Isolation;

/// <summary>
/// The databases a reusing strategy (migrate-erase, reset) owns: at most a fixed number, each leased to one
/// test at a time. The strategy decides how a database is made and how it is cleaned; the pool does the
/// bookkeeping every such strategy needs: slots, idle databases, discarding, keeping, dropping at the end.
/// </summary>
internal sealed class DatabasePool(DatabaseCatalog catalog, int maxDatabases) : IAsyncDisposable
{
    private readonly SemaphoreSlim _slots = new(maxDatabases, maxDatabases);
    private readonly ConcurrentBag<PooledDatabase> _idle = [];
    private readonly ConcurrentDictionary<string, PooledDatabase> _all = new(StringComparer.Ordinal);

    /// <summary>How many databases the pool has now (idle and leased).</summary>
    internal int Count => _all.Count;

    /// <summary>
    /// Waits for a slot, then hands out an idle database or one that <paramref name="create"/> makes (it must
    /// <see cref="Add"/> it). The slot is given back if that fails; otherwise by <see cref="ReleaseSlot"/>.
    /// </summary>
    internal async Task<PooledDatabase> LeaseAsync(Func<CancellationToken, Task<PooledDatabase>> create, CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return _idle.TryTake(out var idle) ? idle : await create(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _slots.Release();
            throw;
        }
    }

    /// <summary>Takes a new database into the pool.</summary>
    internal PooledDatabase Add(PooledDatabase database)
    {
        _all[database.Name] = database;
        return database;
    }

    /// <summary>The pooled database behind a lease, or an argument exception for one the pool did not hand out.</summary>
    internal PooledDatabase Get(TestDatabase database) =>
        _all.TryGetValue(database.Name, out var pooled)
            ? pooled
            : throw new ArgumentException($"Database '{database.Name}' was not handed out by this strategy.", nameof(database));

    /// <summary>
    /// Ends every session of a released database and renames it, so that nothing the test kept — an open connection,
    /// a connection string, a writer left running — reaches it again. Returns the database under its new name, not
    /// yet cleaned; the strategy cleans it and returns it with <see cref="ReturnIdle"/>, or discards it.
    /// </summary>
    internal async Task<PooledDatabase> RenameForNextLeaseAsync(PooledDatabase database, CancellationToken cancellationToken)
    {
        await database.DisposeAsync().ConfigureAwait(false);
        var name = await catalog.RenameForNextLeaseAsync(database.Name, cancellationToken).ConfigureAwait(false);
        var renamed = database.Renamed(name, catalog.Server.ConnectionStringFor(name));
        _all[name] = renamed;
        _all.TryRemove(database.Name, out _);
        return renamed;
    }

    /// <summary>Makes a cleaned database available to the next test; the slot is given back separately.</summary>
    internal void ReturnIdle(PooledDatabase database) => _idle.Add(database);

    internal void ReleaseSlot() => _slots.Release();

    /// <summary>Drops a database that will not be used again; errors while dropping join <paramref name="cause"/>.</summary>
    internal async Task DiscardAsync(PooledDatabase database, Exception? cause = null)
    {
        _all.TryRemove(database.Name, out _);
        try
        {
            await DropAsync(database).ConfigureAwait(false);
        }
        catch (Exception dropError) when (cause is not null && dropError is NpgsqlException or TestKitException)
        {
            throw new AggregateException(cause, dropError);
        }
    }

    /// <summary>Takes a failed test's database out of the pool and keeps it for inspection (see <see cref="DatabaseCatalog.KeepAsync"/>).</summary>
    internal async Task<string> KeepAsync(TestDatabase database, string keptName, CancellationToken cancellationToken)
    {
        var pooled = Get(database);
        _all.TryRemove(database.Name, out _);
        try
        {
            await pooled.DisposeAsync().ConfigureAwait(false);
            var kept = await catalog.KeepAsync(database.Name, keptName, cancellationToken).ConfigureAwait(false);
            if (pooled.LoginRole is { } role)
            {
                // The kept database is opened with the admin's credentials (see IPostgresServer.PsqlCommand).
                await catalog.DropLoginRoleAsync(role, cancellationToken).ConfigureAwait(false);
            }

            return kept;
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>Drops a database and then its login role, if it has one.</summary>
    private async Task DropAsync(PooledDatabase database)
    {
        try
        {
            await database.DisposeAsync().ConfigureAwait(false);
            await catalog.DropAsync(database.Name, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            if (database.LoginRole is { } role)
            {
                await catalog.DropLoginRoleAsync(role, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Drops every database of the pool; every drop is tried even when one fails.</summary>
    public async ValueTask DisposeAsync()
    {
        var errors = new List<Exception>();
        foreach (var database in _all.Values)
        {
            try
            {
                await DropAsync(database).ConfigureAwait(false);
            }
            catch (Exception e) when (e is NpgsqlException or TestKitException)
            {
                errors.Add(e);
            }
        }

        _all.Clear();
        _slots.Dispose();
        Errors.Rethrow(errors, "TestKit could not drop every database of its pool.");
    }
}
