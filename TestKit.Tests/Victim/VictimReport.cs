namespace TestKit.Victim;

/// <summary>
/// The one line a victim prints once it holds its databases (as JSON). Compiled into the victim and into the tests
/// that read it.
/// </summary>
/// <param name="ProcessId">The victim's process id.</param>
/// <param name="Marker">The marker its run writes on its databases.</param>
/// <param name="Databases">The databases it leased.</param>
/// <param name="EmbeddedRoot">The folder of its embedded server; null on a shared server.</param>
/// <param name="Host">The host of the server it uses.</param>
/// <param name="Port">The port of the server it uses.</param>
internal sealed record VictimReport(int ProcessId, string Marker, IReadOnlyList<string> Databases, string? EmbeddedRoot, string Host, int Port)
{
    /// <summary>The run id in <see cref="Marker"/>: testkit:run=ID;...</summary>
    internal string RunId => Marker["testkit:run=".Length..Marker.IndexOf(';', StringComparison.Ordinal)];
}
