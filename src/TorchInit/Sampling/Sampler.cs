using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit.Fast;

/// <summary>
/// Where one <c>ApplyInit</c> call's random numbers come from: libtorch's generators (<see cref="InitMode.Exact"/>)
/// or the fast kernels (<see cref="InitMode.Fast"/>). In fast mode each drawn tensor gets the next stream
/// number (0, 1, 2, … in the call's parameter order) under one 64-bit seed: the options' seed, or else 64
/// bits drawn once from the options' generator or the global generator (so <c>torch.manual_seed</c> still
/// makes unseeded fast calls reproducible).
/// </summary>
internal sealed class Sampler
{
    private readonly Generator? _generator;
    private readonly long? _seed;
    private readonly bool _stats;
    private readonly int _parallelism;
    private ulong? _fastSeed;
    private uint _stream;

    public Sampler(Generator? generator, InitMode mode = InitMode.Exact, long? seed = null, bool stats = false, int? parallelism = null)
    {
        _generator = generator;
        Mode = mode;
        _seed = seed;
        _stats = stats;
        _parallelism = parallelism ?? Environment.ProcessorCount;
    }

    public InitMode Mode { get; }

    /// <summary>N(mean, std²). Returns the realized moments when fast mode measured them during the fill.</summary>
    public Moments? Normal(Tensor t, double mean, double std)
    {
        if (Mode == InitMode.Exact) { Sampling.Normal(t, mean, std, _generator); return null; }
        return Fast(t, FastDistribution.Normal, mean, std, 0);
    }

    /// <summary>U(low, high).</summary>
    public Moments? Uniform(Tensor t, double low, double high)
    {
        if (Mode == InitMode.Exact) { Sampling.Uniform(t, low, high, _generator); return null; }
        return Fast(t, FastDistribution.Uniform, low, high, 0);
    }

    /// <summary>N(mean, std²) truncated to [a, b]; fast mode needs the symmetric a, b = mean ∓ k·std with k ≤ 2.9.</summary>
    public Moments? TruncatedNormal(Tensor t, double mean, double std, double a, double b)
    {
        if (Mode == InitMode.Exact) { Sampling.TruncatedNormal(t, mean, std, a, b, _generator); return null; }
        double k = (b - mean) / std;
        if (Math.Abs((mean - a) / std - k) > 1e-12 * Math.Max(1, k))
            throw new NotSupportedException("Fast mode draws truncated normals symmetric about the mean only.");
        return Fast(t, FastDistribution.TruncatedNormal, mean, std, k);
    }

    private Moments? Fast(Tensor t, FastDistribution d, double a, double b, double k)
    {
        var draw = new FastDraw(d, a, b, k, FastSeed(), _stream++);
        return FastFill.Fill(t, draw, _parallelism, _stats);
    }

    private ulong FastSeed()
    {
        if (_fastSeed is ulong s) return s;
        if (_seed is long seed) return (_fastSeed = (ulong)seed).Value;
        // 62 bits from the generator (or the global one), as two 31-bit draws.
        var device = _generator?.device ?? CPU;
        using var _ = no_grad();
        using var r = randint(0, int.MaxValue, [2], ScalarType.Int64, device, generator: _generator);
        using var cpu = r.cpu();
        var v = cpu.data<long>().ToArray();
        return (_fastSeed = ((ulong)v[0] << 31) | (ulong)v[1]).Value;
    }
}
