using Microsoft.Extensions.Logging;
using Npgsql;
using TestKit.Diagnostics;
using TestKit.Server;

namespace TestKit.Databases;

/// <summary>
/// Drops the databases and login roles a dead run left: one killed before its cleanup (SIGKILL, a crashed CI agent). A run
/// is dead when its run lock is free, no session of the run is left on the server
/// (its lock connection, or one in a database of the run: that covers a live run whose lock connection a server restart
/// ended), and, on this host, its process is gone. A database of this run, of a live run, or kept for inspection is left
/// alone. One sweep at a time tries run locks (see <see cref="AdvisoryLockKeys.Sweep"/>).
/// </summary>
internal sealed class OrphanSweep(ServerRun run, NpgsqlConnection admin, CancellationToken cancellationToken) : IAsyncDisposable
{
    private readonly Dictionary<string, bool> _verdicts = new(StringComparer.Ordinal);
    private NpgsqlConnection? _lockConnection;

    /// <summary>Sweeps the server of <paramref name="run"/>; what it cannot drop it logs, and goes on.</summary>
    internal static async Task RunAsync(ServerRun run, CancellationToken cancellationToken)
    {
        var admin = await ServerErrors.OpenAsync(run.Server.Admin, "the admin connection", cancellationToken).ConfigureAwait(false);
        var sweep = new OrphanSweep(run, admin, cancellationToken);
        await using var disposingSweep = sweep.ConfigureAwait(false);
        await sweep.DatabasesAsync().ConfigureAwait(false);
        await sweep.RolesAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_lockConnection is not null)
        {
            // Closing it releases the sweep lock.
            await _lockConnection.DisposeAsync().ConfigureAwait(false);
        }

        await admin.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// The databases of dead runs: those with a run's marker, and those a run created but had not marked yet when it was
    /// killed (CREATE DATABASE and COMMENT are two statements, and CREATE DATABASE cannot run in a transaction): the name
    /// <c>testkit_RUNID_NNN</c> names the run, whose run lock it held before it created the database.
    /// </summary>
    private async Task DatabasesAsync()
    {
        var unmarked = await Sql.QueryAsync(
            admin,
            "SELECT datname FROM pg_database WHERE shobj_description(oid, 'pg_database') IS NULL AND datname ~ $1",
            reader => reader.GetString(0),
            cancellationToken,
            RunMarker.NamePattern).ConfigureAwait(false);
        var databases = (await MarkedAsync("SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database WHERE starts_with(shobj_description(oid, 'pg_database'), $1)").ConfigureAwait(false))
            .Select(database => (database.Name, Comment: (string?)database.Comment, Marker: RunMarker.Parse(database.Comment)!))
            .Concat(unmarked.Select(name => (Name: name, Comment: (string?)null, Marker: RunMarker.OfUnmarked(name))))
            .Where(database => database.Marker.RunId != run.Marker.RunId);
        foreach (var (name, comment, marker) in databases)
        {
            // DROP DATABASE cannot run inside a function: check the marker once more, then drop.
            if (await IsDeadAsync(marker, comment ?? marker.RunId).ConfigureAwait(false)
                && await Sql.ScalarAsync<string>(admin, "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1", cancellationToken, name).ConfigureAwait(false) == comment)
            {
                try
                {
                    await PreparedTransactions.RollBackInAsync(run.Server, admin, name, cancellationToken).ConfigureAwait(false);
                    await Sql.ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {Sql.Quote(name)} WITH (FORCE)", cancellationToken).ConfigureAwait(false);
                }
                catch (Exception e) when (e is PostgresException or TestKitException)
                {
                    // Another run sweeping at the same time, say: a leftover must not stop this run.
                    run.Logger.LogWarning(e, "TestKit could not drop the database {Database} of a dead run: {Reason}", name, e.Message);
                }
            }
        }
    }

    private async Task RolesAsync()
    {
        foreach (var (name, comment) in await MarkedAsync("SELECT rolname, shobj_description(oid, 'pg_authid') FROM pg_roles WHERE starts_with(shobj_description(oid, 'pg_authid'), $1)").ConfigureAwait(false))
        {
            if (await IsDeadAsync(RunMarker.Parse(comment)!, comment).ConfigureAwait(false))
            {
                try
                {
                    await Sql.ExecuteAsync(admin, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", cancellationToken, name).ConfigureAwait(false);
                    await Sql.ExecuteAsync(admin, $"DROP ROLE IF EXISTS {Sql.Quote(name)}", cancellationToken).ConfigureAwait(false);
                }
                catch (PostgresException e)
                {
                    // Something outside the dropped databases still depends on it, or another run dropped it at the same time.
                    run.Logger.LogWarning(e, "TestKit could not drop the login role {Role} of a dead run: {Reason}", name, e.MessageText);
                }
            }
        }
    }

    /// <summary>Names and comments of the objects <paramref name="query"/> finds with a run's marker, this run's own left out.</summary>
    private async Task<List<(string Name, string Comment)>> MarkedAsync(string query)
    {
        var marked = await Sql.QueryAsync(admin, query, reader => (Name: reader.GetString(0), Comment: reader.GetString(1)), cancellationToken, RunMarker.Prefix).ConfigureAwait(false);
        var own = run.Marker.Format();
        return [.. marked.Where(item => item.Comment != own)];
    }

    /// <summary>Whether the run of <paramref name="marker"/> is dead; asked once per <paramref name="key"/> (its marker's text).</summary>
    private async Task<bool> IsDeadAsync(RunMarker marker, string key)
    {
        if (_verdicts.TryGetValue(key, out var dead))
        {
            return dead;
        }

        var sameHost = marker.Host == run.Marker.Host;
        var processGone = marker.ProcessId is { } pid && !IsAlive(pid);
        if (!sameHost || processGone)
        {
            dead = await HoldsNoLockAndNoSessionAsync(marker).ConfigureAwait(false);
        }

        _verdicts[key] = dead;
        return dead;
    }

    /// <summary>
    /// True when the run of <paramref name="marker"/> holds no run lock and has no session on the server. The sessions are
    /// counted while this sweep holds the run's lock, so a live run that is taking its lock again shows up as a session.
    /// </summary>
    private async Task<bool> HoldsNoLockAndNoSessionAsync(RunMarker marker)
    {
        if (_lockConnection is null)
        {
            _lockConnection = await KitConnections.OpenUnpooledAsync(run.Server, run.Server.LockDatabase, ApplicationNames.Kit, cancellationToken).ConfigureAwait(false);
            await AdvisoryLocks.LockAsync(_lockConnection, AdvisoryLockKeys.Sweep, cancellationToken).ConfigureAwait(false);
        }

        var quiet = false;
        await AdvisoryLocks.WhileHeldAsync(
            _lockConnection,
            AdvisoryLockKeys.Run(marker.RunId),
            async () => quiet = !await Sql.ScalarAsync<bool>(
                admin,
                "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'client backend' AND (starts_with(datname, $1) OR application_name = $2))",
                cancellationToken,
                marker.NamePrefix,
                ApplicationNames.Run(marker.RunId)).ConfigureAwait(false),
            cancellationToken,
            onlyIfFree: true).ConfigureAwait(false);
        return quiet;
    }

    private static bool IsAlive(int processId)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(processId);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            // No process has that id.
            return false;
        }
    }
}
