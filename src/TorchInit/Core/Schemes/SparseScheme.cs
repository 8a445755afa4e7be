using TorchInit.Fast;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit.Schemes
{
    /// <summary>
    /// A sparse matrix (Martens 2010), PyTorch's <c>sparse_(w, sparsity, std)</c>: N(0, <see cref="Std"/>²), then in each
    /// column the rows at the first ⌈<see cref="Sparsity"/> · rows⌉ positions of a random permutation set to 0. PyTorch draws
    /// the permutations from its global generator whatever generator it is given; TorchInit draws them from the call's
    /// generator (the seeded one, or the one given), so a seed s equals PyTorch's <c>torch.manual_seed(s)</c> then <c>sparse_</c>.
    /// Drawn by libtorch in either <see cref="DrawEngine"/>.
    /// </summary>
    /// <param name="Sparsity">The fraction of each column set to zero, in [0, 1].</param>
    /// <param name="Std">The standard deviation of the non-zero values; finite, non-negative.</param>
    public sealed record SparseScheme(double Sparsity, double Std = 0.01) : InitScheme
    {
        /// <summary>"Sparse(sparsity, std)".</summary>
        public override string Name => ToString();

        internal override Fill Resolve(in FillRequest request)
        {
            if (request.Shape.Length != 2)
                throw new ArgumentException($"Sparse initialization needs a 2-D tensor; '{request.Name}' has shape {Check.Shape(request.Shape)}.", request.Name);
            return new SparseFill(Sparsity, Std);
        }

        internal override string TextHead => "Sparse";
        internal override IEnumerable<(string? Key, string Value)> TextArguments =>
            [(null, SchemeText.Number(Sparsity)), (null, SchemeText.Number(Std))];

        /// <summary>"Sparse(sparsity, std)", also with sparsity=, std=.</summary>
        internal static InitScheme? FromText(string head, SchemeArguments args)
        {
            if (!SchemeText.Same(head, "Sparse")) return null;
            double sparsity = args.Double("sparsity", args.PositionalOr(0, double.NaN));
            double std = args.Double("std", args.PositionalOr(1, 0.01));
            args.EnsureAllRead("Sparse");
            return InitScheme.Sparse(sparsity, std);
        }
    }

    /// <summary>N(0, std²), then ⌈sparsity · rows⌉ zeros per column at the first positions of a permutation of the rows.</summary>
    internal sealed record SparseFill(double Sparsity, double Std) : Fill
    {
        public override string Distribution => "sparse";
        public override double TargetStd => Std;
        public override double Bound => double.PositiveInfinity;

        public override Moments? Write(Tensor t, Sampler sampler)
        {
            sampler.Draw(t, (x, g) =>
            {
                long rows = x.shape[0], cols = x.shape[1];
                long zeros = (long)Math.Ceiling(Sparsity * rows);
                using var scope = NewDisposeScope();
                using var _ = no_grad();
                x.normal_(0.0, Std, g);
                var permDevice = g?.device ?? CPU; // PyTorch's torch.randperm(rows): the default (CPU) device
                for (long col = 0; col < cols; col++)
                {
                    var perm = randperm(rows, generator: g, device: permDevice); // drawn even when no zero is set, as PyTorch does
                    if (zeros == 0) continue;
                    x.select(1, col).index_fill_(0, perm.slice(0, 0, zeros, 1).to(x.device), 0.0);
                }
            });
            return null;
        }
    }
}

namespace TorchInit
{
    public abstract partial record InitScheme
    {
        /// <summary>A sparse matrix (PyTorch's <c>sparse_(w, sparsity, std)</c>): N(0, std²) with ⌈sparsity · rows⌉ zeros in each column.</summary>
        /// <exception cref="ArgumentException"><paramref name="sparsity"/> is not in [0, 1], or <paramref name="std"/> is negative or not finite.</exception>
        public static InitScheme Sparse(double sparsity, double std = 0.01)
        {
            if (!(sparsity >= 0 && sparsity <= 1)) throw new ArgumentException($"sparsity must be in [0, 1], got {sparsity}.", nameof(sparsity));
            Check.FiniteNonNegative(std, nameof(std));
            return new SparseScheme(sparsity, std);
        }
    }

    public static partial class Init
    {
        /// <summary>
        /// A sparse matrix (Martens 2010): N(0, <paramref name="std"/>²), then in each column the rows at the first
        /// ⌈<paramref name="sparsity"/> · rows⌉ positions of a random permutation set to 0. PyTorch: <c>sparse_</c>, except that
        /// the permutations come from <paramref name="generator"/> too (PyTorch's come from its global generator).
        /// </summary>
        /// <exception cref="ArgumentException">The tensor is not 2-D or not floating-point, <paramref name="sparsity"/> is not in [0, 1], or <paramref name="std"/> is negative or not finite.</exception>
        public static Tensor Sparse(Tensor tensor, double sparsity, double std = 0.01, Generator? generator = null) =>
            Apply(tensor, InitScheme.Sparse(sparsity, std), generator);
    }
}
