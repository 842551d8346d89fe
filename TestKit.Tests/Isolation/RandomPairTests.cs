using System.Globalization;
using Npgsql;

namespace TestKit.Tests;

/// <summary>
/// Hundreds of pairs of tests on one database (a pool of one), in verification mode: each test runs a seeded random workload
/// across connections and, one time in two, one of the hostile moves that once reached the next test (DDL in replica mode, a
/// sequence set back to unused, an advisory lock left on a pooled session, a large object, a comment on the public schema, a
/// pool of a derived connection string). The kit compares every database it brings back with head (the full state digest);
/// a difference fails the pair. TESTKIT_RANDOM_PAIRS sets how many pairs (500 by default).
/// </summary>
[Arguments(IsolationStrategy.MigrateErase)]
[Arguments(IsolationStrategy.Template)]
[Arguments(IsolationStrategy.Reset)]
public sealed class RandomPairTests(IsolationStrategy kind) : FaultKitTest
{
    private const int DefaultPairs = 500;

    private enum Hostile
    {
        None,
        ReplicaModeDdl,
        SequenceSetBackToUnused,
        AdvisoryLockOnPooledSession,
        LargeObject,
        CommentOnPublicSchema,
        DerivedConnectionString,
    }

    [Test]
    [Timeout(900_000)]
    public async Task Random_pairs_with_hostile_moves_leave_every_next_test_at_head(CancellationToken cancellationToken)
    {
        var pairs = int.TryParse(Environment.GetEnvironmentVariable("TESTKIT_RANDOM_PAIRS"), NumberStyles.None, CultureInfo.InvariantCulture, out var set) && set > 0 ? set : DefaultPairs;
        var run = new ServerRun(await ServerAsync());
        await using var own = new OwnStrategy(IsolationStrategyBase.Create(OptionsOf(kind) with { VerifyHead = true }, run, new EvolveMigrator(MigrationSet.Load([TempFolders.SampleMigrations]))), run);
        var strategy = own.Strategy;
        var random = new Random(20261205);
        var counts = new Dictionary<Hostile, int>();
        for (var pair = 1; pair <= pairs; pair++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var hostile = random.Next(2) == 0 ? Hostile.None : (Hostile)random.Next(1, 7);
            counts[hostile] = counts.GetValueOrDefault(hostile) + 1;

            // Acquired in verification mode: a template clone is compared with head here, a reused database at its release.
            var database = await strategy.AcquireAsync(cancellationToken);
            // What the test's Db and a derived pool do first: a command on a pooled connection, which must not be dead.
            await using (var pooled = await OpenAsync(database.ConnectionString))
            {
                await ExecuteAsync(pooled, "SELECT 1");
            }

            // The hostile move first: the workload ends with a transaction left open, whose locks DDL would wait for.
            await PlayAsync(hostile, database, random);
            var workload = new RandomWorkload(database.ConnectionString, pair);
            var leftOpen = await workload.RunAsync(connections: 2, operations: 20);

            try
            {
                await strategy.ReleaseAsync(database, cancellationToken);
            }
            catch (TestKitException reported) when (kind == IsolationStrategy.MigrateErase && hostile == Hostile.CommentOnPublicSchema
                && reported.Message.Contains("differs from its empty baseline", StringComparison.Ordinal))
            {
                // migrate-erase's own check: the database was replaced, and the next test gets a fresh one.
            }

            foreach (var connection in leftOpen)
            {
                await DisposeLeftoverAsync(connection);
            }
        }

        TestContext.Current?.Output.WriteLine($"{pairs} pairs under {kind}: " + string.Join(", ", counts.OrderBy(pair => pair.Key).Select(pair => $"{pair.Key} {pair.Value}")));
        await own.DisposeAsync();
        await AssertNothingLeftAsync(run);
    }

    private static async Task PlayAsync(Hostile hostile, PooledDatabase database, Random random)
    {
        var sql = hostile switch
        {
            Hostile.ReplicaModeDdl => "SET session_replication_role = replica; " + random.Next(4) switch
            {
                0 => "CREATE TABLE leak (id int)",
                1 => "ALTER TABLE customers ADD COLUMN leaked int",
                2 => "CREATE INDEX leak_idx ON products (name)",
                _ => "ALTER TABLE orders DISABLE TRIGGER orders_log_status",
            },
            Hostile.SequenceSetBackToUnused => $"SELECT setval(pg_get_serial_sequence('{(random.Next(2) == 0 ? "customers" : "orders")}', 'id'), {random.Next(2, 5000)}, false)",
            Hostile.AdvisoryLockOnPooledSession => $"SELECT pg_advisory_lock({random.Next(1, 4)})",
            Hostile.LargeObject => "SELECT lo_from_bytea(0, 'x')",
            Hostile.CommentOnPublicSchema => "COMMENT ON SCHEMA public IS 'x'",
            Hostile.DerivedConnectionString => "INSERT INTO customers (name, email, country_code) VALUES ('Derived', 'derived@example.com', 'DE')",
            _ => null,
        };
        if (sql is null)
        {
            return;
        }

        // Pooled, as a test's Db or its own pool would be: back in the pool with whatever the session keeps.
        var connectionString = hostile == Hostile.DerivedConnectionString
            ? new NpgsqlConnectionStringBuilder(database.ConnectionString) { CommandTimeout = 30 }.ConnectionString
            : database.ConnectionString;
        await using var connection = await OpenAsync(connectionString);
        await ExecuteAsync(connection, sql);
    }
}
