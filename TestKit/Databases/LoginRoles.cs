using System.Collections.Concurrent;
using TestKit.Server;

namespace TestKit.Databases;

/// <summary>
/// The login roles a run creates for its tests (the reset strategy's IsolateLeftoverClients): each a superuser like the
/// admin role, marked with the run's marker, retired for good at its lease's end, then dropped.
/// </summary>
internal sealed class LoginRoles(ServerRun run)
{
    private readonly ConcurrentDictionary<string, byte> _created = new(StringComparer.Ordinal);

    /// <summary>Creates a login role for the tests of one lease, with the password behind <paramref name="verifier"/>, and returns its name.</summary>
    internal async Task<string> CreateAsync(string verifier, CancellationToken cancellationToken)
    {
        var role = run.NextName();
        var connection = await ServerErrors.OpenAsync(run.Server.Admin, "the admin connection", cancellationToken).ConfigureAwait(false);
        await using var disposingConnection = connection.ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        await Sql.ExecuteFormattedAsync(
            connection, "CREATE ROLE %I LOGIN SUPERUSER PASSWORD %L; COMMENT ON ROLE %I IS %L", CancellationToken.None, role, verifier, role, run.Marker.Format()).ConfigureAwait(false);
        _created[role] = 0;

        return role;
    }

    /// <summary>
    /// Retires <paramref name="role"/>: it may not log in again, and is no superuser any more, so a session of it that is
    /// still starting up fails when it tries to act as the admin role. Never undone.
    /// </summary>
    internal async Task RetireAsync(string role, CancellationToken cancellationToken)
    {
        EnsureOurs(role);
        await KitConnections.UseAsync(
            ServerErrors.OpenAsync(run.Server.Admin, "the admin connection", cancellationToken),
            connection => Sql.ExecuteAsync(connection, $"ALTER ROLE {Sql.Quote(role)} NOLOGIN NOSUPERUSER", cancellationToken)).ConfigureAwait(false);
    }

    /// <summary>Ends the sessions of <paramref name="role"/>, one of this run's, and drops it; a no-op when it is gone.</summary>
    internal async Task DropAsync(string role, CancellationToken cancellationToken)
    {
        EnsureOurs(role);
        var connection = await ServerErrors.OpenAsync(run.Server.Admin, "the admin connection", cancellationToken).ConfigureAwait(false);
        await using var disposingConnection = connection.ConfigureAwait(false);
        await Sql.ExecuteAsync(connection, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", cancellationToken, role).ConfigureAwait(false);
        await Sql.ExecuteAsync(connection, $"DROP ROLE IF EXISTS {Sql.Quote(role)}", cancellationToken).ConfigureAwait(false);
        _created.TryRemove(role, out _);
    }

    private void EnsureOurs(string role)
    {
        if (!_created.ContainsKey(role))
        {
            throw new ArgumentException($"Role '{role}' was not created by this TestKit run, so TestKit will not change or drop it.", nameof(role));
        }
    }
}
