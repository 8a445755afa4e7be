using static TorchSharp.torch;

namespace TorchInit;

public static partial class Init
{
    /// <summary>
    /// Fills <paramref name="local"/> with elements [start, start + n) (n = local.numel(), in row-major order) of a
    /// global tensor of shape <paramref name="globalShape"/> initialized by <paramref name="scheme"/> with the
    /// <see cref="DrawEngine.Fast"/> engine and <paramref name="seed"/>: local.view(−1)[i] = global.view(−1)[start + i],
    /// where global is what <c>global.ApplyInit(scheme, new InitOptions { Engine = DrawEngine.Fast, Seed = seed })</c>
    /// writes (the global tensor's <paramref name="stream"/>-th drawn tensor of a fast call when stream &gt; 0, e.g.
    /// a model's parameter in <c>ApplyInit</c>'s order). The scheme is resolved for the global shape (fans by PyTorch's
    /// rule), and each value depends only on the seed, the stream and its global index, so a model split across
    /// processes or devices is initialized exactly as the unsplit model without anyone generating the whole.
    /// </summary>
    /// <param name="local">The shard to fill in place: any shape, floating dtype, device or layout (values as for a float32/float64 CPU tensor, rounded to its dtype).</param>
    /// <param name="scheme">A scheme that resolves to a normal, uniform, truncated normal or constant fill.</param>
    /// <param name="globalShape">The shape of the whole tensor the shard belongs to.</param>
    /// <param name="start">The flat (row-major) index of the shard's first element in the global tensor.</param>
    /// <param name="seed">The fast engine's seed (<see cref="InitOptions.Seed"/>); non-negative.</param>
    /// <param name="stream">The global tensor's position among the drawn tensors of the fast call it stands for (0 for a lone tensor).</param>
    /// <param name="gain">Overrides the scheme's gain (<see cref="InitOptions.Gain"/>).</param>
    /// <param name="maxDegreeOfParallelism">Threads to use; null: <see cref="Environment.ProcessorCount"/>. The values do not depend on it.</param>
    /// <returns><paramref name="local"/>.</returns>
    /// <exception cref="ArgumentException">The range lies outside the global tensor, the seed or stream is negative, the gain invalid, or the dtype not floating-point.</exception>
    /// <exception cref="NotSupportedException">The scheme is drawn by libtorch from the whole tensor (orthogonal, sparse, …) or is a truncated normal that is not symmetric about its mean.</exception>
    public static Tensor FastShard(Tensor local, InitScheme scheme, long[] globalShape, long start, long seed,
        int stream = 0, double? gain = null, int? maxDegreeOfParallelism = null)
    {
        ArgumentNullException.ThrowIfNull(local);
        long total = Total(globalShape);
        if (start < 0 || start + local.numel() > total)
            throw new ArgumentException($"Elements [{start}, {start + local.numel()}) lie outside a global tensor of {total} elements ({Check.Shape(globalShape)}).", nameof(start));
        return WriteShard(local, scheme, new ShardWindow((long[])globalShape.Clone(), -1, start), seed, stream, gain, maxDegreeOfParallelism);
    }

    /// <summary>
    /// Fills <paramref name="local"/> with the block <c>global.narrow(dim, start, local.shape[dim])</c> of a global tensor
    /// of shape <paramref name="globalShape"/> initialized by <paramref name="scheme"/> with the <see cref="DrawEngine.Fast"/>
    /// engine and <paramref name="seed"/> (a row block of a weight for dim 0, a column block for dim 1):
    /// local[…, i, …] = global[…, start + i, …]. Otherwise as <see cref="FastShard"/>: the shards of any split concatenate
    /// (<c>torch.cat(shards, dim)</c>) to the bits of the whole.
    /// </summary>
    /// <param name="local">The shard: the global shape except along <paramref name="dim"/>; any floating dtype, device or layout.</param>
    /// <param name="scheme">A scheme that resolves to a normal, uniform, truncated normal or constant fill.</param>
    /// <param name="globalShape">The shape of the whole tensor.</param>
    /// <param name="dim">The dimension the global tensor is split along (negative counts from the end).</param>
    /// <param name="start">The shard's first index along <paramref name="dim"/>.</param>
    /// <param name="seed">The fast engine's seed; non-negative.</param>
    /// <param name="stream">The global tensor's position among the drawn tensors of the fast call it stands for (0 for a lone tensor).</param>
    /// <param name="gain">Overrides the scheme's gain.</param>
    /// <param name="maxDegreeOfParallelism">Threads to use; null: <see cref="Environment.ProcessorCount"/>. The values do not depend on it.</param>
    /// <returns><paramref name="local"/>.</returns>
    /// <exception cref="ArgumentException">The shard's shape does not fit the global shape at that place, or an argument is invalid.</exception>
    /// <exception cref="NotSupportedException">The scheme is drawn by libtorch from the whole tensor (orthogonal, sparse, …).</exception>
    public static Tensor FastShardAlong(Tensor local, InitScheme scheme, long[] globalShape, int dim, long start, long seed,
        int stream = 0, double? gain = null, int? maxDegreeOfParallelism = null)
    {
        ArgumentNullException.ThrowIfNull(local);
        Total(globalShape);
        int rank = globalShape.Length;
        if (dim < 0) dim += rank;
        if (dim < 0 || dim >= rank)
            throw new ArgumentException($"Dimension {dim} is outside a global shape {Check.Shape(globalShape)}.", nameof(dim));
        var shape = local.shape;
        bool fits = shape.Length == rank && start >= 0 && start + shape[dim] <= globalShape[dim];
        for (int i = 0; fits && i < rank; i++) fits = i == dim || shape[i] == globalShape[i];
        if (!fits)
            throw new ArgumentException($"A shard {Check.Shape(shape)} at {start} along dimension {dim} does not fit in a global tensor {Check.Shape(globalShape)}.", nameof(local));
        return WriteShard(local, scheme, new ShardWindow((long[])globalShape.Clone(), dim, start), seed, stream, gain, maxDegreeOfParallelism);
    }

    private static long Total(long[] globalShape)
    {
        ArgumentNullException.ThrowIfNull(globalShape);
        long total = 1;
        foreach (var s in globalShape)
        {
            if (s < 0) throw new ArgumentException($"Negative size in the global shape {Check.Shape(globalShape)}.", nameof(globalShape));
            total *= s;
        }
        return total;
    }

    private static Tensor WriteShard(Tensor local, InitScheme scheme, ShardWindow window, long seed, int stream, double? gain, int? parallelism)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        if (seed < 0) throw new ArgumentException($"Seed must be non-negative, got {seed}.", nameof(seed));
        if (stream < 0) throw new ArgumentException($"Stream must be non-negative, got {stream}.", nameof(stream));
        if (parallelism is < 1) throw new ArgumentException($"MaxDegreeOfParallelism must be at least 1, got {parallelism}.", nameof(parallelism));
        if (gain is double g) Check.FiniteNonNegative(g, nameof(gain));
        var shape = window.GlobalShape;
        if (Total(shape) == 0) return local;
        Fans? fans = scheme.NeedsFans ? Fans.FromShape(shape) : null;
        var fill = scheme.Resolve(new FillRequest(shape, fans, gain, "tensor"));
        if (fill is not (NormalFill or UniformFill or TruncatedNormalFill or ConstantFill { Slice: null }))
            throw new NotSupportedException($"A {fill.Distribution} fill is drawn by libtorch from the whole tensor; only normal, uniform, truncated normal and constant fills can be written shard by shard.");
        TensorCheck.EnsureWritable(local, fill, "local");
        if (local.numel() == 0) return local;
        using var sampler = new Sampler((ulong)seed, (uint)stream, window, parallelism ?? Environment.ProcessorCount);
        fill.Write(local, sampler);
        return local;
    }
}
