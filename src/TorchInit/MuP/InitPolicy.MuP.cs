namespace TorchInit;

/// <summary>Options of <see cref="InitPolicy.MuP"/>: zero-initialized readout and attention queries (Tensor Programs V, §D.2 and Appendix B).</summary>
public sealed record MuOptions
{
    /// <summary>Whether output weights (class <see cref="MuClass.Output"/>) are initialized to 0 instead of drawn (no numbers drawn). Default false.</summary>
    public bool ZeroReadout { get; init; }

    /// <summary>
    /// Whether attention queries start at 0: the query block (the first d rows) of every <c>MultiheadAttention</c>'s
    /// <c>in_proj_weight</c> (its whole <c>q_proj_weight</c> when it has separate projections, kdim or vdim ≠ d), and the weights of
    /// layers matched by <see cref="QueryLayers"/>. Not drawn. Default false.
    /// </summary>
    public bool ZeroQueries { get; init; }

    /// <summary>A path glob naming your own attention's query projections ("*.q_proj", "blocks.*.attn.q"), zeroed under <see cref="ZeroQueries"/>; null: none.</summary>
    public string? QueryLayers { get; init; }
}

/// <summary>What <see cref="InitPolicy.MuP"/> adds to a policy.</summary>
internal sealed record MuSettings(MuBaseShapes Shapes, MuOptions Options)
{
    private readonly Func<string, bool>? _query = Options.QueryLayers is { } glob ? Glob.Matcher(glob) : null;

    /// <summary>Whether the layer at <paramref name="path"/> is a query projection zeroed under <see cref="MuOptions.ZeroQueries"/>.</summary>
    public bool IsQueryLayer(string path) => Options.ZeroQueries && _query is not null && _query(path);
}

public sealed partial record InitPolicy
{
    internal MuSettings? Mu { get; init; }

    /// <summary>
    /// This policy made μP (Yang et al. 2022, "Tensor Programs V", Table 3) by <paramref name="shapes"/>: every parameter the policy
    /// writes gets std σ₀ × factor, where σ₀ is the std the policy's rule gives it at its base shape and the factor is 1/√m_in for
    /// hidden weights, 1/m_in for output weights of a plain layer, 1 for input weights, vector-like and finite parameters and a
    /// <see cref="MuReadout"/>'s weight (whose forward divides by m_in): the written fill is the rule's fill scaled by
    /// s = σ₀ × factor / σ. The report shows each parameter's class, width multiplier m and s. Train with <see cref="TorchInit.MuP.Adam"/>,
    /// <see cref="TorchInit.MuP.AdamW"/> or <see cref="TorchInit.MuP.SGD"/>.
    /// </summary>
    /// <param name="shapes">The base shapes (<see cref="MuBaseShapes.FromModels"/>, <see cref="MuBaseShapes.FromFactory"/>, <see cref="MuBaseShapes.Load"/>).</param>
    /// <param name="options">Zero readout, zero queries; null for none.</param>
    /// <exception cref="ArgumentNullException"><paramref name="shapes"/> is null.</exception>
    /// <remarks>The model is checked against the shapes when the policy is applied: a parameter they lack, another rank, a finite
    /// dimension of another size or an infinite one smaller than the base's throws before anything is written.</remarks>
    public InitPolicy MuP(MuBaseShapes shapes, MuOptions? options = null) =>
        this with { Mu = new MuSettings(shapes ?? throw new ArgumentNullException(nameof(shapes)), options ?? new MuOptions()) };
}
