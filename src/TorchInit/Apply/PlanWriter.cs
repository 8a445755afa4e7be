using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit;

/// <summary>
/// Writes single parameters for one <c>ApplyInit</c> call: owns the call's generator, remembers which
/// tensors it already wrote (tied weights are written once) and produces the report rows.
/// </summary>
internal sealed class ParameterWriter : IDisposable
{
    private readonly InitOptions _options;
    private readonly Generator? _generator;
    private readonly bool _ownsGenerator;
    private readonly Fast.Sampler _sampler;
    private readonly Dictionary<IntPtr, string> _written = new();
    private readonly Dictionary<Tensor, string> _writtenObjects = new(ReferenceEqualityComparer.Instance);

    public ParameterWriter(InitOptions? options, bool plan = false)
    {
        _options = options ?? new InitOptions();
        _options.Validate();
        Plan = plan;
        if (_options.Seed is long seed)
        {
            _generator = new Generator((ulong)seed, new Device(DeviceType.CPU));
            _ownsGenerator = true;
        }
        else
        {
            _generator = _options.Generator;
        }
        _sampler = new Fast.Sampler(_generator, _options.Mode, _options.Seed, _options.MeasureRealized, _options.MaxDegreeOfParallelism);
    }

    public InitOptions Options => _options;

    /// <summary>Dry run (<c>PlanInit</c>): rows are computed, nothing is drawn or written, the action is <see cref="InitAction.Planned"/>.</summary>
    public bool Plan { get; }

    public void Dispose()
    {
        if (_ownsGenerator) _generator!.Dispose();
    }

    /// <summary>Initializes a weight with <paramref name="scheme"/>. <paramref name="fans"/> is called only when the weight is written.</summary>
    public InitReportRow Weight(string path, string layerType, string name, Tensor weight, InitScheme scheme, Func<Fans> fans)
    {
        if (Guard(path, layerType, name, weight, scheme.Name) is { } skipped) return skipped;
        // Fixed-value schemes need no fans; they are still reported for weights that have them.
        Fans? f = scheme.Kind == InitKind.VarianceScaling || weight.dim() >= 2 ? fans() : null;
        var d = Draw(weight, scheme, f);
        return Done(weight, Qualified(path, name), new InitReportRow(path, layerType, name, weight.shape, f?.FanIn, f?.FanOut, f is null ? null : _options.FanConvention,
            scheme.Name, d.Distribution, d.Gain, d.Std, d.Bound, double.NaN, double.NaN, InitAction.Initialized, ""), d.Moments);
    }

    /// <summary>
    /// Initializes a weight made of <paramref name="blocks"/> equal blocks stacked along dimension 0 (the gates
    /// of an LSTM/GRU weight), each block by <paramref name="scheme"/> with its own fans, in order.
    /// </summary>
    public InitReportRow WeightBlocks(string path, string layerType, string name, Tensor weight, InitScheme scheme, int blocks)
    {
        if (Guard(path, layerType, name, weight, scheme.Name) is { } skipped) return skipped;
        long size = weight.shape[0] / blocks;
        var blockShape = weight.shape.ToArray();
        blockShape[0] = size;
        var f = Fans.FromShape(blockShape, Qualified(path, name));
        Drawn d = default;
        for (int k = 0; k < blocks; k++)
        {
            using var block = weight.narrow(0, k * size, size);
            d = Draw(block, scheme, f);
        }
        var note = blocks == 1 ? "" : $"{blocks} blocks [{string.Join(", ", blockShape)}], one per gate, each drawn on its own";
        return Done(weight, Qualified(path, name), new InitReportRow(path, layerType, name, weight.shape, f.FanIn, f.FanOut, FanConvention.Torch,
            scheme.Name, d.Distribution, d.Gain, d.Std, d.Bound, double.NaN, double.NaN, InitAction.Initialized, note));
    }

    /// <summary>
    /// Sets every element of <paramref name="p"/> to <paramref name="value"/>, then, when given,
    /// elements [start, start + length) of dimension 0 to <paramref name="slice"/>'s value.
    /// </summary>
    public InitReportRow Constant(string path, string layerType, string name, Tensor p, double value, string scheme,
        (long Start, long Length, double Value)? slice = null, string note = "")
    {
        return Guard(path, layerType, name, p, scheme) ?? ConstantCore(path, layerType, name, p, value, scheme, slice, note);
    }

    private InitReportRow ConstantCore(string path, string layerType, string name, Tensor p, double value, string scheme,
        (long Start, long Length, double Value)? slice, string note)
    {
        if (!Plan)
        {
            Sampling.Fill(p, value);
            if (slice is var (start, length, v))
            {
                using var part = p.narrow(0, start, length);
                Sampling.Fill(part, v);
            }
        }
        return Done(p, Qualified(path, name), new InitReportRow(path, layerType, name, p.shape, null, null, null, scheme, "constant",
            double.NaN, 0, 0, double.NaN, double.NaN, InitAction.Initialized, note));
    }

    /// <summary>Initializes a bias by <paramref name="policy"/>; <paramref name="weightFans"/> supplies fan_in for PyTorch's default bias.</summary>
    public InitReportRow Bias(string path, string layerType, string name, Tensor bias, BiasPolicy policy, Func<Fans>? weightFans)
    {
        if (policy == BiasPolicy.Keep)
            return Row(path, layerType, name, bias, "keep", InitAction.Kept, "bias policy Keep");
        if (Guard(path, layerType, name, bias, policy.ToString()) is { } skipped) return skipped;
        if (policy == BiasPolicy.Zeros)
            return ConstantCore(path, layerType, name, bias, 0.0, "zeros", null, "");
        if (weightFans is null)
            return Row(path, layerType, name, bias, "TorchDefault", InitAction.Warning, "no weight to take fan_in from; left unchanged");
        var f = weightFans();
        double bound = f.FanIn > 0 ? 1 / Math.Sqrt(f.FanIn) : 0;
        var moments = Plan ? null : _sampler.Uniform(bias, -bound, bound);
        return Done(bias, Qualified(path, name), new InitReportRow(path, layerType, name, bias.shape, f.FanIn, f.FanOut, _options.FanConvention, "TorchDefault",
            "uniform", double.NaN, bound / Math.Sqrt(3.0), bound, double.NaN, double.NaN, InitAction.Initialized, ""), moments);
    }

    private readonly record struct Drawn(double Gain, double Std, double Bound, string Distribution, Fast.Moments? Moments = null);

    /// <summary>Draws <paramref name="scheme"/> into <paramref name="t"/> (not in a dry run) and says what it aimed for.</summary>
    private Drawn Draw(Tensor t, InitScheme scheme, Fans? f)
    {
        switch (scheme.Kind)
        {
            case InitKind.VarianceScaling:
            {
                double gain = _options.Gain ?? scheme.Gain;
                double std = VarianceScaling.Std(gain, scheme.Scale, scheme.Mode, f!.Value);
                Fast.Moments? moments = null;
                double bound = Plan ? VarianceScaling.Bound(scheme.Distribution, std) : VarianceScaling.Draw(t, scheme.Distribution, std, _sampler, out moments);
                return new(gain, std, bound, DistributionText(scheme.Distribution), moments);
            }
            case InitKind.Normal:
                return new(double.NaN, scheme.Std, double.PositiveInfinity, "normal", Plan ? null : _sampler.Normal(t, scheme.Mean, scheme.Std));
            case InitKind.Uniform:
                return new(double.NaN, (scheme.High - scheme.Low) / Math.Sqrt(12.0), (scheme.High - scheme.Low) / 2, "uniform",
                    Plan ? null : _sampler.Uniform(t, scheme.Low, scheme.High));
            case InitKind.Constant:
                if (!Plan) Sampling.Fill(t, scheme.Value);
                return new(double.NaN, 0, 0, "constant");
            case InitKind.Orthogonal:
            {
                double gain = _options.Gain ?? scheme.Gain;
                long rows = t.shape[0], cols = t.shape[0] == 0 ? 0 : t.numel() / t.shape[0];
                if (!Plan) Sampling.Orthogonal(t, gain, _generator);
                return new(gain, gain / Math.Sqrt(Math.Max(rows, cols)), gain, "orthogonal");
            }
            case InitKind.Auto:
                throw new ArgumentException("InitScheme.Auto chooses a scheme per layer from the activation that follows it; " +
                    "apply it to a module (model.ApplyInit(InitScheme.Auto)), not to a lone tensor.", nameof(scheme));
            default:
                throw new ArgumentOutOfRangeException(nameof(scheme), scheme.Kind, "unknown scheme kind");
        }
    }

    /// <summary>Marks the tensor written, measures it and finishes the row (action Planned in a dry run).</summary>
    private InitReportRow Done(Tensor p, string qualified, InitReportRow row, Fast.Moments? drawn = null)
    {
        MarkWritten(p, qualified);
        if (Plan) return row with { Action = InitAction.Planned, Note = row.Note.Length == 0 ? "dry run" : $"dry run; {row.Note}" };
        var (mean, std) = Measure(p, drawn);
        return row with { RealizedMean = mean, RealizedStd = std };
    }

    /// <summary>A row for a parameter that is deliberately not written.</summary>
    public static InitReportRow Row(string path, string layerType, string name, Tensor p, string scheme, InitAction action, string note) =>
        new(path, layerType, name, p.shape, null, null, null, scheme, "", double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, action, note);

    private InitReportRow? Guard(string path, string layerType, string name, Tensor p, string scheme)
    {
        var qualified = Qualified(path, name);
        if (WrittenAs(p) is { } first)
            return Row(path, layerType, name, p, scheme, InitAction.Skipped, $"shared with {first}, already initialized");
        if (p.device_type == DeviceType.META && !Plan)
            throw new InvalidOperationException(
                $"Parameter '{qualified}' {Shape(p)} is on the meta device and has no storage to initialize. " +
                "Materialize the model first (e.g. module.to_empty(device)), then call ApplyInit.");
        if (!_options.IncludeFrozen && p is Parameter { requires_grad: false })
            return Row(path, layerType, name, p, scheme, InitAction.Skipped, "frozen (requires_grad = false); set IncludeFrozen to initialize it");
        if (p.numel() == 0)
            return Row(path, layerType, name, p, scheme, InitAction.Warning, "zero-element tensor: initialization is a no-op");
        return null;
    }

    /// <summary>The row with its realized statistics measured again (after a later write to the tensor).</summary>
    public InitReportRow Remeasure(InitReportRow row, Tensor p)
    {
        if (Plan) return row;
        var (mean, std) = Measure(p);
        return row with { RealizedMean = mean, RealizedStd = std };
    }

    private (double Mean, double Std) Measure(Tensor p, Fast.Moments? drawn = null)
    {
        if (!_options.MeasureRealized) return (double.NaN, double.NaN);
        if (drawn is { } m) return (m.Mean, m.Std); // fast mode: summed during the fill
        if (Fast.FastFill.Measure(p, _options.MaxDegreeOfParallelism ?? Environment.ProcessorCount) is { } read) return (read.Mean, read.Std);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        return (p.mean().to_type(ScalarType.Float64).item<double>(), p.std().to_type(ScalarType.Float64).item<double>());
    }

    private string? WrittenAs(Tensor p) =>
        _writtenObjects.TryGetValue(p, out var name) || _written.TryGetValue(p.Handle, out name) ? name : null;

    private void MarkWritten(Tensor p, string qualified)
    {
        _writtenObjects.TryAdd(p, qualified);
        _written.TryAdd(p.Handle, qualified);
    }

    private static string Qualified(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";
    private static string Shape(Tensor p) => $"[{string.Join(", ", p.shape)}]";

    private static string DistributionText(Distribution d) => d switch
    {
        Distribution.Normal => "normal",
        Distribution.TruncatedNormal => "truncated normal",
        Distribution.Uniform => "uniform",
        _ => d.ToString(),
    };
}
