using System.Diagnostics;

namespace TestKit.Server;

/// <summary>The kit's one way to wait for what nobody signals: look, wait a moment, look again, until a deadline.</summary>
internal static class Poll
{
    /// <summary>True once <paramref name="done"/> says so; false when <paramref name="deadline"/> passed first.</summary>
    internal static async Task<bool> UntilAsync(Func<Task<bool>> done, TimeSpan every, TimeSpan deadline, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        while (!await done().ConfigureAwait(false))
        {
            if (Stopwatch.GetElapsedTime(started) > deadline)
            {
                return false;
            }

            await Task.Delay(every, cancellationToken).ConfigureAwait(false);
        }

        return true;
    }
}
