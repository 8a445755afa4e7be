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

    /// <summary>The loss below which a run counts as training: half the loss of chance, ln(10) / 2.</summary>
    public static double TrainsBelow { get; } = Math.Log(10) / 2;

    /// <summary>
    /// Whether a run trained: the mean of its last tenth of losses (at least one) is below <see cref="TrainsBelow"/> and finite.
    /// </summary>
    public static bool Trained(IReadOnlyList<double> losses)
    {
        if (losses.Count == 0) return false;
        int k = Math.Max(1, losses.Count / 10);
        double last = losses.Skip(losses.Count - k).Average();
        return double.IsFinite(last) && last < TrainsBelow;
    }
}
