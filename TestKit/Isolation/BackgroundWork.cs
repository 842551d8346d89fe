using TestKit.Diagnostics;

namespace TestKit.Isolation;

/// <summary>
/// Work on databases that runs in the background (dropping a clone no test needs any more, finishing the clean-up of a
/// released database): the next test does not wait for it, the end of the run does. A failure is kept, so that
/// <see cref="WaitAllAsync"/> reports it.
/// </summary>
internal sealed class BackgroundWork
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Task, byte> _running = new();

    /// <summary>Starts <paramref name="work"/>; the caller goes on at once.</summary>
    internal void Start(Func<Task> work)
    {
        var task = Task.Run(work);
        _running[task] = 0;
        // Only work that succeeded is forgotten.
        task.ContinueWith(done => _running.TryRemove(done, out _), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
    }

    /// <summary>Waits for all of it; adds what failed to <paramref name="errors"/>.</summary>
    internal async Task WaitAllAsync(List<Exception> errors)
    {
        foreach (var task in _running.Keys)
        {
            await Errors.CollectAsync(errors, () => task).ConfigureAwait(false);
        }
    }
}
