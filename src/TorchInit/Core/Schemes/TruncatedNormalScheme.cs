using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit.Schemes
{
    /// <summary>
    /// N(<see cref="Mean"/>, <see cref="Std"/>²) truncated to the <b>absolute</b> interval [<see cref="A"/>, <see cref="B"/>], with a fixed
    /// std whatever the layer's size: PyTorch's and timm's <c>trunc_normal_(w, mean, std, a, b)</c> (ViT's std 0.02 with a = −2, b = 2, which
    /// cuts nothing; BERT's TensorFlow <c>truncated_normal(stddev=0.02)</c> is a = −0.04, b = 0.04). Drawn by PyTorch's inverse-CDF algorithm.
    /// </summary>
    /// <param name="Mean">The mean of the normal before truncation; finite.</param>
    /// <param name="Std">Its standard deviation; finite and positive.</param>
    /// <param name="A">The lower bound, absolute; below <paramref name="B"/>.</param>
    /// <param name="B">The upper bound, absolute.</param>
    public sealed record TruncatedNormalScheme(double Mean, double Std, double A, double B) : InitScheme
    {
        /// <summary>"TruncatedNormal(std)" for mean 0, else "TruncatedNormal(mean, std)", with a= and b= when the bounds are not −2, 2.</summary>
        public override string Name => ToString();

        internal override Fill Resolve(in FillRequest request) => new TruncatedNormalFill(Mean, Std, A, B);

        internal override string TextHead => "TruncatedNormal";

        internal override IEnumerable<(string? Key, string Value)> TextArguments
        {
            get
            {
                if (Mean != 0) yield return (null, SchemeText.Number(Mean)); // (mean, std), PyTorch's order; one number is the std
                yield return (null, SchemeText.Number(Std));
                if (A != -2 || B != 2)
                {
                    yield return ("a", SchemeText.Number(A));
                    yield return ("b", SchemeText.Number(B));
                }
            }
        }

        /// <summary>
        /// "TruncatedNormal(std)" (one argument: the std) or "TruncatedNormal(mean, std, a, b)" (PyTorch's order), also with mean=, std=, a=, b=,
        /// and PyTorch's "trunc_normal" (the same); Keras's "truncated_normal" means Keras's: mean= (0) and stddev= (0.05), cut at mean ± 2·stddev.
        /// </summary>
        internal static InitScheme? FromText(string head, SchemeArguments args)
        {
            if (SchemeText.Same(head, "keras_truncated_normal"))
            {
                double m = args.At(0, "mean", 0.0), s = args.At(1, "stddev", "std", 0.05);
                args.EnsureAllRead("truncated_normal");
                return InitScheme.TruncatedNormal(m, s, m - 2 * s, m + 2 * s);
            }
            if (!SchemeText.Same(head, "TruncatedNormal") && !SchemeText.Same(head, "trunc_normal")) return null;
            double mean, std;
            if (args.PositionalCount == 1) (mean, std) = (args.Double("mean", 0.0), args.Single(0, "std"));
            else (mean, std) = (args.At(0, "mean", 0.0), args.At(1, "std", 1.0));
            double a = args.At(2, "a", -2.0), b = args.At(3, "b", 2.0);
            args.EnsureAllRead("TruncatedNormal");
            return InitScheme.TruncatedNormal(mean, std, a, b);
        }
    }
}

namespace TorchInit
{
    public abstract partial record InitScheme
    {
        /// <summary>
        /// N(0, std²) truncated to the absolute interval [−2, 2] (PyTorch's and timm's <c>trunc_normal_(w, std=std)</c>, which cuts nothing at
        /// std 0.02): one argument is the standard deviation.
        /// </summary>
        /// <exception cref="ArgumentException"><paramref name="std"/> is not positive and finite (0 is a constant: <see cref="Constant"/>).</exception>
        public static InitScheme TruncatedNormal(double std) => TruncatedNormal(0.0, std);

        /// <summary>
        /// N(mean, std²) truncated to the absolute interval [a, b], in PyTorch's argument order (<c>trunc_normal_(w, mean, std, a, b)</c>, as
        /// <see cref="Init.TruncNormal"/>): values x with a ≤ x ≤ b, density ∝ exp(−(x − mean)²/(2·std²)). The default bounds ±2 cut nothing at
        /// std 0.02 (timm's ViT); pass a = mean − 2·std, b = mean + 2·std for TensorFlow's <c>truncated_normal</c> (BERT).
        /// </summary>
        /// <exception cref="ArgumentException"><paramref name="std"/> is not positive and finite (0 is a constant: <see cref="Constant"/>), a bound or the mean is not finite, or a ≥ b.</exception>
        public static InitScheme TruncatedNormal(double mean, double std, double a = -2.0, double b = 2.0)
        {
            Check.Finite(mean, nameof(mean));
            Check.NormalStd(std, mean, "TruncatedNormal(mean, std, a, b)");
            Check.Finite(a, nameof(a));
            Check.Finite(b, nameof(b));
            if (!(a < b)) throw new ArgumentException($"a ({a}) must be below b ({b}).", nameof(a));
            return new TruncatedNormalScheme(mean, std, a, b);
        }
    }
}
