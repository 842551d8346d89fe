using System.Collections.Concurrent;
using System.Diagnostics;

namespace TestKit.Bench.Measuring;

/// <summary>
/// Listens to the kit's <c>TestKit</c> <see cref="ActivitySource"/>: records, while a contender's timed tests run, the
/// numeric <c>testkit.*</c> tags of <c>testkit.reset</c> (the reset function's parts in milliseconds as the server timed
/// them, and the tables it found dirty) and the duration of the kit's background steps (a warm database made, a used one
/// dropped, a used one reset); and tells when the kit's background work has settled, so that a test starts as one would
/// after a test body of its own.
/// </summary>
internal sealed class KitStepRecorder : IDisposable
{
    private const string TagPrefix = "testkit.";
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan SettleLimit = TimeSpan.FromSeconds(60);

    /// <summary>The kit's background steps (see KitTracing.StartBackground), by the name the report gives them.</summary>
    private static readonly Dictionary<string, string> Background = new(StringComparer.Ordinal)
    {
        ["testkit.warm"] = "warm database made",
        ["testkit.drop"] = "used database dropped",
        ["testkit.reset"] = "database reset",
        ["testkit.migrate-ahead"] = "erased database migrated",
    };

    private readonly ConcurrentQueue<(string Step, double Value)> _values = new();
    private readonly ActivityListener _listener;
    private volatile bool _recording;
    private int _inFlight;
    private long _lastChange = Stopwatch.GetTimestamp();
    private long _resets;
    private TaskCompletionSource _resetStopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal KitStepRecorder()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "TestKit",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStarted = Started,
            ActivityStopped = Stopped,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>The background steps' names in the report, in a fixed order.</summary>
    internal static IEnumerable<string> BackgroundSteps => Background.Values;

    internal void Start()
    {
        _values.Clear();
        _recording = true;
    }

    /// <summary>Stops recording; the distribution of each step's values (empty when the contender reported none).</summary>
    internal IReadOnlyDictionary<string, Distribution> Stop()
    {
        _recording = false;
        return _values.GroupBy(value => value.Step).ToDictionary(group => group.Key, group => Distribution.Of(group.Select(value => value.Value)));
    }

    /// <summary>How many <c>testkit.reset</c> steps have ended so far.</summary>
    internal long Resets => Interlocked.Read(ref _resets);

    /// <summary>Waits until more than <paramref name="after"/> <c>testkit.reset</c> steps have ended (see <see cref="Resets"/>), without polling.</summary>
    internal async Task WaitForResetAsync(long after, CancellationToken cancellationToken)
    {
        while (true)
        {
            var stopped = Volatile.Read(ref _resetStopped);
            if (Resets > after)
            {
                return;
            }

            await stopped.Task.WaitAsync(SettleLimit, cancellationToken);
        }
    }

    /// <summary>Waits until no background step of the kit's has run for a moment (untimed, between tests).</summary>
    internal async Task WaitUntilSettledAsync(CancellationToken cancellationToken)
    {
        var waited = Stopwatch.GetTimestamp();
        while (Volatile.Read(ref _inFlight) > 0 || Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastChange)) < Quiet)
        {
            if (Stopwatch.GetElapsedTime(waited) > SettleLimit)
            {
                throw new TimeoutException($"The kit's background work did not settle within {SettleLimit.TotalSeconds} s.");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(5), cancellationToken);
        }
    }

    public void Dispose() => _listener.Dispose();

    private void Started(Activity activity)
    {
        if (Background.ContainsKey(activity.OperationName))
        {
            Interlocked.Increment(ref _inFlight);
            Interlocked.Exchange(ref _lastChange, Stopwatch.GetTimestamp());
        }
    }

    private void Stopped(Activity activity)
    {
        if (activity.OperationName == "testkit.release")
        {
            // The release may hand a background step to the thread pool that has not started yet: settle after it too.
            Interlocked.Exchange(ref _lastChange, Stopwatch.GetTimestamp());
        }

        if (Background.TryGetValue(activity.OperationName, out var step))
        {
            Interlocked.Decrement(ref _inFlight);
            Interlocked.Exchange(ref _lastChange, Stopwatch.GetTimestamp());
            Record(step, activity.Duration.TotalMilliseconds);
        }

        if (activity.OperationName == "testkit.reset")
        {
            Interlocked.Increment(ref _resets);
            Interlocked.Exchange(ref _resetStopped, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
            foreach (var (key, value) in activity.TagObjects)
            {
                if (key.StartsWith(TagPrefix, StringComparison.Ordinal) && value is double number)
                {
                    Record(key[TagPrefix.Length..], number);
                }
            }
        }
    }

    private void Record(string step, double value)
    {
        if (_recording)
        {
            _values.Enqueue((step, value));
        }
    }
}
