using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit;

/// <summary>Where a seeded exact-mode call draws its random numbers (<see cref="InitOptions.SeededDraws"/>).</summary>
public enum SeededDraws
{
    /// <summary>
    /// On a CPU generator seeded with the seed, copied to the parameter's device (default): the same seed gives the same
    /// weights on the CPU and on any GPU, equal to PyTorch-on-CPU's after <c>torch.manual_seed(seed)</c>. Costs a CPU
    /// draw (uniform and normal draws of large contiguous float32/float64 tensors run on every core with libtorch's bits,
    /// other draws are libtorch's serial call) and a host-to-device copy per parameter.
    /// </summary>
    OnCpu,
    /// <summary>
    /// On a generator on the parameter's own device, seeded with the seed: PyTorch-on-that-device's numbers after
    /// <c>torch.manual_seed(seed)</c> (PyTorch's CUDA generator gives other numbers than its CPU one), no copy, no CPU cost.
    /// For CPU parameters the two settings are the same.
    /// </summary>
    OnParameterDevice,
}

/// <summary>Options for <c>ApplyInit</c>. Every property has a sensible default; <c>new InitOptions()</c> is PyTorch-compatible.</summary>
public sealed record InitOptions
{
    /// <summary>What happens to biases; null uses the scheme's <see cref="InitScheme.DefaultBias"/> (zeros, or PyTorch's default for <see cref="InitScheme.TorchDefault"/>).</summary>
    public BiasInit? Bias { get; init; }

    /// <summary>
    /// Seed for a private CPU generator used for this call only: the global RNG is not touched, and equal seeds
    /// give equal weights (and the same weights as PyTorch after <c>torch.manual_seed(seed)</c> with the same
    /// per-parameter order). Mutually exclusive with <see cref="Generator"/>. Null and no generator: the global RNG.
    /// </summary>
    public long? Seed { get; init; }

    /// <summary>A generator to draw from (it advances). Mutually exclusive with <see cref="Seed"/>.</summary>
    public Generator? Generator { get; init; }

    /// <summary>With a <see cref="Seed"/>: draw on the CPU and copy (default, the same weights on every device) or on each parameter's own device (see <see cref="TorchInit.SeededDraws"/>).</summary>
    public SeededDraws SeededDraws { get; init; } = SeededDraws.OnCpu;

    /// <summary>How fans are computed; default <see cref="FanConvention.Torch"/> (bit-compatible with PyTorch).</summary>
    public FanConvention FanConvention { get; init; } = FanConvention.Torch;

    /// <summary>
    /// The module types whose parameters are initialized (subclasses included); every other module that owns parameters is
    /// left as it is and listed in <see cref="InitReport.Unhandled"/>. Null means the kinds the policy has rules for: under a
    /// fixed scheme <see cref="LayerTaxonomy.FixedSchemeLayerTypes"/> (Linear, Conv*, ConvTranspose*), under
    /// <see cref="InitPolicy.Auto"/> every kind it handles (those, Bilinear, Embedding, RNN/LSTM/GRU, normalization, activation
    /// parameters); layers named by an override and <see cref="IInitializable"/> modules are handled in both. A listed type the
    /// policy has no rule for is initialized like a Linear layer: its <c>weight</c> by the scheme (or, under Auto, by the
    /// activation that follows it), its <c>bias</c> by the bias policy. An empty collection initializes no layer type (a line in
    /// <see cref="InitReport.PolicyWarnings"/> says so).
    /// </summary>
    public IReadOnlyCollection<Type>? LayerTypes { get; init; }

    /// <summary>Whether parameters with <c>requires_grad = false</c> (frozen) are initialized too. Default false: they are skipped and reported.</summary>
    public bool IncludeFrozen { get; init; }

    /// <summary>
    /// Overrides the scheme's gain (the nonlinearity's <see cref="TorchInit.Gain"/>); must be finite and non-negative. 0 is allowed, as
    /// PyTorch's <c>gain=0</c> is, and makes every weight a gain scheme writes 0: the report's <see cref="InitReport.PolicyWarnings"/> then says so.
    /// </summary>
    public double? Gain { get; init; }

    /// <summary>
    /// Whether the report measures each parameter's realized mean and (unbiased) std,
    /// std = √((Σd² − (Σd)²/n)/(n − 1)) with d = x − c for a shift c near the mean. Default false: with
    /// the <see cref="DrawEngine.Exact"/> engine, measuring costs one extra (parallel, SIMD) read of every weight, about
    /// 10–20% of an exact init; with the <see cref="DrawEngine.Fast"/> engine the sums are accumulated while filling, at no
    /// extra pass. Unmeasured rows report NaN.
    /// </summary>
    public bool MeasureRealized { get; init; }

    /// <summary>Exact (default: PyTorch's generators, bit-identical to PyTorch) or Fast (parallel, seeded, deterministic, not PyTorch's numbers).</summary>
    public DrawEngine Engine { get; init; } = DrawEngine.Exact;

    /// <summary>
    /// Threads TorchInit's parallel work may use: the fast engine's kernels, the exact engine's parallel <c>uniform_</c> and
    /// <c>normal_</c>, and the <see cref="MeasureRealized"/> read; null means <see cref="Environment.ProcessorCount"/>. Results
    /// do not depend on it.
    /// </summary>
    public int? MaxDegreeOfParallelism { get; init; }

    /// <summary>The module types a fixed scheme initializes when <see cref="LayerTypes"/> is null: Linear, Conv1d/2d/3d and ConvTranspose1d/2d/3d.</summary>
    public static IReadOnlyList<Type> DefaultLayerTypes => LayerTaxonomy.FixedSchemeLayerTypes;

    internal void Validate()
    {
        // Undefined enum values (a cast integer) would otherwise act as some defined value: Fast, Torch, TorchDefault, OnCpu.
        if (Bias is BiasInit bias) Check.Defined(bias, nameof(Bias), "InitOptions.Bias");
        Check.Defined(SeededDraws, nameof(SeededDraws), "InitOptions.SeededDraws");
        Check.Defined(FanConvention, nameof(FanConvention), "InitOptions.FanConvention");
        Check.Defined(Engine, nameof(Engine), "InitOptions.Engine");
        // TorchSharp draws from the global generator when handed a disposed one: refuse it before anything is drawn.
        Check.Alive(Generator, nameof(Generator));
        if (Seed is not null && Generator is not null)
            throw new ArgumentException("Set either Seed or Generator, not both.");
        if (Seed is < 0)
            throw new ArgumentException($"Seed must be non-negative, got {Seed}.", nameof(Seed));
        if (Gain is double g) Check.FiniteNonNegative(g, nameof(Gain));
        if (MaxDegreeOfParallelism is < 1)
            throw new ArgumentException($"MaxDegreeOfParallelism must be at least 1, got {MaxDegreeOfParallelism}.", nameof(MaxDegreeOfParallelism));
        if (Generator is not null && Generator.device.type == DeviceType.META)
            throw new ArgumentException("The generator is on the meta device, which cannot draw numbers.", nameof(Generator));
        if (LayerTypes is not null && LayerTypes.Any(t => t is null || !typeof(nn.Module).IsAssignableFrom(t)))
            throw new ArgumentException($"LayerTypes must be module types; got {string.Join(", ", LayerTypes.Select(t => t?.Name ?? "null"))}.", nameof(LayerTypes));
    }
}
