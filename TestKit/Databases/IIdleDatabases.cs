namespace TestKit.Databases;

/// <summary>A strategy's databases that no test holds now, which it can give up (drop) when another pool needs the room.</summary>
internal interface IIdleDatabases
{
    /// <summary>Drops one idle database and frees its place in the budget; false when none is idle.</summary>
    Task<bool> TryGiveUpIdleAsync(CancellationToken cancellationToken);
}
