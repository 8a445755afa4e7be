using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit;

/// <summary>
/// Structured initializers: PyTorch's <c>eye_</c>, <c>dirac_</c> and <c>sparse_</c>, step by step as in
/// torch/nn/init.py (PyTorch 2.6), and the delta-orthogonal initialization for convolutions (Xiao et al. 2018).
/// Each fills the tensor in place under <c>no_grad</c> and returns it. Every random draw comes from
/// <c>generator</c> when one is given (else the global generator: the tensor's device's for the values, the CPU's for
/// <c>sparse_</c>'s permutations, as in PyTorch), so with a generator
/// seeded s the result equals PyTorch's after <c>torch.manual_seed(s)</c>.
/// </summary>
internal static class StructuredInit
{
    /// <summary>
    /// The identity matrix, as PyTorch's <c>eye_</c>: ones on the main diagonal of a 2-D tensor, zeros elsewhere
    /// (rectangular tensors too: min(rows, cols) ones).
    /// </summary>
    /// <exception cref="ArgumentException">The tensor does not have exactly 2 dimensions.</exception>
    public static Tensor Eye(Tensor t)
    {
        ArgumentNullException.ThrowIfNull(t);
        if (t.dim() != 2)
            throw new ArgumentException($"Eye initialization needs a 2-D tensor, got shape {Shape(t)}.", nameof(t));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        t.copy_(eye(t.shape[0], t.shape[1], t.dtype, t.device));
        return t;
    }

    /// <summary>
    /// The Dirac delta, as PyTorch's <c>dirac_</c>: a 3-, 4- or 5-D convolution weight [out, in, k…] that preserves
    /// the identity of its inputs. All zeros, except, in each of <paramref name="groups"/> groups of out/groups output
    /// channels, a 1 at [g·out/groups + d, d, k₁/2, …] for d &lt; min(out/groups, in).
    /// </summary>
    /// <exception cref="ArgumentException">The tensor does not have 3, 4 or 5 dimensions, <paramref name="groups"/> is not
    /// positive, or size(0) is not divisible by <paramref name="groups"/>.</exception>
    public static Tensor Dirac(Tensor t, int groups = 1)
    {
        ArgumentNullException.ThrowIfNull(t);
        long dims = t.dim();
        if (dims is < 3 or > 5)
            throw new ArgumentException($"Dirac initialization needs a 3-, 4- or 5-D tensor (a convolution weight [out, in, k...]), got shape {Shape(t)}.", nameof(t));
        if (groups <= 0)
            throw new ArgumentException($"groups must be positive, got {groups}.", nameof(groups));
        if (t.shape[0] % groups != 0)
            throw new ArgumentException($"Dirac initialization: dim 0 of shape {Shape(t)} ({t.shape[0]}) must be divisible by groups ({groups}).", nameof(groups));
        long outPerGroup = t.shape[0] / groups;
        long minDim = Math.Min(outPerGroup, t.shape[1]);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        t.zero_();
        var centre = t.shape.Skip(2).Select(k => TensorIndex.Single(k / 2)).ToArray();
        for (long g = 0; g < groups; g++)
            for (long d = 0; d < minDim; d++)
                t[[TensorIndex.Single(g * outPerGroup + d), TensorIndex.Single(d), .. centre]].fill_(1);
        return t;
    }

    /// <summary>
    /// A sparse matrix, as PyTorch's <c>sparse_</c> (Martens 2010): N(0, <paramref name="std"/>²), then in each column
    /// the rows at the first ⌈<paramref name="sparsity"/> · rows⌉ positions of a random permutation are set to zero.
    /// PyTorch draws the normal from its generator argument but each column's <c>randperm(rows)</c> from the global
    /// generator; here both come from <paramref name="generator"/>, so a generator seeded s equals PyTorch's
    /// <c>torch.manual_seed(s)</c> followed by <c>sparse_</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The tensor is not 2-D, <paramref name="sparsity"/> is not in [0, 1], or
    /// <paramref name="std"/> is negative or not finite.</exception>
    public static Tensor Sparse(Tensor t, double sparsity, double std = 0.01, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(t);
        if (t.dim() != 2)
            throw new ArgumentException($"Sparse initialization needs a 2-D tensor, got shape {Shape(t)}.", nameof(t));
        if (!(sparsity >= 0 && sparsity <= 1))
            throw new ArgumentException($"sparsity must be in [0, 1], got {sparsity}.", nameof(sparsity));
        if (!double.IsFinite(std) || std < 0)
            throw new ArgumentException($"std must be a non-negative finite number, got {std}.", nameof(std));
        long rows = t.shape[0], cols = t.shape[1];
        long zeros = (long)Math.Ceiling(sparsity * rows);
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        Sampling.Normal(t, 0.0, std, generator);
        var permDevice = generator?.device ?? CPU; // PyTorch's torch.randperm(rows): the default (CPU) device
        for (long col = 0; col < cols; col++)
        {
            var perm = randperm(rows, generator: generator, device: permDevice); // drawn even when no zero is set, as PyTorch does
            if (zeros == 0) continue;
            t.select(1, col).index_fill_(0, perm.slice(0, 0, zeros, 1).to(t.device), 0.0);
        }
        return t;
    }

    /// <summary>
    /// Delta-orthogonal initialization of a convolution weight [out, in, k…] (Xiao et al. 2018, "Dynamical Isometry and a
    /// Mean Field Theory of CNNs"): all zeros except the kernel centre [:, :, k₁/2, …], which is an orthogonal
    /// [out, in] matrix times <paramref name="gain"/> drawn as PyTorch's <c>orthogonal_</c> draws it (N(0, 1), QR,
    /// sign fix). In PyTorch: <c>w.zero_(); orthogonal_(w[:, :, k₁//2, …], gain)</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The tensor does not have 3, 4 or 5 dimensions, or <paramref name="gain"/> is
    /// negative or not finite.</exception>
    public static Tensor DeltaOrthogonal(Tensor t, double gain = 1.0, Generator? generator = null)
    {
        ArgumentNullException.ThrowIfNull(t);
        if (t.dim() is < 3 or > 5)
            throw new ArgumentException($"Delta-orthogonal initialization needs a 3-, 4- or 5-D tensor (a convolution weight [out, in, k...]), got shape {Shape(t)}.", nameof(t));
        if (!double.IsFinite(gain) || gain < 0)
            throw new ArgumentException($"gain must be a non-negative finite number, got {gain}.", nameof(gain));
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        t.zero_();
        if (t.numel() == 0) return t;
        var centre = t[[TensorIndex.Colon, TensorIndex.Colon, .. t.shape.Skip(2).Select(k => TensorIndex.Single(k / 2))]];
        Sampling.Orthogonal(centre, gain, generator);
        return t;
    }

    private static string Shape(Tensor t) => $"[{string.Join(", ", t.shape)}]";
}
