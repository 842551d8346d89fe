using System.Globalization;
using TestKit.Server;

namespace TestKit.Databases;

/// <summary>
/// Every advisory-lock key the kit uses, each a hash of what it locks: no fixed ids to collide with other software (Evolve's
/// cluster lock is 12345). Advisory locks belong to the database they are taken in: the kit takes them all in the
/// server's <see cref="Server.PostgresServer.LockDatabase"/>, so that every run on a server sees them.
/// </summary>
internal static class AdvisoryLockKeys
{
    /// <summary>Held by a run while it holds any database of its own (see <see cref="ServerLocks"/>).</summary>
    internal static long Run(string runId) => Hash("testkit-run:" + runId);

    /// <summary>Held by a sweep while it tries other runs' locks: one sweep at a time, so that a run lock a sweep holds for a moment is never taken by another sweep for a sign that the run lives.</summary>
    internal static long Sweep { get; } = Hash("testkit-sweep");

    /// <summary>
    /// Held while a migration set is applied for the first time on a server (a template build, a run's first
    /// migrate-erase migration): objects every database of a server shares (roles) are then created by one migration at
    /// a time, and the next finds them.
    /// </summary>
    internal static long FirstMigrations { get; } = Hash("testkit-first-migrations");

    /// <summary>A template's lock for <paramref name="purpose"/> ("build", held exclusively; "use", held shared by its users).</summary>
    internal static long Template(string fingerprint, string purpose) => Hash("testkit|" + fingerprint + "|" + purpose);

    /// <summary>One of the slots that bound the kit's databases on a server across processes.</summary>
    internal static long ServerSlot(int slot) => Hash("testkit-slot:" + slot.ToString(CultureInfo.InvariantCulture));

    private static long Hash(string text) => BitConverter.ToInt64(Hashes.Sha256(text), 0);
}
