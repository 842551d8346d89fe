namespace TestKit.Databases;

/// <summary>One database's place in the <see cref="DatabaseBudget"/>, and the server-wide slot it holds, if any; given back once.</summary>
internal sealed class BudgetToken(int? slot)
{
    private int _released;

    /// <summary>The server-wide slot this place holds, or null when no bound across runs is set.</summary>
    internal int? Slot { get; } = slot;

    /// <summary>True the first time only.</summary>
    internal bool TryRelease() => Interlocked.Exchange(ref _released, 1) == 0;
}
