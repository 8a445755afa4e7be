using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit.Schemes
{
    /// <summary>N(<see cref="Mean"/>, <see cref="Std"/>²) with a fixed std, whatever the layer's size (e.g. the naive N(0, 0.01), or N(0, 0.02) of GPT-2). PyTorch: <c>normal_</c>.</summary>
    /// <param name="Mean">The mean; finite.</param>
    /// <param name="Std">The standard deviation; finite and positive.</param>
    public sealed record NormalScheme(double Mean, double Std) : InitScheme
    {
        /// <summary>"Normal(mean, std)", e.g. "Normal(0, 0.01)".</summary>
        public override string Name => ToString();

        internal override Fill Resolve(in FillRequest request) => new NormalFill(Mean, Std);

        internal override string TextHead => "Normal";

        internal override IEnumerable<(string? Key, string Value)> TextArguments =>
            [(null, SchemeText.Number(Mean)), (null, SchemeText.Number(Std))];

        /// <summary>
        /// "Normal(std)" (one argument: the std) or "Normal(mean, std)" (PyTorch's order), also with mean=, std= (stddev=); PyTorch's
        /// "normal" means the same (std 1 by default), Keras's "random_normal" takes mean= and stddev= with Keras's default stddev 0.05.
        /// </summary>
        internal static InitScheme? FromText(string head, SchemeArguments args)
        {
            bool keras = SchemeText.Same(head, "random_normal");
            if (!SchemeText.Same(head, "Normal") && !keras) return null;
            double mean, std;
            if (args.PositionalCount == 1) (mean, std) = (args.Double("mean", 0.0), args.Single(0, "std", "stddev"));
            else (mean, std) = (args.At(0, "mean", 0.0), args.At(1, "std", "stddev", keras ? 0.05 : 1.0));
            args.EnsureAllRead("Normal");
            return InitScheme.Normal(mean, std);
        }
    }
}

namespace TorchInit
{
    public abstract partial record InitScheme
    {
        /// <summary>N(0, std²): one argument is the standard deviation (as JAX's <c>normal(stddev)</c> and the text "Normal(0.01)"), e.g. the naive N(0, 0.01²).</summary>
        /// <exception cref="ArgumentException"><paramref name="std"/> is not positive and finite (0 is a constant: <see cref="Constant"/>).</exception>
        public static InitScheme Normal(double std) => Normal(0.0, std);

        /// <summary>N(mean, std²), independent of the layer's size, in PyTorch's argument order (<c>normal_(w, mean, std)</c>).</summary>
        /// <exception cref="ArgumentException"><paramref name="std"/> is not positive and finite (0 is a constant: <see cref="Constant"/>), or <paramref name="mean"/> is not finite.</exception>
        public static InitScheme Normal(double mean, double std)
        {
            Check.Finite(mean, nameof(mean));
            Check.NormalStd(std, mean, "Normal(mean, std)");
            return new NormalScheme(mean, std);
        }
    }

    public static partial class Init
    {
        /// <summary>N(<paramref name="mean"/>, <paramref name="std"/>²). PyTorch: <c>normal_</c>.</summary>
        /// <exception cref="ArgumentException"><paramref name="std"/> is not positive and finite (0 is a constant: <see cref="Constant"/>), <paramref name="mean"/> is not finite, or the tensor is not floating-point.</exception>
        /// <exception cref="ObjectDisposedException">The tensor or the generator was disposed.</exception>
        public static Tensor Normal(Tensor tensor, double mean = 0.0, double std = 1.0, Generator? generator = null)
        {
            TensorCheck.EnsureAlive(tensor, generator);
            return Apply(tensor, InitScheme.Normal(mean, std), generator);
        }
    }
}
