namespace TestKit;

/// <summary>One test's lifecycle, as the session summary counts it; times in milliseconds, null when that step did not run.</summary>
internal sealed record TestRecord(string Strategy, double? SetUpMilliseconds, double? TearDownMilliseconds, bool Failed);
