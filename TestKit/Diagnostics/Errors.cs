using System.Runtime.ExceptionServices;

namespace TestKit.Diagnostics;

/// <summary>
/// The error policy at the kit's edges: what a public member lets out is a <see cref="TestKitException"/> (environment and
/// database), an <see cref="ArgumentException"/> (the caller's mistake) or an <see cref="OperationCanceledException"/>.
/// </summary>
internal static class Errors
{
    /// <summary>True for the exceptions the policy lets out as they are.</summary>
    internal static bool IsAllowed(Exception error) => error is TestKitException or ArgumentException or OperationCanceledException;

    /// <summary>
    /// Rethrows what a multi-step cleanup collected: one allowed exception as it was (its stack kept); anything else, or
    /// several, as one <see cref="TestKitException"/> that names each, with them all inside.
    /// </summary>
    internal static void Rethrow(List<Exception> errors, string summary)
    {
        if (errors.Count == 1 && IsAllowed(errors[0]))
        {
            ExceptionDispatchInfo.Capture(errors[0]).Throw();
        }

        if (errors.Count > 0)
        {
            throw Wrap(summary, errors);
        }
    }

    /// <summary>Runs every step of a teardown, even when one fails, then rethrows what failed (see <see cref="Rethrow"/>).</summary>
    internal static async Task RunAllAsync(string summary, params Func<ValueTask>[] steps)
    {
        var errors = new List<Exception>();
        foreach (var step in steps)
        {
            await CollectAsync(errors, () => step().AsTask()).ConfigureAwait(false);
        }

        Rethrow(errors, summary);
    }

    /// <summary>Runs one step of a teardown; what it throws goes to <paramref name="errors"/>, and the teardown goes on.</summary>
    internal static async Task CollectAsync(List<Exception> errors, Func<Task> step)
    {
        try
        {
            await step().ConfigureAwait(false);
        }
        catch (Exception e)
        {
            errors.Add(e);
        }
    }

    /// <summary>
    /// Runs the work of a public member: what it throws outside the policy leaves as a <see cref="TestKitException"/> that
    /// starts with <paramref name="what"/> and holds it, so that a driver or process error that no layer translated still
    /// leaves as the kit's own.
    /// </summary>
    internal static async Task<T> AtEdgeAsync<T>(string what, Func<Task<T>> work)
    {
        try
        {
            return await work().ConfigureAwait(false);
        }
        catch (Exception error) when (!IsAllowed(error))
        {
            throw Wrap(what, [error]);
        }
    }

    private static TestKitException Wrap(string summary, IReadOnlyList<Exception> errors) =>
        new(
            $"{summary} {string.Join(" ", errors.Select((error, index) => errors.Count == 1 ? error.Message : $"({index + 1}) {error.Message}"))}",
            errors.Count == 1 ? errors[0] : new AggregateException(errors));

    /// <summary>Runs a callback of the user's options; what it throws leaves as a <see cref="TestKitException"/> that names it.</summary>
    internal static T UserCallback<T>(string option, Func<T> callback)
    {
        try
        {
            return callback();
        }
        catch (Exception error) when (!Errors.IsAllowed(error))
        {
            throw new TestKitException($"TestKitOptions.{option} threw {error.GetType().Name}: {error.Message}. Fix the callback; TestKit did not change what it got.", error);
        }
    }

    internal static void UserCallback(string option, Action callback) => UserCallback(option, () => { callback(); return 0; });
}
