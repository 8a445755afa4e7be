using System.Globalization;
using System.Text;
using Microsoft.ML;
using TorchInit.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit;

/// <summary>Options of <see cref="CoordinateCheck.Run"/>.</summary>
public sealed record CoordinateCheckOptions
{
    /// <summary>Which modules get rows, by dotted path and module; null: every leaf module and every attention layer (as <see cref="SignalProbe"/>). The model's output always has rows.</summary>
    public Func<string, nn.Module, bool>? Include { get; init; }

    /// <summary>The first step whose exponent counts for the verdict (default 1: after the first update; under μP the output starts at O(1/√width)). Steps before it are recorded all the same.</summary>
    public int FromStep { get; init; } = 1;

    /// <summary>The largest |exponent| of l1 in width called flat (default 0.2: l1 changes by less than 2^0.2 ≈ 1.15× per doubling of width).</summary>
    public double FlatExponent { get; init; } = 0.2;
}

/// <summary>One coordinate-check measurement: the mean absolute value of a module's output at one step and width.</summary>
/// <param name="Width">The width the model was built at.</param>
/// <param name="Step">The step (0: at initialization, before any update).</param>
/// <param name="Module">The module's dotted path, "(output)" for the model's output, "(root)" for the root module when it is a leaf.</param>
/// <param name="LayerType">The module's type name.</param>
/// <param name="L1">l1 per coordinate: mean |y| = Σ|y|/n over the output's elements, in float64.</param>
public sealed record CoordinateCheckRow(long Width, int Step, string Module, string LayerType, double L1);

/// <summary>How a module's activation size behaves as width grows.</summary>
public enum CoordinateVerdict
{
    /// <summary>|exponent| ≤ <see cref="CoordinateCheckOptions.FlatExponent"/> at every step counted: what μP promises.</summary>
    Flat,
    /// <summary>The size grows with width (exponent &gt; the threshold at some step): what the standard parametrization does with a wide model's learning rate.</summary>
    Growing,
    /// <summary>The size shrinks with width (exponent &lt; −threshold at some step).</summary>
    Shrinking,
}

/// <summary>A module's verdict: the exponent e of l1 ∝ width^e (least squares of ln l1 on ln width) at the step where |e| is largest, and what it means.</summary>
/// <param name="Module">The module's dotted path, or "(output)".</param>
/// <param name="LayerType">Its type name.</param>
/// <param name="Exponent">The exponent at <paramref name="Step"/>; NaN when no step had a positive l1 at every width.</param>
/// <param name="Step">The step of the largest |exponent| among those counted.</param>
/// <param name="Verdict">Flat, growing or shrinking.</param>
public sealed record CoordinateCheckVerdict(string Module, string LayerType, double Exponent, int Step, CoordinateVerdict Verdict);

/// <summary>
/// The coordinate check of μP (Yang et al. 2022, "Tensor Programs V", Appendix D.1): train a model at several widths for a few
/// steps on the same batches and record the size of every activation at every step. Under μP every size stays flat as width
/// grows; under the standard parametrization the activations after an update grow (or shrink) with width, which is why its best
/// learning rate moves.
/// </summary>
public static class CoordinateCheck
{
    /// <summary>
    /// For each width: builds the model (<paramref name="model"/> builds and initializes it) and its optimizer, then for each batch
    /// (one step each) runs the forward pass, records mean |y| (float64) of every probed module's output (forward hooks) and of the
    /// model's output, computes the loss, back-propagates, steps the optimizer and zeroes the gradients. Each model and optimizer is
    /// disposed after its run; hooks are removed; the batches are not changed. The model runs in its current mode.
    /// </summary>
    /// <param name="widths">At least two distinct positive widths.</param>
    /// <param name="model">Builds and initializes the model of a width (e.g. applies <see cref="InitPolicy.MuP"/>).</param>
    /// <param name="optimizer">Makes the model's optimizer (<see cref="MuP.Adam"/> for μP, <c>torch.optim.Adam</c> for SP).</param>
    /// <param name="batches">The (input, target) pairs, one per step; the same for every width.</param>
    /// <param name="loss">The scalar loss of (output, target), e.g. <c>nn.functional.cross_entropy</c>.</param>
    /// <param name="options">What to probe and the verdict's threshold; null for defaults.</param>
    /// <returns>Rows per width, step and module, and a verdict per module.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">Fewer than two distinct widths, a width not positive, no batch, a negative threshold or step, or a loss that is not one element.</exception>
    public static CoordinateCheckReport Run(IReadOnlyList<long> widths, Func<long, nn.Module<Tensor, Tensor>> model,
        Func<nn.Module, optim.Optimizer> optimizer, IReadOnlyList<(Tensor Input, Tensor Target)> batches, Func<Tensor, Tensor, Tensor> loss,
        CoordinateCheckOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(widths);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(optimizer);
        ArgumentNullException.ThrowIfNull(batches);
        ArgumentNullException.ThrowIfNull(loss);
        options ??= new CoordinateCheckOptions();
        if (widths.Any(w => w <= 0) || widths.Distinct().Count() < 2)
            throw new ArgumentException($"A coordinate check needs at least two distinct positive widths; got [{string.Join(", ", widths)}].", nameof(widths));
        if (batches.Count == 0) throw new ArgumentException("A coordinate check needs at least one batch (one per step).", nameof(batches));
        if (batches.Any(b => b.Input is null || b.Target is null)) throw new ArgumentException("A batch has a null input or target.", nameof(batches));
        Check.FiniteNonNegative(options.FlatExponent, nameof(options.FlatExponent));
        if (options.FromStep < 0) throw new ArgumentException($"FromStep must be ≥ 0; got {options.FromStep}.", nameof(options));
        var include = options.Include ?? ((_, m) => !m.children().Any() || LayerTaxonomy.Classify(m) == LayerKind.Attention);

        var rows = new List<CoordinateCheckRow>();
        foreach (long width in widths)
            RunWidth(width, model, optimizer, batches, loss, include, rows);
        return new CoordinateCheckReport(rows, Verdicts(rows, options));
    }

    private static void RunWidth(long width, Func<long, nn.Module<Tensor, Tensor>> factory, Func<nn.Module, optim.Optimizer> makeOptimizer,
        IReadOnlyList<(Tensor Input, Tensor Target)> batches, Func<Tensor, Tensor, Tensor> loss, Func<string, nn.Module, bool> include, List<CoordinateCheckRow> rows)
    {
        using var m = factory(width) ?? throw new ArgumentException($"The model factory returned null for width {width}.");
        using var opt = makeOptimizer(m) ?? throw new ArgumentException($"The optimizer factory returned null for width {width}.");
        int step = 0;
        var removers = new List<Action>();
        try
        {
            foreach (var (path, module) in ModuleTree.PreOrder(m).Where(e => include(e.Path, e.Module)).ToList())
            {
                string name = path.Length == 0 ? "(root)" : path, type = ModuleTree.TypeName(module);
                if (ModelRunScope.RegisterOutputHook(module, y => rows.Add(new CoordinateCheckRow(width, step, name, type, L1(y)))) is { } remove)
                    removers.Add(remove);
            }
            for (; step < batches.Count; step++)
            {
                using var scope = NewDisposeScope();
                var (x, target) = batches[step];
                var y = m.call(x);
                rows.Add(new CoordinateCheckRow(width, step, "(output)", ModuleTree.TypeName(m), L1(y)));
                var l = loss(y, target);
                if (l.numel() != 1) throw new ArgumentException($"The loss must be a single element, got shape [{string.Join(", ", l.shape)}].", nameof(loss));
                opt.zero_grad();
                l.backward();
                opt.step();
            }
        }
        finally
        {
            foreach (var remove in removers) remove();
        }
    }

    private static double L1(Tensor y)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        return y.numel() == 0 ? double.NaN : y.detach().to_type(ScalarType.Float64).abs().mean().item<double>();
    }

    /// <summary>Per module, in first-seen order: the exponent of largest magnitude over the counted steps, and its verdict.</summary>
    private static List<CoordinateCheckVerdict> Verdicts(List<CoordinateCheckRow> rows, CoordinateCheckOptions options)
    {
        int lastStep = rows.Max(r => r.Step);
        int from = Math.Min(options.FromStep, lastStep);
        var verdicts = new List<CoordinateCheckVerdict>();
        foreach (var module in rows.GroupBy(r => r.Module))
        {
            double best = double.NaN;
            int bestStep = from;
            foreach (var atStep in module.Where(r => r.Step >= from).GroupBy(r => r.Step))
            {
                // A module called several times per step (a shared layer): the mean of its calls.
                var points = atStep.GroupBy(r => r.Width).Select(g => (W: (double)g.Key, L: g.Average(r => r.L1))).ToList();
                if (points.Count < 2 || points.Any(p => !(p.L > 0) || double.IsInfinity(p.L))) continue;
                double e = Slope(points.Select(p => Math.Log(p.W)).ToArray(), points.Select(p => Math.Log(p.L)).ToArray());
                if (double.IsNaN(best) || Math.Abs(e) > Math.Abs(best)) (best, bestStep) = (e, atStep.Key);
            }
            var verdict = double.IsNaN(best) || Math.Abs(best) <= options.FlatExponent ? CoordinateVerdict.Flat
                : best > 0 ? CoordinateVerdict.Growing : CoordinateVerdict.Shrinking;
            verdicts.Add(new CoordinateCheckVerdict(module.Key, module.First().LayerType, best, bestStep, verdict));
        }
        return verdicts;
    }

    /// <summary>The least-squares slope of y on x: Σ(x − x̄)(y − ȳ) / Σ(x − x̄)².</summary>
    private static double Slope(double[] x, double[] y)
    {
        double mx = x.Average(), my = y.Average(), sxy = 0, sxx = 0;
        for (int i = 0; i < x.Length; i++)
        {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
        }
        return sxx == 0 ? double.NaN : sxy / sxx;
    }
}

/// <summary>
/// The result of <see cref="CoordinateCheck.Run"/>: one row per width, step and module call (an <see cref="IDataView"/> with columns
/// Width, Step, Module, LayerType, L1), and a verdict per module. Prints the verdicts, then l1 per module and width at each step.
/// </summary>
public sealed class CoordinateCheckReport : IDataView
{
    private readonly RecordDataView<CoordinateCheckRow> _view;

    internal CoordinateCheckReport(IReadOnlyList<CoordinateCheckRow> rows, IReadOnlyList<CoordinateCheckVerdict> verdicts)
    {
        Rows = rows;
        Verdicts = verdicts;
        _view = ReportColumns.View(Columns, rows);
    }

    /// <summary>Every measurement, by width, then step, then execution order.</summary>
    public IReadOnlyList<CoordinateCheckRow> Rows { get; }

    /// <summary>One verdict per module, in execution order.</summary>
    public IReadOnlyList<CoordinateCheckVerdict> Verdicts { get; }

    /// <summary>The verdict of <paramref name="module"/> (a dotted path or "(output)").</summary>
    /// <exception cref="KeyNotFoundException">No module has that name.</exception>
    public CoordinateCheckVerdict this[string module] =>
        Verdicts.FirstOrDefault(v => v.Module == module)
        ?? throw new KeyNotFoundException($"No module '{module}' in the coordinate check. Known: {string.Join(", ", Verdicts.Select(v => v.Module))}.");

    /// <summary>l1 of <paramref name="module"/> at <paramref name="step"/>, per width in increasing order (the mean of its calls): one curve of a coordinate-check plot.</summary>
    public IReadOnlyList<(long Width, double L1)> Series(string module, int step) =>
        Rows.Where(r => r.Module == module && r.Step == step).GroupBy(r => r.Width).OrderBy(g => g.Key).Select(g => (g.Key, g.Average(r => r.L1))).ToList();

    private static readonly ReportColumn<CoordinateCheckRow>[] Columns =
    [
        new("Width", "width", r => r.Width, ColumnFormat.Index),
        new("Step", "step", r => (long)r.Step, ColumnFormat.Index),
        new("Module", "module", r => r.Module),
        new("LayerType", "layer", r => r.LayerType),
        new("L1", "l1", r => r.L1, ColumnFormat.Scientific),
    ];

    private static readonly ReportColumn<CoordinateCheckVerdict>[] VerdictColumns =
    [
        new("Module", "module", v => v.Module),
        new("LayerType", "layer", v => v.LayerType),
        new("Exponent", "exponent", v => v.Exponent, ColumnFormat.Fixed3),
        new("Step", "at step", v => (long)v.Step, ColumnFormat.Index),
        new("Verdict", "verdict", v => v.Verdict.ToString().ToLowerInvariant()),
    ];

    /// <summary>The rows as CSV (the IDataView's columns, invariant culture).</summary>
    public string ToCsv() => ReportColumns.Csv(Columns, Rows);

    /// <summary>The verdicts table, then the rows table.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        ReportColumns.AppendText(sb, VerdictColumns, Verdicts);
        sb.AppendLine();
        ReportColumns.AppendText(sb, Columns, Rows);
        return sb.ToString();
    }

    /// <inheritdoc />
    public bool CanShuffle => _view.CanShuffle;
    /// <inheritdoc />
    public DataViewSchema Schema => _view.Schema;
    /// <inheritdoc />
    public long? GetRowCount() => _view.GetRowCount();
    /// <inheritdoc />
    public DataViewRowCursor GetRowCursor(IEnumerable<DataViewSchema.Column> columnsNeeded, Random? rand = null) => _view.GetRowCursor(columnsNeeded, rand);
    /// <inheritdoc />
    public DataViewRowCursor[] GetRowCursorSet(IEnumerable<DataViewSchema.Column> columnsNeeded, int n, Random? rand = null) => _view.GetRowCursorSet(columnsNeeded, n, rand);
}
