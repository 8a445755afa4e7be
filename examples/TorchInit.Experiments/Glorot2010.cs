namespace TorchInit.Experiments;

/// <summary>
/// Glorot &amp; Bengio (2010), Table 1, MNIST column: five hidden layers of 1000 units, tanh / softsign / sigmoid, the "standard"
/// U(−1/√n, 1/√n) init ("inv-sqrt-n") against the normalized one (Glorot uniform), SGD with minibatches of 10, the learning rate
/// chosen on a validation split from a small grid, test error on MNIST's 10,000 test digits.
/// </summary>
public static class Glorot2010
{
    /// <summary>The paper's MNIST test errors (%), Table 1; "glorot" is the normalized init. Sigmoid was run with the standard init only.</summary>
    public static IReadOnlyDictionary<(string Activation, string Scheme), double> PaperTestError { get; } = new Dictionary<(string, string), double>
    {
        [("softsign", "inv-sqrt-n")] = 1.64, [("softsign", "glorot")] = 1.72,
        [("tanh", "inv-sqrt-n")] = 1.76, [("tanh", "glorot")] = 1.64,
        [("sigmoid", "inv-sqrt-n")] = 2.21,
    };

    /// <summary>The activations of the table.</summary>
    public static string[] Activations { get; } = ["tanh", "softsign", "sigmoid"];

    /// <summary>The schemes of the table: the standard init and the normalized one.</summary>
    public static string[] Schemes { get; } = ["inv-sqrt-n", "glorot"];

    /// <summary>The mnist configuration of one activation and learning rate: the "mlp" model with <paramref name="hidden"/>, standard and normalized init.</summary>
    public static MnistConfig Config(string activation, int[] hidden, int epochs, int batch, double lr, long seed, int train, int validation, int test, string dtype, int? maxSteps = null) =>
        new(epochs, batch, lr, seed, train, test, maxSteps, activation, ["mlp"], Schemes, dtype, hidden, validation);

    /// <summary>
    /// The table: for each activation × scheme, the learning rate of the grid with the lowest validation error after the last epoch
    /// (the first in grid order on a tie; the only one when the grid has one and there is no validation split), with its
    /// validation and test error and the paper's.
    /// </summary>
    /// <exception cref="ArgumentException">The grid has several learning rates but the runs measured no validation error.</exception>
    public static IReadOnlyList<Glorot2010Row> Table(IReadOnlyList<(MnistConfig Config, TwinDocument Document)> runs)
    {
        var rows = new List<Glorot2010Row>();
        foreach (var activation in runs.Select(r => r.Config.Activation).Distinct())
        foreach (var scheme in Schemes)
        {
            var candidates = runs.Where(r => r.Config.Activation == activation)
                .Select(r => (r.Config.Lr, Run: r.Document.Runs.First(x => x.Name == $"mlp/{scheme}"))).ToList();
            if (candidates.Count > 1 && candidates.Any(c => c.Run.ValidationAccuracy is not { Count: > 0 }))
                throw new ArgumentException("Choosing the learning rate from a grid needs a validation split (--validation).");
            var best = candidates.OrderBy(c => 1 - (c.Run.ValidationAccuracy?.LastOrDefault() ?? 0)).First();
            double? paper = PaperTestError.TryGetValue((activation, scheme), out var e) ? e : null;
            rows.Add(new Glorot2010Row(activation, scheme, best.Lr,
                1 - (best.Run.ValidationAccuracy?.LastOrDefault() ?? double.NaN), 1 - (best.Run.Accuracy?.LastOrDefault() ?? double.NaN), paper, best.Run));
        }
        return rows;
    }
}

/// <summary>One row of the Glorot &amp; Bengio 2010 table as measured here.</summary>
/// <param name="Activation">tanh, softsign or sigmoid.</param>
/// <param name="Scheme">"inv-sqrt-n" (standard) or "glorot" (normalized).</param>
/// <param name="Lr">The learning rate chosen on the validation split.</param>
/// <param name="ValidationError">Its validation error (fraction) after the last epoch; NaN without a validation split.</param>
/// <param name="TestError">Its test error (fraction) after the last epoch.</param>
/// <param name="PaperTestError">The paper's test error (%), null where the paper has none.</param>
/// <param name="Chosen">The run of the chosen learning rate (its loss curve).</param>
public sealed record Glorot2010Row(string Activation, string Scheme, double Lr, double ValidationError, double TestError, double? PaperTestError, TwinRun Chosen);
