using System.Globalization;

namespace TestKit.Server.Embedded;

/// <summary>The settings every embedded server runs with (postgres -c options), and why each; part of a kept server's identity.</summary>
internal static class ServerSettings
{
    /// <summary>The server's settings (postgres -c options) in <paramref name="folder"/> at <paramref name="port"/>.</summary>
    internal static string For(EmbeddedFolder folder, int port) =>
        string.Join(' ',
            "-c listen_addresses=127.0.0.1",
            $"-c port={port.ToString(CultureInfo.InvariantCulture)}",
            // The socket lives in the run's own folder, so runs never collide on /var/run/postgresql.
            $"-c unix_socket_directories={folder.Root}",
            // Durability off: the data is thrown away at the end of the run.
            // See https://www.postgresql.org/docs/current/non-durability.html
            "-c fsync=off",
            "-c synchronous_commit=off",
            "-c full_page_writes=off",
            // Evolve erases every object of a schema in one transaction, a lock each: at the default 64 per connection,
            // a schema of 800 tables runs the server out of shared memory (about 10 MB more at 100 connections).
            "-c max_locks_per_transaction=512",
            // Dynamic shared memory as files in the data folder when that is on tmpfs (no disk I/O) instead of
            // /dev/shm/PostgreSQL.*: a server killed outright leaves its segments where the orphan sweep removes them.
            folder.InSharedMemory ? "-c dynamic_shared_memory_type=mmap" : string.Empty).Trim();
}
