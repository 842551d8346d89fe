namespace TestKit.Databases;

/// <summary>
/// Bounds the databases one run (one session) holds on a server at once, and with them the kit's connections: over every pool of every
/// strategy and the template strategy's warm clones (<see cref="TestKitOptions.MaxDatabases"/>, the largest any pool asked
/// for), and, when <see cref="TestKitOptions.ServerMaxDatabases"/> is set, over every run on the server (slots held as
/// advisory locks on the <see cref="ServerLocks"/> connection). At the bound, a pool that needs a database makes another
/// pool give up one it holds idle, and otherwise waits until one is dropped.
/// </summary>
internal sealed class DatabaseBudget(ServerLocks locks)
{
    private readonly Lock _sync = new();
    private readonly List<Func<CancellationToken, Task<bool>>> _sources = [];
    private TaskCompletionSource _changed = NewSignal();
    private int _capacity;
    private int _used;
    private int _blocked;
    private int _serverSlots; // 0: no bound across runs

    /// <summary>Raises the bound to at least <paramref name="maxDatabases"/> (each pool's own bound fits within it).</summary>
    internal void Allow(int maxDatabases)
    {
        lock (_sync)
        {
            _capacity = Math.Max(_capacity, maxDatabases);
        }

        Signal();
    }

    /// <summary>Bounds the databases of every run on the server to <paramref name="slots"/> (the smallest bound asked for wins).</summary>
    internal void BoundServer(int slots)
    {
        lock (_sync)
        {
            _serverSlots = _serverSlots == 0 ? slots : Math.Min(_serverSlots, slots);
        }
    }

    /// <summary>Lets <paramref name="source"/> (a pool's "drop one idle database, free its place; false when none is idle") be asked for another pool.</summary>
    internal void Register(Func<CancellationToken, Task<bool>> source)
    {
        lock (_sync)
        {
            _sources.Add(source);
        }
    }

    internal void Unregister(Func<CancellationToken, Task<bool>> source)
    {
        lock (_sync)
        {
            _sources.Remove(source);
        }
    }

    /// <summary>
    /// Completes at the next change: a place came free, or a database became idle somewhere. A pool that needs a place
    /// loops: note this, look for a database of its own, <see cref="TryAcquireAsync"/>, and else <see cref="WaitAsync"/>
    /// for the noted change (so that a change after the note is not missed).
    /// </summary>
    internal Task Changed
    {
        get
        {
            lock (_sync)
            {
                return _changed.Task;
            }
        }
    }

    /// <summary>
    /// A place for one more database: at once when the bound allows it, else by making another pool give up a database
    /// it holds idle (never one of <paramref name="requester"/>'s own); null when neither works now.
    /// </summary>
    internal async Task<BudgetToken?> TryAcquireAsync(Func<CancellationToken, Task<bool>> requester, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (await TryTakeAsync(cancellationToken).ConfigureAwait(false) is { } token)
            {
                return token;
            }

            if (!await GiveUpIdleAsync(requester, cancellationToken).ConfigureAwait(false))
            {
                return null;
            }
        }
    }

    /// <summary>
    /// Waits, as a pool that found no place, for <paramref name="changed"/> (see <see cref="Changed"/>), or a moment when
    /// slots across runs are polled. While it waits, warm clones take no spare place.
    /// </summary>
    internal async Task WaitAsync(Task changed, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _blocked);
        try
        {
            await WaitForChangeAsync(changed, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _blocked);
        }
    }

    /// <summary>Waits for the next change, as a warm-clone filler that found no spare place (it blocks no one).</summary>
    internal Task WaitForSpareAsync(CancellationToken cancellationToken) => WaitForChangeAsync(Changed, cancellationToken);

    /// <summary>A place for a database nobody asked for yet (a warm clone): only when the bound allows it and no pool waits for one.</summary>
    internal Task<BudgetToken?> TryAcquireSpareAsync(CancellationToken cancellationToken) =>
        Volatile.Read(ref _blocked) > 0 ? Task.FromResult<BudgetToken?>(null) : TryTakeAsync(cancellationToken);

    /// <summary>A database was dropped (or kept, and so no longer the kit's to count): its place is free.</summary>
    internal async Task ReleaseAsync(BudgetToken token)
    {
        if (!token.TryRelease())
        {
            return;
        }

        if (token.Slot is { } slot)
        {
            await locks.ReleaseSlotAsync(slot).ConfigureAwait(false);
        }

        lock (_sync)
        {
            _used--;
        }

        Signal();
    }

    /// <summary>A database became idle in some pool: a waiting pool may have it given up.</summary>
    internal void NotifyIdle() => Signal();

    /// <summary><paramref name="changed"/>, or, when slots across runs are bounded, the next poll of them: other runs free slots without telling.</summary>
    private Task WaitForChangeAsync(Task changed, CancellationToken cancellationToken) =>
        (Volatile.Read(ref _serverSlots) > 0 ? Task.WhenAny(changed, Task.Delay(Server.Limits.SlotPoll, cancellationToken)) : changed).WaitAsync(cancellationToken);

    private async Task<BudgetToken?> TryTakeAsync(CancellationToken cancellationToken)
    {
        int serverSlots;
        lock (_sync)
        {
            if (_used >= _capacity)
            {
                return null;
            }

            _used++;
            serverSlots = _serverSlots;
        }

        if (serverSlots == 0)
        {
            return new BudgetToken(null);
        }

        int? slot = null;
        try
        {
            slot = await locks.TryTakeSlotAsync(serverSlots, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (slot is null)
            {
                lock (_sync)
                {
                    _used--;
                }
            }
        }

        return slot is null ? null : new BudgetToken(slot);
    }

    private async Task<bool> GiveUpIdleAsync(Func<CancellationToken, Task<bool>> requester, CancellationToken cancellationToken)
    {
        Func<CancellationToken, Task<bool>>[] others;
        lock (_sync)
        {
            others = [.. _sources.Where(source => source != requester)];
        }

        foreach (var source in others)
        {
            if (await source(cancellationToken).ConfigureAwait(false))
            {
                return true;
            }
        }

        return false;
    }

    private void Signal()
    {
        TaskCompletionSource fired;
        lock (_sync)
        {
            fired = _changed;
            _changed = NewSignal();
        }

        fired.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
