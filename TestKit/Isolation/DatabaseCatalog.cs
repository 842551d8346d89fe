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
/// While it holds any database it holds its run's <see cref="ServerLocks"/>, by which runs on other hosts
/// tell it alive; disposing it releases that lock.
/// </summary>
internal sealed class DatabaseCatalog : IAsyncDisposable
{
    internal const string MarkerPrefix = "testkit:run=";

    /// <summary>The marker field that says its run holds a <see cref="ServerLocks"/>; markers of older runs lack it.</summary>
    private const string LockField = "lock=advisory";

    private readonly IPostgresServer _server;
    private readonly string _runId;
    private readonly string _host;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, uint> _createdOids = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _createdRoles = new(StringComparer.Ordinal);
    private int _counter;
    private int _created;
    private int _dropped;

    /// <param name="server">The server the databases live on.</param>
    /// <param name="hostName">
    /// The host this run says it runs on (in its marker, and when it judges other runs' markers): the machine's name,
    /// unless a fault test plays a run on another host.
    /// </param>
    internal DatabaseCatalog(IPostgresServer server, string? hostName = null)
    {
        _server = server;
        _runId = RandomNumberGenerator.GetHexString(10, lowercase: true);
        _host = hostName ?? Environment.MachineName;
        Locks = new ServerLocks(server, _runId);
        Budget = new DatabaseBudget(Locks);
        Marker = $"{MarkerPrefix}{_runId};pid={Environment.ProcessId.ToString(CultureInfo.InvariantCulture)};host={_host};{LockField}";
    }

    /// <summary>The comment this run writes on each database it creates: run id, process id, host, and that it holds a run lock.</summary>
    internal string Marker { get; }

    internal IPostgresServer Server => _server;

    /// <summary>The advisory locks this run holds on the server, all on one connection.</summary>
    internal ServerLocks Locks { get; }

    /// <summary>The bound on the databases this run holds on the server at once, over all its pools.</summary>
    internal DatabaseBudget Budget { get; }

    /// <summary>How many databases this catalog created.</summary>
    internal int Created => Volatile.Read(ref _created);

    /// <summary>How many databases this catalog dropped.</summary>
    internal int Dropped => Volatile.Read(ref _dropped);

    /// <summary>Creates a new database, marked as this run's: empty, or a clone of <paramref name="template"/>.</summary>
    internal async Task<string> CreateAsync(CancellationToken cancellationToken, string? template = null)
    {
        var name = NextName();
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
                await CreateHoldingRunLockAsync(connection, $"CREATE DATABASE {Sql.Quote(name)} TEMPLATE {source}", cancellationToken).ConfigureAwait(false);
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
            return await IsOursAsync(connection, database, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<bool> IsOursAsync(NpgsqlConnection connection, string database, CancellationToken cancellationToken)
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

    /// <summary>Throws unless <paramref name="database"/> is one this run created.</summary>
    internal async Task EnsureOursAsync(string database, CancellationToken cancellationToken)
    {
        var connection = await ServerErrors.OpenAsync(_server.Admin, "the admin connection", cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await EnsureOursAsync(connection, database, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task EnsureOursAsync(NpgsqlConnection connection, string database, CancellationToken cancellationToken)
    {
        if (!await IsOursAsync(connection, database, cancellationToken).ConfigureAwait(false))
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
            await RollBackPreparedTransactionsAsync(connection, database, cancellationToken).ConfigureAwait(false);

            // FORCE ends the sessions a test left open, instead of waiting for them (PostgreSQL 13+).
            await Sql.ExecuteAsync(connection, $"DROP DATABASE IF EXISTS {Sql.Quote(database)} WITH (FORCE)", cancellationToken).ConfigureAwait(false);
            await ForgetAsync(database).ConfigureAwait(false);
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

            await EndSessionsAndRenameAsync(connection, database, name, cancellationToken).ConfigureAwait(false);
            await Sql.ExecuteAsync(connection, $"COMMENT ON DATABASE {Sql.Quote(name)} IS {Sql.Literal("testkit:kept;" + Marker)}", cancellationToken).ConfigureAwait(false);
            // Only once it is marked kept: until then it carries the run's marker, which the run lock protects.
            await ForgetAsync(database).ConfigureAwait(false);
            return name;
        }
    }

    /// <summary>
    /// Creates a login role for the tests of one lease and returns its name: a superuser like the admin role the reset
    /// strategy requires, marked as this run's like its databases, with the password behind <paramref name="verifier"/>.
    /// </summary>
    internal async Task<string> CreateLoginRoleAsync(string verifier, CancellationToken cancellationToken)
    {
        var role = NextName();
        var connection = await ServerErrors.OpenAsync(_server.Admin, "the admin connection", cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            cancellationToken.ThrowIfCancellationRequested();
            await Sql.ExecuteAsync(
                connection,
                $"CREATE ROLE {Sql.Quote(role)} LOGIN SUPERUSER PASSWORD {Sql.Literal(verifier)}; COMMENT ON ROLE {Sql.Quote(role)} IS {Sql.Literal(Marker)}",
                CancellationToken.None).ConfigureAwait(false);
            _createdRoles[role] = 0;
        }

        return role;
    }

    /// <summary>
    /// Retires <paramref name="role"/>, a login role this run created: it may not log in again, and is no superuser any more,
    /// so a session of it that is still starting up fails when it tries to act as the admin role. Never undone.
    /// </summary>
    internal async Task RetireLoginRoleAsync(string role, CancellationToken cancellationToken)
    {
        if (!_createdRoles.ContainsKey(role))
        {
            throw new ArgumentException($"Role '{role}' was not created by this TestKit run.", nameof(role));
        }

        var connection = await ServerErrors.OpenAsync(_server.Admin, "the admin connection", cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await Sql.ExecuteAsync(connection, $"ALTER ROLE {Sql.Quote(role)} NOLOGIN NOSUPERUSER", cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Ends the sessions of <paramref name="role"/>, a login role this run created, and drops it; a no-op when it is gone.</summary>
    internal async Task DropLoginRoleAsync(string role, CancellationToken cancellationToken)
    {
        var connection = await ServerErrors.OpenAsync(_server.Admin, "the admin connection", cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            var comment = await Sql.QueryAsync(
                connection,
                "SELECT shobj_description(oid, 'pg_authid') FROM pg_roles WHERE rolname = $1",
                reader => reader.IsDBNull(0) ? null : reader.GetString(0),
                cancellationToken,
                role).ConfigureAwait(false);
            if (comment.Count == 0)
            {
                return;
            }

            if (comment[0] != Marker && !_createdRoles.ContainsKey(role))
            {
                throw new TestKitException($"Role '{role}' was not created by this TestKit run (it lacks the run's marker comment), so TestKit will not drop it.");
            }

            await Sql.ExecuteAsync(connection, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", cancellationToken, role).ConfigureAwait(false);
            await Sql.ExecuteAsync(connection, $"DROP ROLE IF EXISTS {Sql.Quote(role)}", cancellationToken).ConfigureAwait(false);
            _createdRoles.TryRemove(role, out _);
        }
    }

    /// <summary>
    /// Gives <paramref name="database"/>, one of this run's, a new name of this run for its next lease, and returns it.
    /// Every session in it is ended first: a connection string (or an open connection) a test kept past its end then
    /// reaches nothing, instead of the next test's database.
    /// </summary>
    internal async Task<string> RenameForNextLeaseAsync(string database, CancellationToken cancellationToken)
    {
        var name = NextName();
        var connection = await ServerErrors.OpenAsync(_server.Admin, "the admin connection", cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await EnsureOursAsync(connection, database, cancellationToken).ConfigureAwait(false);
            await EndSessionsAndRenameAsync(connection, database, name, cancellationToken).ConfigureAwait(false);
        }

        if (_createdOids.TryRemove(database, out var oid))
        {
            _createdOids[name] = oid;
        }

        return name;
    }

    /// <summary>
    /// RENAME needs the database free of sessions: ends them, waits until they are gone, renames, and tries again if a
    /// client managed to connect in between. The wait is a tight loop on the server: RENAME itself, and
    /// pg_terminate_backend with a timeout, would wait in steps of 100 ms.
    /// </summary>
    private async Task EndSessionsAndRenameAsync(NpgsqlConnection admin, string database, string newName, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var name = Sql.Literal(database);
        var endSessionsThenRename = $"""
            DO $$
            BEGIN
                PERFORM pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = {name} AND pid <> pg_backend_pid();
                FOR attempt IN 1..5000 LOOP
                    PERFORM pg_stat_clear_snapshot();
                    EXIT WHEN NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = {name});
                    PERFORM pg_sleep(0.001);
                END LOOP;
            END
            $$;
            ALTER DATABASE {Sql.Quote(database)} RENAME TO {Sql.Quote(newName)};
            """;
        while (true)
        {
            try
            {
                await Sql.ExecuteAsync(admin, endSessionsThenRename, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (PostgresException busy) when (busy.SqlState == PostgresErrorCodes.ObjectInUse && DateTime.UtcNow < deadline)
            {
                // A prepared transaction outlives its session and counts as a user of the database too.
                await RollBackPreparedTransactionsAsync(admin, database, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private string NextName() => $"testkit_{_runId}_{Interlocked.Increment(ref _counter).ToString("D3", CultureInfo.InvariantCulture)}";

    /// <summary>Rolls back the prepared transactions left in <paramref name="database"/>, if any, from a session inside it.</summary>
    private async Task RollBackPreparedTransactionsAsync(NpgsqlConnection admin, string database, CancellationToken cancellationToken)
    {
        if (!await Sql.ScalarAsync<bool>(admin, "SELECT EXISTS (SELECT 1 FROM pg_prepared_xacts WHERE database = $1)", cancellationToken, database).ConfigureAwait(false))
        {
            return;
        }

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
    /// Drops the databases a dead run left: one killed before its cleanup (SIGKILL, a crashed CI agent). A run is dead
    /// when its marker names this host and a process that is gone (markers of older runs, which hold no run lock),
    /// or, on any host, when its marker says it holds a <see cref="ServerLocks"/>, that lock is free, no session of the run
    /// is left on the server (its lock connection, or one in a database of the run: that covers a live run whose
    /// lock connection a server restart ended), and, on this host, its process is gone. A database of this run, of a
    /// live run, of an older run on another host, or kept for inspection is left alone.
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
            // The login roles of the reset strategy's databases carry the same marker.
            var roles = await Sql.QueryAsync(
                connection,
                "SELECT rolname, shobj_description(oid, 'pg_authid') FROM pg_roles WHERE starts_with(shobj_description(oid, 'pg_authid'), $1)",
                reader => (Name: reader.GetString(0), Marker: reader.GetString(1)),
                cancellationToken,
                MarkerPrefix).ConfigureAwait(false);
            var verdicts = new Dictionary<string, bool>(StringComparer.Ordinal);
            NpgsqlConnection? lockConnection = null;
            try
            {
                foreach (var (name, marker) in candidates.Where(candidate => candidate.Marker != Marker))
                {
                    // DROP DATABASE cannot run inside a function: check the marker once more, then drop.
                    if (await IsDeadRunAsync(marker).ConfigureAwait(false)
                        && await Sql.ScalarAsync<string>(connection, "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1", cancellationToken, name).ConfigureAwait(false) == marker)
                    {
                        try
                        {
                            await RollBackPreparedTransactionsAsync(connection, name, cancellationToken).ConfigureAwait(false);
                            await Sql.ExecuteAsync(connection, $"DROP DATABASE IF EXISTS {Sql.Quote(name)} WITH (FORCE)", cancellationToken).ConfigureAwait(false);
                        }
                        catch (PostgresException e)
                        {
                            // Another run sweeping at the same time, say: a leftover must not stop this run.
                            await Console.Error.WriteLineAsync($"TestKit: could not drop the database {name} of a dead run: {e.MessageText}").ConfigureAwait(false);
                        }
                    }
                }

                foreach (var (name, marker) in roles.Where(role => role.Marker != Marker))
                {
                    if (await IsDeadRunAsync(marker).ConfigureAwait(false))
                    {
                        try
                        {
                            await Sql.ExecuteAsync(connection, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", cancellationToken, name).ConfigureAwait(false);
                            await Sql.ExecuteAsync(connection, $"DROP ROLE IF EXISTS {Sql.Quote(name)}", cancellationToken).ConfigureAwait(false);
                        }
                        catch (PostgresException e)
                        {
                            // Something outside the dropped databases still depends on it, or another run dropped it
                            // at the same time: say so, and go on.
                            await Console.Error.WriteLineAsync($"TestKit: could not drop the login role {name} of a dead run: {e.MessageText}").ConfigureAwait(false);
                        }
                    }
                }
            }
            finally
            {
                if (lockConnection is not null)
                {
                    await lockConnection.DisposeAsync().ConfigureAwait(false);
                }
            }

            async Task<bool> IsDeadRunAsync(string marker)
            {
                if (verdicts.TryGetValue(marker, out var dead))
                {
                    return dead;
                }

                var (runId, fields) = ParseMarker(marker);
                var sameHost = fields.GetValueOrDefault("host") == _host;
                var processGone = int.TryParse(fields.GetValueOrDefault("pid"), CultureInfo.InvariantCulture, out var pid) && !IsAlive(pid);
                if (!marker.EndsWith(";" + LockField, StringComparison.Ordinal))
                {
                    dead = sameHost && processGone;
                }
                else if (!sameHost || processGone)
                {
                    if (lockConnection is null)
                    {
                        lockConnection = await LockDatabase.OpenAsync(_server, "testkit", cancellationToken).ConfigureAwait(false);
                        // Released with the connection: one sweep at a time tries the run locks (see AdvisoryLockKeys.Sweep).
                        await Sql.ExecuteAsync(lockConnection, "SELECT pg_advisory_lock($1)", cancellationToken, AdvisoryLockKeys.Sweep).ConfigureAwait(false);
                    }

                    dead = await IsDeadAsync(connection, lockConnection, runId, cancellationToken).ConfigureAwait(false);
                }

                verdicts[marker] = dead;
                return dead;
            }
        }
    }

    /// <summary>Releases the run lock, if this catalog still holds it. The databases are the strategies' to drop first.</summary>
    public ValueTask DisposeAsync() => Locks.DisposeAsync();

    /// <summary>
    /// True when run <paramref name="runId"/> holds no run lock and has no session on the server. The sessions are
    /// counted while this holds the run's lock, so a live run that is taking its lock again shows up as a session.
    /// </summary>
    private static async Task<bool> IsDeadAsync(NpgsqlConnection admin, NpgsqlConnection lockConnection, string runId, CancellationToken cancellationToken)
    {
        var key = AdvisoryLockKeys.Run(runId);
        if (!await Sql.ScalarAsync<bool>(lockConnection, "SELECT pg_try_advisory_lock($1)", cancellationToken, key).ConfigureAwait(false))
        {
            return false;
        }

        try
        {
            // testkit_<run>_: every name the run gives its databases (see NextName).
            return !await Sql.ScalarAsync<bool>(
                admin,
                "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE backend_type = 'client backend' AND (starts_with(datname, $1) OR application_name = $2))",
                cancellationToken,
                $"testkit_{runId}_",
                ServerLocks.ApplicationName(runId)).ConfigureAwait(false);
        }
        finally
        {
            await Sql.ExecuteAsync(lockConnection, "SELECT pg_advisory_unlock($1)", CancellationToken.None, key).ConfigureAwait(false);
        }
    }

    /// <summary>The run id of a marker and its name=value fields (pid, host, lock).</summary>
    private static (string RunId, Dictionary<string, string> Fields) ParseMarker(string marker)
    {
        var parts = marker[MarkerPrefix.Length..].Split(';');
        var fields = parts.Skip(1)
            .Select(field => field.Split('=', 2))
            .Where(pair => pair.Length == 2)
            .GroupBy(pair => pair[0], StringComparer.Ordinal)
            .ToDictionary(group => group.Key, group => group.First()[1], StringComparer.Ordinal);
        return (parts[0], fields);
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

    /// <summary>
    /// Runs <paramref name="createDatabase"/> (a CREATE DATABASE) while the run lock is held, taking it first: a
    /// database of this run is never on the server without the lock that tells other runs this run is alive.
    /// </summary>
    private async Task CreateHoldingRunLockAsync(NpgsqlConnection connection, string createDatabase, CancellationToken cancellationToken)
    {
        await Locks.HoldRunAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await Sql.ExecuteAsync(connection, createDatabase, CancellationToken.None).ConfigureAwait(false);
        }
        catch
        {
            await Locks.LetGoRunAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Forgets <paramref name="database"/>, dropped or kept: one database fewer that needs the run lock.</summary>
    private async Task ForgetAsync(string database)
    {
        if (_createdOids.TryRemove(database, out _))
        {
            await Locks.LetGoRunAsync().ConfigureAwait(false);
        }
    }
}
