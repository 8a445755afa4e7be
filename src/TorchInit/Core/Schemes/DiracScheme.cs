using TorchInit.Fast;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit.Schemes
{
    /// <summary>
    /// The Dirac delta, PyTorch's <c>dirac_(w, groups)</c>: a 3-, 4- or 5-D convolution weight [out, in, k…] that passes its
    /// inputs through unchanged. All zeros, except, in each of <see cref="Groups"/> groups of out/groups output channels, a 1
    /// at [g·out/groups + d, d, k₁/2, …] for d &lt; min(out/groups, in). No random numbers are drawn.
    /// </summary>
    /// <param name="Groups">The convolution's groups; size(0) must be divisible by it.</param>
    public sealed record DiracScheme(int Groups = 1) : InitScheme
    {
        /// <summary>"Dirac" or "Dirac(groups=g)".</summary>
        public override string Name => ToString();

        internal override Fill Resolve(in FillRequest request)
        {
            var shape = request.Shape;
            if (shape.Length is < 3 or > 5)
                throw new ArgumentException($"Dirac initialization needs a 3-, 4- or 5-D tensor (a convolution weight [out, in, k...]); '{request.Name}' has shape {Check.Shape(shape)}.", request.Name);
            if (shape[0] % Groups != 0)
                throw new ArgumentException($"Dirac initialization: dim 0 of '{request.Name}' {Check.Shape(shape)} ({shape[0]}) must be divisible by groups ({Groups}).", request.Name);
            return new DiracFill(Groups);
        }

        internal override string TextHead => "Dirac";
        internal override IEnumerable<(string? Key, string Value)> TextArguments => Groups == 1 ? [] : [("groups", SchemeText.Number(Groups))];

        /// <summary>"Dirac" or "Dirac(groups=g)" / "Dirac(g)".</summary>
        internal static InitScheme? FromText(string head, SchemeArguments args)
        {
            if (!SchemeText.Same(head, "Dirac")) return null;
            double groups = args.Double("groups", args.PositionalOr(0, 1));
            args.EnsureAllRead("Dirac");
            if (groups != Math.Floor(groups) || groups > int.MaxValue) throw new ArgumentException($"Dirac: groups must be a whole number, got {groups}.", "name");
            return InitScheme.Dirac((int)groups);
        }
    }

    /// <summary>Zeros, with a 1 at the kernel centre of [g·out/groups + d, d] for each group g and d &lt; min(out/groups, in).</summary>
    internal sealed record DiracFill(int Groups) : Fill
    {
        public override string Distribution => "dirac";
        public override double TargetStd => double.NaN;
        public override double Bound => 1;
        public override bool Draws => false;

        public override Moments? Write(Tensor t, Sampler sampler)
        {
            long outPerGroup = t.shape[0] / Groups;
            long minDim = Math.Min(outPerGroup, t.shape[1]);
            using var scope = NewDisposeScope();
            using var _ = no_grad();
            t.zero_();
            var centre = t.shape.Skip(2).Select(k => TensorIndex.Single(k / 2)).ToArray();
            for (long g = 0; g < Groups; g++)
                for (long d = 0; d < minDim; d++)
                    t[[TensorIndex.Single(g * outPerGroup + d), TensorIndex.Single(d), .. centre]].fill_(1);
            return null;
        }
    }
}

namespace TorchInit
{
    public abstract partial record InitScheme
    {
        /// <summary>The Dirac delta (PyTorch's <c>dirac_(w, groups)</c>): a convolution that starts as the identity map.</summary>
        /// <exception cref="ArgumentException"><paramref name="groups"/> is not positive.</exception>
        public static InitScheme Dirac(int groups = 1)
        {
            if (groups <= 0) throw new ArgumentException($"groups must be positive, got {groups}.", nameof(groups));
            return new DiracScheme(groups);
        }
    }

    public static partial class Init
    {
        /// <summary>
        /// The Dirac delta: zeros, except, in each of <paramref name="groups"/> groups, a 1 at [g·out/groups + d, d, k₁/2, …] for
        /// d &lt; min(out/groups, in), so the convolution passes its inputs through. PyTorch: <c>dirac_(tensor, groups)</c>.
        /// </summary>
        /// <exception cref="ArgumentException">The tensor does not have 3, 4 or 5 dimensions, <paramref name="groups"/> is not positive, or size(0) is not divisible by it.</exception>
        public static Tensor Dirac(Tensor tensor, int groups = 1) => Apply(tensor, InitScheme.Dirac(groups), null);
    }
}
