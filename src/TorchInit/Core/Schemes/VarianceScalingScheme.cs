namespace TorchInit
{
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
}

namespace TorchInit.Schemes
{
    /// <summary>
    /// The variance-scaling core shared by every fan-based scheme (JAX's <c>variance_scaling</c>):
    /// σ = gain × √(<see cref="Scale"/> / fan), fan = fan_in, fan_out or (fan_in + fan_out)/2 by <see cref="Mode"/>, gain =
    /// <see cref="TorchInit.Gain.Calculate"/>(<see cref="GainScheme.Nonlinearity"/>, <see cref="GainScheme.NegativeSlope"/>), drawn from
    /// <see cref="Distribution"/>: N(0, σ²), U(−√3σ, √3σ), or N(0, σ'²) cut at ±2σ' with σ' = σ / 0.8796 (variance kept).
    /// The formulas are evaluated in <c>torch.nn.init</c>'s floating-point order, so the numbers handed to libtorch are
    /// bit-identical to PyTorch's.
    /// </summary>
    /// <param name="Scale">Multiplies the variance: σ² = scale × gain² / fan; positive and finite.</param>
    /// <param name="Mode">Which fan σ is scaled by.</param>
    /// <param name="Distribution">The distribution drawn from.</param>
    /// <param name="Nonlinearity">The nonlinearity whose gain multiplies σ.</param>
    /// <param name="NegativeSlope">Leaky ReLU's negative slope; null means PyTorch's default 0.01.</param>
    public sealed record VarianceScalingScheme(
        double Scale, FanMode Mode, Distribution Distribution,
        Nonlinearity Nonlinearity = Nonlinearity.Linear, double? NegativeSlope = null) : GainScheme(Nonlinearity, NegativeSlope)
    {
        private readonly string? _name;
        private readonly BiasInit _defaultBias = BiasInit.Zeros;
        private readonly double _scale = Scale;
        private readonly FanMode _mode = Mode;
        private readonly Distribution _distribution = Distribution;
        /// <summary>Set on <see cref="InitScheme.TorchDefault"/> only (<see cref="AsLayerDefault"/>); a copy that changes a number clears it.</summary>
        private bool _layerDefault;

        /// <summary>Multiplies the variance: σ² = scale × gain² / fan; positive and finite.</summary>
        public double Scale
        {
            get => _scale;
            init { if (!value.Equals(_scale)) _layerDefault = false; _scale = value; }
        }

        /// <summary>Which fan σ is scaled by.</summary>
        public FanMode Mode
        {
            get => _mode;
            init { if (value != _mode) _layerDefault = false; _mode = value; }
        }

        /// <summary>The distribution drawn from.</summary>
        public Distribution Distribution
        {
            get => _distribution;
            init { if (value != _distribution) _layerDefault = false; _distribution = value; }
        }

        /// <inheritdoc />
        internal override bool IsLayerDefault => _layerDefault;

        /// <summary>This scheme as <see cref="InitScheme.TorchDefault"/>: each layer's own PyTorch default (<see cref="InitScheme.IsLayerDefault"/>).</summary>
        internal VarianceScalingScheme AsLayerDefault()
        {
            var copy = this with { };
            copy._layerDefault = true;
            return copy;
        }

        private protected override void GainChanged() => _layerDefault = false;

        /// <summary>The name of a named specialization (HeNormal…), else "VarianceScaling(scale=s, mode=m, distribution=d)" (text <see cref="InitScheme.Parse"/> reads).</summary>
        public override string Name =>
            _name ?? Base()?.Name ?? SchemeText.Format("VarianceScaling", ScaleModeDistribution());

        /// <summary>The text arguments every unnamed variance-scaling scheme has (its report name, without the gain, which has its own column).</summary>
        private IEnumerable<(string? Key, string Value)> ScaleModeDistribution() =>
            [("scale", SchemeText.Number(Scale)), ("mode", SchemeText.Word(Mode)), ("distribution", SchemeText.Word(Distribution))];

        /// <summary>A display name for the report instead of the generated one.</summary>
        public string? DisplayName { get => _name; init => _name = value; }

        /// <inheritdoc />
        public override BiasInit DefaultBias => _defaultBias;

        /// <summary>The bias policy used when <see cref="InitOptions.Bias"/> is not set (PyTorch's default for <see cref="InitScheme.TorchDefault"/>).</summary>
        public BiasInit BiasDefault
        {
            get => _defaultBias;
            init { if (value != _defaultBias) _layerDefault = false; _defaultBias = value; }
        }

        internal override bool NeedsFans => true;

        /// <summary>
        /// σ = gain × √(scale / fan). For fan_avg this is PyTorch's xavier form gain × √(2·scale / (fan_in + fan_out));
        /// for fan_in / fan_out it is kaiming's gain / √(fan / scale).
        /// </summary>
        internal static double Std(double gain, double scale, FanMode mode, Fans fans) => mode switch
        {
            FanMode.FanAvg => gain * Math.Sqrt(2.0 * scale / ((double)fans.FanIn + fans.FanOut)), // summed in double: no overflow, exact below 2⁵³
            FanMode.FanIn => gain / Math.Sqrt(fans.FanIn / scale),
            FanMode.FanOut => gain / Math.Sqrt(fans.FanOut / scale),
            _ => throw new ArgumentOutOfRangeException(nameof(mode)),
        };

        /// <summary>The fill drawing from <paramref name="distribution"/> with standard deviation <paramref name="std"/> about 0.</summary>
        internal static Fill Draw(Distribution distribution, double std) => distribution switch
        {
            Distribution.Normal => new NormalFill(0.0, std),
            Distribution.Uniform => new UniformFill(-Math.Sqrt(3.0) * std, Math.Sqrt(3.0) * std) { ExactStd = std },
            Distribution.TruncatedNormal => TruncatedAt2(std),
            _ => throw new ArgumentOutOfRangeException(nameof(distribution)),
        };

        private static Fill TruncatedAt2(double std)
        {
            double s = std / ExactSampling.TruncatedNormalStdOfUnit;
            return new TruncatedNormalFill(0.0, s, -2 * s, 2 * s) { ExactTargetStd = std };
        }

        internal override Fill Resolve(in FillRequest request)
        {
            var fans = request.Fans ?? Fans.FromShape(request.Shape, request.Name);
            if (fans.Select(Mode) <= 0)
                throw new ArgumentException(
                    $"'{request.Name}' {Check.Shape(request.Shape)}: {Name} divides by {ModeText(Mode)}, which is {fans.Select(Mode)} ({fans}); " +
                    "σ = gain × √(scale / fan) needs a positive fan. Pass the layer's true fans.", request.Name);
            double gain = request.GainOverride ?? Gain;
            return Draw(Distribution, Std(gain, Scale, Mode, fans));
        }

        private static string ModeText(FanMode mode) => mode switch
        {
            FanMode.FanIn => "fan_in",
            FanMode.FanOut => "fan_out",
            _ => "(fan_in + fan_out) / 2",
        };

        // ---- named specializations ----

        /// <summary>
        /// The named scheme this one specializes (same scale, mode, distribution and bias default), with its nonlinearity
        /// possibly changed: the one of the same display name, else the one of the same nonlinearity, else the first; null when none.
        /// </summary>
        private VarianceScalingScheme? Base()
        {
            var candidates = NamedBases.Where(v => v.Scale == Scale && v.Mode == Mode && v.Distribution == Distribution && v.BiasDefault == BiasDefault).ToList();
            return candidates.FirstOrDefault(v => DisplayName is not null && v.DisplayName == DisplayName)
                ?? candidates.FirstOrDefault(v => v.Nonlinearity == Nonlinearity && v.NegativeSlope == NegativeSlope)
                ?? candidates.FirstOrDefault();
        }

        /// <summary>Equal when the numbers are: scale, mode, distribution, nonlinearity, slope and bias default (the display name is not compared).</summary>
        public bool Equals(VarianceScalingScheme? other) =>
            other is not null && Scale.Equals(other.Scale) && Mode == other.Mode && Distribution == other.Distribution
            && Nonlinearity == other.Nonlinearity && Nullable.Equals(NegativeSlope, other.NegativeSlope) && BiasDefault == other.BiasDefault;

        /// <inheritdoc />
        public override int GetHashCode() => HashCode.Combine(Scale, Mode, Distribution, Nonlinearity, NegativeSlope, BiasDefault);

        private static IEnumerable<VarianceScalingScheme> NamedBases => InitScheme.Named.OfType<VarianceScalingScheme>();

        internal override string TextHead => Base()?.Name ?? "VarianceScaling";

        internal override IEnumerable<(string? Key, string Value)> TextArguments
        {
            get
            {
                if (Base() is { } b)
                {
                    if (b.Nonlinearity != Nonlinearity || b.NegativeSlope != NegativeSlope)
                        foreach (var a in GainTextArguments()) yield return a;
                    yield break;
                }
                foreach (var a in ScaleModeDistribution()) yield return a;
                foreach (var a in NonDefaultGainTextArguments()) yield return a;
            }
        }

        /// <summary>Reads "VarianceScaling(scale=…, mode=…, distribution=…, nonlinearity=…, slope=…)" or a named specialization with gain arguments.</summary>
        internal static InitScheme? FromText(string head, SchemeArguments args)
        {
            if (SchemeText.Same(head, "VarianceScaling"))
            {
                var scheme = new VarianceScalingScheme(
                    args.Double("scale", 1.0), args.Enum("mode", FanMode.FanIn), args.Enum("distribution", Distribution.TruncatedNormal)); // Keras's defaults
                Check.FinitePositive(scheme.Scale, "scale");
                return WithGainArguments(scheme, args);
            }
            var named = NamedBases.FirstOrDefault(n => SchemeText.Same(head, n.Name));
            return named is null ? null : WithGainArguments(named, args);
        }
    }
}

namespace TorchInit
{
    public abstract partial record InitScheme
    {
        /// <summary>A custom variance-scaling scheme: σ = gain(<paramref name="nonlinearity"/>) × √(<paramref name="scale"/> / fan).</summary>
        /// <exception cref="ArgumentException"><paramref name="scale"/> is not positive and finite, or the slope is not finite.</exception>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="mode"/>, <paramref name="distribution"/> or <paramref name="nonlinearity"/> is not a defined value.</exception>
        public static InitScheme VarianceScaling(double scale, FanMode mode, Distribution distribution,
            Nonlinearity nonlinearity = Nonlinearity.Linear, double? negativeSlope = null, string? name = null)
        {
            Check.FinitePositive(scale, nameof(scale));
            if (!Enum.IsDefined(mode)) throw new ArgumentOutOfRangeException(nameof(mode), mode, "not a FanMode");
            if (!Enum.IsDefined(distribution)) throw new ArgumentOutOfRangeException(nameof(distribution), distribution, "not a Distribution");
            _ = TorchInit.Gain.Calculate(nonlinearity, negativeSlope);
            return new VarianceScalingScheme(scale, mode, distribution, nonlinearity, negativeSlope) { DisplayName = name };
        }

        private static VarianceScalingScheme Specialize(string name, FanMode mode, Distribution distribution, Nonlinearity nonlinearity = Nonlinearity.Linear) =>
            new(1.0, mode, distribution, nonlinearity) { DisplayName = name };

        /// <summary>Glorot/Xavier uniform: U(−b, b), b = gain × √(6 / (fan_in + fan_out)). PyTorch: <c>xavier_uniform_</c>. For tanh use <c>WithNonlinearity(Nonlinearity.Tanh)</c> (gain 5/3).</summary>
        public static InitScheme GlorotUniform { get; } = Specialize(nameof(GlorotUniform), FanMode.FanAvg, Distribution.Uniform);
        /// <summary>Glorot/Xavier normal: N(0, σ²), σ = gain × √(2 / (fan_in + fan_out)). PyTorch: <c>xavier_normal_</c>.</summary>
        public static InitScheme GlorotNormal { get; } = Specialize(nameof(GlorotNormal), FanMode.FanAvg, Distribution.Normal);
        /// <summary>Glorot truncated normal (Keras/JAX <c>glorot_normal</c>): σ = √(2 / (fan_in + fan_out)) after truncation at ±2σ'.</summary>
        public static InitScheme GlorotTruncatedNormal { get; } = Specialize(nameof(GlorotTruncatedNormal), FanMode.FanAvg, Distribution.TruncatedNormal);
        /// <summary>He/Kaiming uniform for ReLU: U(−b, b), b = √2 × √(3 / fan_in). PyTorch: <c>kaiming_uniform_(nonlinearity='relu')</c>.</summary>
        public static InitScheme HeUniform { get; } = Specialize(nameof(HeUniform), FanMode.FanIn, Distribution.Uniform, Nonlinearity.Relu);
        /// <summary>He/Kaiming normal for ReLU: N(0, σ²), σ = √2 / √fan_in. PyTorch: <c>kaiming_normal_(nonlinearity='relu')</c>.</summary>
        public static InitScheme HeNormal { get; } = Specialize(nameof(HeNormal), FanMode.FanIn, Distribution.Normal, Nonlinearity.Relu);
        /// <summary>He truncated normal (Keras/JAX <c>he_normal</c>): σ = √2 / √fan_in after truncation.</summary>
        public static InitScheme HeTruncatedNormal { get; } = Specialize(nameof(HeTruncatedNormal), FanMode.FanIn, Distribution.TruncatedNormal, Nonlinearity.Relu);
        /// <summary>LeCun uniform: U(−b, b), b = √(3 / fan_in). PyTorch: <c>kaiming_uniform_(nonlinearity='linear')</c>.</summary>
        public static InitScheme LeCunUniform { get; } = Specialize(nameof(LeCunUniform), FanMode.FanIn, Distribution.Uniform);
        /// <summary>LeCun normal, the scheme for SELU networks: N(0, σ²), σ = 1 / √fan_in. PyTorch: <c>kaiming_normal_(nonlinearity='linear')</c>.</summary>
        public static InitScheme LeCunNormal { get; } = Specialize(nameof(LeCunNormal), FanMode.FanIn, Distribution.Normal);
        /// <summary>LeCun truncated normal (Keras/JAX <c>lecun_normal</c>): σ = 1 / √fan_in after truncation.</summary>
        public static InitScheme LeCunTruncatedNormal { get; } = Specialize(nameof(LeCunTruncatedNormal), FanMode.FanIn, Distribution.TruncatedNormal);
    }
}
