using Npgsql;

namespace TestKit.Server;

/// <summary>
/// The settings of the kit's own bookkeeping sessions (admin, template builds): what the kit commits there — markers,
/// template states, passwords — must survive a crash of a server that runs with <c>synchronous_commit = off</c> (as the
/// embedded one does), or a crash would hand a test a database whose marker was lost.
/// </summary>
internal static class KitSessionSettings
{
    /// <summary>Startup options for such a session (libpq "options"). On tmpfs with fsync off a commit costs one WAL write.</summary>
    private const string Durable = "-c synchronous_commit=on";

    /// <summary>A copy of <paramref name="builder"/> whose sessions commit durably; its own options are kept.</summary>
    internal static NpgsqlConnectionStringBuilder Apply(NpgsqlConnectionStringBuilder builder) =>
        new(builder.ConnectionString) { Options = $"{builder.Options} {Durable}".Trim() };
}
