using LinqToDB;
using LinqToDB.Data;
using Npgsql;
using Sql = TestKit.Server.Sql;

namespace TestKit.Tests;
/// <summary>
/// A test that leaves a writer running after its end must never write into a later test's database. The template
/// strategy gives every test a new database and drops the old one. With IsolateLeftoverClients, migrate-erase renames
/// the database at every release and reset changes its login's password, so a connection string kept past the test's
/// end reaches nothing. (Without it, they hand the next test the same connection string: a stated limit.)
/// </summary>
[Arguments(IsolationStrategy.MigrateErase, true)]
[Arguments(IsolationStrategy.Template, true)]
[Arguments(IsolationStrategy.Reset, true)]
[Arguments(IsolationStrategy.Reset, false)]
public sealed class FaultStaleWriterTests(IsolationStrategy kind, bool verifyHead) : FaultKitTest
{
    /// <summary>The row with false resets in the background, as users get it; the others run in verification mode.</summary>
    internal override bool VerifiesHead => verifyHead;

    [Test]
    public async Task A_background_writer_the_test_left_running_never_writes_into_the_next_test()
    {
        using var stop = new CancellationTokenSource();
        var firstWrite = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        string? nextName = null;
        var attemptsAfter = 0;
        var writesIntoNext = 0;
        Task? writer = null;
        await RunFaultAsync(
            async database =>
            {
                // The string as the test got it: the kit gives the database a new one for the next lease.
                var connectionString = database.ConnectionString;
                // Fire and forget, as a test that forgot to await a loop would: it opens a new connection each time.
                writer = Task.Run(async () =>
                {
                    for (var i = 0; !stop.IsCancellationRequested; i++)
                    {
                        // Read before the write starts: a write that started after the next test got its database and
                        // landed in that database is a leak; one that landed earlier, or elsewhere (the template strategy's
                        // old clone, dropped in the background), is not.
                        var next = Volatile.Read(ref nextName);
                        try
                        {
                            await using var connection = await OpenAsync(connectionString);
                            await using var command = new NpgsqlCommand(
                                $"INSERT INTO customers (name, email, country_code) VALUES ('Ghost {i}', 'ghost{i}@example.com', 'DE'); SELECT current_database()",
                                connection);
                            var reached = (string?)await command.ExecuteScalarAsync();
                            firstWrite.TrySetResult();
                            if (next is not null && reached == next)
                            {
                                Interlocked.Increment(ref writesIntoNext);
                            }
                        }
                        catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
                        {
                            // Refused: that is what the kit should make happen.
                        }

                        if (next is not null)
                        {
                            Interlocked.Increment(ref attemptsAfter);
                        }

                        // Pacing, not synchronisation: the writer must not starve the kit of the machine's two cores.
                        await Task.Delay(TimeSpan.FromMilliseconds(5));
                    }
                });
                await firstWrite.Task.WaitAsync(TimeSpan.FromSeconds(30));
            },
            afterNextLease: async next =>
            {
                Volatile.Write(ref nextName, next.Name);
                var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
                while (Volatile.Read(ref attemptsAfter) < 10 && DateTime.UtcNow < deadline)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(10));
                }

                await stop.CancelAsync();
                await writer!;
                await Assert.That(Volatile.Read(ref attemptsAfter)).IsGreaterThanOrEqualTo(10);
                await Assert.That(Volatile.Read(ref writesIntoNext)).IsEqualTo(0).Because("a connection string of a released lease must no longer reach the next test's database");
            });
    }

    [Test]
    public async Task The_connection_string_of_a_released_lease_no_longer_reaches_the_next_tests_database()
    {
        await using var own = await NewOwnStrategyAsync(kind, leftovers: Leftovers.Isolated);
        var first = await own.Strategy.AcquireAsync(CancellationToken.None);
        var firstConnectionString = first.ConnectionString;
        await own.Strategy.ReleaseAsync(first, CancellationToken.None);
        var next = await own.Strategy.AcquireAsync(CancellationToken.None);

        var stale = new NpgsqlConnectionStringBuilder(firstConnectionString) { Pooling = false };
        string? reached = null;
        PostgresException? refused = null;
        try
        {
            await using var connection = await OpenAsync(stale.ConnectionString);
            await using var command = new NpgsqlCommand("SELECT current_database()", connection);
            reached = (string?)await command.ExecuteScalarAsync();
        }
        catch (PostgresException e)
        {
            refused = e;
        }

        // migrate-erase renamed the database (3D000), reset changed the login's password (28P01); the template
        // strategy's old clone is dropped in the background, and may still exist for a moment, but is no one's.
        await Assert.That(reached).IsNotEqualTo(next.Name).Because("a released lease's connection string must not reach the next test's database");
        if (kind != IsolationStrategy.Template)
        {
            await Assert.That(refused?.SqlState).IsEqualTo(kind == IsolationStrategy.Reset ? PostgresErrorCodes.InvalidPassword : PostgresErrorCodes.InvalidCatalogName);
        }

        await own.Strategy.ReleaseAsync(next, CancellationToken.None);
        await own.DisposeAsync();
        await AssertNothingLeftAsync(own.Catalog);
    }

    private Task<List<string>> RunFaultAsync(Func<PooledDatabase, Task> fault, Func<PooledDatabase, Task> afterNextLease) =>
        RunFaultAsync(kind, fault, afterNextLease: afterNextLease, leftovers: Leftovers.Isolated);
}
