using TorchInit.Fast;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit.Schemes
{
    /// <summary>
    /// Delta-orthogonal initialization of a convolution weight [out, in, k…] (Xiao et al. 2018, "Dynamical Isometry and a Mean
    /// Field Theory of CNNs: How to Train 10,000-Layer Vanilla Convolutional Neural Networks"): all zeros except the kernel
    /// centre [:, :, k₁/2, …], an orthogonal [out, in] matrix times gain drawn as PyTorch's <c>orthogonal_</c> draws it. The
    /// convolution then preserves the norm of every input exactly at initialization (out ≥ in), which is what lets very deep
    /// plain CNNs train. In PyTorch: <c>w.zero_(); orthogonal_(w[:, :, k₁//2, …], gain)</c>.
    /// </summary>
    /// <param name="Nonlinearity">The nonlinearity whose gain multiplies the centre matrix (for ReLU networks, the paper uses √2).</param>
    /// <param name="NegativeSlope">Leaky ReLU's negative slope; null means PyTorch's default 0.01.</param>
    public sealed record DeltaOrthogonalScheme(Nonlinearity Nonlinearity = Nonlinearity.Linear, double? NegativeSlope = null) : GainScheme(Nonlinearity, NegativeSlope)
    {
        /// <summary>"DeltaOrthogonal".</summary>
        public override string Name => "DeltaOrthogonal";

        internal override Fill Resolve(in FillRequest request)
        {
            var shape = request.Shape;
            if (shape.Length is < 3 or > 5)
                throw new ArgumentException($"Delta-orthogonal initialization needs a 3-, 4- or 5-D tensor (a convolution weight [out, in, k...]); '{request.Name}' has shape {Check.Shape(shape)}.", request.Name);
            double gain = request.GainOverride ?? Gain;
            // Only the centre [out, in] is non-zero, with sum of squares min(out, in)·gain², spread over out·in·k… elements.
            double elements = shape.Aggregate(1.0, (a, b) => a * b);
            return new DeltaOrthogonalFill(gain, elements == 0 ? double.NaN : gain * Math.Sqrt(Math.Min(shape[0], shape[1]) / elements));
        }

        internal override string TextHead => "DeltaOrthogonal";

        internal override IEnumerable<(string? Key, string Value)> TextArguments => NonDefaultGainTextArguments();

        /// <summary>"DeltaOrthogonal", with optional nonlinearity= and slope=.</summary>
        internal static InitScheme? FromText(string head, SchemeArguments args) =>
            SchemeText.Same(head, "DeltaOrthogonal") ? WithGainArguments(InitScheme.DeltaOrthogonal, args) : null;
    }

    /// <summary>Zeros, and gain × an orthogonal matrix at the kernel centre.</summary>
    internal sealed record DeltaOrthogonalFill(double Gain, double Std) : Fill
    {
        public override string Distribution => "delta orthogonal";
        public override double TargetStd => Std;
        public override double Bound => Gain;

        public override Moments? Write(Tensor t, Sampler sampler)
        {
            sampler.Draw(t, (x, g) =>
            {
                using var scope = NewDisposeScope();
                using var _ = no_grad();
                x.zero_();
                if (x.numel() == 0) return;
                var centre = x[[TensorIndex.Colon, TensorIndex.Colon, .. x.shape.Skip(2).Select(k => TensorIndex.Single(k / 2))]];
                OrthogonalFill.Orthogonalize(centre, Gain, g);
            });
            return null;
        }
    }
}

namespace TorchInit
{
    public abstract partial record InitScheme
    {
        /// <summary>Delta-orthogonal (Xiao et al. 2018): a convolution weight that is zero except for gain × an orthogonal matrix at the kernel centre.</summary>
        public static InitScheme DeltaOrthogonal { get; } = new DeltaOrthogonalScheme();
    }

    public static partial class Init
    {
        /// <summary>
        /// Delta-orthogonal initialization (Xiao et al. 2018): zeros, except the kernel centre [:, :, k₁/2, …], which is an
        /// orthogonal [out, in] matrix times <paramref name="gain"/>, drawn as <see cref="Orthogonal"/> draws it.
        /// PyTorch has no such function; it equals <c>w.zero_(); orthogonal_(w[:, :, k₁//2, …], gain)</c>.
        /// </summary>
        /// <exception cref="ArgumentException">The tensor does not have 3, 4 or 5 dimensions or is not floating-point, or <paramref name="gain"/> is negative or not finite.</exception>
        public static Tensor DeltaOrthogonal(Tensor tensor, double gain = 1.0, Generator? generator = null)
        {
            Check.FiniteNonNegative(gain, nameof(gain));
            return Apply(tensor, InitScheme.DeltaOrthogonal, generator, gain);
        }
    }
}
