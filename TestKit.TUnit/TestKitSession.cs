using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using TestKit.Configuration;
using TestKit.Session;
using TUnit.Core;
using TUnit.Core.Logging;

namespace TestKit;

/// <summary>
/// What one TUnit test session shares: the servers TestKit started or connected to, the pools of test databases on them,
/// and the options of each test class, resolved once. TUnit creates one per session for <see cref="DatabaseTest"/> and
/// disposes it after the last test, which drops every database TestKit created, stops the embedded server and publishes
/// the session summary. It times the session's first lease for it: when the first test asked for a database, counted from
/// the start of the process (what .NET and the test framework took before it), and how long TestKit then took to hand one
/// out (the server start and the first migration or template included).
/// </summary>
[EditorBrowsable(EditorBrowsableState.Never)]
public sealed class TestKitSession : IAsyncDisposable
{
    private const string SummaryFile = "testkit-summary.txt";
    private readonly ConcurrentQueue<TestRecord> _tests = new();
    private readonly ConcurrentDictionary<(Type Class, string Arguments, string Seeds), Lazy<TestDatabases>> _classes = new();
    private long _firstAsked; // Stopwatch timestamps; 0 until noted
    private long _firstHanded;

    /// <summary>Created by TUnit while it discovers the tests: a kept server the environment asks for is reached meanwhile (see <see cref="SessionBroker.ReachAhead"/>).</summary>
    public TestKitSession() => Broker.ReachAhead(ServerResolver.KeptServerFrom(Environment.GetEnvironmentVariable));

    internal SessionBroker Broker { get; } = new();

    /// <summary>
    /// The test databases of one test class (with its constructor's arguments, and the seed files its test adds), their
    /// options resolved against the environment on first use and kept for the session: options are a class's, not a test's.
    /// </summary>
    internal TestDatabases For(TestContext context, Func<TestKitOptions> options)
    {
        var details = context.Metadata.TestDetails;
        var seeds = SeedAttribute.Of(context);
        var key = (details.ClassType, string.Join('\n', details.TestClassArguments.Select(argument => argument?.ToString())), string.Join('\n', seeds));
        return _classes.GetOrAdd(key, _ => new(() => Resolve(options(), seeds))).Value;
    }

    private TestDatabases Resolve(TestKitOptions options, IReadOnlyList<string> seeds) =>
        new(Broker, OptionsResolver.FromEnvironment(seeds.Count == 0 ? options : options with { SeedFiles = [.. options.SeedFiles ?? [], .. seeds] }), ownsBroker: false);

    /// <summary>Notes one test's lifecycle for the summary.</summary>
    internal void Record(TestRecord test) => _tests.Enqueue(test);

    /// <summary>A test asks for a database; only the first call counts.</summary>
    internal void NoteAsked() => Interlocked.CompareExchange(ref _firstAsked, Stopwatch.GetTimestamp(), 0);

    /// <summary>A test got its database; only the first call counts.</summary>
    internal void NoteHanded() => Interlocked.CompareExchange(ref _firstHanded, Stopwatch.GetTimestamp(), 0);

    /// <summary>The summary's line about the first lease, or null when no test got a database.</summary>
    internal string? FirstLease(double? serverStartMilliseconds)
    {
        var (asked, handed) = (Volatile.Read(ref _firstAsked), Volatile.Read(ref _firstHanded));
        if (asked == 0 || handed == 0)
        {
            return null;
        }

        var afterProcessStart = (DateTime.Now - Process.GetCurrentProcess().StartTime).TotalMilliseconds - Stopwatch.GetElapsedTime(asked).TotalMilliseconds;
        return string.Create(
                CultureInfo.InvariantCulture,
                $"first test: asked for its database {afterProcessStart:0} ms after the process started (.NET and the test framework), had it {Stopwatch.GetElapsedTime(asked, handed).TotalMilliseconds:0} ms later") +
            (serverStartMilliseconds is { } start ? string.Create(CultureInfo.InvariantCulture, $" (server start {start:0} ms)") : string.Empty);
    }

    /// <summary>
    /// Drops the databases TestKit created in this session and stops the embedded server; then writes the session summary
    /// to <c>testkit-summary.txt</c> in the run's results folder (replacing the previous run's), adds it to the session's
    /// artifacts, logs it at information level, and warns about what the run left on the user's server.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await Broker.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            if (!_tests.IsEmpty && TestSessionContext.Current is { } session)
            {
                var reports = Broker.ServerReports().ToList();
                var summary = SessionSummary.Format([.. _tests], reports, Broker.Kept, FirstLease(reports.FirstOrDefault()?.StartMilliseconds));
                var folder = TestContext.ResultsDirectory;
                Directory.CreateDirectory(folder);
                var file = Path.Combine(folder, SummaryFile);
                await File.WriteAllTextAsync(file, summary).ConfigureAwait(false);
                session.AddArtifact(new Artifact { File = new FileInfo(file), DisplayName = "TestKit session summary", Description = "tests, strategies, timings, servers, databases" });
                var logger = session.GetDefaultLogger();
                await logger.LogInformationAsync(summary).ConfigureAwait(false);
                foreach (var warning in SessionSummary.Warnings(reports))
                {
                    await logger.LogWarningAsync(warning).ConfigureAwait(false);
                }
            }
        }
    }
}
