using Npgsql;

namespace TestKit.Tests;

/// <summary>
/// What every fault test checks, in one place: a strategy of the test's own on a catalog it can see
/// (so it can count the databases that carry the catalog's marker), the state of head (the kit's full state digest),
/// "the next test starts at exactly head" and "nothing of the kit is left once the strategy is disposed".
/// </summary>
public abstract class FaultKitTest : KitTest
{
    private static readonly TimeSpan LeftoverDeadline = TimeSpan.FromSeconds(15);

    /// <summary>
    /// False for a class whose rows also run a strategy as users get it, outside verification mode (reset in the background);
    /// true (the default): the environment's, verification mode in the kit's tests.
    /// </summary>
    internal virtual bool VerifiesHead => true;

    /// <summary>A strategy of this test's own (a pool of one by default), with the catalog whose marker its databases carry.</summary>
    internal async Task<OwnStrategy> NewOwnStrategyAsync(
        IsolationStrategy kind, string? migrationsFolder = null, int maxDatabases = 1, PostgresServer? server = null, Leftovers leftovers = Leftovers.ShareTheConnectionString)
    {
        var catalog = new ServerRun(server ?? await ServerAsync());
        var migrations = MigrationSet.Load([migrationsFolder ?? TempFolders.SampleMigrations]);
        var options = OptionsOf(kind, maxDatabases, leftovers == Leftovers.Isolated);
        return new OwnStrategy(IsolationStrategyBase.Create(options with { VerifyHead = options.VerifyHead && VerifiesHead }, catalog, new EvolveMigrator(migrations)), catalog);
    }

    /// <summary>A strategy of this test's own for <paramref name="migrations"/> (a pool of one by default).</summary>
    internal async Task<OwnStrategy> NewOwnStrategyAsync(IsolationStrategy kind, MigrationSet migrations, int maxDatabases = 1)
    {
        var catalog = new ServerRun(await ServerAsync());
        return new OwnStrategy(IsolationStrategyBase.Create(OptionsOf(kind, maxDatabases), catalog, new EvolveMigrator(migrations)), catalog);
    }

    /// <summary>The state a test can observe: the kit's full state digest.</summary>
    internal static Task<List<string>> HeadAsync(string connectionString) => Digest.ComputeAsync(connectionString);

    /// <summary>
    /// The next test's view: exactly head, and a pooled connection (as the next test's Db opens one) that works,
    /// sees the default search_path and may write.
    /// </summary>
    internal static async Task AssertAtHeadAsync(PooledDatabase next, List<string> head)
    {
        var now = await HeadAsync(next.ConnectionString);
        await Assert.That(now.Except(head)).IsEmpty().Because("objects, rows or privileges the previous test left must be gone");
        await Assert.That(head.Except(now)).IsEmpty().Because("what the previous test removed must be back");

        await using var pooled = new NpgsqlConnection(next.ConnectionString);
        await pooled.OpenAsync();
        await using var command = new NpgsqlCommand(
            "INSERT INTO customers (name, email, country_code) VALUES ('Next', 'next@example.com', 'DE'); SELECT current_setting('search_path') || ' ' || current_user || ' ' || current_setting('session_replication_role')",
            pooled);
        var session = (string?)await command.ExecuteScalarAsync();
        // Under reset the test logs in with a role of its own and acts as the admin role ("-c role=..." in Options).
        var options = new NpgsqlConnectionStringBuilder(next.ConnectionString).Options ?? "";
        var actingRole = options.Contains("-c role=", StringComparison.Ordinal) ? options[(options.IndexOf("-c role=", StringComparison.Ordinal) + 8)..].Split(' ')[0] : pooled.UserName;
        await Assert.That(session).IsEqualTo($"\"$user\", public {actingRole} origin").Because("the next test's session starts with default settings");
        await using var remove = new NpgsqlCommand("DELETE FROM customers WHERE email = 'next@example.com'", pooled);
        await remove.ExecuteNonQueryAsync();
    }

    /// <summary>
    /// After the strategy is disposed: no database carries the catalog's marker or its run's name, and no session
    /// is left on one. Backends end asynchronously, so this polls with a deadline.
    /// </summary>
    internal async Task AssertNothingLeftAsync(ServerRun catalog, string maintenanceDatabase = "postgres", TimeSpan? wait = null)
    {
        var server = catalog.Server;
        var builder = server.ConnectionStringFor(maintenanceDatabase);
        builder.Pooling = false;
        await using var admin = new NpgsqlConnection(builder.ConnectionString);
        await admin.OpenAsync();
        var prefix = NamePrefix(catalog);
        var deadline = DateTime.UtcNow + (wait ?? LeftoverDeadline);
        (long Databases, long Sessions) left;
        while (true)
        {
            left = (
                await CountAsync(admin, "SELECT count(*) FROM pg_database WHERE shobj_description(oid, 'pg_database') = $1 OR starts_with(datname, $2)", catalog.Marker.Format(), prefix),
                await CountAsync(admin, "SELECT count(*) FROM pg_stat_activity WHERE starts_with(datname, $1)", prefix));
            if (left == (0, 0) || DateTime.UtcNow > deadline)
            {
                break;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50));
        }

        if (left != (0, 0))
        {
            // Do not leave a leak of the kit on the shared server for the tests after this one.
            await using var cleanup = new NpgsqlCommand("SELECT datname FROM pg_database WHERE shobj_description(oid, 'pg_database') = $1 OR starts_with(datname, $2)", admin)
            {
                Parameters = { new() { Value = catalog.Marker.Format() }, new() { Value = prefix } },
            };
            var names = new List<string>();
            await using (var reader = await cleanup.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    names.Add(reader.GetString(0));
                }
            }

            foreach (var name in names)
            {
                await ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {Sql.Quote(name)} WITH (FORCE)");
            }
        }

        var roles = await CountAsync(admin, "SELECT count(*) FROM pg_roles WHERE shobj_description(oid, 'pg_authid') = $1 OR starts_with(rolname, $2)", catalog.Marker.Format(), prefix);
        await Assert.That(left.Databases).IsEqualTo(0).Because($"no database of run {prefix}* may outlive the strategy");
        await Assert.That(roles).IsEqualTo(0).Because($"no login role of run {prefix}* may outlive the strategy");
        await Assert.That(left.Sessions).IsEqualTo(0).Because($"no session on a database of run {prefix}* may outlive the strategy");
    }

    /// <summary>The name every database of the catalog's run starts with: testkit_&lt;run&gt;_.</summary>
    internal static string NamePrefix(ServerRun catalog) => catalog.Marker.NamePrefix;

    internal static async Task<NpgsqlConnection> OpenAsync(string connectionString)
    {
        var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        return connection;
    }

    /// <summary>A strategy of a test's own and the catalog its databases are marked with.</summary>
    internal sealed class OwnStrategy(IsolationStrategyBase strategy, ServerRun catalog) : IAsyncDisposable
    {
        private int _disposed;

        internal IsolationStrategyBase Strategy { get; } = strategy;

        internal ServerRun Catalog { get; } = catalog;

        /// <summary>Disposes the strategy once: tests dispose it explicitly, then again through <c>await using</c> on the way out.</summary>
        public ValueTask DisposeAsync() => Interlocked.Exchange(ref _disposed, 1) == 0 ? Strategy.DisposeAsync() : ValueTask.CompletedTask;
    }

    /// <summary>
    /// Plays the faulty test on a first lease, releases it (the release must do what <paramref name="release"/> says:
    /// clean by default), plays the next test on a second lease (<paramref name="afterNextLease"/> runs first, if given),
    /// then disposes the strategy and checks that nothing is left.
    /// </summary>
    /// <param name="kind">The strategy under test.</param>
    internal async Task<List<string>> RunFaultAsync(
        IsolationStrategy kind,
        Func<PooledDatabase, Task> fault,
        Release? release = null,
        Func<PooledDatabase, Task>? afterNextLease = null,
        Leftovers leftovers = Leftovers.ShareTheConnectionString)
    {
        await using var own = await NewOwnStrategyAsync(kind, leftovers: leftovers);
        var first = await own.Strategy.AcquireAsync(CancellationToken.None);
        var head = await HeadAsync(first.ConnectionString);

        await fault(first);
        await (release ?? Release.Cleans).CheckAsync(own.Strategy, first);

        var next = await own.Strategy.AcquireAsync(CancellationToken.None);
        if (afterNextLease is not null)
        {
            await afterNextLease(next);
        }

        await AssertAtHeadAsync(next, head);
        await own.Strategy.ReleaseAsync(next, CancellationToken.None);
        await own.DisposeAsync();
        await AssertNothingLeftAsync(own.Catalog);
        return head;
    }
}
