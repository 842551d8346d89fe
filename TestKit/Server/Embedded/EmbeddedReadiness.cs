using Npgsql;

namespace TestKit.Server.Embedded;

/// <summary>Waits, with a deadline, until a just-started embedded server takes connections.</summary>
internal static class EmbeddedReadiness
{
    /// <summary>How long a start may take, pg_ctl's wait included.</summary>
    internal static readonly TimeSpan Deadline = TimeSpan.FromSeconds(60);

    /// <summary>
    /// Polls until <paramref name="open"/> gets a connection; pg_ctl --wait already did most of the waiting. A failure other
    /// than "the database system is starting up" or one past the deadline is translated for <paramref name="builder"/>'s server.
    /// </summary>
    internal static async Task<NpgsqlConnection> OpenWhenReadyAsync(Func<Task<NpgsqlConnection>> open, NpgsqlConnectionStringBuilder builder, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + Deadline;
        while (true)
        {
            try
            {
                return await open().ConfigureAwait(false);
            }
            catch (NpgsqlException e) when (DateTime.UtcNow < deadline && e is not PostgresException { SqlState: not PostgresErrorCodes.CannotConnectNow })
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), cancellationToken).ConfigureAwait(false);
            }
            catch (NpgsqlException e)
            {
                throw ServerErrors.Translate(e, builder, "the embedded PostgreSQL");
            }
        }
    }
}
