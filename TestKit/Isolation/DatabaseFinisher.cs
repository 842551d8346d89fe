using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using TestKit.Databases;
using TestKit.Diagnostics;

namespace TestKit.Isolation;

/// <summary>
/// Finishes cleaning the released databases of one <see cref="DatabasePool"/> — what the test that released one need not
/// wait for — and hands each back to the pool: idle when clean, dropped when of no use or when its clean-up failed. It
/// counts those still being finished (a lease waits for one rather than make a database) and keeps what failed in the
/// background until a lease of the pool, or the pool's end, reports it.
/// </summary>
/// <param name="run">The run: its log and summary hear of a failure in the background.</param>
/// <param name="background">The pool's background work, which its end waits for.</param>
/// <param name="stopping">Cancelled at the pool's end: a clean-up it stops is no failure.</param>
/// <param name="returnIdle">Makes a cleaned database available to the next test.</param>
/// <param name="drop">Drops a database that could not be finished (with why, when it failed).</param>
internal sealed class DatabaseFinisher(
    ServerRun run, BackgroundWork background, CancellationToken stopping, Action<PooledDatabase> returnIdle, Func<PooledDatabase, Exception?, Task> drop)
{
    private readonly ConcurrentQueue<Exception> _unreported = new();
    private int _inBackground;

    /// <summary>How many databases are being finished in the background.</summary>
    internal int InBackground => Volatile.Read(ref _inBackground);

    /// <summary>
    /// Runs <paramref name="finish"/> on a released database, which answers null, or why the database is of no use (it is
    /// dropped, and the next test gets another). In the background: a failure drops the database and is kept for the
    /// pool's next lease, and goes to the run's log and summary. In the foreground (verification mode, whose proof belongs
    /// to the test that released it, under its <paramref name="cancellationToken"/>): a failure drops the database and
    /// reaches the caller, and so does why it was of no use.
    /// </summary>
    internal async Task<string?> FinishAsync(PooledDatabase database, Func<CancellationToken, Task<string?>> finish, bool inForeground, CancellationToken cancellationToken)
    {
        if (inForeground)
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopping);
            return await RunAsync(database, finish, inForeground, linked.Token).ConfigureAwait(false);
        }

        Interlocked.Increment(ref _inBackground);
        background.Start(() => RunAsync(database, finish, inForeground, stopping));
        return null;
    }

    /// <summary>Throws what a clean-up in the background failed with since the last call, for a test to see (one at a time).</summary>
    internal void ThrowUnreported()
    {
        if (_unreported.TryDequeue(out var failure))
        {
            throw failure;
        }
    }

    /// <summary>What failed in the background and no lease reported (they are in the summary too), as one exception; none if nothing.</summary>
    internal IEnumerable<Exception> TakeUnreported()
    {
        var failures = _unreported.ToArray();
        _unreported.Clear();
        return failures.Length == 0
            ? []
            : [new TestKitException($"TestKit could not clean {failures.Length} database(s) in the background, and no test leased one after: {string.Join(" ", failures.Select(failure => failure.Message))}")];
    }

    private async Task<string?> RunAsync(PooledDatabase database, Func<CancellationToken, Task<string?>> finish, bool inForeground, CancellationToken cancellationToken)
    {
        string? useless;
        try
        {
            useless = await finish(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (inForeground)
        {
            await DropAsync(database, inForeground, error).ConfigureAwait(false);
            if (Errors.IsAllowed(error))
            {
                throw;
            }

            throw new TestKitException(Failed(database, error, inForeground), error);
        }
        catch (Exception error)
        {
            if (!(error is OperationCanceledException && stopping.IsCancellationRequested))
            {
                // Kept before the drop, which lets the next lease go on: it sees the failure.
                var failure = new TestKitException($"{Failed(database, error, inForeground)} The output of each test names the database it ran on.", error);
                _unreported.Enqueue(failure);
                run.NoteBackgroundFailure(failure.Message);
                run.Logger.LogWarning(error, "{Failure}", failure.Message);
            }

            await DropAsync(database, inForeground).ConfigureAwait(false);
            return null;
        }

        if (useless is not null)
        {
            run.Logger.LogDebug("TestKit replaces database '{Database}': {Reason}.", database.Name, useless);
            await DropAsync(database, inForeground).ConfigureAwait(false);
            return useless;
        }

        // Counted down first: the lease that returning it wakes must not find it still being finished.
        Done(inForeground);
        returnIdle(database);
        return null;
    }

    private static string Failed(PooledDatabase database, Exception error, bool inForeground) =>
        $"TestKit could not clean database '{database.Name}'{(inForeground ? "" : " in the background")} after the test that used it ({error.Message}); it dropped it, and the next test gets another.";

    private Task DropAsync(PooledDatabase database, bool inForeground, Exception? cause = null)
    {
        Done(inForeground);
        return drop(database, cause);
    }

    private void Done(bool inForeground)
    {
        if (!inForeground)
        {
            Interlocked.Decrement(ref _inBackground);
        }
    }
}
