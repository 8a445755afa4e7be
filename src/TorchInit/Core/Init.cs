using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit;

/// <summary>
/// Tensor-level initializers with PyTorch's <c>torch.nn.init</c> names and semantics, each one line on a scheme
/// (the fan-based ones on the variance-scaling core). All fill the tensor in place under <c>no_grad</c> and return it;
/// with the same seed they give bit-identical results to PyTorch. Unlike TorchSharp 0.107's <c>torch.nn.init</c>, the
/// <c>generator</c> argument is honoured everywhere and <c>XavierNormal</c> draws from a normal. Each function checks
/// its tensor before writing (floating-point dtype, storage, shape) and throws a managed exception naming it.
/// </summary>
public static partial class Init
{
    /// <summary>PyTorch's <c>_calculate_fan_in_and_fan_out</c>: fan_in = size(1) × receptive field, fan_out = size(0) × receptive field.</summary>
    /// <exception cref="ArgumentException">The tensor has fewer than 2 dimensions.</exception>
    /// <exception cref="ObjectDisposedException">The tensor was disposed.</exception>
    public static Fans CalculateFans(Tensor tensor)
    {
        TensorCheck.EnsureAlive(tensor, generator: null);
        return Fans.FromShape(tensor.shape);
    }

    /// <summary>
    /// PyTorch's <c>trunc_normal_</c>: N(mean, std²) truncated to the <b>absolute</b> interval [a, b]
    /// (default [−2, 2], which is ±2σ only when std = 1 — the known trap; for ±2σ with the target
    /// variance kept, use a <see cref="Distribution.TruncatedNormal"/> scheme).
    /// </summary>
    /// <exception cref="ArgumentException">A number is not finite, std is not positive (0 is a constant: <see cref="Constant"/>), a ≥ b, or the tensor is not floating-point.</exception>
    /// <exception cref="ObjectDisposedException">The tensor or the generator was disposed.</exception>
    public static Tensor TruncNormal(Tensor tensor, double mean = 0.0, double std = 1.0, double a = -2.0, double b = 2.0, Generator? generator = null)
    {
        TensorCheck.EnsureAlive(tensor, generator);
        Check.Finite(mean, nameof(mean)); Check.Finite(a, nameof(a)); Check.Finite(b, nameof(b));
        Check.NormalStd(std, mean, "TruncNormal(tensor, mean, std, a, b)");
        if (a >= b) throw new ArgumentException($"a ({a}) must be less than b ({b}).", nameof(a));
        return Write(tensor, new TruncatedNormalFill(mean, std, a, b), generator);
    }

    /// <summary>
    /// Glorot/Xavier uniform: U(−a, a), a = gain × √(6 / (fan_in + fan_out)). PyTorch: <c>xavier_uniform_</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The tensor has fewer than 2 dimensions or is not floating-point, or the gain is negative or not finite.</exception>
    public static Tensor XavierUniform(Tensor tensor, double gain = 1.0, Generator? generator = null) =>
        Apply(tensor, InitScheme.GlorotUniform, generator, gain);

    /// <summary>Glorot/Xavier normal: N(0, σ²), σ = gain × √(2 / (fan_in + fan_out)). PyTorch: <c>xavier_normal_</c>.</summary>
    /// <exception cref="ArgumentException">The tensor has fewer than 2 dimensions or is not floating-point, or the gain is negative or not finite.</exception>
    public static Tensor XavierNormal(Tensor tensor, double gain = 1.0, Generator? generator = null) =>
        Apply(tensor, InitScheme.GlorotNormal, generator, gain);

    /// <summary>
    /// He/Kaiming uniform: U(−b, b), b = gain × √(3 / fan), gain = <see cref="Gain.Calculate"/>(<paramref name="nonlinearity"/>, <paramref name="a"/>).
    /// PyTorch: <c>kaiming_uniform_(a, mode, nonlinearity)</c>, whose default nonlinearity is leaky_relu with a = 0 (gain √2).
    /// </summary>
    /// <exception cref="ArgumentException">The tensor has fewer than 2 dimensions or is not floating-point, the mode is FanAvg or not a <see cref="FanMode"/>, the nonlinearity is not a <see cref="Nonlinearity"/>, or the slope is not finite.</exception>
    public static Tensor KaimingUniform(Tensor tensor, double a = 0, FanMode mode = FanMode.FanIn,
        Nonlinearity nonlinearity = Nonlinearity.LeakyRelu, Generator? generator = null) =>
        Apply(tensor, Kaiming(a, mode, Distribution.Uniform, nonlinearity), generator);

    /// <summary>He/Kaiming normal: N(0, σ²), σ = gain / √fan. PyTorch: <c>kaiming_normal_(a, mode, nonlinearity)</c>.</summary>
    /// <exception cref="ArgumentException">The tensor has fewer than 2 dimensions or is not floating-point, the mode is FanAvg or not a <see cref="FanMode"/>, the nonlinearity is not a <see cref="Nonlinearity"/>, or the slope is not finite.</exception>
    public static Tensor KaimingNormal(Tensor tensor, double a = 0, FanMode mode = FanMode.FanIn,
        Nonlinearity nonlinearity = Nonlinearity.LeakyRelu, Generator? generator = null) =>
        Apply(tensor, Kaiming(a, mode, Distribution.Normal, nonlinearity), generator);

    private static VarianceScalingScheme Kaiming(double a, FanMode mode, Distribution distribution, Nonlinearity nonlinearity)
    {
        if (Check.Defined(mode, nameof(mode)) == FanMode.FanAvg)
            throw new ArgumentException("Kaiming initialization takes FanIn or FanOut; FanAvg is Xavier's.", nameof(mode));
        Check.Defined(nonlinearity, nameof(nonlinearity));
        return new VarianceScalingScheme(1.0, mode, distribution, nonlinearity, a);
    }

    /// <summary>
    /// Resolves <paramref name="scheme"/> for <paramref name="tensor"/> (fans by PyTorch's shape rule, gain overridden by
    /// <paramref name="gain"/>) and writes it: the one path of every torch-named function. A zero-element tensor is left
    /// as it is, as PyTorch does.
    /// </summary>
    internal static Tensor Apply(Tensor tensor, InitScheme scheme, Generator? generator, double? gain = null)
    {
        TensorCheck.EnsureAlive(tensor, generator);
        if (gain is double g) Check.FiniteNonNegative(g, nameof(gain));
        var shape = tensor.shape;
        Fans? fans = scheme.NeedsFans ? Fans.FromShape(shape) : null;
        // Shape rules first (as PyTorch checks them); a fan-based fill is resolved only for a non-empty tensor, whose fans are positive.
        var fill = scheme.NeedsFans ? null : scheme.Resolve(new FillRequest(shape, fans, gain, "tensor"));
        if (tensor.numel() == 0) return tensor; // PyTorch warns and does nothing
        return Write(tensor, fill ?? scheme.Resolve(new FillRequest(shape, fans, gain, "tensor")), generator);
    }

    private static Tensor Write(Tensor tensor, Fill fill, Generator? generator)
    {
        TensorCheck.EnsureAlive(tensor, generator);
        TensorCheck.EnsureWritable(tensor, fill, "tensor");
        using var sampler = new Sampler(generator);
        fill.Write(tensor, sampler);
        return tensor;
    }
}
