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

    public ParameterWriter(InitOptions? options)
    {
        _options = options ?? new InitOptions();
        _options.Validate();
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

    public void Dispose()
    {
        if (_ownsGenerator) _generator!.Dispose();
    }

    /// <summary>Initializes a weight with <paramref name="scheme"/>. <paramref name="fans"/> is called only when the weight is written.</summary>
    public InitReportRow Weight(string path, string layerType, string name, Tensor weight, InitScheme scheme, Func<Fans> fans)
    {
        var qualified = Qualified(path, name);
        if (Guard(path, layerType, name, weight, scheme.Name) is { } skipped) return skipped;
        // Fixed-value schemes need no fans; they are still reported for weights that have them.
        Fans? f = scheme.Kind == InitKind.VarianceScaling || weight.dim() >= 2 ? fans() : null;
        double gain = double.NaN, std, bound;
        string distribution;
        Fast.Moments? drawn = null;
        switch (scheme.Kind)
        {
            case InitKind.VarianceScaling:
                gain = _options.Gain ?? scheme.Gain;
                std = VarianceScaling.Std(gain, scheme.Scale, scheme.Mode, f!.Value);
                bound = VarianceScaling.Draw(weight, scheme.Distribution, std, _sampler, out drawn);
                distribution = DistributionText(scheme.Distribution);
                break;
            case InitKind.Normal:
                std = scheme.Std;
                bound = double.PositiveInfinity;
                drawn = _sampler.Normal(weight, scheme.Mean, scheme.Std);
                distribution = "normal";
                break;
            case InitKind.Uniform:
                std = (scheme.High - scheme.Low) / Math.Sqrt(12.0);
                bound = (scheme.High - scheme.Low) / 2;
                drawn = _sampler.Uniform(weight, scheme.Low, scheme.High);
                distribution = "uniform";
                break;
            case InitKind.Constant:
                std = 0; bound = 0;
                Sampling.Fill(weight, scheme.Value);
                distribution = "constant";
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(scheme), scheme.Kind, "unknown scheme kind");
        }
        MarkWritten(weight, qualified);
        var (mean, realized) = Measure(weight, drawn);
        return new InitReportRow(path, layerType, name, weight.shape, f?.FanIn, f?.FanOut, f is null ? null : _options.FanConvention,
            scheme.Name, distribution, gain, std, bound, mean, realized, InitAction.Initialized, "");
    }

    /// <summary>Initializes a bias by <paramref name="policy"/>; <paramref name="weightFans"/> supplies fan_in for PyTorch's default bias.</summary>
    public InitReportRow Bias(string path, string layerType, string name, Tensor bias, BiasPolicy policy, Func<Fans>? weightFans)
    {
        if (policy == BiasPolicy.Keep)
            return Row(path, layerType, name, bias, "keep", InitAction.Kept, "bias policy Keep");
        if (Guard(path, layerType, name, bias, policy.ToString()) is { } skipped) return skipped;
        InitReportRow row;
        Fast.Moments? drawn = null;
        if (policy == BiasPolicy.Zeros)
        {
            Sampling.Fill(bias, 0.0);
            row = new InitReportRow(path, layerType, name, bias.shape, null, null, null, "zeros", "constant",
                double.NaN, 0, 0, double.NaN, double.NaN, InitAction.Initialized, "");
        }
        else
        {
            if (weightFans is null)
                return Row(path, layerType, name, bias, "TorchDefault", InitAction.Warning, "no weight to take fan_in from; left unchanged");
            var f = weightFans();
            double bound = f.FanIn > 0 ? 1 / Math.Sqrt(f.FanIn) : 0;
            drawn = _sampler.Uniform(bias, -bound, bound);
            row = new InitReportRow(path, layerType, name, bias.shape, f.FanIn, f.FanOut, _options.FanConvention, "TorchDefault",
                "uniform", double.NaN, bound / Math.Sqrt(3.0), bound, double.NaN, double.NaN, InitAction.Initialized, "");
        }
        MarkWritten(bias, Qualified(path, name));
        var (mean, std) = Measure(bias, drawn);
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
        if (p.device_type == DeviceType.META)
            throw new InvalidOperationException(
                $"Parameter '{qualified}' {Shape(p)} is on the meta device and has no storage to initialize. " +
                "Materialize the model first (e.g. module.to_empty(device)), then call ApplyInit.");
        if (!_options.IncludeFrozen && p is Parameter { requires_grad: false })
            return Row(path, layerType, name, p, scheme, InitAction.Skipped, "frozen (requires_grad = false); set IncludeFrozen to initialize it");
        if (p.numel() == 0)
            return Row(path, layerType, name, p, scheme, InitAction.Warning, "zero-element tensor: initialization is a no-op");
        return null;
    }

    private (double Mean, double Std) Measure(Tensor p, Fast.Moments? drawn)
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
