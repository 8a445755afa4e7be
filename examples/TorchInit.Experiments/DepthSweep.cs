using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit.Experiments;

/// <summary>Sizes and settings of the depth sweep; the JSON "config" of its twin documents (snake_case keys).</summary>
/// <param name="Depth">Hidden layers (Linear + activation each), before the Linear classifier.</param>
/// <param name="Width">Units per hidden layer; also the input dimension.</param>
/// <param name="Classes">Output classes.</param>
/// <param name="Batch">Rows per batch (probe and training).</param>
/// <param name="Steps">SGD steps per run.</param>
/// <param name="Lr">SGD learning rate.</param>
/// <param name="Seed">Weight seed; the data uses seed + 1.</param>
/// <param name="Activations">Activations to sweep (tanh, relu, selu).</param>
/// <param name="Schemes">Schemes to sweep (<see cref="ExperimentScheme"/> names).</param>
/// <param name="Dtype">"float32" (default) or "float64" for weights, data and arithmetic.</param>
public sealed record DepthSweepConfig(
    int Depth = 10, int Width = 256, int Classes = 10, int Batch = 256, int Steps = 100, double Lr = 0.01, long Seed = 0,
    string[]? Activations = null, string[]? Schemes = null, string Dtype = "float32")
{
    /// <summary>tanh, relu, selu.</summary>
    public static readonly string[] DefaultActivations = ["tanh", "relu", "selu"];
    /// <summary>normal-0.01, normal-1, zeros, inv-sqrt-n, glorot, he, lecun.</summary>
    public static readonly string[] DefaultSchemes = ["normal-0.01", "normal-1", "zeros", "inv-sqrt-n", "glorot", "he", "lecun"];

    /// <summary>The activations, defaults filled in.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string[] ActivationList => Activations ?? DefaultActivations;
    /// <summary>The schemes, defaults filled in.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string[] SchemeList => Schemes ?? DefaultSchemes;

    /// <summary>Checks sizes, names and dtype.</summary>
    /// <exception cref="ArgumentException">A size is not positive, or a name is unknown.</exception>
    public void Validate()
    {
        Check.Positive(Depth, "--depth"); Check.Positive(Width, "--width"); Check.Positive(Classes, "classes");
        Check.Positive(Batch, "--batch"); Check.Positive(Steps, "--steps"); Check.PositiveFinite(Lr, "--lr");
        if (Classes > Width) throw new ArgumentException($"classes ({Classes}) must not exceed --width ({Width}).");
        foreach (var a in ActivationList) Models.ParseActivation(a);
        foreach (var s in SchemeList) ExperimentScheme.Parse(s);
        Dtypes.Parse(Dtype);
    }
}

internal static class Check
{
    public static void Positive(long v, string name)
    {
        if (v <= 0) throw new ArgumentException($"{name} must be positive, got {v}.");
    }

    public static void PositiveFinite(double v, string name)
    {
        if (!double.IsFinite(v) || v <= 0) throw new ArgumentException($"{name} must be a positive number, got {v}.");
    }
}

/// <summary>
/// Glorot and Bengio's (2010) experiment: an MLP of <see cref="DepthSweepConfig.Depth"/> hidden layers on standardized
/// inputs, for each activation × scheme: the per-layer activation and gradient statistics at initialization (the
/// <see cref="SignalProbe"/> on the first batch), then <see cref="DepthSweepConfig.Steps"/> SGD steps, then whether each
/// hidden layer's units are all identical (zeros never break that symmetry).
/// </summary>
public static class DepthSweep
{
    /// <summary>Runs the sweep; <paramref name="onStep"/> gets (run name, steps done, steps) after each step.</summary>
    public static TwinDocument Run(DepthSweepConfig config, Device device, Action<string, int, int>? onStep = null)
    {
        config.Validate();
        var runs = new List<TwinRun>();
        foreach (var activationName in config.ActivationList)
        foreach (var schemeName in config.SchemeList)
        {
            var activation = Models.ParseActivation(activationName);
            var scheme = ExperimentScheme.Parse(schemeName);
            string name = $"{activation.Name()}/{scheme.Name}";
            runs.Add(RunOne(name, config, activation, scheme, device, (i, n) => onStep?.Invoke(name, i, n)));
        }
        return new TwinDocument
        {
            Experiment = "depth-sweep",
            Producer = Producer.TorchSharp,
            Config = TwinDocument.ConfigOf(config),
            Runs = runs,
        };
    }

    private static TwinRun RunOne(string name, DepthSweepConfig c, Activation activation, ExperimentScheme scheme, Device device, Action<int, int> onStep) =>
        SyntheticRun.Run(name, activation, scheme, c.Depth, c.Width, c.Classes, c.Batch, c.Steps, c.Lr, c.Seed, Dtypes.Parse(c.Dtype), device, onStep, countIdenticalUnits: true);
}

/// <summary>Names of the producers written into twin documents.</summary>
public static class Producer
{
    /// <summary>"torchsharp" and TorchSharp's assembly version.</summary>
    public static string TorchSharp => $"torchsharp {typeof(torch).Assembly.GetName().Version?.ToString(3)}";
}
