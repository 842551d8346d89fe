using System.Collections.Concurrent;
using TestKit.Configuration;
using TestKit.Databases;
using TestKit.Diagnostics;

namespace TestKit.Isolation;

/// <summary>
/// The databases one strategy owns, for all three strategies: at most a fixed number leased at once, each leased to one
/// test at a time, each holding a place in the run's <see cref="DatabaseBudget"/>. The strategy says how a database is
/// made (<c>create</c>) and what a release does with it — cleans it and returns it idle (migrate-erase, reset), or drops
/// it (template). The pool does the bookkeeping: lease slots, idle databases (warm ones made ahead by a <see cref="WarmFiller"/>
/// when asked for), giving one up for another pool, discarding and keeping (through <see cref="DatabaseRetirement"/>), dropping at the end.
/// </summary>
internal sealed class DatabasePool : IAsyncDisposable
{
    private readonly ServerRun _run;
    private readonly ResolvedOptions _options;
    private readonly Func<bool, CancellationToken, Task<PooledDatabase>> _create;
    private readonly SemaphoreSlim _slots;
    private readonly ConcurrentBag<PooledDatabase> _idle = [];
    private readonly ConcurrentDictionary<string, PooledDatabase> _all = new(StringComparer.Ordinal);
    private readonly BackgroundWork _background = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly WarmFiller? _warm;
    private readonly DatabaseRetirement _retirement;
    private readonly DatabaseFinisher _finisher;
    private int _leasesWaiting;

    /// <param name="run">The run and server the databases belong to.</param>
    /// <param name="options">The most databases leased at once, and how tests connect to them.</param>
    /// <param name="create">Makes a new database (the pool adds it, with its place in the budget); true: a warm one, no test waits.</param>
    /// <param name="warm">How many databases to keep ready in the background; 0 for none.</param>
    internal DatabasePool(ServerRun run, ResolvedOptions options, Func<bool, CancellationToken, Task<PooledDatabase>> create, int warm = 0)
    {
        _run = run;
        _options = options;
        _create = create;
        _retirement = new DatabaseRetirement(run);
        _finisher = new DatabaseFinisher(run, _background, _stopping.Token, ReturnIdle, DiscardAsync);
        var maxDatabases = options.MaxDatabases;
        _slots = new SemaphoreSlim(maxDatabases, maxDatabases);
        _warm = warm > 0 ? new WarmFiller(run.Budget, warm, () => _idle.Count + _finisher.InBackground, PrepareWarmAsync, _background, _stopping.Token) : null;

        run.Budget.Allow(maxDatabases);
        run.Budget.Register(TryGiveUpIdleAsync);
    }

    /// <summary>
    /// Waits for a lease slot, then hands out an idle database, one being cleaned in the background once it is, or a new one;
    /// at the run's bound, a new one waits for another pool to give one up or for a database to be dropped. First throws
    /// what a background step of the pool failed with since the last lease (see <see cref="DatabaseFinisher"/>). The slot
    /// is given back if the lease fails, otherwise by the release (each method below that takes a leased database).
    /// </summary>
    internal async Task<PooledDatabase> LeaseAsync(CancellationToken cancellationToken)
    {
        _finisher.ThrowUnreported();
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _leasesWaiting);
        try
        {
            while (true)
            {
                var changed = _run.Budget.Changed;
                if (_idle.TryTake(out var idle))
                {
                    _warm?.Taken();
                    return idle;
                }

                // A database being cleaned in the background is idle in a few milliseconds: cheaper to wait for than a new one.
                if (_finisher.InBackground > 0)
                {
                    await _run.Budget.WaitAsync(changed, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                if (await _run.Budget.TryAcquireAsync(TryGiveUpIdleAsync, cancellationToken).ConfigureAwait(false) is { } token)
                {
                    var created = await CreateAsync(token, ahead: false, cancellationToken).ConfigureAwait(false);
                    // Only once a database could be made: a filler started before would fail the same way in the background.
                    _warm?.Start();
                    return created;
                }

                await _run.Budget.WaitAsync(changed, cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            _slots.Release();
            throw;
        }
        finally
        {
            Interlocked.Decrement(ref _leasesWaiting);
        }
    }

    /// <summary>True while a lease waits for a database: a database made ahead then goes to it as soon as it exists.</summary>
    internal bool LeaseWaits => Volatile.Read(ref _leasesWaiting) > 0;

    /// <summary>A database of this pool's run, named <paramref name="name"/> (for the strategy's <c>create</c>), that tests reach as the options say.</summary>
    internal PooledDatabase NewDatabase(string name, string? kitSessionOptions = null, bool keepKitSession = false) =>
        new(name, _run.Server.ConnectionStringFor(name), _options, _run.Dialect, kitSessionOptions, keepKitSession);

    /// <summary>
    /// Ends every session of a released database and renames it, so that nothing the test kept (an open connection, a connection
    /// string, a writer left running) reaches it again. Returns it under its new name, not yet cleaned, for the strategy to clean.
    /// </summary>
    internal async Task<PooledDatabase> RenameForNextLeaseAsync(PooledDatabase database, CancellationToken cancellationToken)
    {
        await database.DisposeAsync().ConfigureAwait(false);
        var name = await _run.Catalog.RenameForNextLeaseAsync(database.Name, cancellationToken).ConfigureAwait(false);
        var renamed = NewDatabase(name);
        renamed.Token = database.Token;
        _all[name] = renamed;
        _all.TryRemove(database.Name, out _);
        return renamed;
    }

    /// <summary>
    /// Finishes cleaning a released database in the background, or in the foreground (verification mode), then makes it
    /// available to the next test (see <see cref="DatabaseFinisher.FinishAsync"/>); then gives the lease slot back (after: a
    /// lease waits for a database being finished rather than make one).
    /// </summary>
    internal async Task<string?> ReturnIdleAfterAsync(PooledDatabase database, Func<CancellationToken, Task<string?>> finish, bool inForeground, CancellationToken cancellationToken)
    {
        try
        {
            return await _finisher.FinishAsync(database, finish, inForeground, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>Gives a leased database's slot back and drops it (see <see cref="DiscardAsync"/>), for a release or lease that failed.</summary>
    internal Task ReleaseAndDiscardAsync(PooledDatabase database, Exception cause)
    {
        _slots.Release();
        return DiscardAsync(database, cause);
    }

    /// <summary>
    /// Drops a database that will not be used again, then lets the warm filler make another; a failure to drop is reported
    /// together with <paramref name="cause"/> (why it is discarded), as one <see cref="TestKitException"/>.
    /// </summary>
    internal async Task DiscardAsync(PooledDatabase database, Exception? cause = null)
    {
        _all.TryRemove(database.Name, out _);
        try
        {
            await _retirement.DropAsync(database).ConfigureAwait(false);
        }
        catch (Exception dropError) when (cause is not null)
        {
            Errors.Rethrow([cause, dropError], $"TestKit could not drop database '{database.Name}' after a failure.");
        }
        finally
        {
            _warm?.Taken();
        }
    }

    /// <summary>Gives a released database's slot back and drops it in the background: the next test does not wait for it, the end of the run does.</summary>
    internal void ReleaseAndDiscardInBackground(PooledDatabase database)
    {
        _slots.Release();
        _all.TryRemove(database.Name, out _);
        _background.Start(() => _retirement.DropInBackgroundAsync(database));
    }

    /// <summary>Takes a failed test's database out of the pool and keeps it for inspection (see <see cref="DatabaseRetirement.KeepAsync"/>).</summary>
    internal async Task<string> KeepAsync(PooledDatabase database, string keptName, CancellationToken cancellationToken)
    {
        _all.TryRemove(database.Name, out _);
        // Out of the pool now: its place in the budget is held until it is kept.
        _slots.Release();
        return await _retirement.KeepAsync(database, keptName, cancellationToken).ConfigureAwait(false);
    }

    private async Task<bool> TryGiveUpIdleAsync(CancellationToken cancellationToken)
    {
        if (!_idle.TryTake(out var idle))
        {
            return false;
        }

        await DiscardAsync(idle).ConfigureAwait(false);
        return true;
    }

    /// <summary>Stops making warm databases, then drops every database of the pool; every drop is tried even when one fails.</summary>
    public async ValueTask DisposeAsync()
    {
        _run.Budget.Unregister(TryGiveUpIdleAsync);
        var errors = new List<Exception>();
        await _stopping.CancelAsync().ConfigureAwait(false);
        await _background.WaitAllAsync(errors).ConfigureAwait(false);
        errors.AddRange(_finisher.TakeUnreported());
        foreach (var database in _all.Values)
        {
            await Errors.CollectAsync(errors, () => _retirement.DropAsync(database)).ConfigureAwait(false);
        }

        _all.Clear();
        _warm?.Dispose();
        _slots.Dispose();
        _stopping.Dispose();
        Errors.Rethrow(errors, "TestKit could not drop every database of its pool.");
    }

    private async Task<PooledDatabase> CreateAsync(BudgetToken token, bool ahead, CancellationToken cancellationToken)
    {
        try
        {
            var created = await _create(ahead, cancellationToken).ConfigureAwait(false);
            created.Token = token;
            _all[created.Name] = created;
            return created;
        }
        catch
        {
            await _run.Budget.ReleaseAsync(token).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Makes a cleaned database available to the next test; the slot is given back separately.</summary>
    private void ReturnIdle(PooledDatabase database)
    {
        _idle.Add(database);
        _run.Budget.NotifyIdle();
    }

    private async Task PrepareWarmAsync(BudgetToken token, CancellationToken stopping)
    {
        using var step = KitTracing.StartBackground("testkit.warm");
        ReturnIdle(await CreateAsync(token, ahead: true, stopping).ConfigureAwait(false));
    }
}
