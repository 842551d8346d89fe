namespace TestKit.Tests;

/// <summary>
/// A DatabaseTest whose hooks a test calls itself, on a session of its own, so that a failure of the hooks stays inside
/// that test; it has no test of its own, so TUnit never runs it.
/// </summary>
internal sealed class HookedTest(TestKitOptions options) : DatabaseTest
{
    protected override TestKitOptions Options => options;
}
