using TestKit;
using Xunit;

[assembly: AssemblyFixture(typeof(Library.XunitTests.LibraryDatabases))]

namespace Library.XunitTests;

// TestKit from xUnit: one TestDatabases for the whole assembly (an xUnit assembly fixture), started once, and a lease
// per test. The TestKit package brings no test framework, so xUnit's TestContext is the only one here.
public sealed class LibraryDatabases : IAsyncLifetime
{
    private TestDatabases? _databases;

    public async ValueTask InitializeAsync() =>
        _databases = await TestDatabases.StartAsync(new TestKitOptions { Isolation = IsolationStrategy.Reset }, TestContext.Current.CancellationToken);

    public Task<DatabaseLease> LeaseAsync() => _databases!.LeaseAsync(TestContext.Current.CancellationToken);

    public ValueTask DisposeAsync() => _databases?.DisposeAsync() ?? ValueTask.CompletedTask;
}
