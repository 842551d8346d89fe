using System.Collections.Concurrent;
using LinqToDB.Data;

namespace TestKit.Tests.Integration;

/// <summary>Tests that hold their database a while, so that parallel ones overlap: none may share one.</summary>
[Arguments(IsolationStrategy.MigrateErase)]
[Arguments(IsolationStrategy.Template)]
[Arguments(IsolationStrategy.Reset)]
public sealed class ParallelTests(IsolationStrategy strategy) : DatabaseTest
{
    protected override TestKitOptions Options { get; } = new() { Isolation = strategy };

    private static readonly ConcurrentDictionary<string, int> InUse = new(StringComparer.Ordinal);
    private static int _running;
    private static int _peak;

    public static IEnumerable<int> Workers() => Enumerable.Range(1, 12);

    [Test]
    [MethodDataSource(nameof(Workers))]
    public async Task Parallel_tests_never_share_a_database(int worker)
    {
        await Assert.That(InUse.TryAdd(DatabaseName, worker)).IsTrue();
        var running = Interlocked.Increment(ref _running);
        InterlockedMax(ref _peak, running);
        try
        {
            // Hold the database until another test holds one beside it (polled, with a deadline): the tests overlap for
            // certain, instead of for as long as a sleep happens to last.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (Volatile.Read(ref _peak) < 2 && DateTime.UtcNow < deadline)
            {
                await Db.ExecuteAsync("SELECT pg_sleep(0.01)");
            }

            await Assert.That(InUse[DatabaseName]).IsEqualTo(worker);
        }
        finally
        {
            Interlocked.Decrement(ref _running);
            InUse.TryRemove(DatabaseName, out _);
        }
    }

    [Test]
    [DependsOn(nameof(Parallel_tests_never_share_a_database), [typeof(int)])]
    public async Task The_suite_kept_its_parallelism() => await Assert.That(Volatile.Read(ref _peak)).IsGreaterThanOrEqualTo(2);

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current && Interlocked.CompareExchange(ref target, value, current) is var seen && seen != current)
        {
            current = seen;
        }
    }
}
