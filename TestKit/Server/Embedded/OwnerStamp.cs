using System.Globalization;

namespace TestKit.Server.Embedded;

/// <summary>
/// Who started an embedded server: the text of its folder's owner file, and whether that process still lives. A process
/// id alone is not enough (ids are reused), so the stamp also holds when the process started: on Linux, its start time in
/// clock ticks since boot and the boot's id, both read from /proc and unaffected by changes of the wall clock; elsewhere,
/// .NET's start time, which is derived from the wall clock and so compared with a tolerance.
/// </summary>
internal static class OwnerStamp
{
    private const string LinuxPrefix = "linux:";
    private const string BootIdFile = "/proc/sys/kernel/random/boot_id";

    /// <summary>The stamp of process <paramref name="processId"/>.</summary>
    internal static string Of(int processId) =>
        OperatingSystem.IsLinux()
            ? $"{processId.ToString(CultureInfo.InvariantCulture)} {LinuxPrefix}{LinuxStart(processId)}"
            : $"{processId.ToString(CultureInfo.InvariantCulture)} {WallClockStart(processId).ToString(CultureInfo.InvariantCulture)}";

    /// <summary>True when the process of <paramref name="stamp"/> lives; a stamp that cannot be read counts as alive (not the kit's to judge).</summary>
    internal static bool IsAlive(string stamp)
    {
        var parts = stamp.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 2 || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out var processId))
        {
            return true;
        }

        try
        {
            if (parts[1].StartsWith(LinuxPrefix, StringComparison.Ordinal))
            {
                return OperatingSystem.IsLinux() && LinuxStart(processId) == parts[1][LinuxPrefix.Length..];
            }

            return long.TryParse(parts[1], CultureInfo.InvariantCulture, out var ticks)
                ? Math.Abs(WallClockStart(processId) - ticks) < TimeSpan.TicksPerSecond
                : true;
        }
        catch (Exception gone) when (gone is ArgumentException or IOException or UnauthorizedAccessException)
        {
            // No process has that id (or /proc no longer shows it).
            return false;
        }
    }

    /// <summary>"BOOTID:STARTTICKS": field 22 of /proc/PID/stat, after the command name (which may hold spaces and parentheses).</summary>
    private static string LinuxStart(int processId)
    {
        var stat = File.ReadAllText($"/proc/{processId.ToString(CultureInfo.InvariantCulture)}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return $"{File.ReadAllText(BootIdFile).Trim()}:{fields[19]}";
    }

    private static long WallClockStart(int processId)
    {
        using var process = System.Diagnostics.Process.GetProcessById(processId);
        return process.StartTime.ToUniversalTime().Ticks;
    }
}
