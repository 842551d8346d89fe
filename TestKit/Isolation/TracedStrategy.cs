using TestKit.Diagnostics;

namespace TestKit.Isolation;

/// <summary>
/// A strategy whose every call is a step of the kit's tracing (see <see cref="KitTracing"/>): called from a kit step (the
/// session's acquire, say), it is a child of that step; called from anywhere else, it is the root of a trace of its own,
/// linked to the caller, so the strategy's SQL never lands in the caller's trace.
/// </summary>
internal sealed class TracedStrategy(IIsolationStrategy inner) : IIsolationStrategy
{
    public string Name => inner.Name;

    public async Task<TestDatabase> AcquireAsync(CancellationToken cancellationToken)
    {
        using var step = KitTracing.StartStep($"testkit.{Name}.acquire");
        return await inner.AcquireAsync(cancellationToken).ConfigureAwait(false);
    }

    public async Task<ReleaseResult> ReleaseAsync(TestDatabase database, CancellationToken cancellationToken)
    {
        using var step = KitTracing.StartStep($"testkit.{Name}.release");
        return await inner.ReleaseAsync(database, cancellationToken).ConfigureAwait(false);
    }

    public async Task<string> KeepAsync(TestDatabase database, string keptName, CancellationToken cancellationToken)
    {
        using var step = KitTracing.StartStep($"testkit.{Name}.keep");
        return await inner.KeepAsync(database, keptName, cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        using var step = KitTracing.StartStep($"testkit.{Name}.end");
        await inner.DisposeAsync().ConfigureAwait(false);
    }
}
