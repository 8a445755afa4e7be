using TorchInit.Fast;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit.Schemes
{
    /// <summary>
    /// Orthogonal (Saxe et al. 2013), PyTorch's <c>orthogonal_(w, gain)</c>: the weight flattened to rows × cols
    /// (rows = size(0)) is a (semi-)orthogonal matrix Q times gain, so every element has standard deviation
    /// gain / √max(rows, cols). Q comes from the QR decomposition of an N(0, 1) draw, signs fixed by diag(R).
    /// Gain 1 by default; <see cref="GainScheme.WithNonlinearity"/> changes it.
    /// </summary>
    /// <param name="Nonlinearity">The nonlinearity whose gain multiplies Q.</param>
    /// <param name="NegativeSlope">Leaky ReLU's negative slope; null means PyTorch's default 0.01.</param>
    public sealed record OrthogonalScheme(Nonlinearity Nonlinearity = Nonlinearity.Linear, double? NegativeSlope = null) : GainScheme(Nonlinearity, NegativeSlope)
    {
        /// <summary>"Orthogonal".</summary>
        public override string Name => "Orthogonal";

        internal override Fill Resolve(in FillRequest request)
        {
            if (request.Shape.Length < 2)
                throw new ArgumentException($"Orthogonal initialization needs at least 2 dimensions; '{request.Name}' has shape {Check.Shape(request.Shape)}.", request.Name);
            double gain = request.GainOverride ?? Gain;
            return new OrthogonalFill(gain, OrthogonalFill.ElementStd(gain, request.Shape));
        }

        internal override string TextHead => "Orthogonal";

        internal override IEnumerable<(string? Key, string Value)> TextArguments => NonDefaultGainTextArguments();

        /// <summary>"Orthogonal", with optional nonlinearity= and slope=.</summary>
        internal static InitScheme? FromText(string head, SchemeArguments args) =>
            SchemeText.Same(head, "Orthogonal") ? WithGainArguments(InitScheme.Orthogonal, args) : null;
    }

    /// <summary>
    /// PyTorch's <c>orthogonal_</c> step by step: rows = size(0), cols = numel / rows; draw N(0, 1) into a new rows × cols
    /// tensor; transpose it when rows &lt; cols; Q, R = linalg.qr; Q *= sign(diag(R)); transpose back; copy in; multiply by gain.
    /// The draw is bit-identical to PyTorch's; the QR runs in libtorch's LAPACK. float16 and bfloat16 tensors are drawn and
    /// decomposed in float32 (libtorch has no half-precision QR on the CPU), then rounded.
    /// </summary>
    internal sealed record OrthogonalFill(double Gain, double Std) : Fill
    {
        public override string Distribution => "orthogonal";
        public override double TargetStd => Std;
        public override double Bound => Gain;

        /// <summary>gain / √max(rows, cols): the std of one element of a (semi-)orthogonal matrix.</summary>
        public static double ElementStd(double gain, long[] shape)
        {
            long rows = shape[0], cols = rows == 0 ? 0 : shape.Aggregate(1L, (a, b) => a * b) / rows;
            return gain / Math.Sqrt(Math.Max(rows, cols));
        }

        public override Moments? Write(Tensor t, Sampler sampler)
        {
            if (t.numel() == 0) return null;
            sampler.Draw(t, (x, g) => Orthogonalize(x, Gain, g));
            return null;
        }

        /// <summary>Fills <paramref name="x"/> (CPU, or any device when the generator lives there) with gain × Q.</summary>
        internal static void Orthogonalize(Tensor x, double gain, Generator? g)
        {
            long rows = x.shape[0], cols = x.numel() / rows;
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            var dtype = x.dtype is ScalarType.Float16 or ScalarType.BFloat16 ? ScalarType.Float32 : x.dtype;
            var flattened = empty(rows, cols, dtype, x.device).normal_(0.0, 1.0, g);
            if (rows < cols) flattened = flattened.t();
            var (q, r) = linalg.qr(flattened);
            var ph = diag(r, 0).sign();
            q = q.mul(ph);
            if (rows < cols) q = q.t();
            x.copy_(q.reshape(x.shape));   // any layout: a non-contiguous view is written element by element, in row-major order
            x.mul_(gain);
        }
    }
}

namespace TorchInit
{
    public abstract partial record InitScheme
    {
        /// <summary>
        /// Orthogonal (Saxe et al. 2013), PyTorch's <c>orthogonal_(w, gain)</c>: the weight flattened to rows × cols is a
        /// (semi-)orthogonal matrix times gain, so every element has standard deviation gain / √max(rows, cols).
        /// </summary>
        public static InitScheme Orthogonal { get; } = new OrthogonalScheme();
    }

    public static partial class Init
    {
        /// <summary>
        /// (Semi-)orthogonal matrix times <paramref name="gain"/> (Saxe et al. 2013). PyTorch: <c>orthogonal_(tensor, gain)</c>.
        /// The tensor is flattened to rows × cols (rows = size(0)); its rows (rows ≤ cols) or columns (rows &gt; cols)
        /// are orthonormal before scaling, so each element has standard deviation gain / √max(rows, cols).
        /// The N(0, 1) draw is the same as PyTorch's for the same seed; the QR decomposition runs in libtorch's
        /// LAPACK, so the result agrees with PyTorch's to about 1e-6, not necessarily bit for bit.
        /// </summary>
        /// <exception cref="ArgumentException">The tensor has fewer than 2 dimensions or is not floating-point, or the gain is negative or not finite.</exception>
        public static Tensor Orthogonal(Tensor tensor, double gain = 1.0, Generator? generator = null)
        {
            Check.FiniteNonNegative(gain, nameof(gain));
            return Apply(tensor, InitScheme.Orthogonal, generator, gain);
        }
    }
}
