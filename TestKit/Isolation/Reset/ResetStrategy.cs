using System.Diagnostics;
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
internal sealed class ResetStrategy : IsolationStrategyBase
{
    private static readonly string TrackingScript = Sql.Resource("ResetTracking.sql");

    private readonly TemplateStore _template;
    private readonly Lazy<Task> _superuser;

    /// <param name="run">The run and server.</param>
    /// <param name="template">The template the clones come from.</param>
    /// <param name="options">
    /// The most databases leased at once, how tests connect, and whether they log in with a role of each lease's own, retired
    /// at its release, so that a test's leftovers reach nothing (IsolateLeftoverClients).
    /// </param>
    /// <param name="verification">Verification mode: every clone, new or reset, is compared with head, in the foreground.</param>
    internal ResetStrategy(ServerRun run, TemplateStore template, ResolvedOptions options, HeadVerification? verification = null)
        : base(run, options, template.Migrations, verification)
    {
        _template = template;
        Pool = new DatabasePool(run, options, (_, cancellationToken) => CreateAsync(cancellationToken), warm: verification is null ? Math.Clamp(Environment.ProcessorCount, 1, options.MaxDatabases) : 0);
        _superuser = new Lazy<Task>(() => EnsureSuperuserAsync(CancellationToken.None));
    }

    private protected override DatabasePool Pool { get; }

    /// <summary>
    /// Locks the test's login out (IsolateLeftoverClients), then gives the database to the pool to reset in the background:
    /// no test gets it before its reset is done, and the next test gets another database at head. In verification mode the
    /// release waits for the reset and its proof.
    /// </summary>
    internal override async Task<ReleaseResult> ReleaseAsync(PooledDatabase database, CancellationToken cancellationToken)
    {
        if (database.LoginRole is { } login)
        {
            try
            {
                // Before the teardown returns: its login role may not log in again, and loses the superuser status its
                // sessions need to act as the admin role (-c role=...). A client that authenticated earlier and is still
                // starting up fails that role check (PostgreSQL re-reads the role when it takes the lock on the
                // database); one already past that lock is a session, which the reset ends.
                await Run.LoginRoles.RetireAsync(login, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception retireError)
            {
                await Pool.ReleaseAndDiscardAsync(database, retireError).ConfigureAwait(false);
                throw;
            }
        }

        var replaced = await Pool.ReturnIdleAfterAsync(database, stopping => ResetInBackgroundAsync(database, stopping), inForeground: Verification is not null, cancellationToken).ConfigureAwait(false);
        return Verification is null ? ReleaseResult.ResetInBackground : replaced is null ? ReleaseResult.Reset : ReleaseResult.Replaced(replaced);
    }

    public override ValueTask DisposeAsync() => new(Errors.RunAllAsync($"TestKit could not end the {Name} strategy cleanly.", base.DisposeAsync, _template.DisposeAsync));

    /// <summary>
    /// One round trip: testkit_reset.reset() ends the test's busy sessions (and the idle ones too with
    /// <paramref name="endAll"/>, when they pile up, or when some session of the database was killed: a pooled connection
    /// may be dead), puts back what changed, and answers its verdict. The kit's pooled connection is used without a ping
    /// first: if the test killed it, the database is replaced.
    /// </summary>
    private static async Task<(ResetVerdict Verdict, string? Detail)> ResetAsync(PooledDatabase database, bool endAll, Activity? step, CancellationToken cancellationToken)
    {
        try
        {
            var connection = await database.OpenKitConnectionAsync(cancellationToken, checkAlive: false).ConfigureAwait(false);
            await using var disposingConnection = connection.ConfigureAwait(false);
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
        catch (NpgsqlException broken) when (broken is not PostgresException
            || ((PostgresException)broken).SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.ObjectNotInPrerequisiteState)
        {
            database.ClearKitPool();
            return (ResetVerdict.KitSessionEnded, null);
        }
    }

    /// <summary>
    /// Resets a released database (<c>testkit.reset</c>, a background step; in the foreground in verification mode, then
    /// compared with head): ends the test's sessions, puts back the rows and the sequences; null, or why head cannot be
    /// proven (the pool drops the database, and the next test gets another).
    /// </summary>
    private async Task<string?> ResetInBackgroundAsync(PooledDatabase database, CancellationToken stopping)
    {
        using var step = KitTracing.StartBackground("testkit.reset", database.Name);
        var login = database.LoginRole;
        var (verdict, detail) = await ResetAsync(database, endAll: login is not null, step, stopping).ConfigureAwait(false);
        if (login is null && verdict != ResetVerdict.Reset)
        {
            // The server ended the idle sessions too: the pools' connections to them are broken, in every pool of the
            // database's connection string, derived ones included.
            database.ClearTestConnections(everyPool: verdict == ResetVerdict.ResetEndingEverySession);
        }

        step?.SetTag("testkit.verdict", verdict.ToString());
        if (!verdict.IsHead)
        {
            return verdict.Describe(detail);
        }

        if (login is not null)
        {
            // The next test logs in with a new role; then the retired one goes, now that its sessions are gone (even when
            // the run ends meanwhile: nothing else drops it once the database names the new one).
            await NewLoginAsync(database, stopping).ConfigureAwait(false);
            await Run.LoginRoles.DropAsync(login, CancellationToken.None).ConfigureAwait(false);
        }

        await KitConnections.UseAsync(database.OpenKitConnectionAsync(stopping), connection => Sql.ScalarAsync<int>(connection, "SELECT testkit_reset.reset_sequences()", stopping)).ConfigureAwait(false);

        await VerifyAsync(database, "after the test that used it (reset)", stopping).ConfigureAwait(false);
        return null;
    }

    private async Task<PooledDatabase> CreateAsync(CancellationToken cancellationToken)
    {
        await _superuser.Value.WaitAsync(cancellationToken).ConfigureAwait(false);
        var template = await _template.EnsureAsync(cancellationToken).ConfigureAwait(false);
        var name = await Run.Catalog.CreateAsync(cancellationToken, template).ConfigureAwait(false);

        // The kit's session resets rows in replica mode (foreign keys and user triggers skipped). Set for the
        // whole session rather than per reset, because changing it empties the session's plan cache; and the session
        // keeps that cache between resets (it runs only the kit's functions).
        return await ReadyOrDropAsync(Pool.NewDatabase(name, "-c session_replication_role=replica", keepKitSession: true), async database =>
        {
            if (Options.IsolateLeftoverClients)
            {
                await NewLoginAsync(database, cancellationToken).ConfigureAwait(false);
            }

            await KitConnections.UseAsync(database.OpenKitConnectionAsync(cancellationToken), connection => Sql.ExecuteAsync(connection, TrackingScript, cancellationToken)).ConfigureAwait(false);

            await VerifyAsync(database, "as cloned", cancellationToken).ConfigureAwait(false);
            // One beside the kit's own: the next tests find the connections of the tests before them.
            await database.OpenTestConnectionsAheadAsync(1, loadSchema: false, cancellationToken).ConfigureAwait(false);
        }).ConfigureAwait(false);
    }

    /// <summary>Gives the database's tests a new login role of their own, with a new password.</summary>
    private async Task NewLoginAsync(PooledDatabase database, CancellationToken cancellationToken)
    {
        var password = LeaseCredentials.NewPassword();
        var role = await Run.LoginRoles.CreateAsync(LeaseCredentials.ScramVerifier(password), cancellationToken).ConfigureAwait(false);
        await database.UseLoginAsync(role, password).ConfigureAwait(false);
    }

    private async Task EnsureSuperuserAsync(CancellationToken cancellationToken)
    {
        var admin = await ServerErrors.OpenAsync(Run.Server.Admin, "the admin connection", cancellationToken).ConfigureAwait(false);
        await using var disposingAdmin = admin.ConfigureAwait(false);
        if (!await Sql.ScalarAsync<bool>(admin, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user", cancellationToken).ConfigureAwait(false))
        {
            throw new TestKitException(
                $"The reset strategy needs a superuser role (it installs event triggers and resets rows with session_replication_role = replica), and '{admin.UserName}' is not one. " +
                "Use TESTKIT_ISOLATION=template or migrate-erase with this role, or connect as a superuser.");
        }
    }
}
