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
/// <param name="WeightGradStd">Standard deviation of ∂loss/∂W for the module's own <c>weight</c> (a recurrent layer's <c>weight_ih_l0</c>, an attention layer's <c>in_proj_weight</c>); NaN when it has none or it gets no gradient.</param>
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
        _view = ReportColumns.View(Columns, rows);
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

    /// <summary>The report's columns, defined once for the text table, HTML, CSV and the IDataView.</summary>
    private static readonly ReportColumn<SignalRow>[] Columns =
    [
        new("Index", "#", r => r.Index, ColumnFormat.Index),
        new("Path", null, r => r.Path),
        new("Module", "module", r => r.Path.Length == 0 ? "(root)" : r.Path, InView: false),
        new("LayerType", "layer", r => r.LayerType),
        new("Shape", "shape", r => r.ShapeText),
        new("ActivationMean", "mean", r => r.ActivationMean, ColumnFormat.Scientific),
        new("ActivationStd", "std", r => r.ActivationStd, ColumnFormat.Scientific),
        new("SaturatedFraction", "saturated", r => r.SaturatedFraction, ColumnFormat.Percent),
        new("DeadFraction", "dead", r => r.DeadFraction, ColumnFormat.Percent),
        new("OutputGradStd", "grad std (out)", r => r.OutputGradStd, ColumnFormat.Scientific),
        new("WeightGradStd", "grad std (W)", r => r.WeightGradStd, ColumnFormat.Scientific),
    ];

    /// <summary>The rows as CSV (invariant culture, header line of snake_case column names first, NaN as empty), for plotting tools.</summary>
    public string ToCsv() => ReportColumns.Csv(Columns, Rows, SnakeCase);

    private static string SnakeCase(string name) =>
        string.Concat(name.Select((ch, i) => char.IsUpper(ch) ? (i > 0 ? "_" : "") + char.ToLowerInvariant(ch) : ch.ToString()));

    /// <summary>The report as an aligned text table (NaN shown as blank), followed by the loss.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        ReportColumns.AppendText(sb, Columns, Rows);
        sb.AppendLine(CultureInfo.InvariantCulture, $"loss {Loss:R}");
        return sb.ToString();
    }

    /// <summary>The report as an HTML table followed by the loss (a notebook shows it as a table).</summary>
    public string ToHtml()
    {
        var sb = new StringBuilder();
        ReportColumns.AppendHtml(sb, "torchinit-signal", Columns, Rows);
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
