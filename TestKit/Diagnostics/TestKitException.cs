namespace TestKit;

/// <summary>
/// The one exception TestKit throws for a failure of the environment or of the database:
/// a server that cannot be reached or started, a migration that fails, an erase that left
/// objects behind. Its message names the cause and the remedy; its properties carry the details.
/// Mistakes in the caller's own arguments are reported as <see cref="ArgumentException"/> instead.
/// </summary>
public sealed class TestKitException : Exception
{
    internal TestKitException(string message, Exception? innerException = null)
        : base(message, innerException)
    {
    }

    /// <summary>The PostgreSQL error code (SQLSTATE), when the server reported the failure.</summary>
    public string? SqlState { get; internal init; }

    /// <summary>The migration script that failed, as a file name, when a migration caused the failure.</summary>
    public string? MigrationFile { get; internal init; }

    /// <summary>The 1-based line in <see cref="MigrationFile"/> where the server reported the error, when known.</summary>
    public int? Line { get; internal init; }

    /// <summary>The 1-based character position in the failing statement, as reported by the server, when known.</summary>
    public int? Position { get; internal init; }

    /// <summary>The connection string involved, with its password masked; never the password itself.</summary>
    public string? ConnectionString { get; internal init; }
}
