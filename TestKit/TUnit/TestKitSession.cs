using System.Collections.Concurrent;
using System.ComponentModel;
using TestKit.Configuration;
using TestKit.Isolation;

namespace TestKit;

/// <summary>
/// What one test session shares: the servers TestKit started or connected to, and the pools of test
/// databases on them. TUnit creates one per session for <see cref="DatabaseTest"/> and disposes it at
/// the end, which drops every database TestKit created, stops the embedded server and prints a summary.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class TestKitSession : IAsyncDisposable
{
    private readonly ConcurrentQueue<TestRecord> _tests = new();

    internal IsolationBroker Broker { get; } = new();

    /// <summary>Resolves <paramref name="options"/> against this process's environment.</summary>
    internal static ResolvedOptions Resolve(TestKitOptions options) =>
        OptionsResolver.Resolve(options, Environment.GetEnvironmentVariable, OptionsResolver.DefaultSearchRoots());

    /// <summary>Notes one test's lifecycle for the summary.</summary>
    internal void Record(TestRecord test) => _tests.Enqueue(test);

    /// <summary>Drops the databases TestKit created in this session, stops the embedded server, and prints the session summary.</summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await Broker.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            if (!_tests.IsEmpty)
            {
                // Straight to the process's standard output: at this point no test is running to own the output.
                var output = new StreamWriter(Console.OpenStandardOutput());
                await using (output.ConfigureAwait(false))
                {
                    await output.WriteAsync(SessionSummary.Format([.. _tests], Broker.ServerReports(), Broker.Kept)).ConfigureAwait(false);
                }
            }
        }
    }
}
