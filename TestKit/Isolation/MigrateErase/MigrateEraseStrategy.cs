using Npgsql;
using TestKit.Configuration;
using TestKit.Databases;
using TestKit.Diagnostics;
using TestKit.Migrations;
using TestKit.Server;

namespace TestKit.Isolation.MigrateErase;

/// <summary>
/// The literal mode: a pool of databases, each leased to one test at a time and always at head when handed out. A new one
/// is migrated while its test waits; after each test (in the foreground, so that a dirty erase fails the test that caused
/// it) the kit ends the test's busy sessions, Evolve erases the database, the kit unlinks its large objects, drops the
/// schemas the empty database lacked and checks the catalog against the empty database's; then (in the background) Evolve
/// migrates it again for the next test. A database that cannot be proven clean, or whose migration failed, is dropped and
/// replaced, never handed to another test.
/// </summary>
internal sealed class MigrateEraseStrategy : IsolationStrategyBase
{
    private readonly EvolveMigrator _migrator;
    private readonly FirstMigration _firstMigration;
    private StateDigest? _baseline;

    /// <param name="run">The run and server.</param>
    /// <param name="migrator">Migrates and erases.</param>
    /// <param name="options">The most databases leased at once, how tests connect, and whether a release renames the database (IsolateLeftoverClients).</param>
    /// <param name="verification">Verification mode: every database migrated for a test is compared with head, in the foreground.</param>
    internal MigrateEraseStrategy(ServerRun run, EvolveMigrator migrator, ResolvedOptions options, HeadVerification? verification = null)
        : base(run, options, migrator.Migrations, verification)
    {
        _migrator = migrator;
        Pool = new DatabasePool(run, options, (_, cancellationToken) => CreateAsync(cancellationToken));
        _firstMigration = new FirstMigration(run);
    }

    private protected override DatabasePool Pool { get; }

    internal override async Task<ReleaseResult> ReleaseAsync(PooledDatabase database, CancellationToken cancellationToken)
    {
        var erased = database;
        try
        {
            if (Options.IsolateLeftoverClients)
            {
                // Renaming ends the test's sessions and prepared transactions, and keeps whatever the test left
                // running from writing into the database once it is erased.
                erased = await Pool.RenameForNextLeaseAsync(database, cancellationToken).ConfigureAwait(false);
            }

            var connection = await erased.OpenKitConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using var disposingConnection = connection.ConfigureAwait(false);
            if (!Options.IsolateLeftoverClients)
            {
                // The test's pooled connections go back to the pool (idle, holding nothing), as under reset; busy sessions,
                // and an idle one that holds an advisory lock, are ended, and with an idle one every pool is cleared.
                erased.ClearTestConnections(everyPool: await DatabaseSessions.EndTestSessionsAsync(connection, cancellationToken).ConfigureAwait(false));
                await PreparedTransactions.RollBackAsync(connection, cancellationToken).ConfigureAwait(false);
            }

            using var erase = KitTracing.StartChild("testkit.erase");
            await _migrator.EraseAsync(connection, cancellationToken).ConfigureAwait(false);
            // Large objects are data, as rows are, but belong to no schema: Evolve's erase never sees them.
            await Sql.ExecuteAsync(connection, "SELECT count(lo_unlink(oid)) FROM pg_largeobject_metadata", cancellationToken).ConfigureAwait(false);
            await VerifyBaselineAsync(erased, connection, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception eraseError)
        {
            await Pool.ReleaseAndDiscardAsync(erased, eraseError).ConfigureAwait(false);
            if (Errors.IsAllowed(eraseError))
            {
                throw;
            }

            throw new TestKitException($"TestKit could not erase database '{database.Name}' ({eraseError.Message}); it dropped it, and the next test gets a fresh one.", eraseError);
        }

        // The next test does not wait for the migration; a database whose migration failed is dropped, and the test that
        // needs one more gets a new one, whose migration reports the failure. In verification mode the release waits.
        await Pool.ReturnIdleAfterAsync(erased, stopping => MigrateAheadAsync(erased, stopping), inForeground: Verification is not null, cancellationToken).ConfigureAwait(false);
        return ReleaseResult.Erased;
    }

    public override async ValueTask DisposeAsync()
    {
        _firstMigration.Dispose();
        await base.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>A new database, migrated while its test waits; the first one's empty catalog is the baseline every erase is checked against.</summary>
    private async Task<PooledDatabase> CreateAsync(CancellationToken cancellationToken)
    {
        var name = await Run.Catalog.CreateAsync(cancellationToken).ConfigureAwait(false);
        return await ReadyOrDropAsync(Pool.NewDatabase(name), async database =>
        {
            if (_baseline is null)
            {
                // Every database of the run is created alike (template0, the run's marker): one baseline serves them all.
                var baseline = await KitConnections.UseAsync(database.OpenKitConnectionAsync(cancellationToken), connection => StateDigest.TakeAsync(connection, full: false, cancellationToken)).ConfigureAwait(false);
                Interlocked.CompareExchange(ref _baseline, baseline, null);
            }

            await KitTracing.ChildAsync("testkit.migrate", () => MigrateAsync(database, cancellationToken)).ConfigureAwait(false);

            await VerifyAsync(database, "as migrated", cancellationToken).ConfigureAwait(false);
        }).ConfigureAwait(false);
    }

    private Task MigrateAsync(PooledDatabase database, CancellationToken cancellationToken) =>
        KitConnections.UseAsync(database.OpenKitConnectionAsync(cancellationToken), connection => _firstMigration.RunAsync(() => _migrator.MigrateAsync(connection, cancellationToken), cancellationToken));

    /// <summary>
    /// Migrates an erased database for the next test, as a background step of its own (<c>testkit.migrate-ahead</c>; in
    /// verification mode in the foreground, followed by the proof of head, whose failure reaches the caller). Why, when the
    /// migration failed: the database is dropped, and the test that needs one gets a new one whose migration reports it.
    /// </summary>
    private async Task<string?> MigrateAheadAsync(PooledDatabase database, CancellationToken stopping)
    {
        using (var step = KitTracing.StartBackground("testkit.migrate-ahead", database.Name))
        {
            try
            {
                await MigrateAsync(database, stopping).ConfigureAwait(false);
                // The schema is new (an enum has a new OID): the pools a test used load its types again, the test's first
                // connection loading them for the data source, and it stays open ahead, beside the kit's own (the sizing's 1 + c).
                await database.ReloadConnectionStringTypesAsync(stopping).ConfigureAwait(false);
                await database.OpenTestConnectionsAheadAsync(1, loadSchema: true, stopping, reloadTypes: true).ConfigureAwait(false);
            }
            catch (Exception error) when (!stopping.IsCancellationRequested)
            {
                step?.SetTag("testkit.failed", error.Message);
                return $"its migration failed ({error.Message})";
            }
        }

        await VerifyAsync(database, "after the test that used it (erased and migrated again)", stopping).ConfigureAwait(false);
        return null;
    }

    /// <summary>
    /// Evolve erases only the schemas it manages; the migrations (or the test) may have created others — plainly, or
    /// dropped and created again by a repeatable script. Whatever schema the baseline lacks goes, with all it holds;
    /// nothing of the baseline is touched. Then the catalog must equal the freshly created database's.
    /// </summary>
    private async Task VerifyBaselineAsync(PooledDatabase database, NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var baseline = _baseline!;
        var after = await StateDigest.TakeAsync(connection, full: false, cancellationToken).ConfigureAwait(false);
        var added = after.Schemas.Except(baseline.Schemas, StringComparer.Ordinal).ToList();
        if (added.Count > 0)
        {
            await Sql.ExecuteAsync(connection, string.Join("; ", added.Select(schema => $"DROP SCHEMA IF EXISTS {Sql.Quote(schema)} CASCADE")), cancellationToken).ConfigureAwait(false);
            after = await StateDigest.TakeAsync(connection, full: false, cancellationToken).ConfigureAwait(false);
        }

        if (after.DifferenceFrom(baseline) is { } difference)
        {
            throw new TestKitException(
                $"After the erase, database '{database.Name}' differs from its empty baseline: {difference}. " +
                "Evolve erases the schemas it manages, and TestKit drops the schemas the baseline lacks and the large objects; what is left was created outside them " +
                "(in a schema the empty database already had, such as an extension, event trigger or publication the erase does not cover, or a comment or privilege on the public schema), " +
                "by the migrations or by the test. TestKit dropped this database; the next test gets a fresh one.");
        }
    }
}
