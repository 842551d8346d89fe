using System.Diagnostics;
using System.Reflection;

namespace TestKit.Diagnostics;

/// <summary>
/// The kit's steps as activities of its own <see cref="ActivitySource"/> named <c>TestKit</c> (acquire, migrate, clone,
/// reset, release, ...), which a user can listen to. Each step that a caller starts is the root of a trace of its own,
/// linked to the caller's activity: the kit's own SQL (Npgsql's activities under the step) stays out of the test's trace,
/// and out of the span budget a test framework keeps per test.
/// </summary>
internal static class KitTracing
{
    internal const string SourceName = "TestKit";

    private static readonly ActivitySource Source = new(SourceName, typeof(KitTracing).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion);

    /// <summary>
    /// Starts a step: within a step of the kit's, a child of it; otherwise a root linked to the caller's activity, leaving
    /// the caller's activity behind for the rest of the calling async method (so it must be called from the async method
    /// that does the step's work).
    /// </summary>
    internal static Activity? StartStep(string name) =>
        Activity.Current?.Source == Source ? Source.StartActivity(name) : StartBackground(name);

    /// <summary>
    /// Starts a step the kit does in the background (a warm database made, a used one dropped or reset): always
    /// the root of a trace of its own, linked to the activity that caused it, leaving that activity behind for the rest of
    /// the calling async method. A listener can tell the kit's background work by these names: <c>testkit.warm</c>,
    /// <c>testkit.drop</c>, <c>testkit.reset</c>, <c>testkit.migrate-ahead</c>; and, from its start, by the
    /// database it works on (tag <c>testkit.database</c>, when given).
    /// </summary>
    internal static Activity? StartBackground(string name, string? database = null)
    {
        var caller = Activity.Current;
        Activity.Current = null;
        return Source.StartActivity(
            name,
            ActivityKind.Internal,
            parentContext: default,
            tags: database is null ? null : [new("testkit.database", database)],
            links: caller is null ? null : [new ActivityLink(caller.Context)]);
    }

    /// <summary>
    /// Tags <paramref name="step"/> with the server's own timings of its parts, given as <c>name=value;...</c> (the reset
    /// function's milliseconds per part): tag <c>testkit.NAME</c> each.
    /// </summary>
    internal static void TagSteps(Activity? step, string? timings)
    {
        if (step is null || timings is null)
        {
            return;
        }

        foreach (var part in timings.Split(';', StringSplitOptions.RemoveEmptyEntries))
        {
            var pair = part.Split('=', 2);
            if (pair.Length == 2 && double.TryParse(pair[1], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var value))
            {
                step.SetTag("testkit." + pair[0], value);
            }
        }
    }

    /// <summary>Starts a step within the current one (a migration within an acquire, say).</summary>
    internal static Activity? StartChild(string name) => Source.StartActivity(name);

    /// <summary>Runs <paramref name="work"/> as a step within the current one (see <see cref="StartChild"/>).</summary>
    internal static async Task<T> ChildAsync<T>(string name, Func<Task<T>> work)
    {
        using var step = StartChild(name);
        return await work().ConfigureAwait(false);
    }

    /// <summary><see cref="ChildAsync{T}"/> for work that answers nothing.</summary>
    internal static Task ChildAsync(string name, Func<Task> work) => ChildAsync(name, async () => { await work().ConfigureAwait(false); return true; });
}
