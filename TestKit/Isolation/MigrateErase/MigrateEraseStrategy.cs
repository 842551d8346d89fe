using Npgsql;
using TestKit.Configuration;
using TestKit.Databases;
using TestKit.Diagnostics;
using TestKit.Migrations;
using TestKit.Server;

namespace TestKit.Isolation.MigrateErase;

/// <summary>
/// The literal mode: a pool of databases, each leased to one test at a time. Evolve migrates the database to head before
/// the test and erases it after; the kit then drops the schemas the empty database lacked and checks the catalog against
/// the freshly created database's. A database that cannot be proven clean is dropped and replaced, never handed to
/// another test. The migration of an erased database runs in the background, so that the next test finds it at head;
/// a database made new is migrated while its test waits.
/// </summary>
internal sealed class MigrateEraseStrategy : IIsolationStrategy
{
    private readonly ServerRun _run;
    private readonly IMigrator _migrator;
    private readonly DatabasePool _pool;
    private readonly FirstMigration _firstMigration;
    private readonly bool _renameAtRelease;

    /// <param name="run">The run and server.</param>
    /// <param name="migrator">Migrates and erases.</param>
    /// <param name="maxDatabases">The most databases leased at once.</param>
    /// <param name="renameAtRelease">Rename the database at every release, so that a test's leftovers reach nothing.</param>
    internal MigrateEraseStrategy(ServerRun run, IMigrator migrator, int maxDatabases, bool renameAtRelease = false)
    {
        _run = run;
        _migrator = migrator;
        _renameAtRelease = renameAtRelease;
        _pool = new DatabasePool(run, maxDatabases, (_, cancellationToken) => CreateAsync(cancellationToken));
        _firstMigration = new FirstMigration(run);
    }

    public string Name => IsolationStrategyNames.NameOf(IsolationStrategy.MigrateErase);

    public async Task<TestDatabase> AcquireAsync(CancellationToken cancellationToken)
    {
        var database = await _pool.LeaseAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (database.MigratedAhead)
            {
                // Migrated in the background from the scripts the run loaded: an edit since then is reported here, as the
                // migration itself would report it.
                database.MigratedAhead = false;
                _migrator.Migrations.EnsureUnchanged();
            }
            else
            {
                using var migrate = KitTracing.StartChild("testkit.migrate");
                await MigrateAsync(database, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception migrateError)
        {
            // A half-migrated database is of no use to anyone: drop it, and report the migration.
            try
            {
                await _pool.DiscardAsync(database, migrateError).ConfigureAwait(false);
            }
            finally
            {
                _pool.ReleaseSlot();
            }

            throw;
        }

        return database.ForTest(_run.Server.Description);
    }

    public async Task<ReleaseResult> ReleaseAsync(TestDatabase database, CancellationToken cancellationToken)
    {
        var pooled = _pool.Get(database);
        try
        {
            if (_renameAtRelease)
            {
                // Renaming ends the test's sessions and prepared transactions, and keeps whatever the test left
                // running from writing into the database once it is erased.
                pooled = await _pool.RenameForNextLeaseAsync(pooled, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                // The test's pooled connections would hold locks and keep a session alive: close them all.
                pooled.ClearTestConnections();
            }

            var connection = await pooled.OpenKitConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                if (!_renameAtRelease)
                {
                    await DatabaseSessions.EndOthersAsync(connection, cancellationToken).ConfigureAwait(false);
                    await PreparedTransactions.RollBackAsync(connection, cancellationToken).ConfigureAwait(false);
                }

                using var erase = KitTracing.StartChild("testkit.erase");
                await _migrator.EraseAsync(connection, cancellationToken).ConfigureAwait(false);
                await DropSchemasOutsideBaselineAsync(pooled, connection, cancellationToken).ConfigureAwait(false);
                await VerifyBaselineAsync(pooled, connection, cancellationToken).ConfigureAwait(false);
            }

            // The next test does not wait for the migration; a database whose migration failed goes idle unmigrated, and
            // the test that takes it migrates it itself and gets the failure.
            var erased = pooled;
            _pool.ReturnIdleAfter(erased, stopping => MigrateAheadAsync(erased, stopping));
            return ReleaseResult.Erased;
        }
        catch (Exception eraseError)
        {
            await _pool.DiscardAsync(pooled, eraseError).ConfigureAwait(false);
            if (Errors.IsAllowed(eraseError))
            {
                throw;
            }

            throw new TestKitException(
                $"TestKit could not erase database '{database.Name}' ({eraseError.Message}); it dropped it, and the next test gets a fresh one.", eraseError);
        }
        finally
        {
            _pool.ReleaseSlot();
        }
    }

    public Task<string> KeepAsync(TestDatabase database, string keptName, CancellationToken cancellationToken) =>
        _pool.KeepAsync(database, keptName, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        _firstMigration.Dispose();
        await _pool.DisposeAsync().ConfigureAwait(false);
    }

    private async Task MigrateAsync(PooledDatabase database, CancellationToken cancellationToken)
    {
        var connection = await database.OpenKitConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            await _firstMigration.RunAsync(() => _migrator.MigrateAsync(connection, cancellationToken), cancellationToken).ConfigureAwait(false);
        }

        await database.ReloadTestTypesAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Migrates an erased database for the next test, as a background step of its own (<c>testkit.migrate-ahead</c>).</summary>
    private async Task MigrateAheadAsync(PooledDatabase database, CancellationToken stopping)
    {
        using var step = KitTracing.StartBackground("testkit.migrate-ahead", database.Name);
        try
        {
            await MigrateAsync(database, stopping).ConfigureAwait(false);
            // Its types loaded anew, the test's first connection is opened ahead too: one beside the kit's own, within the
            // sizing's 1 + c per database.
            await database.OpenTestConnectionsAheadAsync(1, loadSchema: true, stopping).ConfigureAwait(false);
            database.MigratedAhead = true;
        }
        catch (Exception error) when (!stopping.IsCancellationRequested)
        {
            // Left unmigrated: the next test's own migration reports the failure where it belongs.
            step?.SetTag("testkit.failed", error.Message);
        }
    }

    private async Task<PooledDatabase> CreateAsync(CancellationToken cancellationToken)
    {
        var name = await _run.Catalog.CreateAsync(cancellationToken).ConfigureAwait(false);
        var database = new PooledDatabase(name, _run.Server.ConnectionStringFor(name));
        try
        {
            var connection = await database.OpenKitConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                database.Baseline = await CatalogSnapshot.TakeAsync(connection, cancellationToken).ConfigureAwait(false);
            }

            return database;
        }
        catch
        {
            await database.DisposeAsync().ConfigureAwait(false);
            await _run.Catalog.DropAsync(name, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Evolve erases only the schemas it manages; the migrations (or the test) may have created others — plainly, or
    /// dropped and created again by a repeatable script. Whatever schema the baseline lacks goes, with all it holds;
    /// nothing of the baseline is touched.
    /// </summary>
    private static async Task DropSchemasOutsideBaselineAsync(PooledDatabase database, NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var now = await CatalogSnapshot.SchemasAsync(connection, cancellationToken).ConfigureAwait(false);
        var added = now.Except(database.Baseline!.Schemas, StringComparer.Ordinal).ToList();
        if (added.Count > 0)
        {
            await Sql.ExecuteAsync(connection, string.Join("; ", added.Select(schema => $"DROP SCHEMA IF EXISTS {Sql.Quote(schema)} CASCADE")), cancellationToken).ConfigureAwait(false);
        }
    }

    private static async Task VerifyBaselineAsync(PooledDatabase database, NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var after = await CatalogSnapshot.TakeAsync(connection, cancellationToken).ConfigureAwait(false);
        var (added, missing) = after.Compare(database.Baseline!);
        if (added.Count == 0 && missing.Count == 0)
        {
            return;
        }

        const int Shown = 10;
        var details = string.Join("; ", added.Take(Shown).Select(item => "left: " + item).Concat(missing.Take(Shown).Select(item => "gone: " + item)));
        throw new TestKitException(
            $"After the erase, database '{database.Name}' differs from its empty baseline ({added.Count} object(s) left, {missing.Count} missing): {details}. " +
            "Evolve erases the schemas it manages, and TestKit drops the schemas the baseline lacks; what is left was created outside them " +
            "(in a schema the empty database already had, such as an extension, event trigger or publication the erase does not cover), by the migrations or by the test. " +
            "TestKit dropped this database; the next test gets a fresh one.");
    }
}
