using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using TestKit.Diagnostics;

namespace TestKit.Server.Embedded;

/// <summary>
/// A throw-away PostgreSQL started from this machine's own server programs: a fresh data folder (on tmpfs where there is
/// one; initdb's output, or its copy from the user's <see cref="ClusterCache"/>), TCP on loopback only at a port chosen at run time, a password generated for this run, durability off. Stopped
/// and deleted on dispose, at process exit, and — if this process dies before that — by the next run's sweep of orphans.
/// </summary>
internal sealed class EmbeddedServer : PostgresServer
{
    private const string SuperUser = "testkit";
    private const int PortAttempts = 3;

    private readonly EmbeddedFolder _folder;
    private readonly PgCtl _pgCtl;
    private int _stopped;
    private bool _keepRunning;

    /// <summary>A kept server's: this run's shared lock on its "attached" file (see <see cref="KeptServer"/>); null for a server of this run alone.</summary>
    private FileStream? _attachment;

    private EmbeddedServer(EmbeddedFolder folder, PgCtl pgCtl, NpgsqlConnectionStringBuilder builder)
        : base(builder, NpgsqlDataSource.Create(KitConnections.AdminPool(builder)))
    {
        _folder = folder;
        _pgCtl = pgCtl;
        AppDomain.CurrentDomain.ProcessExit += OnProcessExit;
    }

    /// <summary>Whether the server outlives the run (see <see cref="KeptServer"/>).</summary>
    internal bool IsKept => _attachment is not null;

    /// <summary>How to stop this server and remove it, for the session summary when it keeps running for kept databases.</summary>
    internal string StopCommand => _pgCtl.StopCommand(_folder);

    /// <summary>
    /// Sweeps orphans of dead runs, then creates, starts and connects to a new server of the programs in
    /// <paramref name="binDirectory"/> (null: searched for); with <paramref name="keepIdle"/>, attaches to the
    /// <see cref="KeptServer"/> instead.
    /// </summary>
    internal static async Task<EmbeddedServer> StartAsync(string? binDirectory, TimeSpan? keepIdle, ILogger? logger, CancellationToken cancellationToken)
    {
        if (OperatingSystem.IsWindows())
        {
            throw new TestKitException("The embedded PostgreSQL runs on Linux and macOS only. On Windows, set TESTKIT_CONNECTION_STRING to a server you run yourself.");
        }

        var pgCtl = await KitTracing.ChildAsync("testkit.server.locate", () => PgCtl.LocateAsync(binDirectory, cancellationToken)).ConfigureAwait(false);
        await KitTracing.ChildAsync("testkit.server.sweep", () => EmbeddedFolder.SweepOrphansAsync(pgCtl, logger ?? NullLogger.Instance, cancellationToken)).ConfigureAwait(false);

        return keepIdle is { } idle
            ? await KeptServer.AttachAsync(pgCtl, idle, cancellationToken).ConfigureAwait(false)
            : await StartNewAsync(await EmbeddedFolder.CreateAsync(RandomNumberGenerator.GetHexString(12, lowercase: true), cancellationToken).ConfigureAwait(false), pgCtl, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Starts a new server in <paramref name="folder"/>; removes the folder if that fails. <paramref name="attachment"/>: see <see cref="KeptServer"/>.</summary>
    internal static async Task<EmbeddedServer> StartNewAsync(EmbeddedFolder folder, PgCtl pgCtl, FileStream? attachment, CancellationToken cancellationToken)
    {
        var password = RandomNumberGenerator.GetHexString(32, lowercase: true);
        try
        {
            var initialPassword = await KitTracing.ChildAsync(
                "testkit.server.cluster", () => ClusterCache.CreateClusterAsync(folder, pgCtl, SuperUser, password, cancellationToken)).ConfigureAwait(false);
            var port = await KitTracing.ChildAsync("testkit.server.pg-ctl-start", () => StartProcessAsync(folder, pgCtl, cancellationToken)).ConfigureAwait(false);

            var builder = Connection(port, password);
            if (initialPassword != password)
            {
                // Every run's server gets a password of its own, also when its cluster came from the cache.
                using var step = KitTracing.StartChild("testkit.server.password");
                await SetPasswordAsync(new NpgsqlConnectionStringBuilder(builder.ConnectionString) { Password = initialPassword, Pooling = false }, password, cancellationToken).ConfigureAwait(false);
            }

            await folder.WritePassFileAsync(builder.Host!, port, SuperUser, password, cancellationToken).ConfigureAwait(false);
            return await ConnectAsync(folder, pgCtl, builder, attachment, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception) when (Directory.Exists(folder.Root))
        {
            await pgCtl.StopAsync(folder, CancellationToken.None).ConfigureAwait(false);
            await folder.DeleteAsync(CancellationToken.None).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Connects to the server running in <paramref name="folder"/> as its password file says: a kept server's next run.</summary>
    internal static Task<EmbeddedServer> ReuseAsync(EmbeddedFolder folder, PgCtl pgCtl, FileStream attachment, CancellationToken cancellationToken)
    {
        // host:port:*:user:password, as WritePassFileAsync wrote it.
        var fields = File.ReadAllText(folder.PassFile).Trim().Split(':');
        return ConnectAsync(folder, pgCtl, Connection(int.Parse(fields[1], CultureInfo.InvariantCulture), fields[4]), attachment, cancellationToken);
    }

    private static NpgsqlConnectionStringBuilder Connection(int port, string password) =>
        new() { Host = IPAddress.Loopback.ToString(), Port = port, Username = SuperUser, Password = password, Database = "postgres" };

    private static async Task<EmbeddedServer> ConnectAsync(EmbeddedFolder folder, PgCtl pgCtl, NpgsqlConnectionStringBuilder builder, FileStream? attachment, CancellationToken cancellationToken)
    {
        var server = new EmbeddedServer(folder, pgCtl, builder) { _attachment = attachment };
        try
        {
            using var ready = KitTracing.StartChild("testkit.server.ready");
            await server.ReadVersionAsync(cancellationToken).ConfigureAwait(false);
            return server;
        }
        catch
        {
            await server.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public override string PsqlCommand(string database) =>
        $"PGPASSFILE={_folder.PassFile} psql \"host={Builder.Host} port={Builder.Port} user={SuperUser} dbname={database}\"";

    /// <summary>Keeps the server and its folder after the session, for kept databases; no run's sweep removes it.</summary>
    internal void KeepRunning()
    {
        _keepRunning = true;
        _folder.MarkKept(StopCommand);
    }

    public override async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        AppDomain.CurrentDomain.ProcessExit -= OnProcessExit;
        await Admin.DisposeAsync().ConfigureAwait(false);
        if (_attachment is not null)
        {
            // The kept server's idle time counts from here.
            File.SetLastWriteTimeUtc(_attachment.Name, DateTime.UtcNow);
            await _attachment.DisposeAsync().ConfigureAwait(false);
        }
        else if (!_keepRunning)
        {
            await _pgCtl.StopAsync(_folder, CancellationToken.None).ConfigureAwait(false);
            await _folder.DeleteAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>Starts postgres on a free loopback port, trying another port if one is taken meanwhile.</summary>
    private static async Task<int> StartProcessAsync(EmbeddedFolder folder, PgCtl pgCtl, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var port = FreeLoopbackPort();
            var settings = ServerSettings.For(folder, port);
            var (started, error) = await pgCtl.TryStartAsync(folder, settings, Limits.ServerStart, cancellationToken).ConfigureAwait(false);
            if (started)
            {
                return port;
            }

            if (attempt < PortAttempts && error.Contains("already in use", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            throw new TestKitException($"The embedded PostgreSQL did not start ({error}). {PgCtl.Remedy}");
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>Reads the server's version; connecting needs no retry: the start ended on the postmaster's "ready" mark, written once it lets connections in.</summary>
    private async Task ReadVersionAsync(CancellationToken cancellationToken)
    {
        var connection = await ServerErrors.OpenAsync(Admin, "the embedded PostgreSQL", cancellationToken).ConfigureAwait(false);
        await using var disposingConnection = connection.ConfigureAwait(false);
        var rows = await Sql.QueryAsync(
            connection, "SELECT current_setting('server_version'), current_setting('server_version_num')", reader => (reader.GetString(0), reader.GetString(1)), cancellationToken).ConfigureAwait(false);
        (var version, Version) = rows.Single();
        var kept = _attachment is null ? string.Empty
            : $"; {(File.ReadAllText(_folder.OwnerFile) == OwnerStamp.Of(Environment.ProcessId) ? "kept server" : "reused server")} (started {File.GetLastWriteTime(_folder.OwnerFile):HH:mm})";
        Description = $"embedded PostgreSQL {version} at {Builder.Host}:{Builder.Port} (data in {_folder.Root}{kept})";
    }

    /// <summary>Gives the superuser of a server started from the cached cluster (logging in with <paramref name="cached"/>) the run's own <paramref name="password"/>.</summary>
    private static async Task SetPasswordAsync(NpgsqlConnectionStringBuilder cached, string password, CancellationToken cancellationToken)
    {
        var dataSource = NpgsqlDataSource.Create(cached);
        await using var disposing = dataSource.ConfigureAwait(false);
        await KitConnections.UseAsync(
            ServerErrors.OpenAsync(dataSource, "the embedded PostgreSQL", cancellationToken),
            connection => Sql.ExecuteFormattedAsync(connection, "ALTER ROLE %I PASSWORD %L", cancellationToken, SuperUser, password)).ConfigureAwait(false);
    }

    /// <summary>
    /// The runtime is exiting without the session having been disposed (on SIGTERM, say): stop the server now, synchronously
    /// (nothing may be awaited here), rather than leave it to the next run's sweep.
    /// </summary>
    private void OnProcessExit(object? sender, EventArgs e)
    {
        if (Interlocked.Exchange(ref _stopped, 1) == 0 && !_keepRunning && _attachment is null)
        {
            _pgCtl.StopNow(_folder);
            EmbeddedFolder.Remove(_folder.Root);
        }
    }
}
