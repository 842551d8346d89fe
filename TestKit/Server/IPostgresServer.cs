using Npgsql;

namespace TestKit.Server;

/// <summary>A running PostgreSQL server the kit may create its own databases on.</summary>
internal interface IPostgresServer : IAsyncDisposable
{
    /// <summary>For output: "embedded PostgreSQL 15.18 at 127.0.0.1:41234" or the masked external address.</summary>
    string Description { get; }

    /// <summary>The server's version number (server_version_num, 150018 for 15.18): part of a template's fingerprint.</summary>
    string Version { get; }

    /// <summary>Pooled connections to the maintenance database, as the admin role.</summary>
    NpgsqlDataSource Admin { get; }

    /// <summary>
    /// The database every run on this server takes its advisory locks in (they belong to the database they are taken in):
    /// postgres when the server has it and the role may connect to it, else the configured maintenance database. Chosen once.
    /// </summary>
    string LockDatabase { get; }

    /// <summary>A new connection-string builder for <paramref name="database"/> on this server, same credentials.</summary>
    NpgsqlConnectionStringBuilder ConnectionStringFor(string database);

    /// <summary>A shell command that opens <paramref name="database"/> in psql, with no password in it.</summary>
    string PsqlCommand(string database);
}
