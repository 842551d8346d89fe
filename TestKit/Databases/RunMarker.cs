using System.Globalization;

namespace TestKit.Databases;

/// <summary>
/// The comment a run writes on each database and login role it creates — <c>testkit:run=ID;pid=PID;host=HOST</c> — the one
/// place that formats and reads it. A kept database's comment is <c>testkit:kept;</c> and the marker. Every run holds its
/// run lock while it holds a database (see <see cref="ServerLocks"/>).
/// </summary>
/// <param name="RunId">The run's id: random, and part of every name the run gives (see <see cref="NamePrefix"/>).</param>
/// <param name="ProcessId">The run's process, when the marker names one.</param>
/// <param name="Host">The host the run ran on.</param>
internal sealed record RunMarker(string RunId, int? ProcessId, string? Host)
{
    internal const string Prefix = "testkit:run=";
    private const string KeptPrefix = "testkit:kept;";

    /// <summary>The start of every name the run gives its databases and login roles.</summary>
    internal string NamePrefix => $"testkit_{RunId}_";

    /// <summary>The marker of this process's run <paramref name="runId"/> on <paramref name="host"/>.</summary>
    internal static RunMarker ForThisProcess(string runId, string host) => new(runId, Environment.ProcessId, host);

    /// <summary>A POSIX pattern of the names runs give their databases and login roles: testkit_RUNID_NNN.</summary>
    internal const string NamePattern = "^testkit_[0-9a-f]{10}_[0-9]{3,}$";

    /// <summary>
    /// The run of a database named like a run's (<see cref="NamePattern"/>) that carries no marker yet: created by that run,
    /// which holds its run lock before it creates one, on a host and in a process unknown.
    /// </summary>
    internal static RunMarker OfUnmarked(string name) => new(name.Split('_')[1], ProcessId: null, Host: null);

    /// <summary>The <paramref name="number"/>th name of the run: testkit_ID_001.</summary>
    internal string Name(int number) => NamePrefix + number.ToString("D3", CultureInfo.InvariantCulture);

    /// <summary>The comment text.</summary>
    internal string Format() =>
        $"{Prefix}{RunId};pid={ProcessId?.ToString(CultureInfo.InvariantCulture)};host={Host}";

    /// <summary>The comment of a database this run keeps for inspection: no run drops it.</summary>
    internal string FormatKept() => KeptPrefix + Format();

    /// <summary>The marker in <paramref name="comment"/>, or null when the comment is no run's marker (a kept database's included).</summary>
    internal static RunMarker? Parse(string? comment)
    {
        if (comment is null || !comment.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var parts = comment[Prefix.Length..].Split(';');
        var fields = parts.Skip(1)
            .Select(field => field.Split('=', 2))
            .Where(pair => pair.Length == 2)
            .GroupBy(pair => pair[0], StringComparer.Ordinal)
            .ToDictionary(group => group.Key, group => group.First()[1], StringComparer.Ordinal);
        return new RunMarker(
            parts[0],
            int.TryParse(fields.GetValueOrDefault("pid"), CultureInfo.InvariantCulture, out var pid) ? pid : null,
            fields.GetValueOrDefault("host"));
    }
}
