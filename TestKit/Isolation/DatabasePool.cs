using System.Collections.Concurrent;
using Npgsql;
using TestKit.Diagnostics;

namespace TestKit.Isolation;

/// <summary>
/// The databases a reusing strategy (migrate-erase, reset) owns: at most a fixed number, each leased to one
/// test at a time, and each holding a place in the run's <see cref="DatabaseBudget"/>. The strategy decides how a
/// database is made and how it is cleaned; the pool does the bookkeeping every such strategy needs: slots, idle
/// databases, giving one up for another pool, discarding, keeping, dropping at the end.
/// </summary>
internal sealed class DatabasePool : IAsyncDisposable, IIdleDatabases
{
    private readonly DatabaseCatalog _catalog;
    private readonly SemaphoreSlim _slots;
    private readonly ConcurrentBag<PooledDatabase> _idle = [];
    private readonly ConcurrentDictionary<string, PooledDatabase> _all = new(StringComparer.Ordinal);

    internal DatabasePool(DatabaseCatalog catalog, int maxDatabases)
    {
        _catalog = catalog;
        _slots = new SemaphoreSlim(maxDatabases, maxDatabases);
        _catalog.Budget.Allow(maxDatabases);
        _catalog.Budget.Register(this);
    }

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
            while (true)
            {
                var changed = _catalog.Budget.Changed;
                if (_idle.TryTake(out var idle))
                {
                    return idle;
                }

                if (await _catalog.Budget.TryAcquireAsync(this, cancellationToken).ConfigureAwait(false) is { } token)
                {
                    return await CreateAsync(create, token, cancellationToken).ConfigureAwait(false);
                }

                // At the bound, with nothing idle anywhere: wait until a database is released here or dropped anywhere.
                await _catalog.Budget.WaitAsync(changed, cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            _slots.Release();
            throw;
        }
    }

    private async Task<PooledDatabase> CreateAsync(Func<CancellationToken, Task<PooledDatabase>> create, BudgetToken token, CancellationToken cancellationToken)
    {
        try
        {
            var created = await create(cancellationToken).ConfigureAwait(false);
            created.Token = token;
            return created;
        }
        catch
        {
            await _catalog.Budget.ReleaseAsync(token).ConfigureAwait(false);
            throw;
        }
    }

    public async Task<bool> TryGiveUpIdleAsync(CancellationToken cancellationToken)
    {
        if (!_idle.TryTake(out var idle))
        {
            return false;
        }

        await DiscardAsync(idle).ConfigureAwait(false);
        return true;
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
        var name = await _catalog.RenameForNextLeaseAsync(database.Name, cancellationToken).ConfigureAwait(false);
        var renamed = database.Renamed(name, _catalog.Server.ConnectionStringFor(name));
        _all[name] = renamed;
        _all.TryRemove(database.Name, out _);
        return renamed;
    }

    /// <summary>Makes a cleaned database available to the next test; the slot is given back separately.</summary>
    internal void ReturnIdle(PooledDatabase database)
    {
        _idle.Add(database);
        _catalog.Budget.NotifyIdle();
    }

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
            var kept = await _catalog.KeepAsync(database.Name, keptName, cancellationToken).ConfigureAwait(false);
            if (pooled.LoginRole is { } role)
            {
                // The kept database is opened with the admin's credentials (see IPostgresServer.PsqlCommand).
                await _catalog.DropLoginRoleAsync(role, cancellationToken).ConfigureAwait(false);
            }

            return kept;
        }
        finally
        {
            // A kept database holds no connection of the kit's: it no longer counts against the budget.
            await ReleaseTokenAsync(pooled).ConfigureAwait(false);
            _slots.Release();
        }
    }

    /// <summary>Drops a database and then its login role, if it has one.</summary>
    private async Task DropAsync(PooledDatabase database)
    {
        try
        {
            await database.DisposeAsync().ConfigureAwait(false);
            await _catalog.DropAsync(database.Name, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            try
            {
                if (database.LoginRole is { } role)
                {
                    await _catalog.DropLoginRoleAsync(role, CancellationToken.None).ConfigureAwait(false);
                }
            }
            finally
            {
                await ReleaseTokenAsync(database).ConfigureAwait(false);
            }
        }
    }

    private Task ReleaseTokenAsync(PooledDatabase database) =>
        database.Token is { } token ? _catalog.Budget.ReleaseAsync(token) : Task.CompletedTask;

    /// <summary>Drops every database of the pool; every drop is tried even when one fails.</summary>
    public async ValueTask DisposeAsync()
    {
        _catalog.Budget.Unregister(this);
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
