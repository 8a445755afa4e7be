using System.Globalization;
using System.Text.RegularExpressions;

namespace TorchInit
{
    /// <summary>
    /// A number that depends on a layer's fan, c·fan^(−1/2), computed in the floating-point order a model's Python code writes it,
    /// so that it is the same double: <see cref="SqrtOf"/> is <c>math.sqrt(c / fan)</c> (torchvision's ViT:
    /// <c>trunc_normal_(w, std=math.sqrt(1 / fan_in))</c>), <see cref="OverSqrt"/> is <c>c / math.sqrt(fan)</c> (torchvision's
    /// EfficientNet: <c>uniform_(w, -1.0 / math.sqrt(out_features), …)</c>). The two forms, and the variance-scaling form
    /// gain / √(fan / scale), round differently for about half of all fans. It is the standard deviation or the bound of
    /// <see cref="InitScheme.Normal(FanScale)"/>, <see cref="InitScheme.TruncatedNormal(FanScale)"/> and
    /// <see cref="InitScheme.Uniform(FanScale)"/>; its text is the Python expression ("sqrt(1/fan_in)", "1/sqrt(fan_out)").
    /// </summary>
    public sealed record FanScale
    {
        private readonly bool _rootOfRatio;

        private FanScale(double numerator, FanMode mode, bool rootOfRatio)
        {
            Check.FinitePositive(numerator, nameof(numerator));
            Numerator = numerator;
            Mode = Check.Defined(mode, nameof(mode));
            _rootOfRatio = rootOfRatio;
        }

        /// <summary>The constant c; positive and finite.</summary>
        public double Numerator { get; }

        /// <summary>Which fan: fan_in, fan_out, or (fan_in + fan_out) / 2 (<see cref="Fans.Select"/>).</summary>
        public FanMode Mode { get; }

        /// <summary>√(<paramref name="numerator"/> / fan), evaluated as <c>math.sqrt(numerator / fan)</c>: one division, then the square root.</summary>
        /// <exception cref="ArgumentException"><paramref name="numerator"/> is not positive and finite.</exception>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="mode"/> is not a <see cref="FanMode"/>.</exception>
        public static FanScale SqrtOf(double numerator, FanMode mode) => new(numerator, mode, rootOfRatio: true);

        /// <summary><paramref name="numerator"/> / √fan, evaluated as <c>numerator / math.sqrt(fan)</c>: the square root, then one division.</summary>
        /// <exception cref="ArgumentException"><paramref name="numerator"/> is not positive and finite.</exception>
        /// <exception cref="ArgumentOutOfRangeException"><paramref name="mode"/> is not a <see cref="FanMode"/>.</exception>
        public static FanScale OverSqrt(double numerator, FanMode mode) => new(numerator, mode, rootOfRatio: false);

        /// <summary>The number for a weight with <paramref name="fans"/>; throws for a fan that is not positive (Python divides by zero).</summary>
        internal double Of(Fans fans, string scheme, string parameter, long[] shape)
        {
            double fan = fans.Select(Mode);
            if (!(fan > 0))
                throw new ArgumentException($"'{parameter}' {Check.Shape(shape)}: {scheme} divides by {Fan(Mode)}, which is {fan} ({fans}); it needs a positive fan. " +
                                            "Pass the layer's true fans.", parameter);
            return _rootOfRatio ? Math.Sqrt(Numerator / fan) : Numerator / Math.Sqrt(fan);
        }

        /// <summary>The Python expression: "sqrt(c/fan_in)" or "c/sqrt(fan_out)", which <see cref="InitScheme.Parse"/> reads back.</summary>
        public override string ToString()
        {
            string c = SchemeText.Number(Numerator), fan = Fan(Mode);
            return _rootOfRatio ? $"sqrt({c}/{fan})" : $"{c}/sqrt({fan})";
        }

        private static string Fan(FanMode mode) => SchemeText.Word(mode);

        private static readonly Regex RootOfRatio = new(@"^sqrt\(\s*([^/\s]+)\s*/\s*(fan_\w+)\s*\)$", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);
        private static readonly Regex RatioOfRoot = new(@"^([^/\s]+)\s*/\s*sqrt\(\s*(fan_\w+)\s*\)$", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase);

        /// <summary>The scale <see cref="ToString"/> wrote, or null when <paramref name="text"/> is not of either form.</summary>
        internal static FanScale? Parse(string text)
        {
            foreach (var (form, rootOfRatio) in new[] { (RootOfRatio, true), (RatioOfRoot, false) })
            {
                var m = form.Match(text.Trim());
                if (!m.Success) continue;
                if (!double.TryParse(m.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double c) || !double.IsFinite(c) || !(c > 0))
                    throw new ArgumentException($"'{text}': the constant must be a positive finite number.", "name");
                return new FanScale(c, SchemeText.ParseWord<FanMode>(m.Groups[2].Value, text), rootOfRatio);
            }
            return null;
        }
    }
}

namespace TorchInit.Schemes
{
    /// <summary>What a <see cref="FanScaledScheme"/> draws, its <see cref="FanScale"/> being the std or the bound.</summary>
    internal enum FanScaledDistribution
    {
        /// <summary>N(0, k²): <c>normal_(w, std=k)</c>.</summary>
        Normal,
        /// <summary>N(0, k²) cut to the absolute [a, b]: <c>trunc_normal_(w, std=k, a=a, b=b)</c>.</summary>
        TruncatedNormal,
        /// <summary>U(−k, k): <c>uniform_(w, -k, k)</c>.</summary>
        Uniform,
    }

    /// <summary>
    /// A normal, truncated normal or uniform whose std or bound k is a <see cref="FanScale"/> of the layer's fans, computed as the
    /// model's Python code computes it; drawn by the same libtorch calls as the fixed-number schemes. Text:
    /// "Normal(std=sqrt(2/fan_out))", "TruncatedNormal(std=sqrt(1/fan_in))" (with a=, b= when not −2, 2), "Uniform(bound=1/sqrt(fan_out))".
    /// </summary>
    internal sealed record FanScaledScheme(FanScaledDistribution Distribution, FanScale Scale, double A = -2.0, double B = 2.0) : InitScheme
    {
        public override string Name => ToString();

        internal override bool NeedsFans => true;

        internal override Fill Resolve(in FillRequest request)
        {
            var fans = request.Fans ?? Fans.FromShape(request.Shape, request.Name);
            double k = Scale.Of(fans, Name, request.Name, request.Shape);
            return Distribution switch
            {
                FanScaledDistribution.Normal => new NormalFill(0.0, k),
                FanScaledDistribution.TruncatedNormal => new TruncatedNormalFill(0.0, k, A, B),
                _ => new UniformFill(-k, k),
            };
        }

        internal override string TextHead => Distribution switch
        {
            FanScaledDistribution.Normal => "Normal",
            FanScaledDistribution.TruncatedNormal => "TruncatedNormal",
            _ => "Uniform",
        };

        internal override IEnumerable<(string? Key, string Value)> TextArguments
        {
            get
            {
                yield return (Distribution == FanScaledDistribution.Uniform ? "bound" : "std", Scale.ToString());
                if (Distribution == FanScaledDistribution.TruncatedNormal && (A != -2 || B != 2))
                {
                    yield return ("a", SchemeText.Number(A));
                    yield return ("b", SchemeText.Number(B));
                }
            }
        }

        /// <summary>"Normal(std=…)", "TruncatedNormal(std=…, a=, b=)" (also "trunc_normal") and "Uniform(bound=…)" whose value is a <see cref="FanScale"/>'s text; null otherwise (the fixed-number readers take the rest).</summary>
        internal static InitScheme? FromText(string head, SchemeArguments args)
        {
            if (SchemeText.Same(head, "Uniform"))
            {
                if (args.Text("bound", FanScale.Parse) is not { } bound) return null;
                args.EnsureAllRead("Uniform");
                return InitScheme.Uniform(bound);
            }
            bool truncated = SchemeText.Same(head, "TruncatedNormal") || SchemeText.Same(head, "trunc_normal");
            if (!truncated && !SchemeText.Same(head, "Normal")) return null;
            if (args.Text("std", FanScale.Parse) is not { } std) return null;
            if (!truncated)
            {
                args.EnsureAllRead("Normal");
                return InitScheme.Normal(std);
            }
            double a = args.Double("a", -2.0), b = args.Double("b", 2.0);
            args.EnsureAllRead("TruncatedNormal");
            return InitScheme.TruncatedNormal(std, a, b);
        }
    }
}

namespace TorchInit
{
    public abstract partial record InitScheme
    {
        /// <summary>
        /// N(0, k²) with k = <paramref name="std"/> of the layer's fans, as the model's Python computes it: <c>normal_(w, std=math.sqrt(2.0 / fan_out))</c>
        /// is <c>Normal(FanScale.SqrtOf(2, FanMode.FanOut))</c> (torchvision's ViT conv stem).
        /// </summary>
        /// <exception cref="ArgumentNullException"><paramref name="std"/> is null.</exception>
        public static InitScheme Normal(FanScale std) =>
            new Schemes.FanScaledScheme(Schemes.FanScaledDistribution.Normal, std ?? throw new ArgumentNullException(nameof(std)));

        /// <summary>
        /// N(0, k²) truncated to the absolute [<paramref name="a"/>, <paramref name="b"/>], k = <paramref name="std"/> of the layer's fans, by PyTorch's
        /// inverse-CDF algorithm: <c>trunc_normal_(w, std=math.sqrt(1 / fan_in))</c> (torchvision's ViT patch embedding) is
        /// <c>TruncatedNormal(FanScale.SqrtOf(1, FanMode.FanIn))</c>. Unlike <see cref="LeCunTruncatedNormal"/> (Keras: cut at ±2σ', σ' = σ / 0.8796),
        /// nothing is rescaled and the bounds are absolute.
        /// </summary>
        /// <exception cref="ArgumentNullException"><paramref name="std"/> is null.</exception>
        /// <exception cref="ArgumentException">A bound is not finite, or a ≥ b.</exception>
        public static InitScheme TruncatedNormal(FanScale std, double a, double b)
        {
            ArgumentNullException.ThrowIfNull(std);
            Check.Finite(a, nameof(a));
            Check.Finite(b, nameof(b));
            if (!(a < b)) throw new ArgumentException($"a ({a}) must be below b ({b}).", nameof(a));
            return new Schemes.FanScaledScheme(Schemes.FanScaledDistribution.TruncatedNormal, std, a, b);
        }

        /// <summary>As <see cref="TruncatedNormal(FanScale, double, double)"/> with PyTorch's default bounds a = −2, b = 2 (absolute): <c>trunc_normal_(w, std=k)</c>.</summary>
        /// <exception cref="ArgumentNullException"><paramref name="std"/> is null.</exception>
        public static InitScheme TruncatedNormal(FanScale std) => TruncatedNormal(std, -2.0, 2.0);

        /// <summary>
        /// U(−k, k) with k = <paramref name="bound"/> of the layer's fans, as the model's Python computes it: torchvision's EfficientNet
        /// <c>uniform_(w, -1.0 / math.sqrt(out_features), 1.0 / math.sqrt(out_features))</c> is <c>Uniform(FanScale.OverSqrt(1, FanMode.FanOut))</c>.
        /// </summary>
        /// <exception cref="ArgumentNullException"><paramref name="bound"/> is null.</exception>
        public static InitScheme Uniform(FanScale bound) =>
            new Schemes.FanScaledScheme(Schemes.FanScaledDistribution.Uniform, bound ?? throw new ArgumentNullException(nameof(bound)));
    }
}
