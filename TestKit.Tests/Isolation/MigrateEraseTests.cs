using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace TestKit.Tests;

/// <summary>What only the literal migrate-erase cycle does: erase to an empty database, and check the erase.</summary>
public sealed class MigrateEraseTests : FaultKitTest
{
    [Test]
    public async Task After_erase_no_object_of_the_migrations_is_left()
    {
        await using var own = await NewOwnStrategyAsync(IsolationStrategy.MigrateErase);
        var database = await own.Strategy.AcquireAsync(CancellationToken.None);
        await using (var connection = await ConnectAsync(database.Name))
        {
            await Assert.That(await CountAsync(connection, UserObjectCount)).IsGreaterThan(20);
        }

        // The erased database is migrated again in the background, for the next test: count its objects as that begins
        // (the listener runs on the kit's thread, before the migration).
        var builder = (await ServerAsync()).ConnectionStringFor(database.Name);
        builder.Pooling = false;
        var erased = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "TestKit",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStarted = activity =>
            {
                if (activity.OperationName == "testkit.migrate-ahead" && Equals(activity.GetTagItem("testkit.database"), database.Name))
                {
                    try
                    {
                        using var connection = new NpgsqlConnection(builder.ConnectionString);
                        connection.Open();
                        using var count = new NpgsqlCommand(UserObjectCount, connection);
                        erased.TrySetResult(Convert.ToInt64(count.ExecuteScalar(), CultureInfo.InvariantCulture));
                    }
                    catch (Exception e)
                    {
                        erased.TrySetException(e);
                    }
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        await own.Strategy.ReleaseAsync(database, CancellationToken.None);

        await Assert.That(await erased.Task.WaitAsync(TimeSpan.FromSeconds(30))).IsEqualTo(0);
    }

    [Test]
    public async Task An_object_the_erase_cannot_reach_is_reported_and_the_database_replaced()
    {
        await using var own = await NewOwnStrategyAsync(IsolationStrategy.MigrateErase);
        var strategy = own.Strategy;
        var first = await strategy.AcquireAsync(CancellationToken.None);
        await using (var connection = new NpgsqlConnection(first.ConnectionString))
        {
            await connection.OpenAsync();
            // A publication belongs to the database, not to a schema: neither Evolve's erase nor the kit's reaches it.
            await ExecuteAsync(connection, "CREATE PUBLICATION stray_publication");
        }

        var error = await Assert.That(async () => { await strategy.ReleaseAsync(first, CancellationToken.None); }).Throws<TestKitException>();
        await Assert.That(error!.Message).Contains("has: publication stray_publication").And.Contains("next test gets a fresh one");
        await using (var admin = await ConnectAsync("postgres"))
        {
            await Assert.That(await CountAsync(admin, "SELECT count(*) FROM pg_database WHERE starts_with(datname, $1)", own.Catalog.Marker.NamePrefix)).IsEqualTo(0)
                .Because("the database that could not be proven clean is dropped");
        }

        var second = await strategy.AcquireAsync(CancellationToken.None);
        await Assert.That(second.Name).IsNotEqualTo(first.Name);
        await strategy.ReleaseAsync(second, CancellationToken.None);
    }

    [Test]
    public async Task A_schema_the_test_created_is_dropped_by_the_erase_and_the_database_reused()
    {
        await using var strategy = await NewStrategyAsync(IsolationStrategy.MigrateErase);
        var first = await strategy.AcquireAsync(CancellationToken.None);
        await using (var connection = new NpgsqlConnection(first.ConnectionString))
        {
            await connection.OpenAsync();
            await ExecuteAsync(connection, "CREATE SCHEMA stray; CREATE TABLE stray.t (id int)");
        }

        await strategy.ReleaseAsync(first, CancellationToken.None);
        var second = await strategy.AcquireAsync(CancellationToken.None);
        await Assert.That(second.Name).IsEqualTo(first.Name);
        await using (var connection = new NpgsqlConnection(second.ConnectionString))
        {
            await connection.OpenAsync();
            await Assert.That(await CountAsync(connection, "SELECT count(*) FROM pg_namespace WHERE nspname = 'stray'")).IsEqualTo(0);
        }

        await strategy.ReleaseAsync(second, CancellationToken.None);
    }
}
