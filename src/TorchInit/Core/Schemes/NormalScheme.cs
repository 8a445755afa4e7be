using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit;

/// <summary>N(<see cref="Mean"/>, <see cref="Std"/>²) with a fixed std, whatever the layer's size (e.g. the naive N(0, 0.01), or N(0, 0.02) of GPT-2). PyTorch: <c>normal_</c>.</summary>
/// <param name="Mean">The mean; finite.</param>
/// <param name="Std">The standard deviation; finite and non-negative.</param>
public sealed record NormalScheme(double Mean, double Std) : InitScheme
{
    /// <summary>"Normal(0, std)" or "Normal(mean, std)".</summary>
    public override string Name => ToString();

    internal override Fill Resolve(in FillRequest request) => new NormalFill(Mean, Std);

    internal override string TextHead => "Normal";

    internal override IEnumerable<(string? Key, string Value)> TextArguments =>
        [(null, SchemeText.Number(Mean)), (null, SchemeText.Number(Std))];

    /// <summary>"Normal(std)" or "Normal(mean, std)" (torch's argument order), also "normal"/"random_normal" with mean=, std= (stddev=).</summary>
    internal static InitScheme? FromText(string head, SchemeArguments args)
    {
        if (!SchemeText.Same(head, "Normal") && !SchemeText.Same(head, "random_normal")) return null;
        double mean, std;
        if (args.PositionalCount == 1) (mean, std) = (args.Double("mean", 0.0), args.Positional(0));
        else (mean, std) = (args.Double("mean", args.PositionalOr(0, 0.0)), args.Double("std", args.Double("stddev", args.PositionalOr(1, 1.0))));
        args.EnsureAllRead("Normal");
        return InitScheme.Normal(std, mean);
    }
}

public abstract partial record InitScheme
{
    /// <summary>Fixed-std normal N(mean, std²), independent of the layer's size (e.g. the naive N(0, 0.01) or N(0, 1)).</summary>
    /// <exception cref="ArgumentException"><paramref name="std"/> is negative, NaN or infinite, or <paramref name="mean"/> is not finite.</exception>
    public static InitScheme Normal(double std, double mean = 0.0)
    {
        Check.FiniteNonNegative(std, nameof(std));
        Check.Finite(mean, nameof(mean));
        return new NormalScheme(mean, std);
    }
}

public static partial class Init
{
    /// <summary>N(<paramref name="mean"/>, <paramref name="std"/>²). PyTorch: <c>normal_</c>.</summary>
    /// <exception cref="ArgumentException"><paramref name="std"/> is negative or not finite, <paramref name="mean"/> is not finite, or the tensor is not floating-point.</exception>
    public static Tensor Normal(Tensor tensor, double mean = 0.0, double std = 1.0, Generator? generator = null) =>
        Apply(tensor, InitScheme.Normal(std, mean), generator);
}
