using System.Globalization;

namespace TorchInit;

/// <summary>The decision taken for one module: what follows it, how that was found, the scheme and gain, and why.</summary>
/// <param name="Path">Dotted module path.</param>
/// <param name="LayerType">The module's type name.</param>
/// <param name="Activation">The activation found after it (or the cell's own, for recurrent layers); "" when not looked for.</param>
/// <param name="Source">How the activation was found.</param>
/// <param name="Scheme">The scheme its weight got.</param>
/// <param name="Gain">The gain used (NaN when none).</param>
/// <param name="Reason">Why.</param>
public sealed record LayerDecision(string Path, string LayerType, string Activation, ActivationSource Source, string Scheme, double Gain, string Reason);

public sealed partial class InitReport
{
    /// <summary>
    /// One decision per module that has a reason (every module handled by <see cref="InitScheme.Auto"/> or a
    /// per-layer override, and repeated occurrences of shared modules), in pre-order; taken from the module's first row.
    /// </summary>
    public IReadOnlyList<LayerDecision> Decisions => Rows
        .Where(r => r.Reason.Length > 0)
        .GroupBy(r => r.Path)
        .Select(g => g.First())
        .Select(r => new LayerDecision(r.Path, r.LayerType, r.Activation, r.ActivationSource, r.Scheme, r.Gain, r.Reason))
        .ToList();

    /// <summary>
    /// <see cref="Decisions"/> as an <see cref="Microsoft.ML.IDataView"/> (columns Path, LayerType, Activation, ActivationSource,
    /// Scheme, Gain, Reason), beside the per-parameter view the report itself is.
    /// </summary>
    public Microsoft.ML.IDataView DecisionsView => new RecordDataView<LayerDecision>(Decisions, DecisionColumns);

    private static readonly DataViewColumn<LayerDecision>[] DecisionColumns =
    [
        DataViewColumn<LayerDecision>.Text("Path", d => d.Path),
        DataViewColumn<LayerDecision>.Text("LayerType", d => d.LayerType),
        DataViewColumn<LayerDecision>.Text("Activation", d => d.Activation),
        DataViewColumn<LayerDecision>.Text("ActivationSource", d => d.Source.ToString()),
        DataViewColumn<LayerDecision>.Text("Scheme", d => d.Scheme),
        DataViewColumn<LayerDecision>.Double("Gain", d => d.Gain),
        DataViewColumn<LayerDecision>.Text("Reason", d => d.Reason),
    ];

    /// <summary>The decision for the module at <paramref name="path"/>.</summary>
    /// <exception cref="KeyNotFoundException">No decision for that path.</exception>
    public LayerDecision Decision(string path) =>
        Decisions.FirstOrDefault(d => d.Path == path)
        ?? throw new KeyNotFoundException($"No decision for module '{path}'. Known: {string.Join(", ", Decisions.Select(d => d.Path))}.");

    private static readonly string[] DecisionHeader = ["layer", "type", "activation", "found by", "scheme", "gain", "why"];
    private static readonly bool[] DecisionRightAligned = [false, false, false, false, false, true, false];

    private List<string[]> DecisionCells()
    {
        static string Num(double v) => double.IsNaN(v) ? "" : v.ToString("0.000", CultureInfo.InvariantCulture);
        return Decisions.Select(d => new[]
        {
            d.Path.Length == 0 ? "(root)" : d.Path, d.LayerType, d.Activation, d.Source.ToString().ToLowerInvariant(), d.Scheme, Num(d.Gain), d.Reason,
        }).ToList();
    }
}
