using LinqToDB;
using LinqToDB.Data;
using Npgsql;

namespace TestKit.Tests;

/// <summary>
/// A lease's linq2db options: every connection goes through the lease's data source, with the dialect linq2db's own
/// detection picks for the server, without detection's extra connection (one backend start and login per new database).
/// </summary>
public sealed class DataOptionsTests : FaultKitTest
{
    [Test]
    [Arguments(IsolationStrategy.MigrateErase)]
    [Arguments(IsolationStrategy.Template)]
    [Arguments(IsolationStrategy.Reset)]
    public async Task A_linq2db_connection_opens_one_session_through_the_data_source(IsolationStrategy kind)
    {
        await using var own = await NewOwnStrategyAsync(kind);
        var lease = await own.Strategy.AcquireAsync(CancellationToken.None);
        await using (var admin = await ConnectAsync(lease.Name))
        {
            // No connection idle in the data source: the linq2db connection needs a session of its own, one.
            lease.DataSource.Clear();
            var before = await SessionsAsync(admin, lease.Name);
            await using (var db = new DataConnection(lease.DataOptions))
            {
                await db.ExecuteAsync("SELECT 1");
            }

            var started = (await SessionsAsync(admin, lease.Name)).Except(before).ToList();
            await Assert.That(started.Count).IsEqualTo(1).Because("linq2db must not connect by itself to detect the server's version");
        }

        await own.Strategy.ReleaseAsync(lease, CancellationToken.None);
        await own.DisposeAsync();
        await AssertNothingLeftAsync(own.Catalog);
    }

    [Test]
    public async Task The_dialect_is_the_one_linq2db_detects_for_the_server()
    {
        await using var own = await NewOwnStrategyAsync(IsolationStrategy.Template);
        var lease = await own.Strategy.AcquireAsync(CancellationToken.None);
        using (var named = new DataConnection(lease.DataOptions))
        using (var detected = new DataConnection(new DataOptions().UsePostgreSQL(lease.ConnectionString + ";Pooling=false")))
        {
            await Assert.That(named.DataProvider.Name).IsEqualTo(detected.DataProvider.Name);
        }

        await own.Strategy.ReleaseAsync(lease, CancellationToken.None);
        await own.DisposeAsync();
        await AssertNothingLeftAsync(own.Catalog);
    }

    private static async Task<List<int>> SessionsAsync(NpgsqlConnection admin, string database)
    {
        // Client sessions only: an autovacuum worker may start on a freshly migrated database between two looks.
        await using var command = new NpgsqlCommand("SELECT pid FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend'", admin) { Parameters = { new() { Value = database } } };
        await using var reader = await command.ExecuteReaderAsync();
        var pids = new List<int>();
        while (await reader.ReadAsync())
        {
            pids.Add(reader.GetInt32(0));
        }

        return pids;
    }
}
