using System.Runtime.ExceptionServices;

namespace TestKit.Diagnostics;

/// <summary>Rethrows what a multi-step cleanup collected: one error as it was (stack kept), several as one AggregateException.</summary>
internal static class Errors
{
    internal static void Rethrow(List<Exception> errors, string summary)
    {
        if (errors.Count == 1)
        {
            ExceptionDispatchInfo.Capture(errors[0]).Throw();
        }

        if (errors.Count > 1)
        {
            throw new AggregateException(summary, errors);
        }
    }
}
