namespace TestKit.Configuration;

/// <summary>The names of the strategies as written in <c>TESTKIT_ISOLATION</c> and in output.</summary>
internal static class IsolationStrategyNames
{
    private static readonly Dictionary<string, IsolationStrategy> ByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["migrate-erase"] = IsolationStrategy.MigrateErase,
        ["template"] = IsolationStrategy.Template,
        ["reset"] = IsolationStrategy.Reset,
    };

    internal static IEnumerable<string> All => ByName.Keys;

    internal static bool TryParse(string name, out IsolationStrategy strategy) => ByName.TryGetValue(name, out strategy);

    internal static string NameOf(IsolationStrategy strategy) => ByName.First(pair => pair.Value == strategy).Key;
}
