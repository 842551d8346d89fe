using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using TestKit.Diagnostics;
using TestKit.Isolation;
using TestKit.Server;

namespace TestKit.Session;

/// <summary>A database one test holds, and the strategy it goes back to. Released or kept once.</summary>
internal sealed partial class Lease(IIsolationStrategy strategy, IPostgresServer server, string? stopCommand, TestDatabase database, ConcurrentQueue<KeptDatabase> kept)
{
    internal TestDatabase Database { get; } = database;

    /// <summary>The strategy's name as written in TESTKIT_ISOLATION.</summary>
    internal string Strategy => strategy.Name;

    /// <summary>Gives the database back to its strategy, which cleans it for the next test (or replaces it).</summary>
    internal async Task<ReleaseResult> ReleaseAsync(CancellationToken cancellationToken)
    {
        using var step = KitTracing.StartStep("testkit.release");
        step?.SetTag("testkit.database", Database.Name);
        try
        {
            return await strategy.ReleaseAsync(Database, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (!Errors.IsAllowed(error))
        {
            throw Errors.Allowed(error, $"TestKit could not take database '{Database.Name}' back.");
        }
    }

    /// <summary>Keeps the database for inspection under a name derived from <paramref name="testName"/>.</summary>
    internal async Task<KeptDatabase> KeepAsync(string testName, CancellationToken cancellationToken)
    {
        using var step = KitTracing.StartStep("testkit.keep");
        try
        {
            var name = await strategy.KeepAsync(Database, KeptName(testName), cancellationToken).ConfigureAwait(false);
            var keptDatabase = new KeptDatabase(name, testName, server.PsqlCommand(name), server.Description, stopCommand);
            kept.Enqueue(keptDatabase);
            return keptDatabase;
        }
        catch (Exception error) when (!Errors.IsAllowed(error))
        {
            throw Errors.Allowed(error, $"TestKit could not keep database '{Database.Name}'.");
        }
    }

    /// <summary>"testkit_failed_" and the test's name in lower-case letters, digits and underscores, within PostgreSQL's 63 bytes.</summary>
    private static string KeptName(string testName)
    {
        var name = "testkit_failed_" + NotNameCharacters().Replace(testName.ToLowerInvariant(), "_").Trim('_');
        return name.Length <= 58 ? name : name[..58];
    }

    [GeneratedRegex("[^a-z0-9]+", RegexOptions.CultureInvariant)]
    private static partial Regex NotNameCharacters();
}
