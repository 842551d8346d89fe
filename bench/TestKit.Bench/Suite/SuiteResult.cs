namespace TestKit.Bench.Suite;

/// <summary>The wall times of one strategy's suite run, in seconds, or why it could not run.</summary>
/// <param name="Strategy">The strategy's name.</param>
/// <param name="ServerStart">From nothing to a running server.</param>
/// <param name="Tests">From the running server to the last test released.</param>
/// <param name="Total">Everything, stopping the server and dropping the databases included.</param>
/// <param name="Failure">The error that stopped the run, or null.</param>
internal sealed record SuiteResult(string Strategy, double ServerStart, double Tests, double Total, string? Failure);
