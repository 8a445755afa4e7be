using System.Globalization;
using System.Text;
using Microsoft.ML;

namespace TorchInit;

/// <summary>What <c>ApplyInit</c> did to one parameter.</summary>
public enum InitAction
{
    /// <summary>Written by the scheme (weight) or the bias policy (bias).</summary>
    Initialized,
    /// <summary>Left unchanged on purpose (bias policy Keep).</summary>
    Kept,
    /// <summary>Not touched: frozen (requires_grad = false) or already initialized through a shared (tied) parameter.</summary>
    Skipped,
    /// <summary>Not touched, and worth a look: a zero-element tensor (a no-op, as in PyTorch).</summary>
    Warning,
    /// <summary>Would be written as the row says; a dry run (<c>PlanInit</c>) touched nothing.</summary>
    Planned,
}

/// <summary>One parameter's row of an <see cref="InitReport"/>.</summary>
/// <param name="Path">Dotted module path ("" for the root), as in PyTorch's <c>named_modules()</c>.</param>
/// <param name="LayerType">The module's type name (e.g. Conv2d).</param>
/// <param name="Parameter">The parameter's name in its module ("weight", "bias").</param>
/// <param name="Shape">The parameter's shape.</param>
/// <param name="FanIn">fan_in used, or null when no fan was needed.</param>
/// <param name="FanOut">fan_out used, or null when no fan was needed.</param>
/// <param name="FanConvention">Which fan convention computed the fans, or null.</param>
/// <param name="Scheme">The scheme's (or bias policy's) name.</param>
/// <param name="Distribution">"normal", "truncated normal", "uniform", "constant" or "" when nothing was drawn.</param>
/// <param name="Gain">The gain used (NaN when none).</param>
/// <param name="TargetStd">The standard deviation the scheme aims for (NaN when none).</param>
/// <param name="Bound">Largest possible |value − mean|: b for U(−b, b), 2σ' for the truncated normal, ∞ for the normal (NaN when none).</param>
/// <param name="RealizedMean">The mean of the values written (NaN when not measured).</param>
/// <param name="RealizedStd">The (unbiased) std of the values written (NaN when not measured).</param>
/// <param name="Action">What was done.</param>
/// <param name="Note">Why, when the action is not <see cref="InitAction.Initialized"/>, or extra detail.</param>
/// <param name="Activation">
/// The activation found after the layer (<see cref="TorchInit.Activation.Name"/>: "ReLU", "linear", "(output)"...)
/// when the scheme was chosen per layer (<see cref="InitScheme.Auto"/>); "" otherwise.
/// </param>
/// <param name="ActivationSource">How the activation was found, or <see cref="TorchInit.ActivationSource.Explicit"/> when the scheme was given.</param>
/// <param name="Reason">Why this scheme and gain were chosen (empty for an explicitly given scheme).</param>
public sealed record InitReportRow(
    string Path, string LayerType, string Parameter, long[] Shape,
    long? FanIn, long? FanOut, FanConvention? FanConvention,
    string Scheme, string Distribution, double Gain, double TargetStd, double Bound,
    double RealizedMean, double RealizedStd, InitAction Action, string Note,
    string Activation = "", ActivationSource ActivationSource = ActivationSource.Explicit, string Reason = "")
{
    /// <summary>Dotted name of the parameter: path + "." + parameter.</summary>
    public string QualifiedName => Path.Length == 0 ? Parameter : $"{Path}.{Parameter}";

    /// <summary>The shape as "[a, b, …]".</summary>
    public string ShapeText => $"[{string.Join(", ", Shape)}]";
}

/// <summary>A module that <c>ApplyInit</c> did not handle although it owns parameters (an unknown or excluded layer type).</summary>
/// <param name="Path">Dotted module path.</param>
/// <param name="ModuleType">The module's type name.</param>
/// <param name="Parameters">Names of the parameters it owns directly.</param>
public sealed record UnhandledModule(string Path, string ModuleType, IReadOnlyList<string> Parameters);

/// <summary>
/// The result of <c>ApplyInit</c>: one row per parameter in module pre-order, plus the modules that were
/// skipped because their type is not handled. Prints as an aligned table and is an <see cref="IDataView"/>.
/// </summary>
public sealed partial class InitReport : IDataView
{
    private readonly RecordDataView<InitReportRow> _view;

    internal InitReport(IReadOnlyList<InitReportRow> rows, IReadOnlyList<UnhandledModule> unhandled)
    {
        Rows = rows;
        Unhandled = unhandled;
        _view = new RecordDataView<InitReportRow>(rows, Columns);
    }

    /// <summary>One row per parameter, in module pre-order (weight before bias).</summary>
    public IReadOnlyList<InitReportRow> Rows { get; }

    /// <summary>Modules owning parameters that no handler touched.</summary>
    public IReadOnlyList<UnhandledModule> Unhandled { get; }

    /// <summary>The rows whose action is <see cref="InitAction.Warning"/>.</summary>
    public IEnumerable<InitReportRow> Warnings => Rows.Where(r => r.Action == InitAction.Warning);

    /// <summary>The row of a parameter by its dotted name (e.g. "0.weight").</summary>
    /// <exception cref="KeyNotFoundException">No row has that name.</exception>
    public InitReportRow this[string qualifiedName] =>
        Rows.FirstOrDefault(r => r.QualifiedName == qualifiedName)
        ?? throw new KeyNotFoundException($"No parameter '{qualifiedName}' in the report. Known: {string.Join(", ", Rows.Select(r => r.QualifiedName))}.");

    private static readonly DataViewColumn<InitReportRow>[] Columns =
    [
        DataViewColumn<InitReportRow>.Text("Path", r => r.Path),
        DataViewColumn<InitReportRow>.Text("LayerType", r => r.LayerType),
        DataViewColumn<InitReportRow>.Text("Parameter", r => r.Parameter),
        DataViewColumn<InitReportRow>.Text("Shape", r => r.ShapeText),
        DataViewColumn<InitReportRow>.Double("FanIn", r => r.FanIn ?? double.NaN),
        DataViewColumn<InitReportRow>.Double("FanOut", r => r.FanOut ?? double.NaN),
        DataViewColumn<InitReportRow>.Text("FanConvention", r => ConventionText(r.FanConvention)),
        DataViewColumn<InitReportRow>.Text("Scheme", r => r.Scheme),
        DataViewColumn<InitReportRow>.Text("Distribution", r => r.Distribution),
        DataViewColumn<InitReportRow>.Double("Gain", r => r.Gain),
        DataViewColumn<InitReportRow>.Double("TargetStd", r => r.TargetStd),
        DataViewColumn<InitReportRow>.Double("Bound", r => r.Bound),
        DataViewColumn<InitReportRow>.Double("RealizedMean", r => r.RealizedMean),
        DataViewColumn<InitReportRow>.Double("RealizedStd", r => r.RealizedStd),
        DataViewColumn<InitReportRow>.Text("Action", r => r.Action.ToString()),
        DataViewColumn<InitReportRow>.Text("Note", r => r.Note),
    ];

    private static string ConventionText(FanConvention? c) => c switch
    {
        TorchInit.FanConvention.Torch => "torch",
        TorchInit.FanConvention.Layer => "layer",
        _ => "",
    };

    private static readonly string[] Header = ["parameter", "layer", "shape", "fan_in", "fan_out", "fans", "scheme", "distribution", "gain", "target std", "bound", "mean", "std", "action"];
    private static readonly bool[] RightAligned = [false, false, false, true, true, false, false, false, true, true, true, true, true, false];

    private List<string[]> Cells()
    {
        static string Num(double v) => double.IsNaN(v) ? "" : double.IsPositiveInfinity(v) ? "inf" : v.ToString("0.000000", CultureInfo.InvariantCulture);
        static string Fan(long? f) => f?.ToString(CultureInfo.InvariantCulture) ?? "";
        return Rows.Select(r => new[]
        {
            r.QualifiedName, r.LayerType, r.ShapeText, Fan(r.FanIn), Fan(r.FanOut), ConventionText(r.FanConvention),
            r.Scheme, r.Distribution, Num(r.Gain), Num(r.TargetStd), Num(r.Bound), Num(r.RealizedMean), Num(r.RealizedStd),
            r.Action == InitAction.Initialized ? "init" : $"{r.Action.ToString().ToLowerInvariant()}: {r.Note}",
        }).ToList();
    }

    private IEnumerable<string> UnhandledLines() => Unhandled.Select(u =>
        $"not handled: {(u.Path.Length == 0 ? "(root)" : u.Path)} ({u.ModuleType}) owns {string.Join(", ", u.Parameters)}");

    /// <summary>The report as HTML tables, parameters then decisions (for notebooks: <c>display(HTML(report.ToHtml()))</c>).</summary>
    public string ToHtml()
    {
        var sb = new StringBuilder();
        TextTable.AppendHtml(sb, "torchinit-report", Header, RightAligned, Cells());
        foreach (var line in UnhandledLines()) sb.Append("<p>").Append(System.Net.WebUtility.HtmlEncode(line)).Append("</p>\n");
        if (DecisionCells() is { Count: > 0 } decisions)
            TextTable.AppendHtml(sb, "torchinit-decisions", DecisionHeader, DecisionRightAligned, decisions);
        return sb.ToString();
    }

    /// <summary>The report as an aligned text table, followed by the unhandled modules and the decisions table.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        TextTable.AppendText(sb, Header, RightAligned, Cells());
        foreach (var line in UnhandledLines()) sb.AppendLine(line);
        if (DecisionCells() is { Count: > 0 } decisions)
        {
            sb.AppendLine();
            TextTable.AppendText(sb, DecisionHeader, DecisionRightAligned, decisions, lastRule: 3);
        }
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
