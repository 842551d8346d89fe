using System.Globalization;
using System.Security.Cryptography;
using LinqToDB.DataProvider.PostgreSQL;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TestKit.Server;

namespace TestKit.Databases;

/// <summary>
/// One run of the kit on one server: its identity (the marker it writes, the names it gives) and the parts that act for it
/// there — the catalog of its databases, its login roles, its advisory locks and its database budget. Disposing it
/// releases the run's locks; the databases are the strategies' to drop first.
/// </summary>
internal sealed class ServerRun : IAsyncDisposable
{
    private int _names;

    /// <param name="server">The server.</param>
    /// <param name="logger">Where what concerns no single test goes (a leftover the sweep could not drop).</param>
    internal ServerRun(IPostgresServer server, ILogger? logger = null)
    {
        Server = server;
        Logger = logger ?? NullLogger.Instance;
        Marker = RunMarker.ForThisProcess(RandomNumberGenerator.GetHexString(10, lowercase: true), Environment.MachineName);
        Locks = new ServerLocks(server, Marker.RunId);
        Budget = new DatabaseBudget(Locks);
        Catalog = new DatabaseCatalog(this);
        LoginRoles = new LoginRoles(this);
    }

    internal IPostgresServer Server { get; }

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
    /// One template build or first migration of this run at a time opens its lock connection and waits on the server-wide
    /// locks: without it, a run of many templates would hold a connection per template while they wait for each other.
    /// </summary>
    internal SemaphoreSlim Builds { get; } = new(1, 1);

    /// <summary>A new name of this run, for a database or a login role: testkit_ID_NNN.</summary>
    internal string NextName() => Marker.Name(Interlocked.Increment(ref _names));

    /// <summary>Drops what dead runs left on the server (see <see cref="OrphanSweep"/>).</summary>
    internal Task SweepOrphansAsync(CancellationToken cancellationToken) => OrphanSweep.RunAsync(this, cancellationToken);

    public ValueTask DisposeAsync() => Locks.DisposeAsync();

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
