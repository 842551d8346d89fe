using TestKit.Databases;
using TestKit.Server;

namespace TestKit.Session;

/// <summary>
/// The roles that appear on a server that outlives the run (a migration or a test created them): roles belong to the whole
/// server, and the kit drops only what it created, so the session summary lists them. The embedded server's go with it.
/// </summary>
internal sealed class ServerRoles
{
    private readonly IPostgresServer _server;
    private readonly IReadOnlySet<string>? _atStart;

    private ServerRoles(IPostgresServer server, IReadOnlySet<string>? atStart)
    {
        _server = server;
        _atStart = atStart;
    }

    /// <summary>The roles that appeared during the run and are still there (after <see cref="NoteLeftAsync"/>).</summary>
    internal IReadOnlyList<string> Left { get; private set; } = [];

    /// <summary>Notes the roles of <paramref name="server"/> now, when <paramref name="watch"/>.</summary>
    internal static async Task<ServerRoles> StartAsync(IPostgresServer server, bool watch, CancellationToken cancellationToken) =>
        new(server, watch ? (await RolesAsync(server, cancellationToken).ConfigureAwait(false)).ToHashSet(StringComparer.Ordinal) : null);

    /// <summary>Notes which roles appeared since the start.</summary>
    internal async Task NoteLeftAsync()
    {
        if (_atStart is not null)
        {
            Left = [.. (await RolesAsync(_server, CancellationToken.None).ConfigureAwait(false)).Except(_atStart)];
        }
    }

    /// <summary>The roles of the server, but the kit's own login roles (which it drops itself).</summary>
    private static async Task<List<string>> RolesAsync(IPostgresServer server, CancellationToken cancellationToken)
    {
        var connection = await ServerErrors.OpenAsync(server.Admin, "the admin connection", cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await Sql.QueryAsync(
                connection,
                "SELECT rolname FROM pg_roles WHERE NOT starts_with(coalesce(shobj_description(oid, 'pg_authid'), ''), $1) ORDER BY rolname",
                reader => reader.GetString(0),
                cancellationToken,
                RunMarker.Prefix).ConfigureAwait(false);
        }
    }
}
