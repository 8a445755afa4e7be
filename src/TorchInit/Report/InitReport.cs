using System.Globalization;
using System.Text;
using Microsoft.ML;

namespace TorchInit;

/// <summary>What <c>ApplyInit</c> did to one parameter.</summary>
public enum InitAction
{
    /// <summary>Written by the scheme (weight) or the bias policy (bias).</summary>
    Initialized,
    /// <summary>Left unchanged on purpose (bias policy Keep, an activation's own parameter).</summary>
    Kept,
    /// <summary>Not touched: frozen (requires_grad = false) or already initialized through a shared (tied) parameter.</summary>
    Skipped,
    /// <summary>Not touched, and worth a look: a zero-element tensor (a no-op, as in PyTorch).</summary>
    Warning,
    /// <summary>Would be written as the row says; a dry run (<c>PlanInit</c>) touched nothing.</summary>
    Planned,
}

/// <summary>One parameter's row of an <see cref="InitReport"/>.</summary>
public sealed record InitReportRow
{
    /// <summary>Dotted module path ("" for the root), as in PyTorch's <c>named_modules()</c>.</summary>
    public required string Path { get; init; }
    /// <summary>The module's type name (e.g. Conv2d).</summary>
    public required string LayerType { get; init; }
    /// <summary>The parameter's name in its module ("weight", "bias", "in_proj_weight").</summary>
    public required string Parameter { get; init; }
    /// <summary>The parameter's shape.</summary>
    public required long[] Shape { get; init; }
    /// <summary>fan_in used, or null when no fan was needed.</summary>
    public long? FanIn { get; init; }
    /// <summary>fan_out used, or null when no fan was needed.</summary>
    public long? FanOut { get; init; }
    /// <summary>Which fan convention computed the fans, or null.</summary>
    public FanConvention? FanConvention { get; init; }
    /// <summary>The scheme's (or bias policy's) name: "HeNormal", "zeros", "keep", "TorchDefault"…</summary>
    public required string Scheme { get; init; }
    /// <summary>"normal", "truncated normal", "uniform", "constant", "orthogonal"… or "" when nothing was drawn.</summary>
    public string Distribution { get; init; } = "";
    /// <summary>The gain used (NaN when none).</summary>
    public double Gain { get; init; } = double.NaN;
    /// <summary>The standard deviation the scheme aims for (NaN when none).</summary>
    public double TargetStd { get; init; } = double.NaN;
    /// <summary>Largest possible |value − mean|: b for U(−b, b), 2σ' for the truncated normal, ∞ for the normal (NaN when none).</summary>
    public double Bound { get; init; } = double.NaN;
    /// <summary>The mean of the values written, x̄ = Σx/n (NaN when not measured).</summary>
    public double RealizedMean { get; init; } = double.NaN;
    /// <summary>The unbiased std of the values written, √(Σ(x − x̄)²/(n − 1)) (NaN when not measured).</summary>
    public double RealizedStd { get; init; } = double.NaN;
    /// <summary>What was done.</summary>
    public required InitAction Action { get; init; }
    /// <summary>Why, when the action is not <see cref="InitAction.Initialized"/>, or extra detail.</summary>
    public string Note { get; init; } = "";
    /// <summary>The activation found after the layer (<see cref="TorchInit.Activation.Name"/>) when the scheme was chosen per layer; "" otherwise.</summary>
    public string Activation { get; init; } = "";
    /// <summary>How the activation was found, or <see cref="TorchInit.ActivationSource.Explicit"/> when the scheme was given.</summary>
    public ActivationSource ActivationSource { get; init; } = ActivationSource.Explicit;
    /// <summary>Why this scheme and gain were chosen (empty for an explicitly given scheme).</summary>
    public string Reason { get; init; } = "";
    /// <summary>Under <see cref="InitPolicy.MuP"/>: the parameter's μP class; null otherwise.</summary>
    public MuClass? MuClass { get; init; }
    /// <summary>Under <see cref="InitPolicy.MuP"/>: its width multiplier m (m_in for hidden and output, m_out for input and vector-like, 1 finite); NaN otherwise.</summary>
    public double WidthMultiplier { get; init; } = double.NaN;
    /// <summary>Under <see cref="InitPolicy.MuP"/>: the scale s = μP std / the rule's std applied to the written values (0: zero-initialized); NaN otherwise or when not written.</summary>
    public double MuScale { get; init; } = double.NaN;

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
/// The result of <c>ApplyInit</c> and <c>PlanInit</c>: one row per parameter in module pre-order, the decision taken for
/// each module, the modules that were not handled, and warnings about the policy (a hint that matched nothing). Prints as
/// aligned tables, renders as HTML and CSV, and is an <see cref="IDataView"/>.
/// </summary>
public sealed partial class InitReport : IDataView
{
    private readonly RecordDataView<InitReportRow> _view;
    /// <summary>The columns of this report: <see cref="Columns"/>, and the μP ones when a row has a μP class.</summary>
    private readonly ReportColumn<InitReportRow>[] _columns;

    internal InitReport(IReadOnlyList<InitReportRow> rows, IReadOnlyList<UnhandledModule> unhandled,
        IReadOnlyList<LayerDecision>? decisions = null, IReadOnlyList<string>? policyWarnings = null)
    {
        Rows = rows;
        Unhandled = unhandled;
        Decisions = decisions ?? [];
        PolicyWarnings = policyWarnings ?? [];
        _columns = rows.Any(r => r.MuClass is not null) ? MuColumns : Columns;
        _view = ReportColumns.View(_columns, rows);
    }

    /// <summary>One row per parameter, in module pre-order (weight before bias).</summary>
    public IReadOnlyList<InitReportRow> Rows { get; }

    /// <summary>Modules owning parameters that no handler touched.</summary>
    public IReadOnlyList<UnhandledModule> Unhandled { get; }

    /// <summary>The rows whose action is <see cref="InitAction.Warning"/>.</summary>
    public IEnumerable<InitReportRow> Warnings => Rows.Where(r => r.Action == InitAction.Warning);

    /// <summary>
    /// What in the policy had no effect and is probably a mistake: a hint, override or block rule that matched no module
    /// (a path glob with the wrong case, say), or a hint that matched only modules that are not layers; and options that write
    /// something other than meant: <see cref="InitOptions.Gain"/> = 0 (the weights it scales all 0), an empty <see cref="InitOptions.LayerTypes"/>.
    /// </summary>
    public IReadOnlyList<string> PolicyWarnings { get; }

    /// <summary>The row of a parameter by its dotted name (e.g. "0.weight").</summary>
    /// <exception cref="KeyNotFoundException">No row has that name.</exception>
    public InitReportRow this[string qualifiedName] =>
        Rows.FirstOrDefault(r => r.QualifiedName == qualifiedName)
        ?? throw new KeyNotFoundException($"No parameter '{qualifiedName}' in the report. Known: {string.Join(", ", Rows.Select(r => r.QualifiedName))}.");

    /// <summary>The report's columns, defined once for the text table, HTML, CSV and the IDataView.</summary>
    private static readonly ReportColumn<InitReportRow>[] Columns =
    [
        new("QualifiedName", "parameter", r => r.QualifiedName, InView: false),
        new("Path", null, r => r.Path),
        new("LayerType", "layer", r => r.LayerType),
        new("Parameter", null, r => r.Parameter),
        new("Shape", "shape", r => r.ShapeText),
        new("FanIn", "fan_in", r => r.FanIn, ColumnFormat.Integer),
        new("FanOut", "fan_out", r => r.FanOut, ColumnFormat.Integer),
        new("FanConvention", "fans", r => ConventionText(r.FanConvention)),
        new("Scheme", "scheme", r => r.Scheme),
        new("Distribution", "distribution", r => r.Distribution),
        new("Gain", "gain", r => r.Gain, ColumnFormat.Fixed6),
        new("TargetStd", "target std", r => r.TargetStd, ColumnFormat.Fixed6),
        new("Bound", "bound", r => r.Bound, ColumnFormat.Fixed6),
        new("RealizedMean", "mean", r => r.RealizedMean, ColumnFormat.Fixed6),
        new("RealizedStd", "std", r => r.RealizedStd, ColumnFormat.Fixed6),
        new("Action", null, r => r.Action.ToString()),
        new("Note", null, r => r.Note),
        new("ActionText", "action", r => r.Action == InitAction.Initialized ? "init" : $"{r.Action.ToString().ToLowerInvariant()}: {r.Note}", InView: false),
    ];

    /// <summary><see cref="Columns"/> with μP's class, width multiplier and scale after the target std.</summary>
    private static readonly ReportColumn<InitReportRow>[] MuColumns =
    [
        .. Columns.TakeWhile(c => c.Name != "Bound"),
        new("MuClass", "μP class", r => r.MuClass is { } c ? MuText.ClassName(c) : ""),
        new("WidthMultiplier", "width mult", r => r.WidthMultiplier, ColumnFormat.Fixed3),
        new("MuScale", "μP scale", r => r.MuScale, ColumnFormat.Fixed6),
        .. Columns.SkipWhile(c => c.Name != "Bound"),
    ];

    private static string ConventionText(FanConvention? c) => c switch
    {
        TorchInit.FanConvention.Torch => "torch",
        TorchInit.FanConvention.Layer => "layer",
        _ => "",
    };

    private IEnumerable<string> NoteLines() =>
        Unhandled.Select(u => $"not handled: {(u.Path.Length == 0 ? "(root)" : u.Path)} ({u.ModuleType}) owns {string.Join(", ", u.Parameters)}")
            .Concat(PolicyWarnings.Select(w => $"policy: {w}"));

    /// <summary>The report as HTML tables, parameters then decisions (a notebook shows it as a table).</summary>
    public string ToHtml()
    {
        var sb = new StringBuilder();
        ReportColumns.AppendHtml(sb, "torchinit-report", _columns, Rows);
        foreach (var line in NoteLines()) sb.Append("<p>").Append(System.Net.WebUtility.HtmlEncode(line)).Append("</p>\n");
        if (Decisions.Count > 0) ReportColumns.AppendHtml(sb, "torchinit-decisions", DecisionColumns, Decisions);
        return sb.ToString();
    }

    /// <summary>The parameter rows as CSV: the IDataView's columns, a header line, invariant culture, NaN empty.</summary>
    public string ToCsv() => ReportColumns.Csv(_columns, Rows);

    /// <summary>The report as an aligned text table, followed by the unhandled modules, the policy warnings and the decisions table.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        ReportColumns.AppendText(sb, _columns, Rows);
        foreach (var line in NoteLines()) sb.AppendLine(line);
        if (Decisions.Count > 0)
        {
            sb.AppendLine();
            ReportColumns.AppendText(sb, DecisionColumns, Decisions, lastRule: 3);
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
