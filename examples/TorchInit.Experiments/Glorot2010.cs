using Microsoft.ML;
using TorchSharp;

namespace TorchInit.Experiments;

/// <summary>
/// Glorot &amp; Bengio (2010), Table 1, MNIST column: five hidden layers of 1000 units, tanh / softsign / sigmoid, the "standard"
/// U(−1/√n, 1/√n) init ("inv-sqrt-n") against the normalized one (Glorot uniform), test error.
/// </summary>
public static class Glorot2010
{
    /// <summary>The paper's MNIST test errors (%), Table 1; "N" is the normalized init. Sigmoid was run with the standard init only.</summary>
    public static IReadOnlyDictionary<(string Activation, string Scheme), double> PaperTestError { get; } = new Dictionary<(string, string), double>
    {
        [("softsign", "inv-sqrt-n")] = 1.64, [("softsign", "glorot")] = 1.72,
        [("tanh", "inv-sqrt-n")] = 1.76, [("tanh", "glorot")] = 1.64,
        [("sigmoid", "inv-sqrt-n")] = 2.21,
    };

    /// <summary>The activations of the table.</summary>
    public static string[] Activations { get; } = ["tanh", "softsign", "sigmoid"];

    /// <summary>The mnist configuration of one activation: the "mlp" model with <paramref name="hidden"/>, "standard" and normalized init.</summary>
    public static MnistConfig Config(string activation, int[] hidden, int epochs, int batch, double lr, long seed, int train, int test, string dtype, int? maxSteps = null) =>
        new(epochs, batch, lr, seed, train, test, maxSteps, activation, ["mlp"], ["inv-sqrt-n", "glorot"], dtype, hidden);

    /// <summary>Runs the table: one mnist run per activation (each its own document, replayable as the "mnist" twin).</summary>
    public static IReadOnlyList<TwinDocument> Run(IEnumerable<MnistConfig> configs, IDataView data, torch.Device device, Action<string, int, int>? onStep = null) =>
        configs.Select(c => MnistTraining.Run(c, data, device, (name, i, n) => onStep?.Invoke($"{c.Activation}/{name}", i, n))).ToList();
}
