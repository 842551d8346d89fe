namespace TestKit.Tests;

/// <summary>What a strategy of a fault test does with what a test leaves running (see TestKitOptions.IsolateLeftoverClients).</summary>
public enum Leftovers
{
    /// <summary>The default: the next test gets the same connection string.</summary>
    ShareTheConnectionString,

    /// <summary>IsolateLeftoverClients: every lease gets a connection string of its own, which reaches nothing after it.</summary>
    Isolated,
}
