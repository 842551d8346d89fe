namespace TestKit.Bench.Measuring;

/// <summary>The median and the 90th percentile of a set of timings, in milliseconds.</summary>
internal readonly record struct Distribution(double Median, double P90)
{
    internal static Distribution Of(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length == 0
            ? throw new ArgumentException("No timings to summarise.", nameof(values))
            : new Distribution(Quantile(sorted, 0.5), Quantile(sorted, 0.9));
    }

    /// <summary>Linear interpolation between the closest ranks (the "type 7" estimator of R and NumPy).</summary>
    private static double Quantile(double[] sorted, double q)
    {
        var position = q * (sorted.Length - 1);
        var lower = (int)Math.Floor(position);
        var upper = Math.Min(lower + 1, sorted.Length - 1);
        return sorted[lower] + ((position - lower) * (sorted[upper] - sorted[lower]));
    }
}
