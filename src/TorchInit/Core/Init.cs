using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit;

/// <summary>
/// Tensor-level initializers with PyTorch's <c>torch.nn.init</c> semantics, each a few lines on the
/// variance-scaling core. All fill the tensor in place under <c>no_grad</c> and return it. With the same
/// seed they give bit-identical results to PyTorch. Unlike TorchSharp 0.107's <c>torch.nn.init</c>, the
/// <c>generator</c> argument is honoured everywhere and <c>XavierNormal</c> draws from a normal.
/// </summary>
public static class Init
{
    /// <summary>PyTorch's <c>_calculate_fan_in_and_fan_out</c>: fan_in = size(1) × receptive field, fan_out = size(0) × receptive field.</summary>
    /// <exception cref="ArgumentException">The tensor has fewer than 2 dimensions.</exception>
    public static Fans CalculateFans(Tensor tensor) => Fans.FromShape(tensor.shape);

    /// <summary>U(<paramref name="low"/>, <paramref name="high"/>). PyTorch: <c>uniform_</c>.</summary>
    public static Tensor Uniform(Tensor tensor, double low = 0.0, double high = 1.0, Generator? generator = null)
    {
        Check.Finite(low, nameof(low)); Check.Finite(high, nameof(high));
        if (low > high) throw new ArgumentException($"low ({low}) must not exceed high ({high}).", nameof(low));
        Sampling.Uniform(tensor, low, high, generator);
        return tensor;
    }

    /// <summary>N(<paramref name="mean"/>, <paramref name="std"/>²). PyTorch: <c>normal_</c>.</summary>
    public static Tensor Normal(Tensor tensor, double mean = 0.0, double std = 1.0, Generator? generator = null)
    {
        Check.Finite(mean, nameof(mean)); Check.FiniteNonNegative(std, nameof(std));
        Sampling.Normal(tensor, mean, std, generator);
        return tensor;
    }

    /// <summary>
    /// PyTorch's <c>trunc_normal_</c>: N(mean, std²) truncated to the <b>absolute</b> interval [a, b]
    /// (default [−2, 2], which is ±2σ only when std = 1 — the known trap; for ±2σ with the target
    /// variance kept, use a <see cref="Distribution.TruncatedNormal"/> scheme).
    /// </summary>
    public static Tensor TruncNormal(Tensor tensor, double mean = 0.0, double std = 1.0, double a = -2.0, double b = 2.0, Generator? generator = null)
    {
        Check.Finite(mean, nameof(mean)); Check.Finite(a, nameof(a)); Check.Finite(b, nameof(b));
        if (!double.IsFinite(std) || std <= 0) throw new ArgumentException($"std must be a positive finite number, got {std}.", nameof(std));
        if (a >= b) throw new ArgumentException($"a ({a}) must be less than b ({b}).", nameof(a));
        Sampling.TruncatedNormal(tensor, mean, std, a, b, generator);
        return tensor;
    }

    /// <summary>Every element set to <paramref name="value"/>. PyTorch: <c>constant_</c>.</summary>
    public static Tensor Constant(Tensor tensor, double value)
    {
        Check.Finite(value, nameof(value));
        Sampling.Fill(tensor, value);
        return tensor;
    }

    /// <summary>
    /// Glorot/Xavier uniform: U(−a, a), a = gain × √(6 / (fan_in + fan_out)). PyTorch: <c>xavier_uniform_</c>.
    /// </summary>
    public static Tensor XavierUniform(Tensor tensor, double gain = 1.0, Generator? generator = null) =>
        Scaled(tensor, gain, FanMode.FanAvg, Distribution.Uniform, generator);

    /// <summary>Glorot/Xavier normal: N(0, σ²), σ = gain × √(2 / (fan_in + fan_out)). PyTorch: <c>xavier_normal_</c>.</summary>
    public static Tensor XavierNormal(Tensor tensor, double gain = 1.0, Generator? generator = null) =>
        Scaled(tensor, gain, FanMode.FanAvg, Distribution.Normal, generator);

    /// <summary>
    /// He/Kaiming uniform: U(−b, b), b = gain × √(3 / fan), gain = <see cref="Gain.Calculate"/>(<paramref name="nonlinearity"/>, <paramref name="a"/>).
    /// PyTorch: <c>kaiming_uniform_(a, mode, nonlinearity)</c>, whose default nonlinearity is leaky_relu with a = 0 (gain √2).
    /// </summary>
    public static Tensor KaimingUniform(Tensor tensor, double a = 0, FanMode mode = FanMode.FanIn,
        Nonlinearity nonlinearity = Nonlinearity.LeakyRelu, Generator? generator = null) =>
        Scaled(tensor, Gain.Calculate(nonlinearity, a), Kaiming(mode), Distribution.Uniform, generator);

    /// <summary>He/Kaiming normal: N(0, σ²), σ = gain / √fan. PyTorch: <c>kaiming_normal_(a, mode, nonlinearity)</c>.</summary>
    public static Tensor KaimingNormal(Tensor tensor, double a = 0, FanMode mode = FanMode.FanIn,
        Nonlinearity nonlinearity = Nonlinearity.LeakyRelu, Generator? generator = null) =>
        Scaled(tensor, Gain.Calculate(nonlinearity, a), Kaiming(mode), Distribution.Normal, generator);

    /// <summary>
    /// (Semi-)orthogonal matrix times <paramref name="gain"/> (Saxe et al. 2013). PyTorch: <c>orthogonal_(tensor, gain)</c>.
    /// The tensor is flattened to rows × cols (rows = size(0)); its rows (rows ≤ cols) or columns (rows &gt; cols)
    /// are orthonormal before scaling, so each element has standard deviation gain / √max(rows, cols).
    /// The N(0, 1) draw is the same as PyTorch's for the same seed; the QR decomposition runs in libtorch's
    /// LAPACK, so the result agrees with PyTorch's to about 1e-6, not necessarily bit for bit.
    /// </summary>
    /// <exception cref="ArgumentException">The tensor has fewer than 2 dimensions, or the gain is negative or not finite.</exception>
    public static Tensor Orthogonal(Tensor tensor, double gain = 1.0, Generator? generator = null)
    {
        Check.FiniteNonNegative(gain, nameof(gain));
        Sampling.Orthogonal(tensor, gain, generator);
        return tensor;
    }

    private static FanMode Kaiming(FanMode mode) => mode == FanMode.FanAvg
        ? throw new ArgumentException("Kaiming initialization takes FanIn or FanOut; FanAvg is Xavier's.", nameof(mode))
        : mode;

    private static Tensor Scaled(Tensor tensor, double gain, FanMode mode, Distribution distribution, Generator? generator)
    {
        Check.FiniteNonNegative(gain, nameof(gain));
        var fans = Fans.FromShape(tensor.shape);
        if (tensor.numel() == 0) return tensor; // PyTorch warns and does nothing
        VarianceScaling.Draw(tensor, distribution, VarianceScaling.Std(gain, 1.0, mode, fans), generator);
        return tensor;
    }
}
