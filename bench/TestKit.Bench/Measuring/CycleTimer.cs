using System.Diagnostics;

namespace TestKit.Bench.Measuring;

/// <summary>Times one test phase by phase: started on creation, marked after set-up and after the workload.</summary>
internal sealed class CycleTimer
{
    private readonly long _start = Stopwatch.GetTimestamp();
    private long _setUpDone;
    private long _workloadDone;

    internal void SetUpDone() => _setUpDone = Stopwatch.GetTimestamp();

    internal void WorkloadDone() => _workloadDone = Stopwatch.GetTimestamp();

    internal Sample TearDownDone()
    {
        var end = Stopwatch.GetTimestamp();
        return new Sample(
            Stopwatch.GetElapsedTime(_start, _setUpDone).TotalMilliseconds,
            Stopwatch.GetElapsedTime(_setUpDone, _workloadDone).TotalMilliseconds,
            Stopwatch.GetElapsedTime(_workloadDone, end).TotalMilliseconds);
    }
}
