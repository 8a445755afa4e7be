using TorchSharp.Modules;

namespace TorchInit;

/// <summary>Which fan a variance-scaling scheme divides by.</summary>
public enum FanMode
{
    /// <summary>fan_in: preserves the variance of activations in the forward pass (He, LeCun).</summary>
    FanIn,
    /// <summary>fan_out: preserves the variance of gradients in the backward pass.</summary>
    FanOut,
    /// <summary>(fan_in + fan_out) / 2: Glorot/Xavier's compromise between the two.</summary>
    FanAvg,
}

/// <summary>How fans are computed for a layer's weight.</summary>
public enum FanConvention
{
    /// <summary>
    /// PyTorch's <c>_calculate_fan_in_and_fan_out</c>: fan_in = size(1) × receptive field,
    /// fan_out = size(0) × receptive field, whatever the layer. Bit-compatible with PyTorch (default).
    /// </summary>
    Torch,
    /// <summary>
    /// The layer's true fans: fan_in = (in_channels / groups) × receptive field and
    /// fan_out = (out_channels / groups) × receptive field. Differs from <see cref="Torch"/> for
    /// transposed convolutions (whose weight is [in, out/groups, k…], so PyTorch swaps the fans) and for
    /// grouped convolutions' fan_out (PyTorch counts all out_channels). Stride is not taken into account.
    /// </summary>
    Layer,
}

/// <summary>A weight's fan_in and fan_out.</summary>
/// <param name="FanIn">Number of inputs that feed one output unit.</param>
/// <param name="FanOut">Number of outputs that one input unit feeds.</param>
public readonly record struct Fans(long FanIn, long FanOut)
{
    /// <summary>The fan selected by <paramref name="mode"/>; <see cref="FanMode.FanAvg"/> gives (fan_in + fan_out) / 2, summed in floating point (no overflow).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="mode"/> is not a <see cref="FanMode"/>.</exception>
    public double Select(FanMode mode) => Check.Defined(mode, nameof(mode)) switch
    {
        FanMode.FanIn => FanIn,
        FanMode.FanOut => FanOut,
        _ => ((double)FanIn + FanOut) / 2.0,
    };

    /// <summary>a × b, or an <see cref="ArgumentException"/> when the product does not fit in 64 bits.</summary>
    private static long Times(long a, long b, ReadOnlySpan<long> shape, string parameterName)
    {
        try { return checked(a * b); }
        catch (OverflowException)
        {
            throw new ArgumentException(
                $"The fans of '{parameterName}' with shape {Check.Shape(shape)} overflow a 64-bit integer ({a} × {b} ≈ {(double)a * b:G4}): " +
                "no tensor of that shape can exist. Pass explicit fans.", parameterName);
        }
    }

    /// <summary>The product of dimensions 2… (the receptive field), checked; negative sizes are refused.</summary>
    private static long Receptive(ReadOnlySpan<long> shape, string parameterName)
    {
        foreach (long s in shape)
            if (s < 0) throw new ArgumentException($"'{parameterName}' has a negative size in its shape {Check.Shape(shape)}.", parameterName);
        long receptive = 1;
        for (int i = 2; i < shape.Length; i++) receptive = Times(receptive, shape[i], shape, parameterName);
        return receptive;
    }

    /// <summary>
    /// PyTorch's rule for a weight of <paramref name="shape"/>: receptive field = product of dims 2…,
    /// fan_in = shape[1] × receptive field, fan_out = shape[0] × receptive field.
    /// </summary>
    /// <exception cref="ArgumentException">The weight has fewer than 2 dimensions (PyTorch raises too), a negative size, or fans that overflow a 64-bit integer.</exception>
    public static Fans FromShape(ReadOnlySpan<long> shape, string parameterName = "tensor")
    {
        if (shape.Length < 2)
            throw new ArgumentException(
                $"Fan in and fan out cannot be computed for '{parameterName}' with shape [{string.Join(", ", shape.ToArray())}]: " +
                "a fan-based scheme needs a weight with at least 2 dimensions. Pass explicit fans for other tensors.",
                parameterName);
        long receptive = Receptive(shape, parameterName);
        return new Fans(Times(shape[1], receptive, shape, parameterName), Times(shape[0], receptive, shape, parameterName));
    }

    /// <summary>
    /// The fans of <paramref name="layer"/>'s weight under <paramref name="convention"/>.
    /// For <see cref="FanConvention.Layer"/> on a convolution, the channel counts and groups come from the layer.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="convention"/> is not a <see cref="FanConvention"/>.</exception>
    /// <exception cref="ArgumentException">The weight has fewer than 2 dimensions, or fans that overflow a 64-bit integer.</exception>
    public static Fans ForLayer(TorchSharp.torch.nn.Module layer, ReadOnlySpan<long> weightShape, FanConvention convention, string parameterName = "weight")
    {
        Check.Defined(convention, nameof(convention));
        var torchFans = FromShape(weightShape, parameterName);
        if (convention == FanConvention.Torch || layer is not Convolution conv)
            return torchFans;
        // The channels per group as the weight's shape holds them (the layer's own counts for its own weight; a μP base shape's otherwise):
        // Conv [out, in/g, k…], ConvTranspose [in, out/g, k…]. A depthwise layer (groups = in_channels) has one input channel a group
        // at every width, so its per-group counts are the layer's own (a base shape's dimension 0 counts fewer groups, not fewer channels a group).
        long groups = Math.Max(conv.groups, 1);
        bool transposed = layer is ConvolutionTranspose;
        bool depthwise = groups > 1 && conv.in_channels == groups;
        long inPerGroup = transposed ? (depthwise ? 1 : weightShape[0] / groups) : weightShape[1];
        long outPerGroup = transposed ? weightShape[1] : depthwise ? conv.out_channels / groups : weightShape[0] / groups;
        long receptive = Receptive(weightShape, parameterName);
        return new Fans(Times(inPerGroup, receptive, weightShape, parameterName), Times(outPerGroup, receptive, weightShape, parameterName));
    }
}
