
namespace TestKit.Tests;

/// <summary>
/// What the release of a misbehaving test's lease must do: clean the database without a word, or report the fault to
/// that test as a <see cref="TestKitException"/> whose message holds the given words (and then replace the database).
/// </summary>
internal sealed record Release(bool MustReport, string? Words = null)
{
    internal static Release Cleans { get; } = new(MustReport: false);

    internal static Release Reports(string? words = null) => new(MustReport: true, words);

    /// <summary>Releases <paramref name="database"/> and checks that the release did what this expects.</summary>
    internal async Task CheckAsync(IsolationStrategyBase strategy, PooledDatabase database)
    {
        if (!MustReport)
        {
            await strategy.ReleaseAsync(database, CancellationToken.None);
            return;
        }

        var reported = await Assert.That(async () => await strategy.ReleaseAsync(database, CancellationToken.None)).Throws<TestKitException>();
        TestContext.Current?.Output.WriteLine($"the release reported: {reported!.Message}");
        if (Words is not null)
        {
            await Assert.That(reported!.Message).Contains(Words);
        }
    }
}
