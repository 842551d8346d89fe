namespace TestKit.Session;

/// <summary>A failed test's database, kept for inspection.</summary>
/// <param name="Name">The database's name now.</param>
/// <param name="TestName">The test it was kept for.</param>
/// <param name="PsqlCommand">A shell command that opens it, with no password in it.</param>
/// <param name="Server">The server's description.</param>
/// <param name="StopCommand">For the embedded server, which keeps running for it: how to stop and remove it; null otherwise.</param>
internal sealed record KeptDatabase(string Name, string TestName, string PsqlCommand, string Server, string? StopCommand);
