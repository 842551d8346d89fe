using System.Collections.Concurrent;
using Npgsql;
using TestKit.Diagnostics;
using TestKit.Server;

namespace TestKit.Databases;

/// <summary>
/// Creates, drops, renames and keeps a run's databases on one server. Every database it creates carries the run's marker
/// (a database comment); it touches only databases that carry it, or the very database (same OID) it created — never one
/// recognised by its name alone. While the run holds any database it holds its run lock (see <see cref="ServerLocks"/>).
/// </summary>
internal sealed class DatabaseCatalog(ServerRun run)
{
    private readonly ConcurrentDictionary<string, uint> _createdOids = new(StringComparer.Ordinal);
    private string? _cloneStrategy;
    private int _created;
    private int _dropped;

    /// <summary>How many databases this run created.</summary>
    internal int Created => Volatile.Read(ref _created);

    /// <summary>How many databases this run dropped.</summary>
    internal int Dropped => Volatile.Read(ref _dropped);

    /// <summary>Creates a new database, marked as this run's: empty, or a clone of <paramref name="template"/>.</summary>
    internal async Task<string> CreateAsync(CancellationToken cancellationToken, string? template = null)
    {
        using var step = KitTracing.StartChild(template is null ? "testkit.create" : "testkit.clone");
        var name = run.NextName();
        var connection = await ServerErrors.OpenAsync(run.Server.Admin, "the admin connection", cancellationToken).ConfigureAwait(false);
        await using var disposingConnection = connection.ConfigureAwait(false);
        // template0 for an empty database: the pristine template, so a user's additions to template1 never leak into tests.
        var source = template is null ? "template0 ENCODING 'UTF8'" : Sql.Quote(template) + await CloneStrategyAsync(connection).ConfigureAwait(false);
        // Not cancellable once sent: a CREATE that completes while its cancellation is on the way would leave a
        // database no one knows of (the template strategy's filler is stopped by cancellation at the end of a run).
        cancellationToken.ThrowIfCancellationRequested();
        // A database of the run is never on the server without the lock that tells other runs the run is alive.
        await run.Locks.HoldRunAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await Sql.ExecuteAsync(connection, $"CREATE DATABASE {Sql.Quote(name)} TEMPLATE {source}", CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception error)
        {
            await run.Locks.LetGoRunAsync().ConfigureAwait(false);
            if (error is PostgresException { SqlState: PostgresErrorCodes.InsufficientPrivilege } refused)
            {
                throw new TestKitException(
                    $"The server refused to create database {name}: {refused.MessageText}. TestKit needs a role with CREATEDB; run ALTER ROLE ... CREATEDB as a superuser.",
                    refused) { SqlState = refused.SqlState };
            }

            throw;
        }

        Interlocked.Increment(ref _created);
        _createdOids[name] = await Sql.ScalarAsync<uint>(connection, "SELECT oid FROM pg_database WHERE datname = $1", CancellationToken.None, name).ConfigureAwait(false);
        await Sql.ExecuteFormattedAsync(connection, "COMMENT ON DATABASE %I IS %L", CancellationToken.None, name, run.Marker.Format()).ConfigureAwait(false);

        return name;
    }

    /// <summary>
    /// How a clone copies its template. By file copy where the server runs without fsync (the embedded server): its two
    /// checkpoints then only write to memory, and the clone takes about half of WAL_LOG's time (18 against 34 ms with the
    /// sample migrations, 190 against 430-525 ms with 800 tables). Elsewhere the server's default (WAL_LOG since
    /// PostgreSQL 15), as a checkpoint forced per test could take seconds on a durable server.
    /// </summary>
    private async Task<string> CloneStrategyAsync(NpgsqlConnection connection) =>
        _cloneStrategy ??= await Sql.ScalarAsync<bool>(
            connection,
            "SELECT current_setting('server_version_num')::int >= 150000 AND current_setting('fsync') = 'off'",
            CancellationToken.None).ConfigureAwait(false)
            ? " STRATEGY FILE_COPY"
            : string.Empty;

    /// <summary>
    /// True when <paramref name="database"/> exists and is this run's: it carries the run's marker, or it is the very
    /// database (same OID) this run created, even if a test overwrote its comment.
    /// </summary>
    internal async Task<bool> IsOursAsync(NpgsqlConnection admin, string database, CancellationToken cancellationToken)
    {
        var rows = await Sql.QueryAsync(
            admin,
            "SELECT oid, shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1",
            reader => (Oid: reader.GetFieldValue<uint>(0), Comment: reader.IsDBNull(1) ? null : reader.GetString(1)),
            cancellationToken,
            database).ConfigureAwait(false);
        return rows.Count == 1
            && (rows[0].Comment == run.Marker.Format() || (_createdOids.TryGetValue(database, out var oid) && oid == rows[0].Oid));
    }

    /// <summary>Drops <paramref name="database"/>, closing its connections, after checking it is this run's.</summary>
    internal async Task DropAsync(string database, CancellationToken cancellationToken)
    {
        var connection = await ServerErrors.OpenAsync(run.Server.Admin, "the admin connection", cancellationToken).ConfigureAwait(false);
        await using var disposingConnection = connection.ConfigureAwait(false);
        await EnsureOursAsync(connection, database, cancellationToken).ConfigureAwait(false);
        await PreparedTransactions.RollBackInAsync(run.Server, connection, database, cancellationToken).ConfigureAwait(false);

        // FORCE ends the sessions a test left open, instead of waiting for them (PostgreSQL 13+).
        await Sql.ExecuteAsync(connection, $"DROP DATABASE IF EXISTS {Sql.Quote(database)} WITH (FORCE)", cancellationToken).ConfigureAwait(false);
        await ForgetAsync(database).ConfigureAwait(false);
        Interlocked.Increment(ref _dropped);
    }

    /// <summary>
    /// Keeps <paramref name="database"/> for inspection: ends its sessions, renames it to <paramref name="keptName"/>
    /// and marks it kept, so that the end of the run does not drop it. Returns the name it got.
    /// </summary>
    internal async Task<string> KeepAsync(string database, string keptName, CancellationToken cancellationToken)
    {
        var connection = await ServerErrors.OpenAsync(run.Server.Admin, "the admin connection", cancellationToken).ConfigureAwait(false);
        await using var disposingConnection = connection.ConfigureAwait(false);
        await EnsureOursAsync(connection, database, cancellationToken).ConfigureAwait(false);
        var name = keptName;
        if (await Sql.ScalarAsync<bool>(connection, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", cancellationToken, name).ConfigureAwait(false))
        {
            name = $"{keptName[..Math.Min(keptName.Length, 50)]}_{database[^3..]}";
        }

        await DatabaseSessions.EndAllAndRenameAsync(run.Server, connection, database, name, cancellationToken).ConfigureAwait(false);
        await Sql.ExecuteFormattedAsync(connection, "COMMENT ON DATABASE %I IS %L", cancellationToken, name, run.Marker.FormatKept()).ConfigureAwait(false);
        // Only once it is marked kept: until then it carries the run's marker, which the run lock protects.
        await ForgetAsync(database).ConfigureAwait(false);
        return name;
    }

    /// <summary>
    /// Gives <paramref name="database"/>, one of this run's, a new name of this run for its next lease, and returns it.
    /// Every session in it is ended first: a connection string (or an open connection) a test kept past its end then
    /// reaches nothing, instead of the next test's database.
    /// </summary>
    internal async Task<string> RenameForNextLeaseAsync(string database, CancellationToken cancellationToken)
    {
        var name = run.NextName();
        var connection = await ServerErrors.OpenAsync(run.Server.Admin, "the admin connection", cancellationToken).ConfigureAwait(false);
        await using var disposingConnection = connection.ConfigureAwait(false);
        await EnsureOursAsync(connection, database, cancellationToken).ConfigureAwait(false);
        await DatabaseSessions.EndAllAndRenameAsync(run.Server, connection, database, name, cancellationToken).ConfigureAwait(false);

        if (_createdOids.TryRemove(database, out var oid))
        {
            _createdOids[name] = oid;
        }

        return name;
    }

    private async Task EnsureOursAsync(NpgsqlConnection admin, string database, CancellationToken cancellationToken)
    {
        if (!await IsOursAsync(admin, database, cancellationToken).ConfigureAwait(false))
        {
            throw new TestKitException(
                $"Database '{database}' was not created by this TestKit run (it lacks the run's marker comment), so TestKit will not migrate, erase or drop it.");
        }
    }

    /// <summary>Forgets <paramref name="database"/>, dropped or kept: one database fewer that needs the run lock.</summary>
    private async Task ForgetAsync(string database)
    {
        if (_createdOids.TryRemove(database, out _))
        {
            await run.Locks.LetGoRunAsync().ConfigureAwait(false);
        }
    }
}
