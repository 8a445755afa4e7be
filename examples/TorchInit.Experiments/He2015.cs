using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit.Experiments;

/// <summary>Sizes and settings of the He et al. (2015) experiment; the JSON "config" of its twin documents.</summary>
/// <param name="Depth">Hidden ReLU layers (30 in the paper's Fig. 3), before the Linear classifier.</param>
/// <param name="Width">Units per hidden layer; also the input dimension.</param>
/// <param name="Classes">Output classes.</param>
/// <param name="Batch">Rows per batch.</param>
/// <param name="Steps">SGD steps per scheme.</param>
/// <param name="Lr">SGD learning rate.</param>
/// <param name="Seed">Weight seed; the data uses seed + 1.</param>
/// <param name="Schemes">Schemes to compare: "glorot-normal" (Xavier, std √(1/n)) and "he".</param>
/// <param name="Dtype">"float32" (default) or "float64".</param>
public sealed record He2015Config(
    int Depth = 30, int Width = 256, int Classes = 10, int Batch = 128, int Steps = 300, double Lr = 0.01, long Seed = 0,
    string[]? Schemes = null, string Dtype = "float32")
{
    /// <summary>The schemes, defaults (glorot-normal, he) filled in.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string[] SchemeList => Schemes ?? ["glorot-normal", "he"];

    /// <summary>Checks sizes, names and dtype.</summary>
    /// <exception cref="ArgumentException">A size is not positive, or a name is unknown.</exception>
    public void Validate()
    {
        Check.Positive(Depth, "--depth"); Check.Positive(Width, "--width"); Check.Positive(Classes, "classes");
        Check.Positive(Batch, "--batch"); Check.Positive(Steps, "--steps"); Check.PositiveFinite(Lr, "--lr");
        foreach (var s in SchemeList) ExperimentScheme.Parse(s);
        Dtypes.Parse(Dtype);
    }
}

/// <summary>
/// He et al. (2015), Fig. 3, at small scale: a plain deep ReLU MLP (no batch norm, no skips) trained with SGD from
/// Xavier (std √(1/n)) and from He (std √(2/n)) initialization. With Xavier the forward signal halves in variance at
/// every layer, so after 30 layers the output barely depends on the input and learning stalls; He keeps the variance.
/// </summary>
public static class He2015
{
    /// <summary>Runs every scheme; <paramref name="onStep"/> gets (run name, steps done, steps) after each step.</summary>
    public static TwinDocument Run(He2015Config config, Device device, Action<string, int, int>? onStep = null)
    {
        config.Validate();
        var runs = new List<TwinRun>();
        foreach (var schemeName in config.SchemeList)
        {
            var scheme = ExperimentScheme.Parse(schemeName);
            runs.Add(RunOne(scheme.Name, config, scheme, device, (i, n) => onStep?.Invoke(scheme.Name, i, n)));
        }
        return new TwinDocument { Experiment = "he2015", Producer = Producer.TorchSharp, Config = TwinDocument.ConfigOf(config), Runs = runs };
    }

    /// <summary>SGD steps of the MNIST runs by default: enough for Xavier's 22-layer net to leave ln 10 (measured: after ~800 steps at lr 0.02).</summary>
    public const int MnistSteps = 1500;

    /// <summary>The SGD learning rate of the MNIST runs by default.</summary>
    public const double MnistLr = 0.02;

    /// <summary>
    /// Fig. 3 on the real digits: the mnist configuration of one depth — the "mlp" model with <paramref name="depth"/> hidden ReLU
    /// layers of <paramref name="width"/> units on the 784 pixels (no normalization, no skips), Xavier ("glorot-normal", std √(1/n) for
    /// a square layer) against He (std √(2/n)), <paramref name="steps"/> SGD steps over MNIST's 60,000 training digits.
    /// </summary>
    public static MnistConfig OnMnist(int depth, int width, int batch, int steps, double lr, long seed, string dtype, int test = MnistFiles.TestCount)
    {
        int perEpoch = (MnistFiles.TrainCount + batch - 1) / batch;
        return new MnistConfig((steps + perEpoch - 1) / perEpoch, batch, lr, seed, MnistFiles.TrainCount, test, steps, "relu", ["mlp"], ["glorot-normal", "he"], dtype,
            [.. Enumerable.Repeat(width, depth)]);
    }

    /// <summary>The mean of the last min(10, n) losses: "the loss after N steps", smoothed over batch noise.</summary>
    public static double FinalLoss(IReadOnlyList<double> losses)
    {
        int k = Math.Min(10, losses.Count);
        return k == 0 ? double.NaN : losses.Skip(losses.Count - k).Average();
    }

    private static TwinRun RunOne(string name, He2015Config c, ExperimentScheme scheme, Device device, Action<int, int> onStep) =>
        SyntheticRun.Run(name, Activation.Relu, scheme, c.Depth, c.Width, c.Classes, c.Batch, c.Steps, c.Lr, c.Seed, Dtypes.Parse(c.Dtype), device, onStep, countIdenticalUnits: false);
}
