namespace TestKit.Bench.Measuring;

/// <summary>How a failure reads in the report: the exception's type and the first line of its message.</summary>
internal static class FailureText
{
    internal static string Of(Exception error) => $"{error.GetType().Name}: {error.Message.Split('\n')[0].Trim()}";
}
