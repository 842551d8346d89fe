using System.Globalization;

namespace TestKit.Bench.Reporting;

/// <summary>How numbers and errors read in the report: three significant figures or so, invariant culture.</summary>
internal static class Format
{
    private const int FailureLength = 110;

    internal static string Milliseconds(double value) => value switch
    {
        < 10 => value.ToString("0.00", CultureInfo.InvariantCulture),
        < 100 => value.ToString("0.0", CultureInfo.InvariantCulture),
        _ => value.ToString("0", CultureInfo.InvariantCulture),
    };

    internal static string Seconds(double value) => value.ToString("0.0", CultureInfo.InvariantCulture);

    internal static string Ratio(double value) => value.ToString(value < 10 ? "0.0" : "0", CultureInfo.InvariantCulture) + "x";

    /// <summary>"n/a: the error", shortened, and safe inside a markdown table cell.</summary>
    internal static string Failure(string failure)
    {
        var text = failure.Length <= FailureLength ? failure : failure[..FailureLength] + "…";
        return "n/a: " + text.Replace("|", "\\|", StringComparison.Ordinal);
    }
}
