namespace TorchInit;

/// <summary>The decision taken for one module: what follows it, how that was found, the scheme and gain, and why.</summary>
/// <param name="Path">Dotted module path.</param>
/// <param name="LayerType">The module's type name.</param>
/// <param name="Activation">The activation found after it (or the cell's own, for recurrent layers); "" when not looked for.</param>
/// <param name="Source">How the activation was found.</param>
/// <param name="Scheme">The scheme its weight got.</param>
/// <param name="Gain">The gain decided for it (NaN when its scheme has none).</param>
/// <param name="Reason">Why.</param>
public sealed record LayerDecision(string Path, string LayerType, string Activation, ActivationSource Source, string Scheme, double Gain, string Reason);

public sealed partial class InitReport
{
    /// <summary>
    /// One decision per module that has a reason (every module decided by <see cref="InitPolicy.Auto"/> or a per-layer
    /// override or its own <see cref="IInitializable"/> declaration, and repeated occurrences of shared modules), in pre-order.
    /// </summary>
    public IReadOnlyList<LayerDecision> Decisions { get; }

    /// <summary>
    /// <see cref="Decisions"/> as an <see cref="Microsoft.ML.IDataView"/> (columns Path, LayerType, Activation, ActivationSource,
    /// Scheme, Gain, Reason), beside the per-parameter view the report itself is.
    /// </summary>
    public Microsoft.ML.IDataView DecisionsView => ReportColumns.View(DecisionColumns, Decisions);

    /// <summary>The decisions' columns, defined once for the text table, HTML and the IDataView.</summary>
    private static readonly ReportColumn<LayerDecision>[] DecisionColumns =
    [
        new("Path", "layer", d => d.Path.Length == 0 ? "(root)" : d.Path, InView: false),
        new("Path", null, d => d.Path),
        new("LayerType", "type", d => d.LayerType),
        new("Activation", "activation", d => d.Activation),
        new("ActivationSource", null, d => d.Source.ToString()),
        new("FoundBy", "found by", d => d.Source.ToString().ToLowerInvariant(), InView: false),
        new("Scheme", "scheme", d => d.Scheme),
        new("Gain", "gain", d => d.Gain, ColumnFormat.Fixed3),
        new("Reason", "why", d => d.Reason),
    ];

    /// <summary>Decisions as an HTML table, with the same columns as the decisions table of <see cref="ToHtml"/> (a notebook shows a list of decisions with it).</summary>
    /// <param name="decisions">Decisions, e.g. <see cref="Decisions"/> or a filtered part of them.</param>
    public static string DecisionsToHtml(IEnumerable<LayerDecision> decisions)
    {
        ArgumentNullException.ThrowIfNull(decisions);
        var sb = new System.Text.StringBuilder();
        ReportColumns.AppendHtml(sb, "torchinit-decisions", DecisionColumns, decisions);
        return sb.ToString();
    }

    /// <summary>The decision for the module at <paramref name="path"/>.</summary>
    /// <exception cref="KeyNotFoundException">No decision for that path.</exception>
    public LayerDecision Decision(string path) =>
        Decisions.FirstOrDefault(d => d.Path == path)
        ?? throw new KeyNotFoundException($"No decision for module '{path}'. Known: {string.Join(", ", Decisions.Select(d => d.Path))}.");
}
