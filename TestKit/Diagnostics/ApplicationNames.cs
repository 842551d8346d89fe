namespace TestKit.Diagnostics;

/// <summary>
/// The application_name of every session the kit opens or hands out: how pg_stat_activity (and a person reading it, and
/// another run's sweep) tells the kit's sessions from a test's.
/// </summary>
internal static class ApplicationNames
{
    /// <summary>The kit's own sessions: admin work, template builds, the kit's connection to each test database.</summary>
    internal const string Kit = "testkit";

    /// <summary>The sessions of the connection strings tests are given.</summary>
    internal const string Test = "testkit-test";

    /// <summary>
    /// The session that holds a run's advisory locks: a session of that run that another run's sweep can see in
    /// pg_stat_activity, even while it waits for a lock (after a server restart, say).
    /// </summary>
    internal static string Run(string runId) => "testkit-run-" + runId;
}
