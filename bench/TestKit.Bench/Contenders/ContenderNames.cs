namespace TestKit.Bench.Contenders;

/// <summary>The contenders' names, shared by the contenders and the ratios that compare them.</summary>
internal static class ContenderNames
{
    internal const string SelectOne = "pooled SELECT 1";
    internal const string Rollback = "BEGIN/ROLLBACK";
    internal const string Respawn = "Respawn 7 (TRUNCATE)";
    internal const string TemplateClone = "template clone";
    internal const string EvolveCycle = "Evolve migrate+erase";

    /// <summary>The reset strategy with the teardown timed until the reset is done: the path before issue 21, where the test waited for it.</summary>
    internal const string ResetWaited = "testkit reset, teardown waits for it";

    /// <summary>"testkit reset": the TestKit strategy under its TESTKIT_ISOLATION name.</summary>
    internal static string Of(IsolationStrategy strategy) => "testkit " + strategy switch
    {
        IsolationStrategy.MigrateErase => "migrate-erase",
        IsolationStrategy.Template => "template",
        IsolationStrategy.Reset => "reset",
        _ => throw new ArgumentOutOfRangeException(nameof(strategy), strategy, "a strategy the bench does not know"),
    };
}
