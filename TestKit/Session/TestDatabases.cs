using Npgsql;
using TestKit.Configuration;
using TestKit.Session;

namespace TestKit;

/// <summary>
/// Test databases for one set of options, for any test framework or host (a TUnit <c>ClassDataSource</c>, an ASP.NET Core
/// <c>WebApplicationFactory</c>, an xUnit or NUnit fixture, a console tool): start once — the server, the migrations and
/// the strategy, from the options and the environment as TestKit.TUnit's <c>DatabaseTest</c> resolves them — then lease one
/// database per test, and give it back by disposing the lease. Disposing this drops every database it created and stops
/// the embedded server.
/// </summary>
/// <example>
/// <code>
/// await using var databases = await TestDatabases.StartAsync(new TestKitOptions { Isolation = IsolationStrategy.Reset });
/// await using (var lease = await databases.LeaseAsync())
/// {
///     await using var db = lease.CreateConnection&lt;ShopDb&gt;();
///     // ... the test ...
/// }
/// </code>
/// </example>
public sealed class TestDatabases : IAsyncDisposable
{
    private readonly SessionBroker _broker;
    private readonly bool _ownsBroker;

    internal TestDatabases(SessionBroker broker, ResolvedOptions options, bool ownsBroker)
    {
        _broker = broker;
        Options = options;
        _ownsBroker = ownsBroker;
    }

    /// <summary>
    /// The server's maintenance database as the kit's admin role, for a tool that needs the server itself (its password
    /// included: keep it out of output). TestKit never touches what it did not create there.
    /// </summary>
    public string ServerConnectionString { get; private set; } = string.Empty;

    /// <summary>The options these test databases were started with, resolved against the environment.</summary>
    internal ResolvedOptions Options { get; }

    /// <summary>
    /// Starts once: resolves <paramref name="options"/> against the environment (<c>TESTKIT_*</c>, <c>PG*</c>), starts the
    /// embedded server or connects to yours, and loads and checks the migrations. The first lease builds what the strategy
    /// needs (a template) if no run on the server has.
    /// </summary>
    /// <param name="options">What the code sets; unset properties come from the environment. Default: <see cref="TestKitOptions.Default"/>.</param>
    /// <param name="cancellationToken">Cancels the start.</param>
    public static async Task<TestDatabases> StartAsync(TestKitOptions? options = null, CancellationToken cancellationToken = default)
    {
        var resolved = OptionsResolver.FromEnvironment(options ?? TestKitOptions.Default);
        var broker = new SessionBroker();
        var databases = new TestDatabases(broker, resolved, ownsBroker: true);
        try
        {
            var server = await broker.StartAsync(resolved, cancellationToken).ConfigureAwait(false);
            databases.ServerConnectionString = server.ConnectionStringFor(new NpgsqlConnectionStringBuilder(server.Admin.ConnectionString).Database!).ConnectionString;
            return databases;
        }
        catch
        {
            await broker.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>A database at head that no other test uses until the lease is disposed; waits while every database is leased.</summary>
    /// <param name="cancellationToken">Cancels the wait and the preparation of the database.</param>
    public Task<DatabaseLease> LeaseAsync(CancellationToken cancellationToken = default) => _broker.AcquireAsync(Options, cancellationToken);

    /// <summary>Drops every database these test databases created and stops the embedded server (when they started it).</summary>
    public ValueTask DisposeAsync() => _ownsBroker ? _broker.DisposeAsync() : ValueTask.CompletedTask;
}
