using ScottPlot;

namespace TorchInit.Trainers;

/// <summary>PNG line plots with ScottPlot.</summary>
internal static class Plots
{
    /// <summary>One line per series. With <paramref name="logY"/>, y is plotted as log10 (non-positive and non-finite points are left out).</summary>
    public static string Lines(string path, string title, string xLabel, string yLabel,
        IEnumerable<(string Label, double[] X, double[] Y)> series, bool logY, bool integerX = false, int width = 900, int height = 560)
    {
        var plot = new Plot();
        var notDrawn = new List<string>();
        foreach (var (label, xs, ys) in series)
        {
            var points = xs.Zip(ys)
                .Where(p => double.IsFinite(p.Second) && (!logY || p.Second > 0))
                .Select(p => (p.First, logY ? Math.Log10(p.Second) : p.Second))
                .ToArray();
            if (points.Length == 0) { notDrawn.Add(label); continue; }
            var line = plot.Add.Scatter(points.Select(p => p.First).ToArray(), points.Select(p => p.Item2).ToArray());
            line.LegendText = label;
            line.LineWidth = 2;
            line.MarkerSize = points.Length > 60 ? 0 : 5;
        }
        if (logY)
        {
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
            {
                MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
                IntegerTicksOnly = true,
                LabelFormatter = y => $"1e{y:0}",
            };
        }
        if (integerX)
            plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        if (notDrawn.Count > 0)
            title += $"\n(not drawn, {(logY ? "all values ≤ 0 or not finite" : "no finite values")}: {string.Join(", ", notDrawn)})";
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(logY ? $"{yLabel} (log scale)" : yLabel);
        plot.ShowLegend(Edge.Right);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        plot.SavePng(path, width, height);
        return path;
    }

    /// <summary>Moving average over <paramref name="window"/> points (for noisy per-step losses).</summary>
    public static double[] Smooth(IReadOnlyList<double> values, int window)
    {
        var result = new double[values.Count];
        double sum = 0;
        int finite = 0;
        var q = new Queue<double>();
        for (int i = 0; i < values.Count; i++)
        {
            q.Enqueue(values[i]);
            if (double.IsFinite(values[i])) { sum += values[i]; finite++; }
            if (q.Count > window)
            {
                var old = q.Dequeue();
                if (double.IsFinite(old)) { sum -= old; finite--; }
            }
            result[i] = finite == q.Count ? sum / finite : double.NaN;
        }
        return result;
    }

    /// <summary>1, 2, …, n as doubles.</summary>
    public static double[] OneTo(int n) => Enumerable.Range(1, n).Select(i => (double)i).ToArray();
}
