using System.Collections.Concurrent;
using System.Threading.Channels;
using Npgsql;
using TestKit.Diagnostics;

namespace TestKit.Isolation;

/// <summary>
/// One database per test, cloned from the template and dropped after the test. A background filler
/// keeps a few clones ready, so that a test rarely waits for CREATE DATABASE; drops run in the
/// background too, and the strategy waits for all of them when it is disposed.
/// </summary>
internal sealed class TemplateStrategy : IIsolationStrategy
{
    private readonly DatabaseCatalog _catalog;
    private readonly TemplateStore _template;
    private readonly SemaphoreSlim _slots;
    private readonly Channel<string> _warm;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<Task, byte> _background = new();
    private readonly ConcurrentDictionary<string, byte> _leased = new(StringComparer.Ordinal);
    private readonly Lazy<Task> _filler;

    internal TemplateStrategy(DatabaseCatalog catalog, TemplateStore template, int maxDatabases, int warmDatabases)
    {
        _catalog = catalog;
        _template = template;
        _slots = new SemaphoreSlim(maxDatabases, maxDatabases);
        _warm = Channel.CreateBounded<string>(new BoundedChannelOptions(Math.Max(1, warmDatabases)) { SingleWriter = true });
        _filler = new Lazy<Task>(() => Task.Run(() => FillAsync(_stopping.Token)));
    }

    public string Name => "template";

    public async Task<TestDatabase> AcquireAsync(CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var template = await _template.EnsureAsync(cancellationToken).ConfigureAwait(false);
            _ = _filler.Value;
            var name = _warm.Reader.TryRead(out var warm) ? warm : await _catalog.CreateAsync(cancellationToken, template).ConfigureAwait(false);
            _leased[name] = 0;
            return new TestDatabase(name, TestConnectionString(name), _catalog.Server.Description);
        }
        catch
        {
            _slots.Release();
            throw;
        }
    }

    public Task<string> ReleaseAsync(TestDatabase database, CancellationToken cancellationToken)
    {
        if (!_leased.TryRemove(database.Name, out _))
        {
            throw new ArgumentException($"Database '{database.Name}' was not handed out by this strategy.", nameof(database));
        }

        NpgsqlConnection.ClearPool(new NpgsqlConnection(database.ConnectionString));
        _slots.Release();

        // The next test does not need this clone gone, only the end of the run does: drop it in the background.
        Track(_catalog.DropAsync(database.Name, CancellationToken.None));
        return Task.FromResult("dropped (in the background)");
    }

    public async Task<string> KeepAsync(TestDatabase database, string keptName, CancellationToken cancellationToken)
    {
        if (!_leased.TryRemove(database.Name, out _))
        {
            throw new ArgumentException($"Database '{database.Name}' was not handed out by this strategy.", nameof(database));
        }

        try
        {
            NpgsqlConnection.ClearPool(new NpgsqlConnection(database.ConnectionString));
            return await _catalog.KeepAsync(database.Name, keptName, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _slots.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        var errors = new List<Exception>();
        if (_filler.IsValueCreated)
        {
            await Collect(errors, _filler.Value).ConfigureAwait(false);
        }

        _warm.Writer.TryComplete();
        await foreach (var name in _warm.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            await Collect(errors, _catalog.DropAsync(name, CancellationToken.None)).ConfigureAwait(false);
        }

        foreach (var name in _leased.Keys)
        {
            await Collect(errors, _catalog.DropAsync(name, CancellationToken.None)).ConfigureAwait(false);
        }

        foreach (var task in _background.Keys)
        {
            await Collect(errors, task).ConfigureAwait(false);
        }

        await _template.DisposeAsync().ConfigureAwait(false);
        _stopping.Dispose();
        _slots.Dispose();
        Errors.Rethrow(errors, "TestKit could not drop every template clone.");
    }

    private async Task FillAsync(CancellationToken stopping)
    {
        var template = await _template.EnsureAsync(stopping).ConfigureAwait(false);
        while (!stopping.IsCancellationRequested)
        {
            await _warm.Writer.WaitToWriteAsync(stopping).ConfigureAwait(false);
            var name = await _catalog.CreateAsync(stopping, template).ConfigureAwait(false);
            if (!_warm.Writer.TryWrite(name))
            {
                await _catalog.DropAsync(name, CancellationToken.None).ConfigureAwait(false);
            }
        }
    }

    private string TestConnectionString(string name)
    {
        var builder = _catalog.Server.ConnectionStringFor(name);
        builder.ApplicationName = "testkit-test";
        return builder.ConnectionString;
    }

    private void Track(Task task)
    {
        _background[task] = 0;
        // Only drops that succeeded are forgotten: a failed one stays, so that DisposeAsync reports it.
        task.ContinueWith(done => _background.TryRemove(done, out _), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
    }

    private static async Task Collect(List<Exception> errors, Task task)
    {
        try
        {
            await task.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The filler stops by cancellation: that is its normal end, not a failure.
        }
        catch (Exception e)
        {
            errors.Add(e);
        }
    }
}
