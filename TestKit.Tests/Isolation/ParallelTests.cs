using System.Collections.Concurrent;
using LinqToDB.Data;

namespace TestKit.Tests;

/// <summary>
/// Tests that hold their database a while, so that parallel ones overlap: none may share one. Reset runs both in
/// verification mode and as users get it (in the background). That tests set up at once do hold databases at once is
/// <see cref="ParallelSetupTests"/>'s to prove: here how many overlap is up to TUnit's scheduling.
/// </summary>
[Arguments(IsolationStrategy.MigrateErase, true)]
[Arguments(IsolationStrategy.Template, true)]
[Arguments(IsolationStrategy.Reset, true)]
[Arguments(IsolationStrategy.Reset, false)]
public sealed class ParallelTests(IsolationStrategy strategy, bool verifyHead) : DatabaseTest
{
    protected override TestKitOptions Options { get; } = new() { Isolation = strategy, VerifyHead = verifyHead ? null : false };

    private static readonly ConcurrentDictionary<string, int> InUse = new(StringComparer.Ordinal);

    public static IEnumerable<int> Workers() => Enumerable.Range(1, 12);

    [Test]
    [MethodDataSource(nameof(Workers))]
    public async Task Parallel_tests_never_share_a_database(int worker)
    {
        await Assert.That(InUse.TryAdd(DatabaseName, worker)).IsTrue();
        try
        {
            // Holds the database for 20 statements, so that the tests TUnit runs beside this one find it taken.
            for (var statement = 0; statement < 20; statement++)
            {
                await Db.ExecuteAsync("SELECT pg_sleep(0.01)");
            }

            await Assert.That(InUse[DatabaseName]).IsEqualTo(worker);
        }
        finally
        {
            InUse.TryRemove(DatabaseName, out _);
        }
    }
}
