using Npgsql;
using TestKit.Databases;
using TestKit.Diagnostics;
using TestKit.Migrations;
using TestKit.Server;

namespace TestKit.Isolation.Template;

/// <summary>
/// The template database of one migration set on one server: migrated once per fingerprint and kept across runs and
/// processes, so that tests can clone it instead of migrating (see <see cref="TemplateIdentity"/> for its name).
/// <list type="bullet">
/// <item>Building is serialised across processes by an advisory lock; a template is marked ready only after its migration
/// committed, and a template found unready (its builder died) is dropped and built again.</item>
/// <item>A seeded state is built on the template of head: the migrations run once per server, whatever the seeds, so
/// objects every database shares (roles) are created once, and each seeded state costs its seeds only.</item>
/// <item>While a run uses a template it holds a shared advisory lock on it; older templates of the same lineage are
/// dropped when no run holds theirs.</item>
/// </list>
/// </summary>
internal sealed class TemplateStore(ServerRun run, EvolveMigrator migrator) : IAsyncDisposable
{
    private readonly TemplateIdentity _identity = TemplateIdentity.Of(migrator.Migrations, run.Server.Version);
    private readonly SemaphoreSlim _once = new(1, 1);
    private readonly TemplateStore? _head = migrator.Migrations.Seeds.Count > 0 ? new TemplateStore(run, migrator.WithoutSeeds()) : null;
    private bool _holdsUseLock;
    private string? _name;

    internal string Name => _identity.Name;

    /// <summary>The scripts the template is built from.</summary>
    internal MigrationSet Migrations => migrator.Migrations;

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
            await run.Locks.ReleaseSharedAsync(_identity.Lock("use")).ConfigureAwait(false);
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
        await run.OnLockConnectionAsync(
            async connection =>
            {
                await AdvisoryLocks.WhileHeldAsync(
                    connection,
                    _identity.Lock("build"),
                    async () =>
                    {
                        var marker = await MarkerAsync(connection, cancellationToken).ConfigureAwait(false);
                        // Ready is ready whatever folder the scripts came from: the same fingerprint is the same template.
                        if (!_identity.IsReadyMarker(marker))
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
                        await run.Locks.HoldSharedAsync(_identity.Lock("use"), cancellationToken).ConfigureAwait(false);
                        _holdsUseLock = true;
                    },
                    cancellationToken).ConfigureAwait(false);

                await DropStaleAsync(connection, cancellationToken).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false);
    }

    private Task<string?> MarkerAsync(NpgsqlConnection admin, CancellationToken cancellationToken) =>
        Sql.ScalarAsync<string>(admin, "SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname = $1", cancellationToken, Name);

    private async Task WaitUntilReadyAsync(NpgsqlConnection admin, CancellationToken cancellationToken)
    {
        string? marker = null;
        // A marker gone (null) means the other builder dropped it: it failed, and will not finish.
        var ready = await Poll.UntilAsync(
            async () => (marker = await MarkerAsync(admin, cancellationToken).ConfigureAwait(false)) is null || _identity.IsReadyMarker(marker),
            TimeSpan.FromMilliseconds(50),
            Limits.OtherTemplateBuild,
            cancellationToken).ConfigureAwait(false);
        if (!ready || marker is null)
        {
            throw new TestKitException($"Another run was building template {Name} and did not finish it. Run the tests again.");
        }
    }

    /// <summary>Builds the template from template0 (migrations) or from the template of head (seeds), on the lock connection.</summary>
    private async Task BuildAsync(NpgsqlConnection admin, string? marker, string? head, CancellationToken cancellationToken)
    {
        using var step = KitTracing.StartChild("testkit.build-template");
        if (marker is not null)
        {
            // No comment at all: its builder was killed between CREATE DATABASE and COMMENT (two statements). The name is
            // the kit's, derived from the fingerprint, and the build lock is held: it is a half-built template too.
            if (marker.Length > 0 && !marker.StartsWith(TemplateIdentity.MarkerPrefix, StringComparison.Ordinal))
            {
                throw new TestKitException(
                    $"A database named {Name} exists on the server but was not made by TestKit, so TestKit will not replace it. Drop or rename it.");
            }

            // Left half-built by a process that died: it never became ready, so nobody clones it.
            await Sql.ExecuteAsync(admin, $"DROP DATABASE {Sql.Quote(Name)} WITH (FORCE)", cancellationToken).ConfigureAwait(false);
        }

        var source = head is null ? "template0 ENCODING 'UTF8'" : Sql.Quote(head);
        await Sql.ExecuteAsync(admin, $"CREATE DATABASE {Sql.Quote(Name)} TEMPLATE {source}", cancellationToken).ConfigureAwait(false);
        await Sql.ExecuteFormattedAsync(admin, "COMMENT ON DATABASE %I IS %L", cancellationToken, Name, _identity.BuildingMarker).ConfigureAwait(false);
        try
        {
            var template = await KitConnections.OpenUnpooledAsync(run.Server, Name, ApplicationNames.Kit, cancellationToken).ConfigureAwait(false);
            await using var disposingTemplate = template.ConfigureAwait(false);
            if (head is not null)
            {
                await migrator.SeedAsync(template, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await FirstMigration.AloneAsync(admin, () => migrator.MigrateAsync(template, cancellationToken), cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            // Never leave a half-built template behind: drop it now, then report the migration's error.
            await Sql.ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {Sql.Quote(Name)} WITH (FORCE)", CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        await Sql.ExecuteFormattedAsync(admin, "COMMENT ON DATABASE %I IS %L", cancellationToken, Name, _identity.ReadyMarker).ConfigureAwait(false);
    }

    /// <summary>Drops templates of the same lineage built from older scripts, unless a live run still uses one.</summary>
    private async Task DropStaleAsync(NpgsqlConnection admin, CancellationToken cancellationToken)
    {
        var stale = await Sql.QueryAsync(
            admin,
            "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database WHERE shobj_description(oid, 'pg_database') LIKE $1 AND datname <> $2",
            reader => (Name: reader.GetString(0), Marker: reader.GetString(1)),
            cancellationToken,
            _identity.LineagePattern,
            Name).ConfigureAwait(false);
        foreach (var (name, marker) in stale)
        {
            await AdvisoryLocks.WhileHeldAsync(
                admin,
                TemplateIdentity.UseLockOf(marker),
                () => Sql.ExecuteAsync(admin, $"DROP DATABASE IF EXISTS {Sql.Quote(name)} WITH (FORCE)", cancellationToken),
                cancellationToken,
                onlyIfFree: true).ConfigureAwait(false);
        }
    }
}
