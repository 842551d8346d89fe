using System.Globalization;
using ScottPlot;
using ScottPlot.TickGenerators;
using TestKit.Bench.Measuring;
using TestKit.Bench.MigrationSets;

namespace TestKit.Bench.Reporting;

/// <summary>
/// A PNG chart of a median per-test time against the migration sets' script counts (both on log scales: how each
/// contender grows with the schema), one line per contender.
/// </summary>
internal static class MedianChart
{
    private const int Width = 1100;
    private const int Height = 650;

    internal static void Save(string path, string title, IReadOnlyList<BenchMigrationSet> sets, IReadOnlyList<ContenderResult> latency, Func<ContenderResult, double> median)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var index = 0;
        foreach (var name in MarkdownReport.Contenders(latency))
        {
            // Colours follow the line-up, so a contender keeps its colour when another one fails.
            var color = palette.GetColor(index++);
            var points = latency.Where(result => result.Contender == name && result.Succeeded).OrderBy(result => result.Set.ScriptCount).ToList();
            if (points.Count == 0)
            {
                continue;
            }

            // ScottPlot draws a log scale as log10 of the data, with log-spaced ticks.
            var line = plot.Add.Scatter(
                points.Select(result => Math.Log10(result.Set.ScriptCount)).ToArray(),
                points.Select(result => Math.Log10(median(result))).ToArray(),
                color);
            line.LegendText = name;
            line.LineWidth = 2;
            line.MarkerSize = 8;
        }

        plot.Axes.Left.TickGenerator = new NumericAutomatic
        {
            MinorTickGenerator = new LogMinorTickGenerator(),
            IntegerTicksOnly = true,
            LabelFormatter = value => Math.Pow(10, value).ToString("G4", CultureInfo.InvariantCulture),
        };
        plot.Axes.Bottom.TickGenerator = new NumericManual(
            [.. sets.Select(set => Math.Log10(set.ScriptCount))],
            [.. sets.Select(set => $"{set.ScriptCount}\n{set.Name}")]);
        plot.Grid.MajorLineColor = Colors.Black.WithOpacity(0.15);
        plot.Grid.MinorLineColor = Colors.Black.WithOpacity(0.05);
        plot.Grid.MinorLineWidth = 1;
        plot.Title(title);
        plot.XLabel("migration scripts (log scale)");
        plot.YLabel("ms, median (log scale)");
        plot.Axes.Margins(horizontal: 0.08, vertical: 0.1);
        plot.ShowLegend(Edge.Right);
        plot.SavePng(path, Width, Height);
    }
}
