using System.Collections.Concurrent;
using System.Threading.Channels;
using Npgsql;
using TestKit.Diagnostics;

namespace TestKit.Isolation;

/// <summary>
/// One database per test, cloned from the template and dropped after the test. A background filler
/// keeps a few clones ready, so that a test rarely waits for CREATE DATABASE; drops run in the
/// background too, and the strategy waits for all of them when it is disposed. Every clone, warm or leased,
/// holds a place in the run's <see cref="DatabaseBudget"/> until it is dropped; warm clones take only spare
/// places, and are the first given up when another pool needs room.
/// </summary>
internal sealed class TemplateStrategy : IIsolationStrategy, IIdleDatabases
{
    private readonly DatabaseCatalog _catalog;
    private readonly TemplateStore _template;
    private readonly SemaphoreSlim _slots;
    private readonly Channel<string> _warm;
    private readonly CancellationTokenSource _stopping = new();
    private readonly ConcurrentDictionary<Task, byte> _background = new();
    private readonly ConcurrentDictionary<string, byte> _leased = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, BudgetToken> _tokens = new(StringComparer.Ordinal);
    private readonly Lazy<Task> _filler;

    internal TemplateStrategy(DatabaseCatalog catalog, TemplateStore template, int maxDatabases, int warmDatabases)
    {
        _catalog = catalog;
        _template = template;
        _slots = new SemaphoreSlim(maxDatabases, maxDatabases);
        _warm = Channel.CreateBounded<string>(new BoundedChannelOptions(Math.Max(1, warmDatabases)) { SingleWriter = true });
        _filler = new Lazy<Task>(() => Task.Run(() => FillAsync(_stopping.Token)));
        catalog.Budget.Allow(maxDatabases);
        catalog.Budget.Register(this);
    }

    public string Name => "template";

    public async Task<TestDatabase> AcquireAsync(CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var template = await _template.EnsureAsync(cancellationToken).ConfigureAwait(false);
            _ = _filler.Value;
            var name = await WarmOrNewAsync(template, cancellationToken).ConfigureAwait(false);
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
        Track(DropAsync(database.Name));
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
            // A kept database holds no connection of the kit's: it no longer counts against the budget.
            await ReleaseTokenAsync(database.Name).ConfigureAwait(false);
            _slots.Release();
        }
    }

    public async Task<bool> TryGiveUpIdleAsync(CancellationToken cancellationToken)
    {
        if (!_warm.Reader.TryRead(out var warm))
        {
            return false;
        }

        await DropAsync(warm).ConfigureAwait(false);
        return true;
    }

    public async ValueTask DisposeAsync()
    {
        _catalog.Budget.Unregister(this);
        await _stopping.CancelAsync().ConfigureAwait(false);
        var errors = new List<Exception>();
        if (_filler.IsValueCreated)
        {
            await Collect(errors, _filler.Value).ConfigureAwait(false);
        }

        _warm.Writer.TryComplete();
        await foreach (var name in _warm.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            await Collect(errors, DropAsync(name)).ConfigureAwait(false);
        }

        foreach (var name in _leased.Keys)
        {
            await Collect(errors, DropAsync(name)).ConfigureAwait(false);
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
            // Only a spare place: a warm clone must never keep a test of another pool waiting.
            if (await _catalog.Budget.TryAcquireSpareAsync(stopping).ConfigureAwait(false) is not { } token)
            {
                await _catalog.Budget.WaitForSpareAsync(stopping).ConfigureAwait(false);
                continue;
            }

            string name;
            try
            {
                name = await _catalog.CreateAsync(stopping, template).ConfigureAwait(false);
            }
            catch
            {
                await _catalog.Budget.ReleaseAsync(token).ConfigureAwait(false);
                throw;
            }

            _tokens[name] = token;
            if (!_warm.Writer.TryWrite(name))
            {
                await DropAsync(name).ConfigureAwait(false);
            }
            else
            {
                _catalog.Budget.NotifyIdle();
            }
        }
    }

    /// <summary>A warm clone, or a new one; at the bound, whichever comes first: a warm clone, or a place in the budget.</summary>
    private async Task<string> WarmOrNewAsync(string template, CancellationToken cancellationToken)
    {
        while (true)
        {
            var changed = _catalog.Budget.Changed;
            if (_warm.Reader.TryRead(out var warm))
            {
                return warm;
            }

            if (await _catalog.Budget.TryAcquireAsync(this, cancellationToken).ConfigureAwait(false) is { } token)
            {
                return await CreateAsync(template, token, cancellationToken).ConfigureAwait(false);
            }

            await _catalog.Budget.WaitAsync(changed, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<string> CreateAsync(string template, BudgetToken token, CancellationToken cancellationToken)
    {
        try
        {
            var name = await _catalog.CreateAsync(cancellationToken, template).ConfigureAwait(false);
            _tokens[name] = token;
            return name;
        }
        catch
        {
            await _catalog.Budget.ReleaseAsync(token).ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Drops a clone, then frees its place in the budget.</summary>
    private async Task DropAsync(string name)
    {
        try
        {
            await _catalog.DropAsync(name, CancellationToken.None).ConfigureAwait(false);
        }
        finally
        {
            await ReleaseTokenAsync(name).ConfigureAwait(false);
        }
    }

    private Task ReleaseTokenAsync(string name) =>
        _tokens.TryRemove(name, out var token) ? _catalog.Budget.ReleaseAsync(token) : Task.CompletedTask;

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
