namespace TestKit.Session;

/// <summary>What one server of the session saw, for the summary.</summary>
/// <param name="Server">The server's description.</param>
/// <param name="Created">Databases the kit created on it.</param>
/// <param name="Dropped">Databases the kit dropped on it.</param>
/// <param name="StartMilliseconds">How long it took to start (or reach) and sweep.</param>
/// <param name="RolesLeft">
/// Roles that appeared on an external server during the run and are still there (a migration or a test created them):
/// roles belong to the whole server, and the kit drops only what it created. Empty for the embedded server, whose roles
/// go with it.
/// </param>
/// <param name="BackgroundFailures">What the kit's background steps failed with (each database dropped, none handed to a test).</param>
internal sealed record ServerReport(string Server, int Created, int Dropped, double StartMilliseconds, IReadOnlyList<string> RolesLeft, IReadOnlyList<string> BackgroundFailures);
