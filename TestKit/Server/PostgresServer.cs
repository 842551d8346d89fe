using Npgsql;

namespace TestKit.Server;

/// <summary>A running PostgreSQL server the kit may create its own databases on.</summary>
/// <param name="builder">The admin role's connection string to the maintenance database.</param>
/// <param name="admin">Pooled connections of that connection string.</param>
internal abstract class PostgresServer(NpgsqlConnectionStringBuilder builder, NpgsqlDataSource admin) : IAsyncDisposable
{
    /// <summary>For output: "embedded PostgreSQL 15.18 at 127.0.0.1:41234" or the masked external address.</summary>
    public string Description { get; protected set; } = string.Empty;

    /// <summary>The server's version number (server_version_num, 150018 for 15.18): part of a template's fingerprint.</summary>
    public string Version { get; protected set; } = string.Empty;

    /// <summary>Pooled connections to the maintenance database, as the admin role.</summary>
    public NpgsqlDataSource Admin { get; } = admin;

    /// <summary>
    /// The database every run on this server takes its advisory locks in (they belong to the database they are taken in):
    /// postgres when the server has it and the role may connect to it, else the configured maintenance database. Chosen once.
    /// </summary>
    public string LockDatabase { get; protected init; } = "postgres";

    /// <summary>The admin role's connection string to the maintenance database.</summary>
    protected NpgsqlConnectionStringBuilder Builder { get; } = builder;

    /// <summary>A new connection-string builder for <paramref name="database"/> on this server, same credentials.</summary>
    public NpgsqlConnectionStringBuilder ConnectionStringFor(string database) => new(Builder.ConnectionString) { Database = database };

    /// <summary>A shell command that opens <paramref name="database"/> in psql, with no password in it.</summary>
    public abstract string PsqlCommand(string database);

    public abstract ValueTask DisposeAsync();
}
