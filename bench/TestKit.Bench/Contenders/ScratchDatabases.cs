using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using Npgsql;

namespace TestKit.Bench.Contenders;

/// <summary>
/// The databases the bench's own contenders create next to TestKit's (bench_&lt;run&gt;_&lt;n&gt;): made
/// empty, migrated, or cloned from a template; each dropped by its contender, and whatever is left at dispose.
/// </summary>
internal sealed class ScratchDatabases(BenchServer server) : IAsyncDisposable
{
    private readonly string _prefix = "bench_" + RandomNumberGenerator.GetHexString(8, lowercase: true) + "_";
    private readonly ConcurrentDictionary<string, bool> _live = new(StringComparer.Ordinal);
    private int _counter;
    private string? _cloneStrategy;

    internal BenchServer Server => server;

    internal string ConnectionStringFor(string database) => server.ConnectionStringFor(database);

    /// <summary>
    /// A new database: empty (from template0) or a copy of <paramref name="template"/>, copied the server's fastest way, as the
    /// kit copies its clones: by file copy on a server without fsync from PostgreSQL 15 on (the embedded one), else WAL_LOG.
    /// </summary>
    internal async Task<string> CreateAsync(string? template, CancellationToken cancellationToken)
    {
        var name = _prefix + Interlocked.Increment(ref _counter).ToString("D4", CultureInfo.InvariantCulture);
        _cloneStrategy ??= await FileCopyIsFasterAsync(cancellationToken) ? " STRATEGY FILE_COPY" : string.Empty;
        await server.ExecuteAsync($"CREATE DATABASE {BenchServer.Quote(name)} TEMPLATE {BenchServer.Quote(template ?? "template0")}{_cloneStrategy}", cancellationToken);
        _live[name] = true;
        return name;
    }

    private async Task<bool> FileCopyIsFasterAsync(CancellationToken cancellationToken)
    {
        await using var command = server.Admin.CreateCommand("SELECT current_setting('server_version_num')::int >= 150000 AND current_setting('fsync') = 'off'");
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>A new database migrated to head by Evolve, with no connection left open to it (so it can serve as a template).</summary>
    internal async Task<string> CreateMigratedAsync(IReadOnlyList<string> folders, CancellationToken cancellationToken)
    {
        var name = await CreateAsync(template: null, cancellationToken);
        var connectionString = ConnectionStringFor(name);
        BareEvolve.Migrate(connectionString, folders);
        NpgsqlConnection.ClearPool(new NpgsqlConnection(connectionString));
        return name;
    }

    internal async Task DropAsync(string name, CancellationToken cancellationToken)
    {
        NpgsqlConnection.ClearPool(new NpgsqlConnection(ConnectionStringFor(name)));
        await server.ExecuteAsync($"DROP DATABASE IF EXISTS {BenchServer.Quote(name)} WITH (FORCE)", cancellationToken);
        _live.TryRemove(name, out _);
    }

    /// <summary>Drops every database still here; one that fails to drop does not stop the others.</summary>
    public async ValueTask DisposeAsync()
    {
        var errors = new List<Exception>();
        foreach (var name in _live.Keys)
        {
            try
            {
                await DropAsync(name, CancellationToken.None);
            }
            catch (NpgsqlException error)
            {
                errors.Add(error);
            }
        }

        if (errors.Count > 0)
        {
            throw new AggregateException("The bench could not drop all of its databases.", errors);
        }
    }
}
