using System.Collections.Concurrent;
using Npgsql;
using TestKit.Diagnostics;
using TestKit.Server;

namespace TestKit.Isolation;

/// <summary>
/// The fastest strategy: a pool of clones of the template, each leased to one test at a time and put
/// back to exactly head after it. Change tracking installed in each clone (ResetTracking.sql) tells
/// which tables the test wrote to; only those get their head rows back, and sequences that moved are
/// set back. When the kit cannot prove head — the test ran DDL, changed database settings, created
/// large objects — the clone is dropped and the next test gets a fresh one.
/// </summary>
internal sealed class ResetStrategy : IIsolationStrategy
{
    private static readonly TimeSpan SessionsGoneDeadline = TimeSpan.FromSeconds(30);

    private readonly DatabaseCatalog _catalog;
    private readonly TemplateStore _template;
    private readonly SemaphoreSlim _slots;
    private readonly ConcurrentBag<PooledDatabase> _idle = [];
    private readonly ConcurrentDictionary<string, PooledDatabase> _all = new(StringComparer.Ordinal);
    private int _freshCopies;

    internal ResetStrategy(DatabaseCatalog catalog, TemplateStore template, int maxDatabases)
    {
        _catalog = catalog;
        _template = template;
        _slots = new SemaphoreSlim(maxDatabases, maxDatabases);
    }

    public string Name => "reset";

    /// <summary>How many times a database could not be proven at head and was replaced by a fresh clone.</summary>
    internal int FreshCopies => Volatile.Read(ref _freshCopies);

    /// <summary>How many databases this strategy has now (idle and leased).</summary>
    internal int DatabaseCount => _all.Count;

    public async Task<TestDatabase> AcquireAsync(CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var database = _idle.TryTake(out var idle) ? idle : await CreateAsync(cancellationToken).ConfigureAwait(false);
            return new TestDatabase(database.Name, database.TestConnectionString, _catalog.Server.Description);
        }
        catch
        {
            _slots.Release();
            throw;
        }
    }

    public async Task<string> ReleaseAsync(TestDatabase database, CancellationToken cancellationToken)
    {
        if (!_all.TryGetValue(database.Name, out var pooled))
        {
            throw new ArgumentException($"Database '{database.Name}' was not handed out by this strategy.", nameof(database));
        }

        try
        {
            string outcome;
            var connection = await pooled.OpenKitConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                await EndBusySessionsAsync(connection, cancellationToken).ConfigureAwait(false);
                outcome = await Sql.ScalarAsync<string>(connection, "SELECT testkit_reset.reset()", cancellationToken).ConfigureAwait(false)
                    ?? "the reset function returned nothing";
            }

            if (outcome == "ok")
            {
                _idle.Add(pooled);
                return "reset to head";
            }

            Interlocked.Increment(ref _freshCopies);
            NpgsqlConnection.ClearPool(new NpgsqlConnection(pooled.TestConnectionString));
            await DiscardAsync(pooled).ConfigureAwait(false);
            return $"dropped for a fresh copy: {outcome}";
        }
        catch (Exception resetError) when (resetError is NpgsqlException or TestKitException)
        {
            await DiscardAsync(pooled, resetError).ConfigureAwait(false);
            throw new TestKitException($"TestKit could not reset database '{database.Name}' ({resetError.Message}); it dropped it, and the next test gets a fresh copy.", resetError);
        }
        finally
        {
            _slots.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        var errors = new List<Exception>();
        foreach (var database in _all.Values)
        {
            try
            {
                await database.DisposeAsync().ConfigureAwait(false);
                await _catalog.DropAsync(database.Name, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is NpgsqlException or TestKitException)
            {
                errors.Add(e);
            }
        }

        _all.Clear();
        await _template.DisposeAsync().ConfigureAwait(false);
        _slots.Dispose();
        Errors.Rethrow(errors, "TestKit could not drop every database of the reset pool.");
    }

    /// <summary>
    /// Ends the test's sessions that could still matter: those inside a transaction or a statement (they hold
    /// locks, and a running statement could still commit) and those holding advisory locks. Idle sessions stay:
    /// they are the pool's, Npgsql discards their session state before their next use, and keeping them saves
    /// the next test a new connection. It waits until the sessions that were running a statement are gone, so no
    /// late commit slips past the reset.
    /// </summary>
    private static async Task EndBusySessionsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var running = await Sql.QueryAsync(
            connection,
            """
            SELECT a.pid, a.state = 'active', pg_terminate_backend(a.pid)
            FROM pg_stat_activity a
            WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()
              AND (a.state IS DISTINCT FROM 'idle' OR EXISTS (SELECT 1 FROM pg_locks l WHERE l.pid = a.pid AND l.locktype = 'advisory'))
            """,
            reader => (Pid: reader.GetInt32(0), Active: !reader.IsDBNull(1) && reader.GetBoolean(1)),
            cancellationToken).ConfigureAwait(false);
        var active = running.Where(session => session.Active).Select(session => session.Pid).ToArray();
        var deadline = DateTime.UtcNow + SessionsGoneDeadline;
        while (active.Length > 0
            && await Sql.ScalarAsync<long>(connection, "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1)", cancellationToken, active).ConfigureAwait(false) > 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TestKitException($"The test's sessions on database '{connection.Database}' did not end within {SessionsGoneDeadline.TotalSeconds} s of being terminated.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(1), cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<PooledDatabase> CreateAsync(CancellationToken cancellationToken)
    {
        var template = await _template.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var name = await _catalog.CreateAsync(cancellationToken, template).ConfigureAwait(false);
        var database = new PooledDatabase(name, _catalog.Server.ConnectionStringFor(name));
        _all[name] = database;
        try
        {
            var connection = await database.OpenKitConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                if (!await Sql.ScalarAsync<bool>(connection, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user", cancellationToken).ConfigureAwait(false))
                {
                    throw new TestKitException(
                        $"The reset strategy needs a superuser role (it installs event triggers and resets rows with session_replication_role = replica), and '{connection.UserName}' is not one. " +
                        "Use TESTKIT_ISOLATION=template or migrate-erase with this role, or connect as a superuser.");
                }

                await Sql.ExecuteAsync(connection, TrackingScript.Value, cancellationToken).ConfigureAwait(false);
            }

            return database;
        }
        catch (Exception createError)
        {
            await DiscardAsync(database, createError).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Drops a database that will not be used again; errors while dropping join <paramref name="cause"/>.</summary>
    private async Task DiscardAsync(PooledDatabase database, Exception? cause = null)
    {
        _all.TryRemove(database.Name, out _);
        try
        {
            await database.DisposeAsync().ConfigureAwait(false);
            await _catalog.DropAsync(database.Name, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception dropError) when (cause is not null && dropError is NpgsqlException or TestKitException)
        {
            throw new AggregateException(cause, dropError);
        }
    }

    private static readonly Lazy<string> TrackingScript = new(() =>
    {
        using var stream = typeof(ResetStrategy).Assembly.GetManifestResourceStream("TestKit.ResetTracking.sql")
            ?? throw new InvalidOperationException("The resource TestKit.ResetTracking.sql is missing from the TestKit assembly.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });
}
