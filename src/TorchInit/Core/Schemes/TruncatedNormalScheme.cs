using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit;

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
    /// <summary>"TruncatedNormal(std)" with the mean and bounds when they are not 0, −2, 2.</summary>
    public override string Name => ToString();

    internal override Fill Resolve(in FillRequest request) => new TruncatedNormalFill(Mean, Std, A, B);

    internal override string TextHead => "TruncatedNormal";

    internal override IEnumerable<(string? Key, string Value)> TextArguments
    {
        get
        {
            yield return (null, SchemeText.Number(Std));
            if (Mean != 0) yield return ("mean", SchemeText.Number(Mean));
            if (A != -2 || B != 2)
            {
                yield return ("a", SchemeText.Number(A));
                yield return ("b", SchemeText.Number(B));
            }
        }
    }

    /// <summary>"TruncatedNormal(std, mean=, a=, b=)", also PyTorch's "trunc_normal" (std=, mean=, a=, b=).</summary>
    internal static InitScheme? FromText(string head, SchemeArguments args)
    {
        if (!SchemeText.Same(head, "TruncatedNormal") && !SchemeText.Same(head, "trunc_normal")) return null;
        double std = args.Double("std", args.PositionalOr(0, 1.0));
        double mean = args.Double("mean", 0.0), a = args.Double("a", -2.0), b = args.Double("b", 2.0);
        args.EnsureAllRead("TruncatedNormal");
        return InitScheme.TruncatedNormal(std, mean, a, b);
    }
}

public abstract partial record InitScheme
{
    /// <summary>
    /// N(mean, std²) truncated to the absolute interval [a, b] (PyTorch's and timm's <c>trunc_normal_</c>): values x with a ≤ x ≤ b,
    /// density ∝ exp(−(x − mean)²/(2·std²)). The default bounds ±2 cut nothing at std 0.02 (timm's ViT); pass a = −2·std, b = 2·std for
    /// TensorFlow's <c>truncated_normal</c> (BERT).
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="std"/> is not positive and finite, a bound or the mean is not finite, or a ≥ b.</exception>
    public static InitScheme TruncatedNormal(double std, double mean = 0.0, double a = -2.0, double b = 2.0)
    {
        Check.FiniteNonNegative(std, nameof(std));
        if (std == 0) throw new ArgumentException("std must be positive.", nameof(std));
        Check.Finite(mean, nameof(mean));
        Check.Finite(a, nameof(a));
        Check.Finite(b, nameof(b));
        if (!(a < b)) throw new ArgumentException($"a ({a}) must be below b ({b}).", nameof(a));
        return new TruncatedNormalScheme(mean, std, a, b);
    }
}
