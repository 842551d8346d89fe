namespace TestKit.Bench.Reporting;

/// <summary>The machine's load average, so a reader can tell a quiet run from one that shared the cores.</summary>
internal static class LoadAverage
{
    private const string LinuxSource = "/proc/loadavg";

    /// <summary>"0.52 0.31 0.20", or "unknown" where the system does not publish it.</summary>
    internal static string Now() =>
        File.Exists(LinuxSource) ? string.Join(' ', File.ReadAllText(LinuxSource).Split(' ').Take(3)) : "unknown";
}
