using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit.Experiments;

/// <summary>
/// The synthetic classification task of the depth sweep and the He et al. experiment, drawn identically by the
/// PyTorch twins (scripts/twins/common.py, <c>ClusterStream</c>): standardized inputs x = 0.5·μ_y + √0.75·ε with class
/// means μ ~ N(0, I) (drawn once) and noise ε ~ N(0, I), so every feature has variance ≈ 1; labels cycle 0, 1, …, classes−1.
/// Everything is drawn on a private CPU generator (TorchSharp and PyTorch draw the same numbers for the same seed)
/// and then moved to the device, so every device sees the same data.
/// </summary>
public sealed class ClusterStream : IDisposable
{
    private readonly Generator _generator;
    private readonly Tensor _means;
    private readonly long _batch, _features, _classes;
    private readonly Device _device;
    private readonly ScalarType _dtype;

    /// <summary>A stream of batches of <paramref name="batch"/> rows from a generator seeded with <paramref name="seed"/>.</summary>
    public ClusterStream(long seed, long features, long classes, long batch, ScalarType dtype = ScalarType.Float32, Device? device = null)
    {
        _generator = new Generator((ulong)seed, new Device(DeviceType.CPU));
        _dtype = dtype;
        _means = randn([classes, features], dtype, generator: _generator).DetachFromDisposeScope();
        _classes = classes;
        _batch = batch;
        _features = features;
        _device = device ?? CPU;
    }

    /// <summary>The next batch: inputs [batch, features] (the stream's dtype) and labels [batch] (int64), on the stream's device.</summary>
    public (Tensor Inputs, Tensor Labels) Next()
    {
        using var scope = NewDisposeScope();
        var noise = randn([_batch, _features], _dtype, generator: _generator);
        var labels = arange(_batch, ScalarType.Int64) % _classes;
        var x = _means.index_select(0, labels) * 0.5 + noise * Math.Sqrt(0.75);
        return (scope.MoveToOuter(x.to(_device)), scope.MoveToOuter(labels.to(_device)));
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _means.Dispose();
        _generator.Dispose();
    }
}
