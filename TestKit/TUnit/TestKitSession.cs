using System.Collections.Concurrent;
using System.ComponentModel;
using TestKit.Configuration;
using TestKit.Session;
using TUnit.Core;
using TUnit.Core.Logging;

namespace TestKit;

/// <summary>
/// What one test session shares: the servers TestKit started or connected to, and the pools of test databases on them.
/// TUnit creates one per session for <see cref="DatabaseTest"/> and disposes it after the last test, which drops every
/// database TestKit created, stops the embedded server and publishes the session summary.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class TestKitSession : IAsyncDisposable
{
    private readonly ConcurrentQueue<TestRecord> _tests = new();
    private readonly ConcurrentDictionary<(string Pool, object? DataOptions, object? DataSource), TestDatabases> _databases = new();

    internal SessionBroker Broker { get; } = new();

    /// <summary>The test databases for <paramref name="options"/>, on the session's servers: one per pool and connection shaping.</summary>
    internal TestDatabases For(ResolvedOptions options) =>
        _databases.GetOrAdd((options.PoolKey, options.ConfigureDataOptions, options.ConfigureDataSource), _ => new TestDatabases(Broker, options, ownsBroker: false));

    /// <summary>Resolves <paramref name="options"/> against this process's environment.</summary>
    internal static ResolvedOptions Resolve(TestKitOptions options) =>
        OptionsResolver.Resolve(options, Environment.GetEnvironmentVariable, OptionsResolver.DefaultSearchRoots());

    /// <summary>Notes one test's lifecycle for the summary.</summary>
    internal void Record(TestRecord test) => _tests.Enqueue(test);

    /// <summary>
    /// Drops the databases TestKit created in this session and stops the embedded server; then publishes the session
    /// summary as an artifact of the test session (TUnit lists it at the end of the run, and it goes into the TRX report)
    /// and through TUnit's session logger (shown with <c>--output Detailed</c>).
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await Broker.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            if (!_tests.IsEmpty && TestSessionContext.Current is { } session)
            {
                var summary = SessionSummary.Format([.. _tests], Broker.ServerReports(), Broker.Kept, Broker.FirstLeaseReport());
                var file = Path.Combine(Path.GetTempPath(), $"testkit-summary-{Environment.ProcessId}-{Guid.NewGuid():N}.txt");
                await File.WriteAllTextAsync(file, summary).ConfigureAwait(false);
                session.AddArtifact(new Artifact { File = new FileInfo(file), DisplayName = "TestKit session summary", Description = "tests, strategies, timings, servers, databases" });
                await session.GetDefaultLogger().LogInformationAsync(summary).ConfigureAwait(false);
            }
        }
    }
}
