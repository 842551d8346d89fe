namespace TestKit.Bench.Measuring;

/// <summary>The phases of one test, in milliseconds.</summary>
internal readonly record struct Sample(double SetUp, double Workload, double TearDown)
{
    /// <summary>What the isolation costs the test: set-up plus tear-down.</summary>
    internal double Overhead => SetUp + TearDown;

    /// <summary>The whole test, workload included (a fresh database also costs the test a new physical connection).</summary>
    internal double Cycle => SetUp + Workload + TearDown;
}
