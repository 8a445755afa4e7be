using TorchSharp;

namespace TorchInit.Experiments;

/// <summary>
/// An initialization as the experiments name it: a weight scheme plus a bias policy. The PyTorch twins
/// (scripts/twins/common.py, <c>SCHEMES</c>) spell out the same names as <c>torch.nn.init</c> calls.
/// </summary>
/// <param name="Name">Command-line and JSON name, e.g. "he".</param>
/// <param name="Weights">The weight scheme.</param>
/// <param name="Bias">The bias policy.</param>
/// <param name="Formula">What the weights are drawn from, for tables and plots.</param>
public sealed record ExperimentScheme(string Name, InitScheme Weights, BiasInit Bias, string Formula)
{
    /// <summary>N(0, 0.01²): the naive small init; signals vanish layer by layer.</summary>
    public static ExperimentScheme Normal001 { get; } = new("normal-0.01", InitScheme.Normal(0.01), BiasInit.Zeros, "N(0, 0.01²)");
    /// <summary>N(0, 1): the naive unit init; tanh saturates, ReLU explodes.</summary>
    public static ExperimentScheme Normal1 { get; } = new("normal-1", InitScheme.Normal(1.0), BiasInit.Zeros, "N(0, 1)");
    /// <summary>All weights 0: every unit of a layer computes the same thing and stays so (the symmetry problem).</summary>
    public static ExperimentScheme Zeros { get; } = new("zeros", InitScheme.Zeros, BiasInit.Zeros, "0");
    /// <summary>U(−1/√fan_in, 1/√fan_in): Glorot and Bengio's "standard" heuristic, equal to PyTorch's default weight init.</summary>
    public static ExperimentScheme InvSqrtN { get; } = new("inv-sqrt-n", InitScheme.TorchDefault, BiasInit.Zeros, "U(±1/√n)");
    /// <summary>Glorot/Xavier uniform, gain 1: U(±√(6/(fan_in+fan_out))).</summary>
    public static ExperimentScheme Glorot { get; } = new("glorot", InitScheme.GlorotUniform, BiasInit.Zeros, "U(±√(6/(n_in+n_out)))");
    /// <summary>Glorot/Xavier normal, gain 1: N(0, 2/(fan_in+fan_out)); √(1/n) for a square layer (He et al.'s "Xavier").</summary>
    public static ExperimentScheme GlorotNormal { get; } = new("glorot-normal", InitScheme.GlorotNormal, BiasInit.Zeros, "N(0, 2/(n_in+n_out))");
    /// <summary>He/Kaiming normal for ReLU: N(0, 2/fan_in).</summary>
    public static ExperimentScheme He { get; } = new("he", InitScheme.HeNormal, BiasInit.Zeros, "N(0, 2/n_in)");
    /// <summary>LeCun normal (SELU): N(0, 1/fan_in).</summary>
    public static ExperimentScheme LeCun { get; } = new("lecun", InitScheme.LeCunNormal, BiasInit.Zeros, "N(0, 1/n_in)");
    /// <summary>PyTorch's constructor init: weight U(±1/√fan_in), bias U(±1/√fan_in).</summary>
    public static ExperimentScheme TorchDefault { get; } = new("torch-default", InitScheme.TorchDefault, BiasInit.TorchDefault, "PyTorch default");

    /// <summary>
    /// LSUV (Mishkin &amp; Matas 2016): orthogonal weights and zero biases, then each layer's weight rescaled in forward order until its output
    /// has unit variance on the first training batch (<see cref="Lsuv.ApplyLsuv"/>, the paper's tolerance 0.1 and 10 iterations).
    /// </summary>
    public static ExperimentScheme Lsuv { get; } = new("lsuv", InitScheme.Orthogonal, BiasInit.Zeros, "orthogonal, then unit output variance per layer (LSUV)");

    /// <summary>
    /// Delta-orthogonal (Xiao et al. 2018), gain 1: convolution weights zero except an orthogonal [out, in] matrix at the kernel centre,
    /// so each layer preserves the norm of its input exactly at initialization; for convolutions only (<see cref="Models.DeepCnn"/>).
    /// </summary>
    public static ExperimentScheme DeltaOrthogonal { get; } = new("delta-orthogonal", InitScheme.DeltaOrthogonal, BiasInit.Zeros, "orthogonal kernel centre, zeros elsewhere");

    /// <summary>Every named scheme.</summary>
    public static IReadOnlyList<ExperimentScheme> All { get; } = [Normal001, Normal1, Zeros, InvSqrtN, Glorot, GlorotNormal, He, LeCun, TorchDefault, Lsuv, DeltaOrthogonal];

    /// <summary>Whether this scheme needs a batch (LSUV).</summary>
    public bool NeedsBatch => ReferenceEquals(this, Lsuv);

    /// <summary>
    /// The scheme named <paramref name="name"/>: one of the experiments' short names above (case-insensitive; the PyTorch
    /// twins spell them out), else any text <see cref="InitScheme.Parse"/> reads ("he_normal", "kaiming_uniform",
    /// "GlorotUniform(nonlinearity=tanh)", "Normal(0.02)"), with the scheme's own bias default.
    /// </summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the known ones.</exception>
    public static ExperimentScheme Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (All.FirstOrDefault(s => string.Equals(s.Name, name.Trim(), StringComparison.OrdinalIgnoreCase)) is { } known) return known;
        try
        {
            var scheme = InitScheme.Parse(name);
            return new(scheme.ToString(), scheme, scheme.DefaultBias, scheme.ToString());
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"Unknown scheme '{name}'. The experiments' names: {string.Join(", ", All.Select(s => s.Name))}; or a scheme text: {e.Message}", e);
        }
    }

    /// <summary>
    /// Initializes every Linear/Conv of <paramref name="model"/> in pre-order, weight then bias, from a private generator seeded with <paramref name="seed"/>;
    /// LSUV then rescales the layers on <paramref name="batch"/> (the first training batch).
    /// </summary>
    /// <exception cref="ArgumentException">LSUV without a batch, or on a model that is not a Tensor → Tensor module.</exception>
    public InitReport Apply(torch.nn.Module model, long seed, torch.Tensor? batch = null)
    {
        var options = new InitOptions { Seed = seed, Bias = Bias, MeasureRealized = false };
        if (!NeedsBatch) return model.ApplyInit(Weights, options);
        if (batch is null || model is not torch.nn.Module<torch.Tensor, torch.Tensor> m)
            throw new ArgumentException("lsuv needs a batch and a Tensor → Tensor model.");
        return m.ApplyLsuv(batch, new LsuvOptions { Start = Weights, Init = options }).Start;
    }

    /// <inheritdoc />
    public override string ToString() => Name;
}
