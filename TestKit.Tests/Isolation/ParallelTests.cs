using System.Collections.Concurrent;
using LinqToDB.Data;

namespace TestKit.Tests;

/// <summary>
/// Tests that hold their database a while, so that parallel ones overlap: none may share one. Reset runs both in
/// verification mode and as users get it (in the background).
/// </summary>
[Arguments(IsolationStrategy.MigrateErase, true)]
[Arguments(IsolationStrategy.Template, true)]
[Arguments(IsolationStrategy.Reset, true)]
[Arguments(IsolationStrategy.Reset, false)]
public sealed class ParallelTests(IsolationStrategy strategy, bool verifyHead) : DatabaseTest
{
    protected override TestKitOptions Options { get; } = new() { Isolation = strategy, VerifyHead = verifyHead ? null : false };

    private static readonly ConcurrentDictionary<string, int> InUse = new(StringComparer.Ordinal);

    /// <summary>How many tests of each strategy run at once, and the most seen: one count per strategy, so that each strategy's check is its own.</summary>
    private static readonly ConcurrentDictionary<(IsolationStrategy, bool), Overlap> Overlaps = new();

    private Overlap Mine => Overlaps.GetOrAdd((strategy, verifyHead), _ => new Overlap());

    public static IEnumerable<int> Workers() => Enumerable.Range(1, 12);

    [Test]
    [MethodDataSource(nameof(Workers))]
    public async Task Parallel_tests_never_share_a_database(int worker)
    {
        await Assert.That(InUse.TryAdd(DatabaseName, worker)).IsTrue();
        var mine = Mine;
        var running = Interlocked.Increment(ref mine.Running);
        InterlockedMax(ref mine.Peak, running);
        try
        {
            // Hold the database until another test holds one beside it (polled, with a deadline): the tests overlap for
            // certain, instead of for as long as a sleep happens to last.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (Volatile.Read(ref mine.Peak) < 2 && DateTime.UtcNow < deadline)
            {
                await Db.ExecuteAsync("SELECT pg_sleep(0.01)");
            }

            await Assert.That(InUse[DatabaseName]).IsEqualTo(worker);
        }
        finally
        {
            Interlocked.Decrement(ref mine.Running);
            InUse.TryRemove(DatabaseName, out _);
        }
    }

    [Test]
    [DependsOn(nameof(Parallel_tests_never_share_a_database), [typeof(int)])]
    public async Task The_suite_kept_its_parallelism() =>
        await Assert.That(Volatile.Read(ref Mine.Peak)).IsGreaterThanOrEqualTo(2).Because($"tests of {strategy} must have overlapped");

    private sealed class Overlap
    {
        internal int Running;
        internal int Peak;
    }

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current && Interlocked.CompareExchange(ref target, value, current) is var seen && seen != current)
        {
            current = seen;
        }
    }
}
