using TestKit.Bench.Measuring;

namespace TestKit.Bench.Contenders;

/// <summary>One way of giving each test a clean database at head, timed around the same workload.</summary>
internal interface IContender : IAsyncDisposable
{
    /// <summary>The row name in the tables and the line name on the chart.</summary>
    string Name { get; }

    /// <summary>What every test reuses (a migrated database, a template, a Respawner), made once and not timed.</summary>
    Task PrepareAsync(CancellationToken cancellationToken);

    /// <summary>One test: set-up, the workload, tear-down, each phase timed.</summary>
    Task<Sample> RunTestAsync(CancellationToken cancellationToken);
}
