namespace TestKit.Bench.Contenders;

/// <summary>The contenders' names, shared by the contenders and the ratios that compare them.</summary>
internal static class ContenderNames
{
    internal const string SelectOne = "pooled SELECT 1";
    internal const string Rollback = "BEGIN/ROLLBACK";
    internal const string Respawn = "Respawn 7 (TRUNCATE)";
    internal const string TemplateClone = "template clone";
    internal const string CloneAndDrop = "server clone + drop alone";
    internal const string EvolveCycle = "Evolve migrate+erase";

    /// <summary>The reset strategy with the teardown timed until the reset is done: the path before issue 21, where the test waited for it.</summary>
    internal const string ResetWaited = "testkit reset, teardown waits for it";

    /// <summary>The template strategy with tests back to back: the next test starts while the kit's background work still runs, as in a suite.</summary>
    internal static readonly string TemplateBackToBack = BackToBack(IsolationStrategy.Template);

    /// <summary>"testkit reset": the TestKit strategy under its TESTKIT_ISOLATION name.</summary>
    internal static string Of(IsolationStrategy strategy) => "testkit " + strategy switch
    {
        IsolationStrategy.MigrateErase => "migrate-erase",
        IsolationStrategy.Template => "template",
        IsolationStrategy.Reset => "reset",
        _ => throw new ArgumentOutOfRangeException(nameof(strategy), strategy, "a strategy the bench does not know"),
    };

    /// <summary>"testkit template, back to back": the strategy with no wait between tests.</summary>
    internal static string BackToBack(IsolationStrategy strategy) => Of(strategy) + ", back to back";
}
