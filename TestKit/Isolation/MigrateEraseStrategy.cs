using Npgsql;
using TestKit.Migrations;
using TestKit.Server;

namespace TestKit.Isolation;

/// <summary>
/// The literal mode: a pool of databases, each leased to one test at a time. Evolve migrates the
/// database to head before the test and erases it after; the erase is then checked against the
/// catalog of the freshly created database. A database that cannot be proven clean is dropped and
/// replaced, never handed to another test.
/// </summary>
internal sealed class MigrateEraseStrategy : IIsolationStrategy
{
    private readonly DatabaseCatalog _catalog;
    private readonly IMigrator _migrator;
    private readonly DatabasePool _pool;
    private readonly FirstMigration _firstMigration;
    private readonly bool _renameAtRelease;

    // renameAtRelease: rename the database at every release, so that a test's leftovers reach nothing.
    internal MigrateEraseStrategy(DatabaseCatalog catalog, IMigrator migrator, int maxDatabases, bool renameAtRelease = false)
    {
        _catalog = catalog;
        _migrator = migrator;
        _renameAtRelease = renameAtRelease;
        _pool = new DatabasePool(catalog, maxDatabases);
        _firstMigration = new FirstMigration(catalog.Server);
    }

    public string Name => "migrate-erase";

    /// <summary>How many databases this strategy has now (idle and leased).</summary>
    internal int DatabaseCount => _pool.Count;

    public async Task<TestDatabase> AcquireAsync(CancellationToken cancellationToken)
    {
        var database = await _pool.LeaseAsync(CreateAsync, cancellationToken).ConfigureAwait(false);
        try
        {
            var connection = await database.OpenKitConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                await _firstMigration.RunAsync(() => _migrator.MigrateAsync(connection, cancellationToken), cancellationToken).ConfigureAwait(false);
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

        return new TestDatabase(database.Name, database.TestConnectionString, _catalog.Server.Description);
    }

    public async Task<string> ReleaseAsync(TestDatabase database, CancellationToken cancellationToken)
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
                NpgsqlConnection.ClearPool(new NpgsqlConnection(pooled.TestConnectionString));
            }

            var connection = await pooled.OpenKitConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                if (!_renameAtRelease)
                {
                    await DatabaseSessions.EndOthersAsync(connection, cancellationToken).ConfigureAwait(false);
                    await DatabaseCatalog.RollBackPreparedTransactionsAsync(connection, cancellationToken).ConfigureAwait(false);
                }

                await _migrator.EraseAsync(connection, cancellationToken).ConfigureAwait(false);
                await DropSchemasOutsideBaselineAsync(pooled, connection, cancellationToken).ConfigureAwait(false);
                await VerifyBaselineAsync(pooled, connection, cancellationToken).ConfigureAwait(false);
            }

            _pool.ReturnIdle(pooled);
            return "erased and checked against its baseline";
        }
        catch (Exception eraseError)
        {
            await _pool.DiscardAsync(pooled, eraseError).ConfigureAwait(false);
            throw;
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

    private async Task<PooledDatabase> CreateAsync(CancellationToken cancellationToken)
    {
        var name = await _catalog.CreateAsync(cancellationToken).ConfigureAwait(false);
        var database = _pool.Add(new PooledDatabase(name, _catalog.Server.ConnectionStringFor(name)));
        try
        {
            var connection = await database.OpenKitConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                database.Baseline = await CatalogSnapshot.TakeAsync(connection, cancellationToken).ConfigureAwait(false);
            }

            return database;
        }
        catch (Exception createError)
        {
            await _pool.DiscardAsync(database, createError).ConfigureAwait(false);
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

    private async Task VerifyBaselineAsync(PooledDatabase database, NpgsqlConnection connection, CancellationToken cancellationToken)
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
