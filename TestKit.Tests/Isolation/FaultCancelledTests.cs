using System.Collections.Concurrent;
using LinqToDB.Data;
using Npgsql;

namespace TestKit.Tests;

/// <summary>
/// A test whose statements were cancelled, and one that ends while a statement of its still runs (what a
/// test that timed out leaves), through the real DatabaseTest hooks. A pool of one database per strategy
/// (MaxDatabases = 1 gives these tests a pool of their own), so that the test after it gets the same
/// database wherever the strategy reuses one, and must find it at head.
/// </summary>
[Arguments(IsolationStrategy.MigrateErase)]
[Arguments(IsolationStrategy.Template)]
[Arguments(IsolationStrategy.Reset)]
public sealed class FaultCancelledTests(IsolationStrategy kind) : DatabaseTest
{
    private static readonly ConcurrentDictionary<IsolationStrategy, List<string>> Heads = new();
    private static readonly ConcurrentDictionary<IsolationStrategy, Task> Abandoned = new();

    protected override TestKitOptions Options { get; } = new() { Isolation = kind, MaxDatabases = 1 };

    [Test]
    [Timeout(120_000)]
    public async Task A_test_with_cancelled_statements_and_one_still_running_is_cleaned_by_the_teardown(CancellationToken cancellationToken)
    {
        Heads[kind] = await FaultKitTest.HeadAsync(ConnectionString);
        await Db.ExecuteAsync("INSERT INTO customers (name, email, country_code) VALUES ('Ann', 'ann@example.com', 'DE')", cancellationToken);

        // Cancelled on the server through Npgsql's cancel request: the connection stays usable.
        using (var soon = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            soon.CancelAfter(TimeSpan.FromMilliseconds(200));
            await Assert.That(async () => await Db.ExecuteAsync("SELECT pg_sleep(30)", soon.Token)).Throws<OperationCanceledException>();
        }

        // A cancellation Npgsql does not wait for: the connection is left broken, inside a transaction that wrote.
        var broken = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString) { CancellationTimeout = -1 }.ConnectionString);
        await broken.OpenAsync(cancellationToken);
        await broken.BeginTransactionAsync(cancellationToken);
        await using (var insert = new NpgsqlCommand("INSERT INTO products (sku, name, unit_price) VALUES ('TEA', 'Tea', 1.50)", broken))
        {
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        using (var soon = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            soon.CancelAfter(TimeSpan.FromMilliseconds(200));
            await using var sleep = new NpgsqlCommand("SELECT pg_sleep(30)", broken);
            await Assert.That(async () => await sleep.ExecuteNonQueryAsync(soon.Token)).Throws<OperationCanceledException>();
        }

        // As a test that timed out leaves it: a statement runs on after the test ended, and would commit.
        var running = new NpgsqlConnection(ConnectionString);
        await running.OpenAsync(cancellationToken);
        var late = new NpgsqlCommand("SELECT pg_sleep(2); INSERT INTO customers (name, email, country_code) VALUES ('Late', 'late@example.com', 'DE')", running);
        Abandoned[kind] = late.ExecuteNonQueryAsync(CancellationToken.None);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        await using var watch = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false }.ConnectionString);
        await watch.OpenAsync(cancellationToken);
        await using var active = new NpgsqlCommand("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND query LIKE 'SELECT pg_sleep(2)%'", watch);
        while ((long)(await active.ExecuteScalarAsync(cancellationToken))! == 0 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(5), cancellationToken);
        }
    }

    [Test]
    [DependsOn(nameof(A_test_with_cancelled_statements_and_one_still_running_is_cleaned_by_the_teardown), [typeof(CancellationToken)])]
    public async Task The_test_after_it_starts_at_head()
    {
        try
        {
            // Whichever way it ended (terminated by the teardown, or its database dropped), look only once it has.
            await Abandoned[kind];
        }
        catch (Exception e) when (e is NpgsqlException or InvalidOperationException or ObjectDisposedException)
        {
            TestContext.Current?.Output.WriteLine($"The abandoned statement ended with: {e.Message}");
        }

        var now = await FaultKitTest.HeadAsync(ConnectionString);
        await Assert.That(now.Except(Heads[kind])).IsEmpty();
        await Assert.That(Heads[kind].Except(now)).IsEmpty();
        await Assert.That(await Db.ExecuteAsync<long>("SELECT count(*) FROM customers")).IsEqualTo(0);
    }
}
