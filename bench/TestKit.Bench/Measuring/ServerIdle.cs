using System.Diagnostics;
using Npgsql;

namespace TestKit.Bench.Measuring;

/// <summary>
/// Waits until the server has been quiet for a moment (no other session running a statement, no
/// autovacuum worker), so that one contender's background work (a warm pool filling up, a drop in
/// flight) is not billed to the next one.
/// </summary>
internal static class ServerIdle
{
    private const string BusySessions = """
        SELECT count(*) FROM pg_stat_activity
        WHERE pid <> pg_backend_pid()
          AND (backend_type = 'autovacuum worker' OR (backend_type = 'client backend' AND state <> 'idle'))
        """;

    // Background work comes in bursts with gaps between statements: one idle look is not enough.
    private const int QuietPolls = 5;
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    /// <summary>True once the server is quiet; false when it was still busy at the deadline.</summary>
    internal static async Task<bool> WaitAsync(NpgsqlDataSource admin, CancellationToken cancellationToken)
    {
        var start = Stopwatch.GetTimestamp();
        await using var connection = await admin.OpenConnectionAsync(cancellationToken);
        var quiet = 0;
        while (quiet < QuietPolls)
        {
            if (Stopwatch.GetElapsedTime(start) > Deadline)
            {
                return false;
            }

            await using var busy = new NpgsqlCommand(BusySessions, connection);
            quiet = (long)(await busy.ExecuteScalarAsync(cancellationToken))! == 0 ? quiet + 1 : 0;
            await Task.Delay(PollInterval, cancellationToken);
        }

        return true;
    }
}
