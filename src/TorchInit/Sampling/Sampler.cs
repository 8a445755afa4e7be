using TorchInit.Fast;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit;

/// <summary>
/// Where one call's random numbers come from, decided once: libtorch's generators (<see cref="DrawEngine.Exact"/>, through
/// <see cref="ExactSampling"/>) or the fast kernels (<see cref="DrawEngine.Fast"/>). Owns the call's seeded generator.
/// </summary>
/// <remarks>
/// <para>Exact mode with a seed draws from a private generator seeded with it: on the CPU by default, so a seed gives the
/// same weights on every device (the draw goes to a CPU temporary that is copied to the parameter's device); with
/// <see cref="SeededDraws.OnParameterDevice"/>, from a generator on the parameter's device seeded with it (PyTorch's
/// numbers after <c>torch.manual_seed</c> on that device, no copy).</para>
/// <para>In fast mode each drawn tensor gets the next stream number (0, 1, 2, … in the call's parameter order) under one
/// 64-bit seed: the options' seed, or else 64 bits drawn once from the options' generator or the global generator (so
/// <c>torch.manual_seed</c> still makes unseeded fast calls reproducible).</para>
/// </remarks>
internal sealed class Sampler : IDisposable
{
    private readonly Generator? _given;
    private readonly long? _seed;
    private readonly SeededDraws _seeded;
    private readonly bool _stats;
    private readonly int _parallelism;
    private readonly Dictionary<(DeviceType, int), Generator> _owned = new();
    private ulong? _fastSeed;
    private uint _stream;
    private readonly ShardWindow? _window;

    public Sampler(InitOptions options)
    {
        _given = options.Generator;
        _seed = options.Seed;
        _seeded = options.SeededDraws;
        Engine = options.Engine;
        _stats = options.MeasureRealized;
        _parallelism = options.MaxDegreeOfParallelism ?? Environment.ProcessorCount;
    }

    /// <summary>
    /// A fast-mode sampler that writes each tensor as the block <paramref name="window"/> of a larger global tensor:
    /// the values the global tensor gets from a fast call with <paramref name="seed"/> when it is that call's
    /// <paramref name="stream"/>-th drawn tensor. Draws only libtorch can make (orthogonal, sparse) are refused.
    /// </summary>
    public Sampler(ulong seed, uint stream, ShardWindow window, int parallelism)
    {
        Engine = DrawEngine.Fast;
        _fastSeed = seed;
        _stream = stream;
        _window = window;
        _parallelism = parallelism;
        _seeded = SeededDraws.OnCpu;
    }

    /// <summary>An exact-mode sampler drawing from <paramref name="generator"/> (null: the global generator), as the torch-named functions do.</summary>
    public Sampler(Generator? generator) : this(new InitOptions { Generator = generator }) { }

    public DrawEngine Engine { get; }

    public void Dispose()
    {
        foreach (var g in _owned.Values) g.Dispose();
        _owned.Clear();
    }

    /// <summary>The generator libtorch draws from for <paramref name="t"/>: the given one, the seeded one for the call, or null (the global one).</summary>
    public Generator? GeneratorFor(Tensor t)
    {
        if (_given is not null || _seed is not long seed) return _given;
        var device = _seeded == SeededDraws.OnParameterDevice ? (t.device_type, t.device_index) : (DeviceType.CPU, -1);
        if (!_owned.TryGetValue(device, out var g))
            _owned[device] = g = new Generator((ulong)seed, new Device(device.Item1, device.Item2));
        return g;
    }

    /// <summary>N(mean, std²). Returns the realized moments when fast mode measured them during the fill.</summary>
    public Moments? Normal(Tensor t, double mean, double std)
    {
        if (Engine == DrawEngine.Exact) { ExactSampling.Normal(t, mean, std, GeneratorFor(t), _parallelism); return null; }
        return FastDraw(t, FastDistribution.Normal, mean, std, 0);
    }

    /// <summary>U(low, high).</summary>
    public Moments? Uniform(Tensor t, double low, double high)
    {
        if (Engine == DrawEngine.Exact) { ExactSampling.Uniform(t, low, high, GeneratorFor(t), _parallelism); return null; }
        return FastDraw(t, FastDistribution.Uniform, low, high, 0);
    }

    /// <summary>N(mean, std²) truncated to [a, b]; fast mode needs the symmetric a, b = mean ∓ k·std with k ≤ 2.9.</summary>
    public Moments? TruncatedNormal(Tensor t, double mean, double std, double a, double b)
    {
        if (Engine == DrawEngine.Exact) { ExactSampling.TruncatedNormal(t, mean, std, a, b, GeneratorFor(t), _parallelism); return null; }
        double k = (b - mean) / std;
        if (Math.Abs((mean - a) / std - k) > 1e-12 * Math.Max(1, k))
            throw new NotSupportedException("Fast mode draws truncated normals symmetric about the mean only.");
        return FastDraw(t, FastDistribution.TruncatedNormal, mean, std, k);
    }

    /// <summary>A draw libtorch makes in either mode (orthogonal's QR, sparse's permutations): <paramref name="fill"/> runs with the call's generator.</summary>
    public void Draw(Tensor t, Action<Tensor, Generator?> fill)
    {
        if (_window is not null)
            throw new NotSupportedException("This fill is drawn by libtorch from the whole tensor; only normal, uniform, truncated normal and constant fills can be written shard by shard.");
        var g = GeneratorFor(t);
        ExactSampling.Draw(t, g, x => fill(x, g));
    }

    private Moments? FastDraw(Tensor t, FastDistribution d, double a, double b, double k)
    {
        var draw = new FastDraw(d, a, b, k, FastSeed(), _stream++);
        if (_window is { } w)
        {
            FastFill.FillShard(t, w.GlobalShape, w.Dim, w.Start, draw, _parallelism);
            return null;
        }
        return FastFill.Fill(t, draw, _parallelism, _stats);
    }

    private ulong FastSeed()
    {
        if (_fastSeed is ulong s) return s;
        if (_seed is long seed) return (_fastSeed = (ulong)seed).Value;
        // 62 bits from the generator (or the global one), as two 31-bit draws.
        var device = _given?.device ?? CPU;
        using var _ = no_grad();
        using var r = randint(0, int.MaxValue, [2], ScalarType.Int64, device, generator: _given);
        using var cpu = r.cpu();
        var v = cpu.data<long>().ToArray();
        return (_fastSeed = ((ulong)v[0] << 31) | (ulong)v[1]).Value;
    }
}

/// <summary>Where a shard sits in its global tensor: <c>global.narrow(Dim, Start, local.shape[Dim])</c>, or with Dim −1 elements [Start, Start + n) of the flattened global tensor.</summary>
internal sealed record ShardWindow(long[] GlobalShape, int Dim, long Start);
