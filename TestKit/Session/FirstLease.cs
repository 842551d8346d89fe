using System.Diagnostics;
using System.Globalization;

namespace TestKit.Session;

/// <summary>
/// The session's first lease, for the summary: when the first test asked for a database, counted from the start of the
/// process (what .NET and the test framework took before it), and how long TestKit then took to hand one out (the server
/// start and the first migration or template included).
/// </summary>
internal sealed class FirstLease
{
    private readonly Lock _sync = new();
    private long _asked;
    private double? _askedAfterProcessStart;
    private double? _tookMilliseconds;

    /// <summary>A test asks for a database; only the first call counts.</summary>
    internal void Asked()
    {
        lock (_sync)
        {
            if (_asked == 0)
            {
                _asked = Stopwatch.GetTimestamp();
                _askedAfterProcessStart = (DateTime.Now - Process.GetCurrentProcess().StartTime).TotalMilliseconds;
            }
        }
    }

    /// <summary>A test got its database; only the first call counts.</summary>
    internal void Handed()
    {
        lock (_sync)
        {
            if (_asked != 0 && _tookMilliseconds is null)
            {
                _tookMilliseconds = Stopwatch.GetElapsedTime(_asked).TotalMilliseconds;
            }
        }
    }

    /// <summary>The summary's line, or null when no test got a database.</summary>
    internal string? Describe(double? serverStartMilliseconds)
    {
        lock (_sync)
        {
            return _tookMilliseconds is { } took
                ? string.Create(
                    CultureInfo.InvariantCulture,
                    $"first test: asked for its database {_askedAfterProcessStart:0} ms after the process started (.NET and the test framework), had it {took:0} ms later") +
                  (serverStartMilliseconds is { } start ? string.Create(CultureInfo.InvariantCulture, $" (server start {start:0} ms)") : string.Empty)
                : null;
        }
    }
}
