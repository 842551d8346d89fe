using System.Globalization;
using System.Security.Cryptography;
using Npgsql;
using TestKit.Diagnostics;
using TestKit.Server;

namespace TestKit.Isolation;

/// <summary>
/// Creates and drops the kit's own databases on one server. Every database it creates carries a
/// marker (a database comment naming this run); it drops, and lets strategies migrate or erase,
/// only databases that carry this run's marker — never one recognised by its name alone.
/// </summary>
internal sealed class DatabaseCatalog
{
    internal const string MarkerPrefix = "testkit:run=";

    private readonly IPostgresServer _server;
    private readonly string _runId;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, uint> _createdOids = new(StringComparer.Ordinal);
    private int _counter;
    private int _created;
    private int _dropped;

    internal DatabaseCatalog(IPostgresServer server)
    {
        _server = server;
        _runId = RandomNumberGenerator.GetHexString(10, lowercase: true);
        Marker = $"{MarkerPrefix}{_runId};pid={Environment.ProcessId.ToString(CultureInfo.InvariantCulture)};host={Environment.MachineName}";
    }

    /// <summary>The comment this run writes on each database it creates.</summary>
    internal string Marker { get; }

    internal IPostgresServer Server => _server;

    /// <summary>How many databases this catalog created.</summary>
    internal int Created => Volatile.Read(ref _created);

    /// <summary>How many databases this catalog dropped.</summary>
    internal int Dropped => Volatile.Read(ref _dropped);

    /// <summary>Creates a new database, marked as this run's: empty, or a clone of <paramref name="template"/>.</summary>
    internal async Task<string> CreateAsync(CancellationToken cancellationToken, string? template = null)
    {
        var name = $"testkit_{_runId}_{Interlocked.Increment(ref _counter).ToString("D3", CultureInfo.InvariantCulture)}";
        var connection = await ServerErrors.OpenAsync(_server.Admin, "the admin connection", cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            try
            {
                // template0 for an empty database: the pristine template, so a user's additions to template1 never leak into tests.
                var source = template is null ? "template0 ENCODING 'UTF8'" : Sql.Quote(template);
                // Not cancellable once sent: a CREATE that completes while its cancellation is on the way would leave a
                // database no one knows of (the template strategy's filler is stopped by cancellation at the end of a run).
                cancellationToken.ThrowIfCancellationRequested();
                await Sql.ExecuteAsync(connection, $"CREATE DATABASE {Sql.Quote(name)} TEMPLATE {source}", CancellationToken.None).ConfigureAwait(false);
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege)
            {
                throw new TestKitException(
                    $"The server refused to create database {name}: {e.MessageText}. TestKit needs a role with CREATEDB; run ALTER ROLE ... CREATEDB as a superuser.",
                    e)
                {
                    SqlState = e.SqlState,
                };
            }

            Interlocked.Increment(ref _created);
            _createdOids[name] = await Sql.ScalarAsync<uint>(connection, "SELECT oid FROM pg_database WHERE datname = $1", CancellationToken.None, name).ConfigureAwait(false);
            await Sql.ExecuteAsync(connection, $"COMMENT ON DATABASE {Sql.Quote(name)} IS {Sql.Literal(Marker)}", CancellationToken.None).ConfigureAwait(false);
        }

        return name;
    }

    /// <summary>
    /// True when <paramref name="database"/> exists and is this run's: it carries the run's marker, or it is the very
    /// database (same OID) this catalog created, even if a test overwrote its comment.
    /// </summary>
    internal async Task<bool> IsOursAsync(string database, CancellationToken cancellationToken)
    {
        var connection = await ServerErrors.OpenAsync(_server.Admin, "the admin connection", cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var rows = await Sql.QueryAsync(
                connection,
                "SELECT oid, shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1",
                reader => (Oid: reader.GetFieldValue<uint>(0), Comment: reader.IsDBNull(1) ? null : reader.GetString(1)),
                cancellationToken,
                database).ConfigureAwait(false);
            return rows.Count == 1
                && (rows[0].Comment == Marker || (_createdOids.TryGetValue(database, out var oid) && oid == rows[0].Oid));
        }
    }

    /// <summary>Throws unless <paramref name="database"/> is one this run created.</summary>
    internal async Task EnsureOursAsync(string database, CancellationToken cancellationToken)
    {
        if (!await IsOursAsync(database, cancellationToken).ConfigureAwait(false))
        {
            throw new TestKitException(
                $"Database '{database}' was not created by this TestKit run (it lacks the run's marker comment), so TestKit will not migrate, erase or drop it.");
        }
    }

    /// <summary>Drops <paramref name="database"/>, closing its connections, after checking it is this run's.</summary>
    internal async Task DropAsync(string database, CancellationToken cancellationToken)
    {
        await EnsureOursAsync(database, cancellationToken).ConfigureAwait(false);
        var connection = await ServerErrors.OpenAsync(_server.Admin, "the admin connection", cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            if (await Sql.ScalarAsync<bool>(connection, "SELECT EXISTS (SELECT 1 FROM pg_prepared_xacts WHERE database = $1)", cancellationToken, database).ConfigureAwait(false))
            {
                // Only a session inside the database may finish its prepared transactions.
                var builder = _server.ConnectionStringFor(database);
                builder.Pooling = false;
                builder.ApplicationName = "testkit";
                var inside = new NpgsqlConnection(builder.ConnectionString);
                await using (inside.ConfigureAwait(false))
                {
                    await inside.OpenAsync(cancellationToken).ConfigureAwait(false);
                    await RollBackPreparedTransactionsAsync(inside, cancellationToken).ConfigureAwait(false);
                }
            }

            // FORCE ends the sessions a test left open, instead of waiting for them (PostgreSQL 13+).
            await Sql.ExecuteAsync(connection, $"DROP DATABASE IF EXISTS {Sql.Quote(database)} WITH (FORCE)", cancellationToken).ConfigureAwait(false);
            _createdOids.TryRemove(database, out _);
            Interlocked.Increment(ref _dropped);
        }
    }

    /// <summary>
    /// Keeps <paramref name="database"/> for inspection: ends its sessions, renames it to <paramref name="keptName"/>
    /// and marks it kept, so that the end of the run does not drop it. Returns the name it got.
    /// </summary>
    internal async Task<string> KeepAsync(string database, string keptName, CancellationToken cancellationToken)
    {
        await EnsureOursAsync(database, cancellationToken).ConfigureAwait(false);
        var connection = await ServerErrors.OpenAsync(_server.Admin, "the admin connection", cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var name = keptName;
            if (await Sql.ScalarAsync<bool>(connection, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", cancellationToken, name).ConfigureAwait(false))
            {
                name = $"{keptName[..Math.Min(keptName.Length, 50)]}_{database[^3..]}";
            }

            // RENAME needs the database free of sessions: end them, and try again while they exit.
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (true)
            {
                await Sql.ExecuteAsync(connection, "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE datname = $1", cancellationToken, database).ConfigureAwait(false);
                try
                {
                    await Sql.ExecuteAsync(connection, $"ALTER DATABASE {Sql.Quote(database)} RENAME TO {Sql.Quote(name)}", cancellationToken).ConfigureAwait(false);
                    _createdOids.TryRemove(database, out _);
                    break;
                }
                catch (PostgresException busy) when (busy.SqlState == PostgresErrorCodes.ObjectInUse && DateTime.UtcNow < deadline)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(10), cancellationToken).ConfigureAwait(false);
                }
            }

            await Sql.ExecuteAsync(connection, $"COMMENT ON DATABASE {Sql.Quote(name)} IS {Sql.Literal("testkit:kept;" + Marker)}", cancellationToken).ConfigureAwait(false);
            return name;
        }
    }

    /// <summary>
    /// Rolls back the prepared transactions a test left in the database of <paramref name="connection"/>: they outlive
    /// their session, keep their locks, would commit the test's rows into a later test, and block DROP DATABASE.
    /// </summary>
    internal static async Task RollBackPreparedTransactionsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var prepared = await Sql.QueryAsync(
            connection, "SELECT gid FROM pg_prepared_xacts WHERE database = current_database()", reader => reader.GetString(0), cancellationToken).ConfigureAwait(false);
        foreach (var gid in prepared)
        {
            await Sql.ExecuteAsync(connection, $"ROLLBACK PREPARED {Sql.Literal(gid)}", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Drops the databases of runs on this machine whose process is gone. A database of a live run, of another
    /// machine (its process cannot be checked from here), or kept for inspection is left alone.
    /// </summary>
    internal async Task SweepOrphansAsync(CancellationToken cancellationToken)
    {
        var connection = await ServerErrors.OpenAsync(_server.Admin, "the admin connection", cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var candidates = await Sql.QueryAsync(
                connection,
                "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database WHERE starts_with(shobj_description(oid, 'pg_database'), $1)",
                reader => (Name: reader.GetString(0), Marker: reader.GetString(1)),
                cancellationToken,
                MarkerPrefix).ConfigureAwait(false);
            foreach (var (name, marker) in candidates)
            {
                var fields = marker[MarkerPrefix.Length..].Split(';')
                    .Select(field => field.Split('=', 2))
                    .Where(pair => pair.Length == 2)
                    .ToDictionary(pair => pair[0], pair => pair[1], StringComparer.Ordinal);
                if (marker == Marker
                    || fields.GetValueOrDefault("host") != Environment.MachineName
                    || !int.TryParse(fields.GetValueOrDefault("pid"), CultureInfo.InvariantCulture, out var pid)
                    || IsAlive(pid))
                {
                    continue;
                }

                // DROP DATABASE cannot run inside a function: check the marker once more, then drop.
                if (await Sql.ScalarAsync<string>(connection, "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1", cancellationToken, name).ConfigureAwait(false) == marker)
                {
                    await Sql.ExecuteAsync(connection, $"DROP DATABASE IF EXISTS {Sql.Quote(name)} WITH (FORCE)", cancellationToken).ConfigureAwait(false);
                }
            }
        }
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
