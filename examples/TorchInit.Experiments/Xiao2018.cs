namespace TorchInit.Experiments;

/// <summary>
/// Xiao et al. (2018), "Dynamical Isometry and a Mean Field Theory of CNNs": a plain tanh CNN (<see cref="Models.DeepCnn"/>: no
/// normalization, no skips) on MNIST at growing depth, Glorot and He against delta-orthogonal. The paper's claim: with
/// delta-orthogonal kernels the network trains at depths where Gaussian initializations no longer do.
/// </summary>
public static class Xiao2018
{
    /// <summary>The schemes compared: Glorot uniform, He normal, delta-orthogonal.</summary>
    public static string[] Schemes { get; } = ["glorot", "he", "delta-orthogonal"];

    /// <summary>
    /// The mnist configuration of one depth: the "deep-cnn" with <paramref name="depth"/> 3×3 tanh convolutions of
    /// <paramref name="channels"/> channels, each of <see cref="Schemes"/>, <paramref name="steps"/> SGD steps.
    /// </summary>
    public static MnistConfig Config(int depth, int channels, int batch, int steps, double lr, long seed, string dtype, int test = MnistFiles.TestCount)
    {
        int perEpoch = (MnistFiles.TrainCount + batch - 1) / batch;
        return new MnistConfig((steps + perEpoch - 1) / perEpoch, batch, lr, seed, MnistFiles.TrainCount, test, steps, "tanh", ["deep-cnn"], Schemes, dtype,
            [.. Enumerable.Repeat(channels, depth)]);
    }

    /// <summary>
    /// The loss below which a run counts as learning: 95 % of the loss of chance, 0.95 · ln 10 ≈ 2.19. A net that does not learn
    /// stays at ln 10 to the third decimal; within this experiment's budget (300 steps) no net reaches half of chance.
    /// </summary>
    public static double LearnsBelow { get; } = 0.95 * Math.Log(10);

    /// <summary>The mean of the last tenth of <paramref name="losses"/> (at least one loss); NaN when there are none.</summary>
    public static double FinalLoss(IReadOnlyList<double> losses)
    {
        if (losses.Count == 0) return double.NaN;
        int k = Math.Max(1, losses.Count / 10);
        return losses.Skip(losses.Count - k).Average();
    }

    /// <summary>Whether a run learned: its <see cref="FinalLoss"/> is finite and below <see cref="LearnsBelow"/>.</summary>
    public static bool Learned(IReadOnlyList<double> losses) => FinalLoss(losses) is var last && double.IsFinite(last) && last < LearnsBelow;
}
