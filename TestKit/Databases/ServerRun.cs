using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using LinqToDB.DataProvider.PostgreSQL;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using TestKit.Configuration;
using TestKit.Diagnostics;
using TestKit.Server;
using TestKit.Server.Embedded;

namespace TestKit.Databases;

/// <summary>
/// One run of the kit on one server, the server the session uses: its identity (the marker it writes, the names it gives),
/// the parts that act for it there — the catalog of its databases, its login roles, its advisory locks and its database
/// budget — and what the session summary says of it (its start time, the roles left on it). Disposing it releases the
/// run's locks; the databases are the strategies' to drop first, and the server is the session's to stop last.
/// </summary>
internal sealed class ServerRun : IAsyncDisposable
{
    /// <summary>The oldest server the kit runs on (server_version_num): see <see cref="RefusalOf"/>.</summary>
    private const int MinimumVersion = 140000;

    private readonly SemaphoreSlim _lockConnections = new(1, 1);
    private int _names;
    private IReadOnlySet<string>? _rolesAtStart;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _backgroundFailures = new();

    /// <param name="server">The server.</param>
    /// <param name="logger">Where what concerns no single test goes (a leftover the sweep could not drop).</param>
    internal ServerRun(PostgresServer server, ILogger? logger = null)
    {
        Server = server;
        Logger = logger ?? NullLogger.Instance;
        Marker = RunMarker.ForThisProcess(RandomNumberGenerator.GetHexString(10, lowercase: true), Environment.MachineName);
        Locks = new ServerLocks(server, Marker.RunId);
        Budget = new DatabaseBudget(Locks);
        Catalog = new DatabaseCatalog(this);
        LoginRoles = new LoginRoles(this);
    }

    internal PostgresServer Server { get; }

    /// <summary>The embedded server when <see cref="Server"/> is it; null for the user's.</summary>
    internal EmbeddedServer? Embedded => Server as EmbeddedServer;

    /// <summary>How long the server took to start (or reach) and sweep, in milliseconds; 0 for a run on a server started elsewhere.</summary>
    internal double StartMilliseconds { get; private set; }

    /// <summary>
    /// The roles that appeared on a server that outlives the run (a migration or a test created them) and are still there,
    /// after <see cref="NoteRolesLeftAsync"/>: roles belong to the whole server, and the kit drops only what it created, so
    /// the session summary lists them. An embedded server of the run alone takes them with it.
    /// </summary>
    internal IReadOnlyList<string> RolesLeft { get; private set; } = [];

    /// <summary>What the run's background steps failed with, for the session summary.</summary>
    internal IReadOnlyList<string> BackgroundFailures => [.. _backgroundFailures];

    /// <summary>linq2db's dialect for <see cref="Server"/>.</summary>
    internal PostgreSQLVersion Dialect => DialectOf(Server.Version);

    internal ILogger Logger { get; }

    /// <summary>The marker this run writes on every database and login role it creates.</summary>
    internal RunMarker Marker { get; }

    internal ServerLocks Locks { get; }

    internal DatabaseBudget Budget { get; }

    internal DatabaseCatalog Catalog { get; }

    internal LoginRoles LoginRoles { get; }

    /// <summary>
    /// Runs <paramref name="work"/> on a lock connection of its own (unpooled, to the lock database), one such work of this
    /// run at a time: a template build or a first migration waits there on server-wide locks, and a run of many templates
    /// would otherwise hold a connection per template while they wait for each other.
    /// </summary>
    internal async Task OnLockConnectionAsync(Func<NpgsqlConnection, Task> work, CancellationToken cancellationToken)
    {
        await _lockConnections.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await KitConnections.UseAsync(KitConnections.OpenUnpooledAsync(Server, Server.LockDatabase, ApplicationNames.Kit, cancellationToken), work).ConfigureAwait(false);
        }
        finally
        {
            _lockConnections.Release();
        }
    }

    /// <summary>A new name of this run, for a database or a login role: testkit_ID_NNN.</summary>
    internal string NextName() => Marker.Name(Interlocked.Increment(ref _names));

    /// <summary>
    /// Starts the embedded server or connects to the user's, and a run on it; drops what dead runs left there (a run killed
    /// before its cleanup — SIGKILL, a crashed CI agent — left databases that nobody else would drop), and notes the roles of
    /// the user's server.
    /// </summary>
    internal static async Task<ServerRun> StartAsync(ServerSource source, ILogger? logger, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        PostgresServer server = source.IsEmbedded
            ? await EmbeddedServer.StartAsync(source.BinDirectory, source.KeepIdle, logger, cancellationToken).ConfigureAwait(false)
            : await ExternalServer.ConnectAsync(source, cancellationToken).ConfigureAwait(false);
        if (RefusalOf(server.Version, server.Description) is { } refusal)
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw new TestKitException(refusal);
        }

        var run = new ServerRun(server, logger);
        await OrphanSweep.RunAsync(run, cancellationToken).ConfigureAwait(false);
        if (run.Embedded is not { IsKept: false })
        {
            run._rolesAtStart = (await run.RolesAsync(cancellationToken).ConfigureAwait(false)).ToHashSet(StringComparer.Ordinal);
        }

        run.StartMilliseconds = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        return run;
    }

    /// <summary>
    /// Why the kit cannot run on the server of <paramref name="version"/> (server_version_num), or null: every strategy needs PostgreSQL 14 or later (reset reads
    /// <c>pg_stat_database.sessions_killed</c>, new in 14; 13 is past its upstream end of life).
    /// </summary>
    internal static string? RefusalOf(string version, string description) =>
        int.Parse(version, CultureInfo.InvariantCulture) >= MinimumVersion
            ? null
            : $"TestKit needs PostgreSQL 14 or later, and the {description} is older: the reset strategy reads " +
              "pg_stat_database.sessions_killed, which PostgreSQL 14 added, and the kit is tested on 14 to 18 only. " +
              "Use a server of version 14 to 18: set TESTKIT_CONNECTION_STRING to one, or point TESTKIT_POSTGRES_BIN at the " +
              "programs of one for the embedded server.";

    internal void NoteBackgroundFailure(string failure) => _backgroundFailures.Enqueue(failure);

    /// <summary>Notes which roles appeared on the user's server since the run started (see <see cref="RolesLeft"/>).</summary>
    internal async Task NoteRolesLeftAsync()
    {
        if (_rolesAtStart is not null)
        {
            RolesLeft = [.. (await RolesAsync(CancellationToken.None).ConfigureAwait(false)).Except(_rolesAtStart)];
        }
    }

    public ValueTask DisposeAsync() => Locks.DisposeAsync();

    /// <summary>The roles of the server, but the kit's own login roles (which it drops itself).</summary>
    private Task<List<string>> RolesAsync(CancellationToken cancellationToken) =>
        KitConnections.UseAsync(
            ServerErrors.OpenAsync(Server.Admin, "the admin connection", cancellationToken),
            connection => Sql.QueryAsync(
                connection,
                "SELECT rolname FROM pg_roles WHERE NOT starts_with(coalesce(shobj_description(oid, 'pg_authid'), ''), $1) ORDER BY rolname",
                reader => reader.GetString(0),
                cancellationToken,
                RunMarker.Prefix));

    /// <summary>
    /// linq2db's dialect for a server of version <paramref name="serverVersion"/> (server_version_num), as its own detection
    /// picks it. Named rather than detected: detection opens a connection of its own for each new connection string, outside
    /// the data source (a backend start and a login for every clone), and leaves it idle in Npgsql's pool for the string.
    /// </summary>
    private static PostgreSQLVersion DialectOf(string serverVersion) =>
        int.TryParse(serverVersion, CultureInfo.InvariantCulture, out var number)
            ? number switch
            {
                >= 190000 => PostgreSQLVersion.v19,
                >= 180000 => PostgreSQLVersion.v18,
                >= 150000 => PostgreSQLVersion.v15,
                >= 130000 => PostgreSQLVersion.v13,
                >= 120000 => PostgreSQLVersion.v12,
                >= 110000 => PostgreSQLVersion.v11,
                _ => PostgreSQLVersion.v95,
            }
            : PostgreSQLVersion.AutoDetect;
}
