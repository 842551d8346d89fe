using System.Security.Cryptography;
using System.Text;
using Npgsql;
using TestKit.Migrations;
using TestKit.Server;

namespace TestKit.Isolation;

/// <summary>
/// The template database of one migration set on one server: migrated once per fingerprint and kept
/// across runs and processes, so that tests can clone it instead of migrating.
/// <list type="bullet">
/// <item>Its name and its advisory-lock keys derive from the fingerprint (file names and contents), so an edited
/// migration gives a new template by itself.</item>
/// <item>Building is serialised across processes by an advisory lock; a template is marked ready only after its
/// migration committed, and a template found unready (its builder died) is dropped and built again.</item>
/// <item>While a run uses a template it holds a shared advisory lock on it; older templates of the same folders are
/// dropped when no run holds theirs.</item>
/// </list>
/// </summary>
internal sealed class TemplateStore : IAsyncDisposable
{
    internal const string MarkerPrefix = "testkit:template=";
    // 2: a seeded template is a clone of the template of head with the seeds applied.
    private const string FormatVersion = "2";

    private readonly IPostgresServer _server;
    private readonly ServerLocks _locks;
    private readonly IMigrator _migrator;
    private readonly string _fingerprint;
    private readonly string _lineage;
    private readonly SemaphoreSlim _once = new(1, 1);
    private readonly TemplateStore? _head;
    private bool _holdsUseLock;
    private string? _name;

    internal TemplateStore(DatabaseCatalog catalog, IMigrator migrator)
    {
        _server = catalog.Server;
        _locks = catalog.Locks;
        _migrator = migrator;
        _fingerprint = Hash(FormatVersion + "|" + migrator.Migrations.Fingerprint)[..24];
        // Same folders, seeds, schemas and placeholder names: a newer fingerprint of the same lineage replaces this one.
        var migrations = migrator.Migrations;
        _lineage = Hash(string.Join('|', [.. migrations.Folders, "seeds", .. migrations.Seeds.Select(seed => seed.Path), "schemas", .. migrations.Schemas, "changelog", migrations.ChangelogSchema ?? string.Empty, "placeholders", .. migrations.Placeholders.Select(pair => pair.Key)]))[..12];
        // A seeded state is built on the template of head: the migrations run once per server, whatever the seeds. Objects
        // every database shares (roles) are then created once, and each seeded state costs its seeds only.
        _head = migrations.Seeds.Count > 0 ? new TemplateStore(catalog, migrator.WithoutSeeds()) : null;
    }

    internal string Name => NameOf(_fingerprint);

    /// <summary>The name of the template of <paramref name="migrations"/> (on any server).</summary>
    internal static string NameFor(MigrationSet migrations) => NameOf(Hash(FormatVersion + "|" + migrations.Fingerprint)[..24]);

    private static string NameOf(string fingerprint) => $"testkit_template_{fingerprint}";

    private string ReadyMarker => $"{MarkerPrefix}{_fingerprint};lineage={_lineage};state=ready";

    /// <summary>The marker of this template while it is being built (and of one whose builder died half-way).</summary>
    internal string BuildingMarker => $"{MarkerPrefix}{_fingerprint};lineage={_lineage};state=building";

    /// <summary>The name of the ready template, building it first if no process has.</summary>
    internal async Task<string> EnsureAsync(CancellationToken cancellationToken)
    {
        if (_name is not null)
        {
            return _name;
        }

        await _once.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_name is null)
            {
                await BuildOrReuseAsync(cancellationToken).ConfigureAwait(false);
                _name = Name;
            }

            return _name;
        }
        finally
        {
            _once.Release();
        }
    }

    /// <summary>Releases this run's hold on the template; the template itself stays for the next run.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_holdsUseLock)
        {
            await _locks.ReleaseSharedAsync(LockKey("use")).ConfigureAwait(false);
        }

        if (_head is not null)
        {
            await _head.DisposeAsync().ConfigureAwait(false);
        }

        _once.Dispose();
    }

    private async Task BuildOrReuseAsync(CancellationToken cancellationToken)
    {
        // Before the gate: the template of head is built (or found) under the same gate.
        var head = _head is null ? null : await _head.EnsureAsync(cancellationToken).ConfigureAwait(false);
        await _locks.Builds.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Unpooled: a session-level advisory lock belongs to the physical connection, and an idle
            // pooled connection to the template would stop CREATE DATABASE ... TEMPLATE.
            var connection = new NpgsqlConnection(Unpooled(_server.LockDatabase));
            await using (connection.ConfigureAwait(false))
            {
                await OpenAsync(connection, cancellationToken).ConfigureAwait(false);
                await Sql.ExecuteAsync(connection, "SELECT pg_advisory_lock($1)", cancellationToken, LockKey("build")).ConfigureAwait(false);
                try
                {
                    var marker = await Sql.ScalarAsync<string>(
                        connection,
                        "SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname = $1",
                        cancellationToken,
                        Name).ConfigureAwait(false);
                    // Ready is ready whatever folder the scripts came from: the same fingerprint is the same template.
                    if (!IsReady(marker))
                    {
                        try
                        {
                            await BuildAsync(connection, marker, head, cancellationToken).ConfigureAwait(false);
                        }
                        catch (PostgresException clash) when (clash.SqlState is PostgresErrorCodes.DuplicateDatabase or PostgresErrorCodes.UniqueViolation)
                        {
                            // Advisory locks are per database: a run that connects to another maintenance database
                            // is building the same template right now. Wait for it to be marked ready.
                            await WaitUntilReadyAsync(connection, cancellationToken).ConfigureAwait(false);
                        }
                    }

                    // Held before the build lock goes: no run that builds a newer template of the same lineage can take
                    // this one for stale in between.
                    await _locks.HoldSharedAsync(LockKey("use"), cancellationToken).ConfigureAwait(false);
                    _holdsUseLock = true;
                }
                finally
                {
                    await Sql.ExecuteAsync(connection, "SELECT pg_advisory_unlock($1)", CancellationToken.None, LockKey("build")).ConfigureAwait(false);
                }

                await DropStaleAsync(connection, cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _locks.Builds.Release();
        }
    }

    private bool IsReady(string? marker) =>
        marker is not null && marker.StartsWith($"{MarkerPrefix}{_fingerprint};", StringComparison.Ordinal) && marker.EndsWith(";state=ready", StringComparison.Ordinal);

    private async Task WaitUntilReadyAsync(NpgsqlConnection admin, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(10);
        while (true)
        {
            var marker = await Sql.ScalarAsync<string>(
                admin, "SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname = $1", cancellationToken, Name).ConfigureAwait(false);
            if (IsReady(marker))
            {
                return;
            }

            if (marker is null || DateTime.UtcNow > deadline)
            {
                throw new TestKitException($"Another run was building template {Name} and did not finish it. Run the tests again.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task BuildAsync(NpgsqlConnection admin, string? marker, string? head, CancellationToken cancellationToken)
    {
        if (marker is not null)
        {
            if (!marker.StartsWith(MarkerPrefix, StringComparison.Ordinal))
            {
                throw new TestKitException(
                    $"A database named {Name} exists on the server but was not made by TestKit, so TestKit will not replace it. Drop or rename it.");
            }

            // Left half-built by a process that died: it never became ready, so nobody clones it.
            await Sql.ExecuteAsync(admin, $"DROP DATABASE {Sql.Quote(Name)} WITH (FORCE)", cancellationToken).ConfigureAwait(false);
        }

        var source = head is null ? "template0 ENCODING 'UTF8'" : Sql.Quote(head);
        await Sql.ExecuteAsync(admin, $"CREATE DATABASE {Sql.Quote(Name)} TEMPLATE {source}", cancellationToken).ConfigureAwait(false);
        await Sql.ExecuteAsync(admin, $"COMMENT ON DATABASE {Sql.Quote(Name)} IS {Sql.Literal(BuildingMarker)}", cancellationToken).ConfigureAwait(false);
        try
        {
            var template = new NpgsqlConnection(Unpooled(Name));
            await using (template.ConfigureAwait(false))
            {
                await OpenAsync(template, cancellationToken).ConfigureAwait(false);
                if (head is not null)
                {
                    await _migrator.SeedAsync(template, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    // One first migration at a time on the server (see AdvisoryLockKeys.FirstMigrations), on the lock connection.
                    await Sql.ExecuteAsync(admin, "SELECT pg_advisory_lock($1)", cancellationToken, AdvisoryLockKeys.FirstMigrations).ConfigureAwait(false);
                    try
                    {
                        await _migrator.MigrateAsync(template, cancellationToken).ConfigureAwait(false);
                    }
                    finally
                    {
                        await Sql.ExecuteAsync(admin, "SELECT pg_advisory_unlock($1)", CancellationToken.None, AdvisoryLockKeys.FirstMigrations).ConfigureAwait(false);
                    }
                }
            }
        }
        catch (Exception migrateError) when (migrateError is TestKitException or NpgsqlException or OperationCanceledException or ObjectDisposedException)
        {
            // Never leave a half-built template behind: drop it now, then report the migration's error.
            await Sql.ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {Sql.Quote(Name)} WITH (FORCE)", CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        await Sql.ExecuteAsync(admin, $"COMMENT ON DATABASE {Sql.Quote(Name)} IS {Sql.Literal(ReadyMarker)}", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Drops templates of the same folders built from older scripts, unless a live run still uses one.</summary>
    private async Task DropStaleAsync(NpgsqlConnection admin, CancellationToken cancellationToken)
    {
        var stale = await Sql.QueryAsync(
            admin,
            "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database WHERE shobj_description(oid, 'pg_database') LIKE $1 AND datname <> $2",
            reader => (Name: reader.GetString(0), Marker: reader.GetString(1)),
            cancellationToken,
            MarkerPrefix + "%;lineage=" + _lineage + ";%",
            Name).ConfigureAwait(false);
        foreach (var (name, marker) in stale)
        {
            var fingerprint = marker[MarkerPrefix.Length..marker.IndexOf(';', StringComparison.Ordinal)];
            var key = AdvisoryLockKeys.Template(fingerprint, "use");
            var free = await Sql.ScalarAsync<bool>(admin, "SELECT pg_try_advisory_lock($1)", cancellationToken, key).ConfigureAwait(false);
            if (!free)
            {
                continue;
            }

            try
            {
                await Sql.ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {Sql.Quote(name)} WITH (FORCE)", cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                await Sql.ExecuteAsync(admin, "SELECT pg_advisory_unlock($1)", CancellationToken.None, key).ConfigureAwait(false);
            }
        }
    }

    private string Unpooled(string database)
    {
        var builder = KitSessionSettings.Apply(_server.ConnectionStringFor(database));
        builder.Pooling = false;
        builder.ApplicationName = "testkit";
        return builder.ConnectionString;
    }

    private static async Task OpenAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or TimeoutException)
        {
            throw ServerErrors.Translate(e, new NpgsqlConnectionStringBuilder(connection.ConnectionString), "the template connection");
        }
    }

    private long LockKey(string purpose) => AdvisoryLockKeys.Template(_fingerprint, purpose);

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
