using TestKit.Diagnostics;

namespace TestKit.Isolation;

/// <summary>
/// Drops that run in the background (a template clone no test needs any more): the next test does not wait for them,
/// the end of the run does. A failed drop is kept, so that <see cref="WaitAllAsync"/> reports it.
/// </summary>
internal sealed class BackgroundDrops
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Task, byte> _running = new();

    internal void Start(Func<Task> drop)
    {
        var task = Task.Run(drop);
        _running[task] = 0;
        // Only drops that succeeded are forgotten.
        task.ContinueWith(done => _running.TryRemove(done, out _), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
    }

    /// <summary>Waits for every drop; adds what failed to <paramref name="errors"/>.</summary>
    internal async Task WaitAllAsync(List<Exception> errors)
    {
        foreach (var task in _running.Keys)
        {
            try
            {
                await task.ConfigureAwait(false);
            }
            catch (Exception e)
            {
                errors.Add(e);
            }
        }
    }
}
