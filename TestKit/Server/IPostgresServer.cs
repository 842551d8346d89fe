using Npgsql;

namespace TestKit.Server;

/// <summary>A running PostgreSQL server the kit may create its own databases on.</summary>
internal interface IPostgresServer : IAsyncDisposable
{
    /// <summary>For output: "embedded PostgreSQL 15.18 at 127.0.0.1:41234" or the masked external address.</summary>
    string Description { get; }

    /// <summary>Pooled connections to the maintenance database, as the admin role.</summary>
    NpgsqlDataSource Admin { get; }

    /// <summary>A new connection-string builder for <paramref name="database"/> on this server, same credentials.</summary>
    NpgsqlConnectionStringBuilder ConnectionStringFor(string database);
}
