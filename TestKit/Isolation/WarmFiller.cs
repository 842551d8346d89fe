using TestKit.Databases;

namespace TestKit.Isolation;

/// <summary>
/// Keeps a few databases of a pool ready in the background, so that a test rarely waits for CREATE DATABASE. It takes
/// only spare places in the run's budget (a pool waiting for one goes first), and stops by cancellation at the end of
/// the run.
/// </summary>
internal sealed class WarmFiller(DatabaseBudget budget, int target, Func<int> idleCount, Func<BudgetToken, CancellationToken, Task> prepareOne) : IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _taken = new(0);
    private readonly Lock _starting = new();
    private Task? _loop;

    /// <summary>Starts the loop, once.</summary>
    internal void Start()
    {
        lock (_starting)
        {
            _loop ??= Task.Run(() => FillAsync(_stopping.Token));
        }
    }

    /// <summary>A warm database was taken: time to prepare another.</summary>
    internal void Taken() => _taken.Release();

    /// <summary>Stops the loop and returns its failure, if it failed otherwise than by being stopped.</summary>
    internal async Task<Exception?> StopAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        Task? loop;
        lock (_starting)
        {
            loop = _loop;
        }

        try
        {
            if (loop is not null)
            {
                await loop.ConfigureAwait(false);
            }

            return null;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _stopping.Dispose();
        _taken.Dispose();
    }

    private async Task FillAsync(CancellationToken stopping)
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
}
