using Npgsql;
using TestKit.Configuration;
using TestKit.Databases;
using TestKit.Diagnostics;
using TestKit.Isolation.Template;
using TestKit.Server;

namespace TestKit.Isolation.Reset;

/// <summary>
/// The fastest strategy: a pool of clones of the template, each leased to one test at a time and put back to exactly head
/// after it. Change tracking installed in each clone (ResetTracking.sql) tells which tables the test wrote to; only those
/// get their head rows back, and sequences that moved are set back. When the kit cannot prove head — the test ran DDL,
/// changed database settings, created large objects — the clone is dropped and the next test gets a fresh one.
/// </summary>
internal sealed class ResetStrategy : IIsolationStrategy
{

    private static readonly string TrackingScript = Sql.Resource("ResetTracking.sql");

    private readonly ServerRun _run;
    private readonly TemplateStore _template;
    private readonly DatabasePool _pool;
    private readonly bool _loginPerLease;
    private readonly HeadVerification? _verification;
    private readonly Lazy<Task> _superuser;

    /// <param name="run">The run and server.</param>
    /// <param name="template">The template the clones come from.</param>
    /// <param name="options">
    /// The most databases leased at once, how tests connect, and whether they log in with a role of each lease's own, retired
    /// at its release, so that a test's leftovers reach nothing (IsolateLeftoverClients).
    /// </param>
    /// <param name="verification">Verification mode: every clone, new or reset, is compared with head, in the foreground.</param>
    internal ResetStrategy(ServerRun run, TemplateStore template, ResolvedOptions options, HeadVerification? verification = null)
    {
        _run = run;
        _template = template;
        _loginPerLease = options.IsolateLeftoverClients;
        _verification = verification;
        _pool = new DatabasePool(run, options, (_, cancellationToken) => CreateAsync(cancellationToken));
        _superuser = new Lazy<Task>(() => EnsureSuperuserAsync(CancellationToken.None));
    }

    public string Name => IsolationStrategyNames.NameOf(IsolationStrategy.Reset);

    public Task<PooledDatabase> AcquireAsync(CancellationToken cancellationToken)
    {
        // The template holds the scripts the run loaded: an edit since is reported, as under every strategy.
        _template.Migrations.EnsureUnchanged(lookedLately: true);
        return _pool.LeaseAsync(cancellationToken);
    }

    public async Task<ReleaseResult> ReleaseAsync(PooledDatabase database, CancellationToken cancellationToken)
    {
        var pooled = database;
        ReleaseResult? replaced = null;
        try
        {
            var login = pooled.LoginRole;
            if (login is not null)
            {
                // Lock the test out for good before the reset: its login role may not log in again, and loses the
                // superuser status its sessions need to act as the admin role (-c role=...). A client that authenticated
                // earlier and is still starting up fails that role check (PostgreSQL re-reads the role when it takes the
                // lock on the database); one already past that lock is a session, which the reset ends.
                await _run.LoginRoles.RetireAsync(login, cancellationToken).ConfigureAwait(false);
            }

            var (verdict, detail) = await ResetAsync(pooled, endAll: login is not null, cancellationToken).ConfigureAwait(false);
            if (login is null && verdict != ResetVerdict.Reset)
            {
                // The server ended the idle sessions too: the pools' connections to them are broken, in every pool of the
                // database's connection string, derived ones included.
                pooled.ClearTestConnections(everyPool: verdict == ResetVerdict.ResetEndingEverySession);
            }

            if (!verdict.IsHead)
            {
                await _pool.DiscardAsync(pooled).ConfigureAwait(false);
                replaced = ReleaseResult.Replaced(verdict.Describe(detail));
            }
            else if (login is not null)
            {
                // The next test logs in with a new role; the retired one goes, now that its sessions are gone.
                await _run.LoginRoles.DropAsync(login, cancellationToken).ConfigureAwait(false);
                await NewLoginAsync(pooled, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception resetError)
        {
            // Whatever stopped the reset (a cancellation too), the database is of no use: it goes, with its budget place.
            await _pool.DiscardAsync(pooled, resetError).ConfigureAwait(false);
            if (resetError is OperationCanceledException)
            {
                throw;
            }

            throw new TestKitException($"TestKit could not reset database '{database.Name}' ({resetError.Message}); it dropped it, and the next test gets a fresh copy.", resetError);
        }
        finally
        {
            _pool.ReleaseSlot();
        }

        if (replaced is not null)
        {
            return replaced;
        }

        // The sequences cost one read each, whatever the test wrote: the test does not wait for them, the next one does (in
        // verification mode the release waits, and the proof is its own).
        await _pool.ReturnIdleAfterAsync(pooled, stopping => ResetSequencesAsync(pooled, stopping), inForeground: _verification is not null).ConfigureAwait(false);
        return ReleaseResult.Reset;
    }

    public Task<string> KeepAsync(PooledDatabase database, string keptName, CancellationToken cancellationToken) =>
        _pool.KeepAsync(database, keptName, cancellationToken);

    public ValueTask DisposeAsync() => new(Errors.RunAllAsync($"TestKit could not end the {Name} strategy cleanly.", _pool.DisposeAsync, _template.DisposeAsync));

    /// <summary>
    /// One round trip: testkit_reset.reset() ends the test's busy sessions (and the idle ones too with
    /// <paramref name="endAll"/>, when they pile up, or when some session of the database was killed: a pooled connection
    /// may be dead), puts back what changed, and answers its verdict. The kit's pooled connection is used without a ping
    /// first: if the test killed it, the database is replaced.
    /// </summary>
    private static async Task<(ResetVerdict Verdict, string? Detail)> ResetAsync(PooledDatabase database, bool endAll, CancellationToken cancellationToken)
    {
        using var step = KitTracing.StartChild("testkit.reset");
        try
        {
            var connection = await database.OpenKitConnectionAsync(cancellationToken, checkAlive: false).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                var rows = await Sql.QueryAsync(
                    connection,
                    "SELECT verdict, detail, timings FROM testkit_reset.reset($1, $2)",
                    reader => (Code: reader.IsDBNull(0) ? null : reader.GetString(0), Detail: reader.IsDBNull(1) ? null : reader.GetString(1), Timings: reader.IsDBNull(2) ? null : reader.GetString(2)),
                    cancellationToken,
                    endAll,
                    DatabaseSessions.IdleSessionLimit).ConfigureAwait(false);
                KitTracing.TagSteps(step, rows.Single().Timings);
                return (ResetVerdict.Parse(rows.Single().Code), rows.Single().Detail);
            }
        }
        catch (NpgsqlException broken) when (broken is not PostgresException
            || ((PostgresException)broken).SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.ObjectNotInPrerequisiteState)
        {
            database.ClearKitPool();
            return (ResetVerdict.KitSessionEnded, null);
        }
    }

    /// <summary>
    /// Puts back the sequences the test moved (testkit_reset.reset_sequences()), on the kit's connection; in verification
    /// mode, then compares the database with head.
    /// </summary>
    private async Task<bool> ResetSequencesAsync(PooledDatabase database, CancellationToken cancellationToken)
    {
        using (var step = KitTracing.StartBackground("testkit.reset-sequences", database.Name))
        {
            var connection = await database.OpenKitConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                var moved = await Sql.ScalarAsync<int>(connection, "SELECT testkit_reset.reset_sequences()", cancellationToken).ConfigureAwait(false);
                step?.SetTag("testkit.sequences_moved", moved);
            }
        }

        if (_verification is not null)
        {
            await _verification.VerifyAsync(database, "after the test that used it (reset)", cancellationToken).ConfigureAwait(false);
        }

        return true;
    }

    private async Task<PooledDatabase> CreateAsync(CancellationToken cancellationToken)
    {
        await _superuser.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        var template = await _template.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var name = await _run.Catalog.CreateAsync(cancellationToken, template).ConfigureAwait(false);

        // The kit's session resets rows in replica mode (foreign keys and user triggers skipped). Set for the
        // whole session rather than per reset, because changing it empties the session's plan cache; and the session
        // keeps that cache between resets (it runs only the kit's functions).
        var database = _pool.NewDatabase(name, "-c session_replication_role=replica", keepKitSession: true);
        try
        {
            if (_loginPerLease)
            {
                await NewLoginAsync(database, cancellationToken).ConfigureAwait(false);
            }

            var connection = await database.OpenKitConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                await Sql.ExecuteAsync(connection, TrackingScript, cancellationToken).ConfigureAwait(false);
            }

            if (_verification is not null)
            {
                await _verification.VerifyAsync(database, "as cloned", cancellationToken).ConfigureAwait(false);
            }

            // One beside the kit's own: the next tests find the connections of the tests before them.
            await database.OpenTestConnectionsAheadAsync(1, loadSchema: false, cancellationToken).ConfigureAwait(false);
            return database;
        }
        catch
        {
            await _pool.DiscardAsync(database).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Gives the database's tests a new login role of their own, with a new password.</summary>
    private async Task NewLoginAsync(PooledDatabase database, CancellationToken cancellationToken)
    {
        var password = LeaseCredentials.NewPassword();
        var role = await _run.LoginRoles.CreateAsync(LeaseCredentials.ScramVerifier(password), cancellationToken).ConfigureAwait(false);
        await database.UseLoginAsync(role, password).ConfigureAwait(false);
    }

    private async Task EnsureSuperuserAsync(CancellationToken cancellationToken)
    {
        var admin = await ServerErrors.OpenAsync(_run.Server.Admin, "the admin connection", cancellationToken).ConfigureAwait(false);
        await using (admin.ConfigureAwait(false))
        {
            if (!await Sql.ScalarAsync<bool>(admin, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user", cancellationToken).ConfigureAwait(false))
            {
                throw new TestKitException(
                    $"The reset strategy needs a superuser role (it installs event triggers and resets rows with session_replication_role = replica), and '{admin.UserName}' is not one. " +
                    "Use TESTKIT_ISOLATION=template or migrate-erase with this role, or connect as a superuser.");
            }
        }
    }
}
