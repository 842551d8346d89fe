using System.Globalization;
using System.Text;

using TestKit.Session;

namespace TestKit;

/// <summary>The text printed at the end of a session: tests, strategies, databases, set-up and tear-down times, servers, roles left, kept databases.</summary>
internal static class SessionSummary
{
    internal static string Format(IReadOnlyList<TestRecord> tests, IEnumerable<ServerReport> servers, IReadOnlyCollection<KeptDatabase> kept, string? firstLease = null)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"TestKit session summary: {tests.Count} tests, {tests.Count(test => test.Failed)} failed");
        foreach (var group in tests.GroupBy(test => test.Strategy).OrderBy(group => group.Key, StringComparer.Ordinal))
        {
            text.AppendLine(CultureInfo.InvariantCulture,
                $"  {group.Key}: {group.Count()} tests; set-up {Describe(group.Select(test => test.SetUpMilliseconds))}; tear-down {Describe(group.Select(test => test.TearDownMilliseconds))}");
        }

        if (firstLease is not null)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  {firstLease}");
        }

        foreach (var server in servers)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  server: {server.Server}; databases created {server.Created}, dropped {server.Dropped}, kept {kept.Count(database => database.Server == server.Server)}");
            foreach (var warning in Warnings([server]))
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"  {warning}");
            }
        }

        foreach (var database in kept)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  kept {database.Name} (test {database.TestName}): {database.PsqlCommand}");
        }

        foreach (var stop in kept.Select(database => database.StopCommand).OfType<string>().Distinct(StringComparer.Ordinal))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"  the embedded server keeps running for them; when done: {stop}");
        }

        return text.ToString();
    }

    /// <summary>What a run left on a user's server, and what failed in the background, said as warnings: they concern no single test.</summary>
    internal static IEnumerable<string> Warnings(IEnumerable<ServerReport> servers) =>
        servers.Where(server => server.RolesLeft.Count > 0).Select(server =>
            $"TestKit: roles created during the run are left on {server.Server} (roles belong to the whole server; TestKit drops only what it created): {string.Join(", ", server.RolesLeft)}")
        .Concat(servers.SelectMany(server => server.BackgroundFailures));

    private static string Describe(IEnumerable<double?> milliseconds)
    {
        var sorted = milliseconds.OfType<double>().Order().ToArray();
        if (sorted.Length == 0)
        {
            return "none";
        }

        return string.Create(CultureInfo.InvariantCulture, $"median {Percentile(sorted, 0.5):0.0} ms, p95 {Percentile(sorted, 0.95):0.0} ms");
    }

    /// <summary>Nearest-rank percentile of sorted values.</summary>
    private static double Percentile(double[] sorted, double fraction) =>
        sorted[Math.Clamp((int)Math.Ceiling(fraction * sorted.Length) - 1, 0, sorted.Length - 1)];
}
