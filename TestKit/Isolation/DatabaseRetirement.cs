using TestKit.Databases;
using TestKit.Diagnostics;

namespace TestKit.Isolation;

/// <summary>
/// Takes a pool's database out of service for good: drops it, or keeps it for inspection, then drops its login role (if
/// it has one) and gives its place in the run's <see cref="DatabaseBudget"/> back, whatever failed before.
/// </summary>
internal sealed class DatabaseRetirement(ServerRun run)
{
    /// <summary>Closes the kit's connections to <paramref name="database"/>, drops it and then its login role, and frees its place in the budget.</summary>
    internal async Task DropAsync(PooledDatabase database)
    {
        try
        {
            await database.DisposeAsync().ConfigureAwait(false);
            await run.Catalog.DropAsync(database.Name, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            try
            {
                if (database.LoginRole is { } role)
                {
                    await run.LoginRoles.DropAsync(role, CancellationToken.None).ConfigureAwait(false);
                }
            }
            finally
            {
                await ReleaseTokenAsync(database).ConfigureAwait(false);
            }
        }
    }

    /// <summary><see cref="DropAsync"/> as a background step of its own (<c>testkit.drop</c>), for a drop no test waits for.</summary>
    internal async Task DropInBackgroundAsync(PooledDatabase database)
    {
        using var step = KitTracing.StartBackground("testkit.drop", database.Name);
        await DropAsync(database).ConfigureAwait(false);
    }

    /// <summary>Keeps <paramref name="database"/> under <paramref name="keptName"/> (see <see cref="DatabaseCatalog.KeepAsync"/>) and answers the name it got.</summary>
    internal async Task<string> KeepAsync(PooledDatabase database, string keptName, CancellationToken cancellationToken)
    {
        try
        {
            await database.DisposeAsync().ConfigureAwait(false);
            var kept = await run.Catalog.KeepAsync(database.Name, keptName, cancellationToken).ConfigureAwait(false);
            if (database.LoginRole is { } role)
            {
                // The kept database is opened with the admin's credentials (see PostgresServer.PsqlCommand).
                await run.LoginRoles.DropAsync(role, cancellationToken).ConfigureAwait(false);
            }

            return kept;
        }
        finally
        {
            // A kept database holds no connection of the kit's: it no longer counts against the budget.
            await ReleaseTokenAsync(database).ConfigureAwait(false);
        }
    }

    private Task ReleaseTokenAsync(PooledDatabase database) =>
        database.Token is { } token ? run.Budget.ReleaseAsync(token) : Task.CompletedTask;
}
