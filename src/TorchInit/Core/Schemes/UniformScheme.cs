using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit.Schemes
{
    /// <summary>U(<see cref="Low"/>, <see cref="High"/>) with fixed bounds, whatever the layer's size. PyTorch: <c>uniform_</c>. Its std is (high − low)/√12.</summary>
    /// <param name="Low">The lower bound; finite.</param>
    /// <param name="High">The upper bound; finite, not below <paramref name="Low"/>.</param>
    public sealed record UniformScheme(double Low, double High) : InitScheme
    {
        /// <summary>"Uniform(low, high)".</summary>
        public override string Name => ToString();

        internal override Fill Resolve(in FillRequest request) => new UniformFill(Low, High);

        internal override string TextHead => "Uniform";

        internal override IEnumerable<(string? Key, string Value)> TextArguments =>
            [(null, SchemeText.Number(Low)), (null, SchemeText.Number(High))];

        /// <summary>"Uniform(low, high)", also "uniform"/"random_uniform" with low=/a=/minval=, high=/b=/maxval=.</summary>
        internal static InitScheme? FromText(string head, SchemeArguments args)
        {
            if (!SchemeText.Same(head, "Uniform") && !SchemeText.Same(head, "random_uniform")) return null;
            double low = args.Double("low", args.Double("a", args.Double("minval", args.PositionalOr(0, head.Contains('_') ? -0.05 : 0.0))));
            double high = args.Double("high", args.Double("b", args.Double("maxval", args.PositionalOr(1, head.Contains('_') ? 0.05 : 1.0))));
            args.EnsureAllRead("Uniform");
            return InitScheme.Uniform(low, high);
        }
    }
}

namespace TorchInit
{
    public abstract partial record InitScheme
    {
        /// <summary>Fixed uniform U(low, high), independent of the layer's size.</summary>
        /// <exception cref="ArgumentException">A bound is not finite, or <paramref name="low"/> exceeds <paramref name="high"/>.</exception>
        public static InitScheme Uniform(double low, double high)
        {
            Check.Finite(low, nameof(low));
            Check.Finite(high, nameof(high));
            if (low > high) throw new ArgumentException($"low ({low}) must not exceed high ({high}).", nameof(low));
            return new UniformScheme(low, high);
        }
    }

    public static partial class Init
    {
        /// <summary>U(<paramref name="low"/>, <paramref name="high"/>). PyTorch: <c>uniform_</c>.</summary>
        /// <exception cref="ArgumentException">A bound is not finite, <paramref name="low"/> exceeds <paramref name="high"/>, or the tensor is not floating-point.</exception>
        public static Tensor Uniform(Tensor tensor, double low = 0.0, double high = 1.0, Generator? generator = null) =>
            Apply(tensor, InitScheme.Uniform(low, high), generator);
    }
}
