namespace TorchInit;

/// <summary>What happens to a layer's bias.</summary>
public enum BiasInit
{
    /// <summary>Set to 0 (the default for every scheme but <see cref="InitScheme.TorchDefault"/>).</summary>
    Zeros,
    /// <summary>Left as it is.</summary>
    Keep,
    /// <summary>PyTorch's default: U(−1/√fan_in, 1/√fan_in) (all zeros when fan_in is 0), with the weight's fan_in under <see cref="InitOptions.FanConvention"/> — PyTorch's rule by default, so bit-identical to PyTorch's layers.</summary>
    TorchDefault,
}

/// <summary>
/// A weight initialization scheme: a rule that resolves, for one tensor, to what is written into it, from the
/// tensor's fans and the gain. A small closed family, one file each: <see cref="VarianceScalingScheme"/>
/// (σ = gain × √(scale / fan), the core of Glorot, He, LeCun and PyTorch's default), <see cref="NormalScheme"/>
/// (N(mean, std²)), <see cref="UniformScheme"/> (U(low, high)), <see cref="ConstantScheme"/>,
/// <see cref="OrthogonalScheme"/>, <see cref="EyeScheme"/>, <see cref="DiracScheme"/>, <see cref="SparseScheme"/> and
/// <see cref="DeltaOrthogonalScheme"/>. The named schemes (<see cref="HeNormal"/>, <see cref="GlorotUniform"/>…) are
/// one-line specializations.
/// </summary>
/// <remarks>
/// <para>A scheme applies to one tensor or, through an <see cref="InitPolicy"/>, to a whole model: <c>model.ApplyInit(InitScheme.HeNormal)</c>
/// converts the scheme to the policy "every Linear/Conv weight by this scheme" implicitly. Choosing per layer from
/// the activation that follows is a policy, <see cref="InitPolicy.Auto"/>, not a scheme.</para>
/// <para><see cref="ToString"/> is the scheme's text ("HeNormal", "GlorotUniform(nonlinearity=tanh)", "Normal(0, 0.01)"),
/// which <see cref="Parse"/> reads back to an equal scheme; <see cref="Name"/> is the shorter name the report prints.</para>
/// </remarks>
public abstract partial record InitScheme
{
    private protected InitScheme() { }

    /// <summary>The name the report prints in its scheme column ("HeNormal", "Normal(0, 0.01)"); the gain has its own column.</summary>
    public abstract string Name { get; }

    /// <summary>What a layer's bias gets when <see cref="InitOptions.Bias"/> is not set: zeros, or PyTorch's default for <see cref="TorchDefault"/>.</summary>
    public virtual BiasInit DefaultBias => BiasInit.Zeros;

    /// <summary>The gain this scheme multiplies by (NaN for schemes without one, e.g. a fixed normal).</summary>
    public virtual double Gain => double.NaN;

    /// <summary>
    /// This scheme with its gain taken from <paramref name="nonlinearity"/> (<see cref="TorchInit.Gain.Calculate"/>), e.g.
    /// Glorot with tanh's 5/3 or He with a leaky slope. Only schemes with a gain (variance scaling, orthogonal,
    /// delta-orthogonal) have one.
    /// </summary>
    /// <exception cref="NotSupportedException">The scheme has no gain (a fixed normal, uniform or constant, eye, dirac, sparse).</exception>
    /// <exception cref="ArgumentException">The slope is not finite.</exception>
    public virtual InitScheme WithNonlinearity(Nonlinearity nonlinearity, double? negativeSlope = null) =>
        throw new NotSupportedException($"{Name} has no gain, so it takes no nonlinearity.");

    /// <summary>
    /// Whether this is <see cref="TorchDefault"/>, which means each layer's own PyTorch default (its <c>reset_parameters</c>), not
    /// only its numbers for Linear/Conv: true for it and for copies that keep its numbers (a changed nonlinearity, slope, scale,
    /// mode, distribution or bias default makes an ordinary variance-scaling scheme), and for nothing else.
    /// </summary>
    internal virtual bool IsLayerDefault => false;

    /// <summary>Whether resolving needs the tensor's fans (variance scaling); other schemes report fans only for tensors of 2 or more dimensions.</summary>
    internal virtual bool NeedsFans => false;

    /// <summary>The fill for one tensor; throws <see cref="ArgumentException"/> for a tensor the scheme cannot fill (shape, fans).</summary>
    internal abstract Fill Resolve(in FillRequest request);

    /// <summary>The head of the scheme's text ("HeNormal", "VarianceScaling", "Normal").</summary>
    internal abstract string TextHead { get; }

    /// <summary>The scheme's arguments in its text, defaults left out: positional ones with a null key.</summary>
    internal abstract IEnumerable<(string? Key, string Value)> TextArguments { get; }

    /// <summary>
    /// The scheme as text that <see cref="Parse"/> reads back to an equal scheme: the name, then its non-default
    /// arguments, e.g. "HeNormal", "GlorotUniform(nonlinearity=tanh)", "HeNormal(nonlinearity=leaky_relu, slope=0.2)",
    /// "VarianceScaling(scale=2, mode=fan_out, distribution=truncated_normal)", "Normal(0, 0.01)".
    /// </summary>
    public sealed override string ToString() => SchemeText.Format(TextHead, TextArguments);

    /// <summary>
    /// Reads a scheme from its text. Accepted, case-insensitively:
    /// TorchInit's names with optional arguments (<see cref="ToString"/>'s form: "HeNormal", "GlorotUniform(nonlinearity=tanh)",
    /// "Normal(0.01)" and "TruncatedNormal(0.02, a=-0.04, b=0.04)" (one number: the std), "Normal(0, 0.01)" and
    /// "TruncatedNormal(0.5, 0.02)" (two: PyTorch's order, mean first), "Uniform(-0.1, 0.1)", "Constant(0.5)", and the report's names "zeros", "ones"); PyTorch's <c>torch.nn.init</c> function names, which mean PyTorch's
    /// functions ("kaiming_normal" is <see cref="HeNormal"/>, a plain normal; "xavier_uniform", "normal", "trunc_normal", "orthogonal",
    /// "eye", "dirac", "sparse", "zeros", "ones"); and Keras's initializer names, which mean Keras's ("he_normal", "glorot_normal" and
    /// "lecun_normal" are <b>truncated</b> normals, as in Keras; "he_uniform", "glorot_uniform", "lecun_uniform", "variance_scaling",
    /// "truncated_normal", "random_normal", "random_uniform", "identity"). Separators '-' and '_' are interchangeable.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    /// <exception cref="ArgumentException">No scheme has that name, or an argument is unknown or invalid; the message lists the names.</exception>
    public static InitScheme Parse(string text) => SchemeText.Parse(text);

    /// <summary>The well-known parameterless schemes, each as its text ("HeNormal", "GlorotUniform", "TorchDefault", "Zeros"…).</summary>
    public static IReadOnlyList<InitScheme> Named => NamedList.Value;

    // Built on first use: the named schemes are initialized in several files of this partial type, in no fixed order.
    private static class NamedList
    {
        public static readonly IReadOnlyList<InitScheme> Value =
        [
            GlorotUniform, GlorotNormal, GlorotTruncatedNormal, HeUniform, HeNormal, HeTruncatedNormal,
            LeCunUniform, LeCunNormal, LeCunTruncatedNormal, TorchDefault, Zeros,
        ];
    }
}

/// <summary>What a scheme resolves from: the tensor's shape, its fans (null when not needed and not defined), the gain override and the tensor's name for messages.</summary>
internal readonly record struct FillRequest(long[] Shape, Fans? Fans, double? GainOverride, string Name);
