namespace TorchInit;

/// <summary>
/// The nonlinearity that follows a layer, as named by PyTorch's <c>torch.nn.init.calculate_gain</c>.
/// Linear and convolution layers without an activation use <see cref="Linear"/> (gain 1).
/// </summary>
public enum Nonlinearity
{
    /// <summary>Identity, linear and convolution functions: gain 1.</summary>
    Linear,
    /// <summary>Logistic sigmoid: gain 1.</summary>
    Sigmoid,
    /// <summary>Hyperbolic tangent: gain 5/3.</summary>
    Tanh,
    /// <summary>ReLU: gain √2.</summary>
    Relu,
    /// <summary>Leaky ReLU with negative slope a: gain √(2 / (1 + a²)); PyTorch's default slope is 0.01.</summary>
    LeakyRelu,
    /// <summary>
    /// SELU: gain 3/4 (PyTorch's value). PyTorch's documentation notes that self-normalizing networks
    /// should instead use <c>nonlinearity='linear'</c> with fan_in, i.e. LeCun normal; that is what
    /// <see cref="InitScheme.LeCunNormal"/> does.
    /// </summary>
    Selu,
}

/// <summary>Recommended gains, identical to PyTorch's <c>torch.nn.init.calculate_gain</c>.</summary>
public static class Gain
{
    /// <summary>PyTorch's default negative slope for <see cref="Nonlinearity.LeakyRelu"/>: 0.01.</summary>
    public const double DefaultLeakyReluSlope = 0.01;

    /// <summary>
    /// The recommended gain for <paramref name="nonlinearity"/>:
    /// linear/conv/sigmoid 1, tanh 5/3, relu √2, leaky_relu √(2 / (1 + slope²)), selu 3/4.
    /// Evaluated with the same floating-point operations as PyTorch, so the result is bit-identical.
    /// </summary>
    /// <param name="nonlinearity">The nonlinearity that follows the layer.</param>
    /// <param name="negativeSlope">Leaky ReLU's negative slope (default 0.01); ignored for the others.</param>
    /// <exception cref="ArgumentException">The slope is NaN or infinite.</exception>
    public static double Calculate(Nonlinearity nonlinearity, double? negativeSlope = null)
    {
        switch (nonlinearity)
        {
            case Nonlinearity.Linear:
            case Nonlinearity.Sigmoid:
                return 1.0;
            case Nonlinearity.Tanh:
                return 5.0 / 3;
            case Nonlinearity.Relu:
                return Math.Sqrt(2.0);
            case Nonlinearity.LeakyRelu:
                double slope = negativeSlope ?? DefaultLeakyReluSlope;
                if (!double.IsFinite(slope))
                    throw new ArgumentException($"negative slope must be a finite number, got {slope}.", nameof(negativeSlope));
                return Math.Sqrt(2.0 / (1 + Math.Pow(slope, 2)));
            case Nonlinearity.Selu:
                return 3.0 / 4;
            default:
                throw new ArgumentOutOfRangeException(nameof(nonlinearity), nonlinearity, "unknown nonlinearity");
        }
    }

    /// <summary>
    /// PyTorch's <c>calculate_gain(nonlinearity, param)</c> by PyTorch's name: "linear", "conv1d", "conv2d", "conv3d",
    /// "conv_transpose1d", "conv_transpose2d", "conv_transpose3d" and "sigmoid" 1; "tanh" 5/3; "relu" √2;
    /// "leaky_relu" √(2 / (1 + param²)) (param the negative slope, default 0.01); "selu" 3/4.
    /// </summary>
    /// <param name="nonlinearity">PyTorch's name of the function (exact, lower case, as PyTorch takes it).</param>
    /// <param name="param">leaky_relu's negative slope; ignored for the others, as in PyTorch.</param>
    /// <exception cref="ArgumentNullException"><paramref name="nonlinearity"/> is null.</exception>
    /// <exception cref="ArgumentException">PyTorch does not know the name, or the slope is not finite.</exception>
    public static double CalculateGain(string nonlinearity, double? param = null)
    {
        ArgumentNullException.ThrowIfNull(nonlinearity);
        return nonlinearity switch
        {
            "linear" or "conv1d" or "conv2d" or "conv3d" or "conv_transpose1d" or "conv_transpose2d" or "conv_transpose3d" => Calculate(Nonlinearity.Linear),
            "sigmoid" => Calculate(Nonlinearity.Sigmoid),
            "tanh" => Calculate(Nonlinearity.Tanh),
            "relu" => Calculate(Nonlinearity.Relu),
            "leaky_relu" => Calculate(Nonlinearity.LeakyRelu, param),
            "selu" => Calculate(Nonlinearity.Selu),
            _ => throw new ArgumentException($"Unsupported nonlinearity {nonlinearity}: PyTorch's calculate_gain knows linear, conv1d, conv2d, conv3d, " +
                                             "conv_transpose1d, conv_transpose2d, conv_transpose3d, sigmoid, tanh, relu, leaky_relu and selu.", nameof(nonlinearity)),
        };
    }
}
