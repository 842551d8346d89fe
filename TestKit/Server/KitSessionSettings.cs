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

    /// <summary>
    /// The most admin connections a run keeps open to a server: admin work (create, drop, rename) is short, and waits for
    /// a free connection rather than open more than the README's sizing counts.
    /// </summary>
    internal const int AdminConnections = 3;

    /// <summary>A copy of <paramref name="builder"/> whose sessions commit durably; its own options are kept.</summary>
    internal static NpgsqlConnectionStringBuilder Apply(NpgsqlConnectionStringBuilder builder) =>
        new(builder.ConnectionString) { Options = $"{builder.Options} {Durable}".Trim() };

    /// <summary>The connection string of the server's pooled admin connections: durable, and at most <see cref="AdminConnections"/>.</summary>
    internal static string Admin(NpgsqlConnectionStringBuilder builder)
    {
        var admin = Apply(builder);
        admin.MaxPoolSize = AdminConnections;
        admin.MinPoolSize = 0;
        return admin.ConnectionString;
    }
}
