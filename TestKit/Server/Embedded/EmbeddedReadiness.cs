using Npgsql;

namespace TestKit.Server.Embedded;

/// <summary>Waits, with a deadline, until a just-started embedded server takes connections.</summary>
internal static class EmbeddedReadiness
{
    /// <summary>
    /// Polls until <paramref name="open"/> gets a connection; pg_ctl --wait already did most of the waiting. A failure other
    /// than "the database system is starting up" or one past the deadline is translated for <paramref name="builder"/>'s server.
    /// </summary>
    internal static async Task<NpgsqlConnection> OpenWhenReadyAsync(Func<Task<NpgsqlConnection>> open, NpgsqlConnectionStringBuilder builder, CancellationToken cancellationToken)
    {
        NpgsqlConnection? opened = null;
        await Poll.UntilAsync(
            async () =>
            {
                try
                {
                    opened = await open().ConfigureAwait(false);
                    return true;
                }
                catch (NpgsqlException e) when (e is not PostgresException { SqlState: not PostgresErrorCodes.CannotConnectNow })
                {
                    return false;
                }
            },
            TimeSpan.FromMilliseconds(50),
            Limits.ServerStart,
            cancellationToken).ConfigureAwait(false);
        try
        {
            // Past the deadline, the last try's error is the one to report.
            return opened ?? await open().ConfigureAwait(false);
        }
        catch (NpgsqlException e)
        {
            throw ServerErrors.Translate(e, builder, "the embedded PostgreSQL");
        }
    }
}
