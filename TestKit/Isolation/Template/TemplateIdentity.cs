using System.Reflection;
using TestKit.Databases;
using TestKit.Migrations;
using TestKit.Server;

namespace TestKit.Isolation.Template;

/// <summary>
/// Who a template is, the one place that names it and formats and reads its marker (its database comment:
/// <c>testkit:template=FINGERPRINT;lineage=LINEAGE;state=building|ready</c>). Its name and its advisory-lock keys derive
/// from the fingerprint (file names and contents, seeds, schemas, placeholders, and the versions of the server and of
/// TestKit that build it), so an edited migration, a new server or a new TestKit gives a new template by itself; its lineage is what stays the same across edits (folders, seed files, schemas, placeholder names),
/// so that a newer template of the same lineage can replace an older one.
/// </summary>
internal sealed record TemplateIdentity(string Fingerprint, string Lineage)
{
    internal const string MarkerPrefix = "testkit:template=";

    // 2: a seeded template is a clone of the template of head with the seeds applied.
    private const string FormatVersion = "2";

    internal string Name => $"testkit_template_{Fingerprint}";

    internal string ReadyMarker => $"{MarkerPrefix}{Fingerprint};lineage={Lineage};state=ready";

    /// <summary>The marker of this template while it is being built (and of one whose builder died half-way).</summary>
    internal string BuildingMarker => $"{MarkerPrefix}{Fingerprint};lineage={Lineage};state=building";

    /// <summary>A LIKE pattern for the markers of every template of this lineage.</summary>
    internal string LineagePattern => MarkerPrefix + "%;lineage=" + Lineage + ";%";

    internal static TemplateIdentity Of(MigrationSet migrations, string serverVersion) =>
        new(
            FingerprintOf(migrations, serverVersion),
            Hashes.Hex(string.Join('|', [
                .. migrations.Folders,
                "seeds", .. migrations.Seeds.Select(seed => seed.Path),
                "schemas", .. migrations.Schemas,
                "changelog", migrations.ChangelogSchema ?? string.Empty,
                "placeholders", .. migrations.Placeholders.Select(pair => pair.Key)]))[..12]);

    /// <summary>True when <paramref name="marker"/> says this very template is ready.</summary>
    internal bool IsReadyMarker(string? marker) =>
        marker is not null && marker.StartsWith($"{MarkerPrefix}{Fingerprint};", StringComparison.Ordinal) && marker.EndsWith(";state=ready", StringComparison.Ordinal);

    /// <summary>The use lock of the template whose marker is <paramref name="marker"/>.</summary>
    internal static long UseLockOf(string marker) =>
        AdvisoryLockKeys.Template(marker[MarkerPrefix.Length..marker.IndexOf(';', StringComparison.Ordinal)], "use");

    /// <summary>This template's advisory lock for <paramref name="purpose"/> ("build", "use").</summary>
    internal long Lock(string purpose) => AdvisoryLockKeys.Template(Fingerprint, purpose);

    private static string FingerprintOf(MigrationSet migrations, string serverVersion) =>
        Hashes.Hex($"{FormatVersion}|{KitVersion}|{serverVersion}|{migrations.Fingerprint}")[..24];

    /// <summary>This TestKit's version: a template built by another version of it is never reused.</summary>
    private static string KitVersion { get; } =
        typeof(TemplateIdentity).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
}
