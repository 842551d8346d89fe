using System.Linq.Expressions;
using LinqToDB;
using LinqToDB.Data;

namespace TestKit.Session;

/// <summary>
/// Creates a <typeparamref name="TDb"/> the way linq2db's own convention has it: through its public constructor that takes
/// <see cref="DataOptions"/> (<c>public sealed class ShopDb(DataOptions options) : DataConnection(options)</c>). Compiled once
/// per type.
/// </summary>
internal static class DataConnectionFactory<TDb>
    where TDb : DataConnection
{
    private static readonly Func<DataOptions, TDb>? Create = Compile();

    /// <summary>A new <typeparamref name="TDb"/> on <paramref name="options"/>.</summary>
    internal static TDb New(DataOptions options) =>
        Create is { } create
            ? create(options)
            : throw new ArgumentException(
                $"{typeof(TDb).Name} has no public constructor that takes DataOptions, so TestKit cannot create it. " +
                $"Add one (public {typeof(TDb).Name}(DataOptions options) : base(options)), or override CreateDb to create it yourself.",
                nameof(TDb));

    private static Func<DataOptions, TDb>? Compile()
    {
        var constructor = typeof(TDb).GetConstructor([typeof(DataOptions)]);
        if (constructor is null || typeof(TDb).IsAbstract)
        {
            return null;
        }

        var options = Expression.Parameter(typeof(DataOptions), "options");
        return Expression.Lambda<Func<DataOptions, TDb>>(Expression.New(constructor, options), options).Compile();
    }
}
