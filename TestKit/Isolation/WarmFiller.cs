using TestKit.Databases;

namespace TestKit.Isolation;

/// <summary>
/// Keeps a few databases of a pool ready in the background, so that a test rarely waits for CREATE DATABASE. It takes
/// only spare places in the run's budget (a pool waiting for one goes first); its loop is the pool's background work, and
/// stops with it, by the pool's cancellation at the end of the run (the pool's end reports any other failure).
/// </summary>
internal sealed class WarmFiller(DatabaseBudget budget, int target, Func<int> idleCount, Func<BudgetToken, CancellationToken, Task> prepareOne, BackgroundWork background, CancellationToken stopping) : IDisposable
{
    private readonly SemaphoreSlim _taken = new(0);
    private int _started;

    /// <summary>Starts the loop, once.</summary>
    internal void Start()
    {
        if (Interlocked.Exchange(ref _started, 1) == 0)
        {
            background.Start(FillAsync);
        }
    }

    /// <summary>A warm database was taken: time to prepare another.</summary>
    internal void Taken() => _taken.Release();

    public void Dispose() => _taken.Dispose();

    private async Task FillAsync()
    {
        try
        {
            while (!stopping.IsCancellationRequested)
            {
                if (idleCount() >= target)
                {
                    await _taken.WaitAsync(stopping).ConfigureAwait(false);
                    continue;
                }

                if (await budget.TryAcquireSpareAsync(stopping).ConfigureAwait(false) is not { } token)
                {
                    await budget.WaitForSpareAsync(stopping).ConfigureAwait(false);
                    continue;
                }

                await prepareOne(token, stopping).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            // Stopped with the pool.
        }
    }
}
