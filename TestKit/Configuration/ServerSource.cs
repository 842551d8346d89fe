using Npgsql;

namespace TestKit.Configuration;

/// <summary>Where PostgreSQL comes from: an existing server, or the embedded one when <see cref="ConnectionString"/> is null.</summary>
/// <param name="ConnectionString">The connection string of an external server, password included; null for the embedded server.</param>
/// <param name="Origin">Which setting chose it, for messages ("TESTKIT_CONNECTION_STRING", "options", ...).</param>
/// <param name="BinDirectory">The embedded server's programs when the user named them; null: searched for.</param>
/// <param name="KeepIdle">How long the embedded server is kept for the next run after the last run that used it; null: not kept.</param>
internal sealed record ServerSource(NpgsqlConnectionStringBuilder? ConnectionString, string Origin, string? BinDirectory = null, TimeSpan? KeepIdle = null)
{
    internal static ServerSource Embedded { get; } = new(null, "embedded default");

    internal bool IsEmbedded => ConnectionString is null;

    /// <summary>Tells servers apart. It holds the password: use it as a key in memory, never in output.</summary>
    internal string Key => ConnectionString?.ConnectionString ?? $"embedded {BinDirectory} {KeepIdle}";

    /// <inheritdoc />
    public bool Equals(ServerSource? other) => other is not null && Key == other.Key;

    /// <inheritdoc />
    public override int GetHashCode() => Key.GetHashCode(StringComparison.Ordinal);
}
