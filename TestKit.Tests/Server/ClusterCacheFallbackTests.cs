namespace TestKit.Tests;

/// <summary>
/// The cluster cache falls back without a server: TESTKIT_CLUSTER_CACHE=off gives no entry; an entry missing one of its
/// files is reported as missing and removed, so that the next fill replaces it; a cache folder that cannot be written makes
/// the fill give up quietly (the embedded server then keeps initdb's output). The entries here are in folders of their own,
/// filled from a small stand-in for initdb's output.
/// </summary>
public sealed class ClusterCacheFallbackTests
{
    [Test]
    [NotInParallel] // It sets TESTKIT_CLUSTER_CACHE, which every embedded server start in this process reads.
    [Arguments("off")]
    [Arguments("OFF")]
    public async Task TESTKIT_CLUSTER_CACHE_off_gives_no_cache_entry(string setting)
    {
        var programs = TempFolders.Create();
        // For names an entry only for an installation whose initdb is there.
        await File.WriteAllTextAsync(Path.Combine(programs, "initdb"), string.Empty);
        var binaries = new PostgresBinaries(programs);
        var before = Environment.GetEnvironmentVariable("TESTKIT_CLUSTER_CACHE");
        try
        {
            Environment.SetEnvironmentVariable("TESTKIT_CLUSTER_CACHE", setting);
            await Assert.That(ClusterCache.For(binaries)).IsNull();

            Environment.SetEnvironmentVariable("TESTKIT_CLUSTER_CACHE", null);
            await Assert.That(ClusterCache.For(binaries)).IsNotNull().Because("the same installation has an entry when the cache is on");
        }
        finally
        {
            Environment.SetEnvironmentVariable("TESTKIT_CLUSTER_CACHE", before);
            Directory.Delete(programs, recursive: true);
        }
    }

    [Test]
    public async Task An_entry_missing_a_file_is_reported_missing_and_removed_and_the_next_fill_replaces_it(CancellationToken cancellationToken)
    {
        using var scratch = new Scratch();
        var (cluster, cache) = (scratch.Cluster, scratch.Cache);
        await cache.FillAsync(cluster, "first", cancellationToken);
        File.Delete(Path.Combine(cache.DataDirectory, "global", "pg_control"));

        var copy = Path.Combine(scratch.Root, "copy");
        await Assert.That(await cache.TryCopyToAsync(copy, cancellationToken)).IsNull();
        await Assert.That(Directory.Exists(Path.Combine(scratch.Root, "entry"))).IsFalse().Because("a damaged entry is removed");
        await Assert.That(Directory.Exists(copy)).IsFalse().Because("the half copy is removed too");

        await cache.FillAsync(cluster, "second", cancellationToken);
        await Assert.That(await cache.TryCopyToAsync(copy, cancellationToken)).IsEqualTo("second");
        await Assert.That(File.Exists(Path.Combine(copy, "global", "pg_control"))).IsTrue();
    }

    [Test]
    public async Task A_damaged_entry_is_removed_only_while_it_is_the_one_copied(CancellationToken cancellationToken)
    {
        using var scratch = new Scratch();
        var (cluster, cache) = (scratch.Cluster, scratch.Cache);
        // Another run found the entry damaged and filled a new one (a new password) while this run copied the old one.
        await cache.FillAsync(cluster, "second", cancellationToken);
        cache.RemoveDamaged("first");
        await Assert.That(await cache.TryCopyToAsync(Path.Combine(scratch.Root, "copy"), cancellationToken)).IsEqualTo("second")
            .Because("the entry that took the damaged one's place is put back");

        cache.RemoveDamaged("second");
        await Assert.That(Directory.Exists(Path.Combine(scratch.Root, "entry"))).IsFalse().Because("the damaged entry itself is removed");
        await Assert.That(Directory.GetDirectories(scratch.Root, "entry.damaged-*")).IsEmpty().Because("nothing is left aside");
    }

    [Test]
    public async Task A_fill_leaves_a_complete_entry_as_it_is(CancellationToken cancellationToken)
    {
        using var scratch = new Scratch();
        var (cluster, cache) = (scratch.Cluster, scratch.Cache);
        await cache.FillAsync(cluster, "first", cancellationToken);
        await cache.FillAsync(cluster, "second", cancellationToken);

        await Assert.That(await cache.TryCopyToAsync(Path.Combine(scratch.Root, "copy"), cancellationToken)).IsEqualTo("first");
        await Assert.That(Directory.GetDirectories(scratch.Root, "entry.filling-*")).IsEmpty().Because("the second fill's staging folder is removed");
    }

    [Test]
    public async Task A_cache_folder_that_cannot_be_written_makes_the_fill_give_up_quietly(CancellationToken cancellationToken)
    {
        using var scratch = new Scratch();
        var cluster = scratch.Cluster;
        // A file where the cache folder should be: nothing can be made under it, whoever runs the tests (root included).
        var root = Path.Combine(scratch.Root, "cache");
        await File.WriteAllTextAsync(root, string.Empty, cancellationToken);
        var cache = new ClusterCache(Path.Combine(root, "testkit", "clusters", "entry"));

        await cache.FillAsync(cluster, "password", cancellationToken);

        await Assert.That(await cache.TryCopyToAsync(Path.Combine(scratch.Root, "copy"), cancellationToken)).IsNull().Because("nothing was cached");
        await Assert.That(File.Exists(Path.Combine(cluster, "global", "pg_control"))).IsTrue().Because("the server's own cluster is untouched");
    }

    /// <summary>A folder of its own, deleted at dispose, with a stand-in for initdb's output (a few files in folders) and a cache entry to fill from it.</summary>
    private sealed class Scratch : IDisposable
    {
        internal Scratch()
        {
            Directory.CreateDirectory(Path.Combine(Cluster, "global"));
            Directory.CreateDirectory(Path.Combine(Cluster, "base", "1"));
            File.WriteAllText(Path.Combine(Cluster, "PG_VERSION"), "17\n");
            File.WriteAllText(Path.Combine(Cluster, "global", "pg_control"), "control");
            File.WriteAllText(Path.Combine(Cluster, "base", "1", "1259"), "pg_class");
            Cache = new ClusterCache(Path.Combine(Root, "entry"));
        }

        internal string Root { get; } = TempFolders.Create();

        internal string Cluster => Path.Combine(Root, "cluster");

        internal ClusterCache Cache { get; }

        public void Dispose() => Directory.Delete(Root, recursive: true);
    }
}
