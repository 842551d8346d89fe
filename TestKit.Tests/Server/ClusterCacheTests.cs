using Npgsql;
using TestKit.Server.Embedded;

namespace TestKit.Tests;

/// <summary>
/// The embedded server starts from the cluster cached in the user's cache folder (initdb's output, copied), and each run's
/// server still gets a superuser password of its own.
/// </summary>
public sealed class ClusterCacheTests
{
    [Test]
    [Timeout(180_000)]
    [NotInParallel(FaultOrphanTests.EmbeddedStartsKey)]
    public async Task A_server_started_from_the_cached_cluster_does_not_take_the_cached_password(CancellationToken cancellationToken)
    {
        // The first start fills the cache when it is empty; the second one surely copies it.
        await using (await EmbeddedServer.StartAsync(KitTest.BinDirectory, keepIdle: null, logger: null, cancellationToken))
        {
        }

        var cache = ClusterCache.For((await PgCtl.LocateAsync(KitTest.BinDirectory, cancellationToken)).Binaries);
        await Assert.That(cache).IsNotNull();
        var copy = Path.Combine(Path.GetTempPath(), "testkit-cluster-" + Guid.NewGuid().ToString("N"));
        string? cachedPassword;
        try
        {
            cachedPassword = await cache!.TryCopyToAsync(copy, cancellationToken);
            await Assert.That(cachedPassword).IsNotNull().Because("a server start fills the cache");
            await Assert.That(File.Exists(Path.Combine(copy, "PG_VERSION"))).IsTrue();
        }
        finally
        {
            if (Directory.Exists(copy))
            {
                Directory.Delete(copy, recursive: true);
            }
        }

        await using var server = await EmbeddedServer.StartAsync(KitTest.BinDirectory, keepIdle: null, logger: null, cancellationToken);
        await using (var admin = await server.Admin.OpenConnectionAsync(cancellationToken))
        await using (var command = new NpgsqlCommand("SELECT rolsuper FROM pg_roles WHERE rolname = current_user", admin))
        {
            await Assert.That((bool)(await command.ExecuteScalarAsync(cancellationToken))!).IsTrue();
        }

        var withCachedPassword = new NpgsqlConnectionStringBuilder(server.ConnectionStringFor("postgres").ConnectionString) { Password = cachedPassword, Pooling = false };
        await using var stranger = new NpgsqlConnection(withCachedPassword.ConnectionString);
        var refused = await Assert.That(async () => await stranger.OpenAsync(cancellationToken)).Throws<PostgresException>();
        await Assert.That(refused!.SqlState).IsEqualTo(PostgresErrorCodes.InvalidPassword).Because("the cached cluster's password must not open a run's server");
    }

    [Test]
    [Timeout(180_000)]
    [NotInParallel(FaultOrphanTests.EmbeddedStartsKey)]
    [Arguments("a file gone")]
    [Arguments("a file unreadable")]
    public async Task A_damaged_cached_cluster_is_passed_over_and_replaced(string damage, CancellationToken cancellationToken)
    {
        await using (await EmbeddedServer.StartAsync(KitTest.BinDirectory, keepIdle: null, logger: null, cancellationToken))
        {
        }

        var cache = ClusterCache.For((await PgCtl.LocateAsync(KitTest.BinDirectory, cancellationToken)).Binaries)!;
        var control = Path.Combine(cache.DataDirectory, "global", "pg_control");
        File.Delete(control);
        if (damage == "a file unreadable")
        {
            // Listed as a file, but reading it fails (a dangling link): the copy's parallel loop used to throw AggregateException.
            File.CreateSymbolicLink(control, Path.Combine(cache.DataDirectory, "no-such-file"));
        }

        await using (var server = await EmbeddedServer.StartAsync(KitTest.BinDirectory, keepIdle: null, logger: null, cancellationToken))
        await using (var admin = await server.Admin.OpenConnectionAsync(cancellationToken))
        await using (var command = new NpgsqlCommand("SELECT 1", admin))
        {
            await Assert.That(await command.ExecuteScalarAsync(cancellationToken)).IsEqualTo(1);
        }

        await Assert.That(new FileInfo(control).LinkTarget).IsNull().Because("the damaged entry is replaced by initdb's output");
        await Assert.That(File.Exists(control)).IsTrue();
    }
}
