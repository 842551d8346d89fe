using TestKit.Databases;
using TestKit.Server;
using TestKit.Server.Embedded;

namespace TestKit.Session;

/// <summary>A server of the session: the server, the embedded one when it is, the run on it, its roles, and how long it took to start (or reach) and sweep.</summary>
internal sealed record ServerEntry(IPostgresServer Server, EmbeddedServer? Embedded, ServerRun Run, ServerRoles Roles, double StartMilliseconds);
