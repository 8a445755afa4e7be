namespace TorchInit;

/// <summary>The distribution a variance-scaling scheme draws from.</summary>
public enum Distribution
{
    /// <summary>N(0, σ²).</summary>
    Normal,
    /// <summary>
    /// Normal truncated at ±2 standard deviations, rescaled so that the truncated distribution keeps the
    /// target variance: σ' = σ / 0.87962566103423978, cut at ±2σ' (as Keras, JAX and Flax do).
    /// </summary>
    TruncatedNormal,
    /// <summary>U(−b, b) with b = √3 σ, so that its standard deviation is σ.</summary>
    Uniform,
}

/// <summary>What a scheme computes its weights from.</summary>
public enum InitKind
{
    /// <summary>σ = gain × √(scale / fan), drawn from <see cref="InitScheme.Distribution"/>.</summary>
    VarianceScaling,
    /// <summary>N(mean, std²) with a fixed std, independent of the fans (e.g. the naive N(0, 0.01)).</summary>
    Normal,
    /// <summary>U(low, high) with fixed bounds.</summary>
    Uniform,
    /// <summary>Every element set to one value (zeros, ones).</summary>
    Constant,
    /// <summary>
    /// A (semi-)orthogonal matrix times gain (Saxe et al. 2013), as PyTorch's <c>orthogonal_</c>: the weight
    /// flattened to rows × cols, Q of the QR decomposition of an N(0, 1) draw, signs fixed by diag(R).
    /// </summary>
    Orthogonal,
    /// <summary>
    /// Not a rule but a request: choose per layer from the activation that follows it (<see cref="InitScheme.Auto"/>,
    /// <see cref="InitPolicy"/>). Resolved by <c>ApplyInit</c> on a module; it cannot be applied to a lone tensor.
    /// </summary>
    Auto,
}

/// <summary>What happens to a layer's bias.</summary>
public enum BiasPolicy
{
    /// <summary>Set to 0 (the default for every scheme but <see cref="InitScheme.TorchDefault"/>).</summary>
    Zeros,
    /// <summary>Left as it is.</summary>
    Keep,
    /// <summary>PyTorch's default: U(−1/√fan_in, 1/√fan_in) (all zeros when fan_in is 0), with the weight's fan_in under <see cref="InitOptions.FanConvention"/> — PyTorch's rule by default, so bit-identical to PyTorch's layers.</summary>
    TorchDefault,
}

/// <summary>
/// A weight initialization scheme: data for the one variance-scaling core, not code.
/// Every variance-scaling scheme draws from <see cref="Distribution"/> with
/// σ = gain × √(scale / fan), where fan is fan_in, fan_out or (fan_in + fan_out)/2 by <see cref="Mode"/>
/// and gain is <see cref="TorchInit.Gain.Calculate"/> of <see cref="Nonlinearity"/>.
/// </summary>
/// <remarks>
/// The normal variants draw from a plain normal distribution, as PyTorch's <c>kaiming_normal_</c> and
/// <c>xavier_normal_</c> do; Keras and JAX draw their <c>*_normal</c> schemes from a truncated normal, which
/// the <c>*TruncatedNormal</c> variants provide.
/// </remarks>
public sealed record InitScheme
{
    /// <summary>Display name used in reports.</summary>
    public required string Name { get; init; }
    /// <summary>Which rule computes the weights.</summary>
    public InitKind Kind { get; init; } = InitKind.VarianceScaling;
    /// <summary>The fan σ is scaled by (variance-scaling schemes).</summary>
    public FanMode Mode { get; init; } = FanMode.FanIn;
    /// <summary>The distribution drawn from (variance-scaling schemes).</summary>
    public Distribution Distribution { get; init; } = Distribution.Normal;
    /// <summary>The nonlinearity whose <see cref="TorchInit.Gain"/> multiplies σ.</summary>
    public Nonlinearity Nonlinearity { get; init; } = Nonlinearity.Linear;
    /// <summary>Leaky ReLU's negative slope; null means PyTorch's default 0.01.</summary>
    public double? NegativeSlope { get; init; }
    /// <summary>Multiplies the variance: σ² = scale × gain² / fan (JAX's <c>variance_scaling</c> scale). Default 1.</summary>
    public double Scale { get; init; } = 1.0;
    /// <summary>Mean for <see cref="InitKind.Normal"/>.</summary>
    public double Mean { get; init; }
    /// <summary>Standard deviation for <see cref="InitKind.Normal"/>.</summary>
    public double Std { get; init; }
    /// <summary>Lower bound for <see cref="InitKind.Uniform"/>.</summary>
    public double Low { get; init; }
    /// <summary>Upper bound for <see cref="InitKind.Uniform"/>.</summary>
    public double High { get; init; }
    /// <summary>Value for <see cref="InitKind.Constant"/>.</summary>
    public double Value { get; init; }
    /// <summary>The bias policy used when <see cref="InitOptions.Bias"/> is not set.</summary>
    public BiasPolicy DefaultBias { get; init; } = BiasPolicy.Zeros;

    /// <summary>The gain of <see cref="Nonlinearity"/> (and <see cref="NegativeSlope"/>).</summary>
    public double Gain => TorchInit.Gain.Calculate(Nonlinearity, NegativeSlope);

    /// <summary>A custom variance-scaling scheme: σ = gain(<paramref name="nonlinearity"/>) × √(<paramref name="scale"/> / fan).</summary>
    public static InitScheme VarianceScaling(double scale, FanMode mode, Distribution distribution,
        Nonlinearity nonlinearity = Nonlinearity.Linear, double? negativeSlope = null, string? name = null)
    {
        if (!double.IsFinite(scale) || scale <= 0)
            throw new ArgumentException($"scale must be a positive finite number, got {scale}.", nameof(scale));
        return new InitScheme
        {
            Name = name ?? $"VarianceScaling(scale={scale}, {mode}, {distribution})",
            Mode = mode, Distribution = distribution, Scale = scale,
            Nonlinearity = nonlinearity, NegativeSlope = negativeSlope,
        };
    }

    /// <summary>Glorot/Xavier uniform: U(−b, b), b = gain × √(6 / (fan_in + fan_out)). PyTorch: <c>xavier_uniform_</c>. For tanh use <c>WithNonlinearity(Nonlinearity.Tanh)</c> (gain 5/3).</summary>
    public static InitScheme GlorotUniform { get; } = new() { Name = nameof(GlorotUniform), Mode = FanMode.FanAvg, Distribution = Distribution.Uniform };
    /// <summary>Glorot/Xavier normal: N(0, σ²), σ = gain × √(2 / (fan_in + fan_out)). PyTorch: <c>xavier_normal_</c>.</summary>
    public static InitScheme GlorotNormal { get; } = new() { Name = nameof(GlorotNormal), Mode = FanMode.FanAvg, Distribution = Distribution.Normal };
    /// <summary>Glorot truncated normal (Keras/JAX <c>glorot_normal</c>): σ = √(2 / (fan_in + fan_out)) after truncation at ±2σ'.</summary>
    public static InitScheme GlorotTruncatedNormal { get; } = new() { Name = nameof(GlorotTruncatedNormal), Mode = FanMode.FanAvg, Distribution = Distribution.TruncatedNormal };
    /// <summary>He/Kaiming uniform for ReLU: U(−b, b), b = √2 × √(3 / fan_in). PyTorch: <c>kaiming_uniform_(nonlinearity='relu')</c>.</summary>
    public static InitScheme HeUniform { get; } = new() { Name = nameof(HeUniform), Mode = FanMode.FanIn, Distribution = Distribution.Uniform, Nonlinearity = Nonlinearity.Relu };
    /// <summary>He/Kaiming normal for ReLU: N(0, σ²), σ = √2 / √fan_in. PyTorch: <c>kaiming_normal_(nonlinearity='relu')</c>.</summary>
    public static InitScheme HeNormal { get; } = new() { Name = nameof(HeNormal), Mode = FanMode.FanIn, Distribution = Distribution.Normal, Nonlinearity = Nonlinearity.Relu };
    /// <summary>He truncated normal (Keras/JAX <c>he_normal</c>): σ = √2 / √fan_in after truncation.</summary>
    public static InitScheme HeTruncatedNormal { get; } = new() { Name = nameof(HeTruncatedNormal), Mode = FanMode.FanIn, Distribution = Distribution.TruncatedNormal, Nonlinearity = Nonlinearity.Relu };
    /// <summary>LeCun uniform: U(−b, b), b = √(3 / fan_in). PyTorch: <c>kaiming_uniform_(nonlinearity='linear')</c>.</summary>
    public static InitScheme LeCunUniform { get; } = new() { Name = nameof(LeCunUniform), Mode = FanMode.FanIn, Distribution = Distribution.Uniform };
    /// <summary>LeCun normal, the scheme for SELU networks: N(0, σ²), σ = 1 / √fan_in. PyTorch: <c>kaiming_normal_(nonlinearity='linear')</c>.</summary>
    public static InitScheme LeCunNormal { get; } = new() { Name = nameof(LeCunNormal), Mode = FanMode.FanIn, Distribution = Distribution.Normal };
    /// <summary>LeCun truncated normal (Keras/JAX <c>lecun_normal</c>): σ = 1 / √fan_in after truncation.</summary>
    public static InitScheme LeCunTruncatedNormal { get; } = new() { Name = nameof(LeCunTruncatedNormal), Mode = FanMode.FanIn, Distribution = Distribution.TruncatedNormal };

    /// <summary>
    /// PyTorch's own default for Linear and Conv layers: weight <c>kaiming_uniform_(a=√5)</c>, i.e.
    /// U(−b, b) with b = √3 × √(2 / (1 + 5)) / √fan_in = 1/√fan_in, and bias U(−1/√fan_in, 1/√fan_in).
    /// </summary>
    public static InitScheme TorchDefault { get; } = new()
    {
        Name = nameof(TorchDefault), Mode = FanMode.FanIn, Distribution = Distribution.Uniform,
        Nonlinearity = Nonlinearity.LeakyRelu, NegativeSlope = Math.Sqrt(5), DefaultBias = BiasPolicy.TorchDefault,
    };

    /// <summary>
    /// Orthogonal (Saxe et al. 2013), PyTorch's <c>orthogonal_(w, gain)</c>: the weight flattened to
    /// rows × cols is a (semi-)orthogonal matrix times gain, so every element has standard deviation
    /// gain / √max(rows, cols). Gain 1 by default; <c>WithNonlinearity</c> changes it.
    /// </summary>
    public static InitScheme Orthogonal { get; } = new() { Name = nameof(Orthogonal), Kind = InitKind.Orthogonal };

    /// <summary>
    /// Per-layer choice from the activation that follows each layer (ReLU → He, tanh → Glorot with gain 5/3,
    /// SELU → LeCun normal...), with the default <see cref="InitPolicy"/>: <c>model.ApplyInit(InitScheme.Auto)</c>
    /// is <c>model.ApplyInit(InitPolicy.Auto)</c>. Also handles Embedding, RNN/LSTM/GRU and normalization layers.
    /// Applying it to a lone tensor throws: there is no activation to look at.
    /// </summary>
    public static InitScheme Auto { get; } = new() { Name = nameof(Auto), Kind = InitKind.Auto };

    /// <summary>All weights 0: the naive baseline that shows the symmetry problem.</summary>
    public static InitScheme Zeros { get; } = Constant(0.0, nameof(Zeros));

    /// <summary>Fixed-std normal N(mean, std²), independent of the layer's size (e.g. the naive N(0, 0.01) or N(0, 1)).</summary>
    /// <exception cref="ArgumentException"><paramref name="std"/> is negative, NaN or infinite, or <paramref name="mean"/> is not finite.</exception>
    public static InitScheme Normal(double std, double mean = 0.0)
    {
        Check.FiniteNonNegative(std, nameof(std));
        Check.Finite(mean, nameof(mean));
        return new InitScheme { Name = mean == 0 ? $"Normal(0, {std})" : $"Normal({mean}, {std})", Kind = InitKind.Normal, Mean = mean, Std = std };
    }

    /// <summary>Fixed uniform U(low, high), independent of the layer's size.</summary>
    public static InitScheme Uniform(double low, double high)
    {
        Check.Finite(low, nameof(low));
        Check.Finite(high, nameof(high));
        if (low > high) throw new ArgumentException($"low ({low}) must not exceed high ({high}).", nameof(low));
        return new InitScheme { Name = $"Uniform({low}, {high})", Kind = InitKind.Uniform, Low = low, High = high };
    }

    /// <summary>Every weight set to <paramref name="value"/>.</summary>
    public static InitScheme Constant(double value, string? name = null)
    {
        Check.Finite(value, nameof(value));
        return new InitScheme { Name = name ?? $"Constant({value})", Kind = InitKind.Constant, Value = value };
    }

    /// <summary>This scheme with its gain taken from <paramref name="nonlinearity"/> (e.g. Glorot with tanh's 5/3, He with a leaky slope).</summary>
    public InitScheme WithNonlinearity(Nonlinearity nonlinearity, double? negativeSlope = null)
    {
        _ = TorchInit.Gain.Calculate(nonlinearity, negativeSlope); // validates the slope now
        return this with { Nonlinearity = nonlinearity, NegativeSlope = negativeSlope };
    }

    /// <summary>The well-known schemes by name (case-insensitive, '-' and '_' ignored): e.g. "he-normal", "GlorotUniform", "torch-default", "zeros".</summary>
    public static IReadOnlyList<InitScheme> Named { get; } =
    [
        GlorotUniform, GlorotNormal, GlorotTruncatedNormal, HeUniform, HeNormal, HeTruncatedNormal,
        LeCunUniform, LeCunNormal, LeCunTruncatedNormal, TorchDefault, Zeros,
    ];

    /// <summary>Looks up one of <see cref="Named"/>, or <see cref="Auto"/> or <see cref="Orthogonal"/>; also accepts "xavier-*" and "kaiming-*" aliases.</summary>
    /// <exception cref="ArgumentException">No scheme has that name; the message lists the valid names.</exception>
    public static InitScheme Parse(string name)
    {
        static string Norm(string s) => s.Replace("-", "").Replace("_", "").ToLowerInvariant()
            .Replace("xavier", "glorot").Replace("kaiming", "he");
        var key = Norm(name ?? throw new ArgumentNullException(nameof(name)));
        var known = Named.Append(Orthogonal).Append(Auto).ToList();
        return known.FirstOrDefault(s => Norm(s.Name) == key)
            ?? throw new ArgumentException($"Unknown init scheme '{name}'. Known: {string.Join(", ", known.Select(s => s.Name))}.", nameof(name));
    }

    /// <inheritdoc />
    public override string ToString() => Name;
}

internal static class Check
{
    public static void Finite(double v, string name)
    {
        if (!double.IsFinite(v)) throw new ArgumentException($"{name} must be a finite number, got {v}.", name);
    }

    public static void FiniteNonNegative(double v, string name)
    {
        if (!double.IsFinite(v) || v < 0) throw new ArgumentException($"{name} must be a finite, non-negative number, got {v}.", name);
    }
}
