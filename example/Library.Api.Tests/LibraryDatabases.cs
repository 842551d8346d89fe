using TestKit;
using TUnit.Core.Interfaces;

namespace Library.Api.Tests;

// TestKit without DatabaseTest: one TestDatabases for the whole test session (a TUnit ClassDataSource), started once,
// and a lease per test. The same three calls work from an xUnit or NUnit fixture, or any host.
public sealed class LibraryDatabases : IAsyncInitializer, IAsyncDisposable
{
    private TestDatabases? _databases;

    public async Task InitializeAsync() =>
        _databases = await TestDatabases.StartAsync(new TestKitOptions { Isolation = IsolationStrategy.Reset });

    public Task<DatabaseLease> LeaseAsync() => _databases!.LeaseAsync();

    public ValueTask DisposeAsync() => _databases?.DisposeAsync() ?? ValueTask.CompletedTask;
}
