using System.Globalization;
using System.Text;
using Microsoft.ML;

namespace TorchInit;

/// <summary>
/// One row of a <see cref="SignalReport"/>: the forward and backward signal at one module call, in execution order.
/// Statistics are computed in float64 from the module's output; std is the unbiased (n − 1) estimate, as PyTorch's <c>std()</c>.
/// </summary>
/// <param name="Index">Position in execution order (0 = first module called).</param>
/// <param name="Path">Dotted module path, as in PyTorch's <c>named_modules()</c> ("" for the root).</param>
/// <param name="LayerType">The module's type name (Linear, Tanh, ReLU…).</param>
/// <param name="Shape">The output's shape.</param>
/// <param name="ActivationMean">Mean of the output y: Σy / n.</param>
/// <param name="ActivationStd">Standard deviation of the output: √(Σ(y − ȳ)² / (n − 1)); NaN when n &lt; 2.</param>
/// <param name="SaturatedFraction">
/// Fraction of saturated outputs: |y| &gt; 0.99 after Tanh, y &lt; 0.01 or y &gt; 0.99 after Sigmoid; NaN for other modules.
/// </param>
/// <param name="DeadFraction">Fraction of outputs exactly 0 after ReLU; NaN for other modules.</param>
/// <param name="OutputGradStd">Standard deviation of ∂loss/∂y, the gradient reaching this output in the backward pass; NaN when none reaches it.</param>
/// <param name="WeightGradStd">Standard deviation of ∂loss/∂W for the module's own <c>weight</c>; NaN when it has none or it gets no gradient.</param>
public sealed record SignalRow(
    int Index, string Path, string LayerType, long[] Shape,
    double ActivationMean, double ActivationStd, double SaturatedFraction, double DeadFraction,
    double OutputGradStd, double WeightGradStd)
{
    /// <summary>The shape as "[a, b, …]".</summary>
    public string ShapeText => $"[{string.Join(", ", Shape)}]";
}

/// <summary>
/// The result of <see cref="SignalProbe.Run"/>: one <see cref="SignalRow"/> per probed module call, in execution
/// order, and the loss of the probe's pass. Prints as an aligned table, is an <see cref="IDataView"/>
/// (columns named as the row's properties, shape as text) and gives plain series for plotting.
/// </summary>
public sealed class SignalReport : IDataView
{
    private readonly RecordDataView<SignalRow> _view;

    internal SignalReport(IReadOnlyList<SignalRow> rows, double loss)
    {
        Rows = rows;
        Loss = loss;
        _view = new RecordDataView<SignalRow>(rows, Columns);
    }

    /// <summary>One row per probed module call, in execution order.</summary>
    public IReadOnlyList<SignalRow> Rows { get; }

    /// <summary>The scalar loss the backward pass started from.</summary>
    public double Loss { get; }

    /// <summary>The rows of modules of one type (e.g. "Tanh", "Linear"), in execution order: one series per layer kind for plots.</summary>
    public IReadOnlyList<SignalRow> OfType(string layerType) =>
        Rows.Where(r => string.Equals(r.LayerType, layerType, StringComparison.OrdinalIgnoreCase)).ToList();

    /// <summary>One value per row, in execution order (e.g. <c>r =&gt; r.ActivationStd</c>): the y values of a per-layer plot.</summary>
    public double[] Series(Func<SignalRow, double> value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return Rows.Select(value).ToArray();
    }

    private static readonly DataViewColumn<SignalRow>[] Columns =
    [
        DataViewColumn<SignalRow>.Int64("Index", r => r.Index),
        DataViewColumn<SignalRow>.Text("Path", r => r.Path),
        DataViewColumn<SignalRow>.Text("LayerType", r => r.LayerType),
        DataViewColumn<SignalRow>.Text("Shape", r => r.ShapeText),
        DataViewColumn<SignalRow>.Double("ActivationMean", r => r.ActivationMean),
        DataViewColumn<SignalRow>.Double("ActivationStd", r => r.ActivationStd),
        DataViewColumn<SignalRow>.Double("SaturatedFraction", r => r.SaturatedFraction),
        DataViewColumn<SignalRow>.Double("DeadFraction", r => r.DeadFraction),
        DataViewColumn<SignalRow>.Double("OutputGradStd", r => r.OutputGradStd),
        DataViewColumn<SignalRow>.Double("WeightGradStd", r => r.WeightGradStd),
    ];

    /// <summary>The rows as CSV (invariant culture, header line first, NaN as empty), for plotting tools.</summary>
    public string ToCsv()
    {
        static string Num(double v) => double.IsNaN(v) ? "" : v.ToString("R", CultureInfo.InvariantCulture);
        var sb = new StringBuilder("index,path,layer_type,shape,activation_mean,activation_std,saturated_fraction,dead_fraction,output_grad_std,weight_grad_std\n");
        foreach (var r in Rows)
            sb.Append(CultureInfo.InvariantCulture, $"{r.Index},{r.Path},{r.LayerType},\"{r.ShapeText}\",{Num(r.ActivationMean)},{Num(r.ActivationStd)},")
              .Append(CultureInfo.InvariantCulture, $"{Num(r.SaturatedFraction)},{Num(r.DeadFraction)},{Num(r.OutputGradStd)},{Num(r.WeightGradStd)}\n");
        return sb.ToString();
    }

    private static readonly string[] Header = ["#", "module", "layer", "shape", "mean", "std", "saturated", "dead", "grad std (out)", "grad std (W)"];
    private static readonly bool[] RightAligned = [true, false, false, false, true, true, true, true, true, true];

    private List<string[]> Cells()
    {
        static string Sci(double v) => double.IsNaN(v) ? "" : v.ToString("0.000e+00", CultureInfo.InvariantCulture);
        static string Pct(double v) => double.IsNaN(v) ? "" : (100 * v).ToString("0.0", CultureInfo.InvariantCulture) + "%";
        return Rows.Select(r => new[]
        {
            r.Index.ToString(CultureInfo.InvariantCulture), r.Path.Length == 0 ? "(root)" : r.Path, r.LayerType, r.ShapeText,
            Sci(r.ActivationMean), Sci(r.ActivationStd), Pct(r.SaturatedFraction), Pct(r.DeadFraction), Sci(r.OutputGradStd), Sci(r.WeightGradStd),
        }).ToList();
    }

    /// <summary>The report as an aligned text table (NaN shown as blank), followed by the loss.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        TextTable.AppendText(sb, Header, RightAligned, Cells());
        sb.AppendLine(CultureInfo.InvariantCulture, $"loss {Loss:R}");
        return sb.ToString();
    }

    /// <summary>The report as an HTML table followed by the loss (for notebooks: <c>display(HTML(report.ToHtml()))</c>).</summary>
    public string ToHtml()
    {
        var sb = new StringBuilder();
        TextTable.AppendHtml(sb, "torchinit-signal", Header, RightAligned, Cells());
        sb.Append(CultureInfo.InvariantCulture, $"<p>loss {Loss:R}</p>\n");
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
