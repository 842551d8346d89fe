namespace TestKit.Tests;

/// <summary>
/// The budget of a run's databases without a server (no ServerMaxDatabases, so no slot is ever taken): the bound is the
/// largest a pool asked for, a place comes back once, a pool at the bound gets one another pool gives up (never by asking
/// itself), and warm clones take no spare place while a pool waits.
/// </summary>
public sealed class DatabaseBudgetTests
{
    [Test]
    public async Task The_bound_is_the_largest_any_pool_asked_for_and_a_place_comes_back_once()
    {
        var budget = new DatabaseBudget(null!);
        budget.Allow(2);
        budget.Allow(1);
        var pool = new Pool(budget);

        var first = await budget.TryAcquireAsync(pool.GiveUp, CancellationToken.None);
        var second = await budget.TryAcquireAsync(pool.GiveUp, CancellationToken.None);
        await Assert.That(first).IsNotNull();
        await Assert.That(second).IsNotNull();
        await Assert.That(await budget.TryAcquireAsync(pool.GiveUp, CancellationToken.None)).IsNull();

        var changed = budget.Changed;
        await budget.ReleaseAsync(first!);
        await budget.ReleaseAsync(first!);
        await Assert.That(changed.IsCompleted).IsTrue().Because("a freed place wakes the pools that wait");
        await Assert.That(await budget.TryAcquireAsync(pool.GiveUp, CancellationToken.None)).IsNotNull();
        await Assert.That(await budget.TryAcquireAsync(pool.GiveUp, CancellationToken.None)).IsNull().Because("a place given back twice counts once");
    }

    [Test]
    public async Task A_pool_at_the_bound_gets_a_place_another_pool_gives_up()
    {
        var budget = new DatabaseBudget(null!);
        budget.Allow(1);
        var holder = new Pool(budget);
        var requester = new Pool(budget);
        holder.Idle = await budget.TryAcquireAsync(holder.GiveUp, CancellationToken.None);

        var token = await budget.TryAcquireAsync(requester.GiveUp, CancellationToken.None);

        await Assert.That(token).IsNotNull();
        await Assert.That(holder.Asked).IsEqualTo(1);
        await Assert.That(requester.Asked).IsEqualTo(0).Because("a pool is never asked to give up a database for itself");
        await Assert.That(await budget.TryAcquireAsync(requester.GiveUp, CancellationToken.None)).IsNull().Because("nothing is idle any more");
    }

    [Test]
    public async Task No_spare_place_goes_to_a_warm_clone_while_a_pool_waits()
    {
        var budget = new DatabaseBudget(null!);
        budget.Allow(2);
        var pool = new Pool(budget);
        var held = await budget.TryAcquireAsync(pool.GiveUp, CancellationToken.None);
        await budget.TryAcquireAsync(pool.GiveUp, CancellationToken.None);

        var waiting = budget.WaitAsync(budget.Changed, CancellationToken.None);
        await budget.ReleaseAsync(held!);
        await waiting;
        var spare = await budget.TryAcquireSpareAsync(CancellationToken.None);
        await Assert.That(spare).IsNotNull().Because("no pool waits any more");
        await budget.ReleaseAsync(spare!);

        // A place is free again; while a pool waits, it is the pool's.
        var blocked = budget.WaitAsync(budget.Changed, CancellationToken.None);
        await Assert.That(await budget.TryAcquireSpareAsync(CancellationToken.None)).IsNull().Because("a pool waits: the place is its");
        budget.NotifyIdle();
        await blocked;
        await Assert.That(await budget.TryAcquireSpareAsync(CancellationToken.None)).IsNotNull().Because("the pool stopped waiting");
    }

    /// <summary>A pool with at most one idle database, which it gives up by freeing its place.</summary>
    private sealed class Pool
    {
        private readonly DatabaseBudget _budget;

        internal Pool(DatabaseBudget budget)
        {
            _budget = budget;
            budget.Register(GiveUp);
        }

        internal BudgetToken? Idle { get; set; }

        internal int Asked { get; private set; }

        internal Func<CancellationToken, Task<bool>> GiveUp => TryGiveUpIdleAsync;

        private async Task<bool> TryGiveUpIdleAsync(CancellationToken cancellationToken)
        {
            Asked++;
            if (Idle is not { } idle)
            {
                return false;
            }

            Idle = null;
            await _budget.ReleaseAsync(idle);
            return true;
        }
    }
}
