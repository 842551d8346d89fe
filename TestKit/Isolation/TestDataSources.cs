using Npgsql;

namespace TestKit.Isolation;

/// <summary>
/// The Npgsql data sources tests build on one database's connection string, one per way of configuring them (a
/// <see cref="TestKitOptions.ConfigureDataSource"/>): kept from test to test like Npgsql's own pool for the string, so
/// that a reused database keeps its pooled connections, and cleared or disposed when the kit clears that pool.
/// </summary>
internal sealed class TestDataSources : IAsyncDisposable
{
    /// <summary>
    /// The most data sources kept per database: a delegate made anew for each test (a lambda that captures the test)
    /// builds a new one each time, and the oldest then goes rather than piling up.
    /// </summary>
    internal const int MaxKept = 4;

    private readonly Lock _sync = new();
    private readonly Dictionary<object, NpgsqlDataSource> _built = [];
    private readonly List<object> _byLastUse = [];
    private static readonly object Unconfigured = new();

    /// <summary>The data source for <paramref name="connectionString"/> configured by <paramref name="configure"/>, built once.</summary>
    internal NpgsqlDataSource For(string connectionString, Action<NpgsqlDataSourceBuilder>? configure)
    {
        lock (_sync)
        {
            var key = (object?)configure ?? Unconfigured;
            _byLastUse.Remove(key);
            _byLastUse.Add(key);
            if (!_built.TryGetValue(key, out var dataSource))
            {
                var builder = new NpgsqlDataSourceBuilder(connectionString);
                configure?.Invoke(builder);
                dataSource = builder.Build();
                _built[key] = dataSource;
                if (_byLastUse.Count > MaxKept)
                {
                    var oldest = _byLastUse[0];
                    _byLastUse.RemoveAt(0);
                    _built.Remove(oldest, out var evicted);
                    evicted!.Dispose();
                }
            }

            return dataSource;
        }
    }

    /// <summary>Closes the idle connections of every data source (their sessions were ended on the server).</summary>
    internal void Clear()
    {
        lock (_sync)
        {
            foreach (var dataSource in _built.Values)
            {
                dataSource.Clear();
            }
        }
    }

    /// <summary>Loads the database's types again in every data source (after the schema was created anew), then closes their connections.</summary>
    internal async Task ReloadTypesAsync(CancellationToken cancellationToken)
    {
        NpgsqlDataSource[] built;
        lock (_sync)
        {
            built = [.. _built.Values];
        }

        foreach (var dataSource in built)
        {
            await dataSource.ReloadTypesAsync(cancellationToken).ConfigureAwait(false);
            dataSource.Clear();
        }
    }

    /// <summary>Disposes every data source: the connection string they were built on is no longer the test's.</summary>
    public async ValueTask DisposeAsync()
    {
        NpgsqlDataSource[] built;
        lock (_sync)
        {
            built = [.. _built.Values];
            _built.Clear();
            _byLastUse.Clear();
        }

        foreach (var dataSource in built)
        {
            await dataSource.DisposeAsync().ConfigureAwait(false);
        }
    }
}
