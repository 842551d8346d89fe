using System.ComponentModel;
using TestKit.Configuration;
using TestKit.Isolation;

namespace TestKit;

/// <summary>
/// What one test session shares: the servers TestKit started or connected to, and the pools of test
/// databases on them. TUnit creates one per session for <see cref="DatabaseTest"/> and disposes it at
/// the end, which drops every database TestKit created and stops the embedded server.
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class TestKitSession : IAsyncDisposable
{
    internal IsolationBroker Broker { get; } = new();

    /// <summary>Resolves <paramref name="options"/> against this process's environment.</summary>
    internal static ResolvedOptions Resolve(TestKitOptions options) =>
        OptionsResolver.Resolve(options, Environment.GetEnvironmentVariable, OptionsResolver.DefaultSearchRoots());

    /// <summary>Drops the databases TestKit created in this session and stops the embedded server.</summary>
    public ValueTask DisposeAsync() => Broker.DisposeAsync();
}
