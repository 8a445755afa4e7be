using System.Globalization;
using TorchSharp.Modules;
using M = TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit;

/// <summary>How the activation after a layer was found (a column of the report).</summary>
public enum ActivationSource
{
    /// <summary>Not looked for: the scheme was given explicitly (<c>ApplyInit(InitScheme.HeNormal)</c> or a per-layer override).</summary>
    Explicit,
    /// <summary>From container order: the next module after the layer in a <c>Sequential</c> (gain-neutral modules skipped).</summary>
    Sequential,
    /// <summary>From the module order of a traced forward pass (<c>ApplyInit(..., sampleInput)</c>).</summary>
    Traced,
    /// <summary>From a hint (<see cref="InitPolicy.Hint(string, Activation)"/>): for functional activations no hook can see.</summary>
    Hint,
    /// <summary>
    /// No usable activation: nothing follows (model output), Softmax/LogSoftmax, an unknown module, or nothing could be
    /// found; the configurable default (<see cref="InitPolicy.Assumed"/>, Glorot gain 1) was used.
    /// </summary>
    Assumed,
    /// <summary>The layer's own kind decides, not what follows it: Embedding, RNN/LSTM/GRU gates, normalization layers.</summary>
    Intrinsic,
}

/// <summary>What follows a layer, as far as the choice of its initialization is concerned.</summary>
public enum ActivationKind
{
    /// <summary>No activation: the next module is another layer (a linear composition): Glorot, gain 1.</summary>
    Linear,
    /// <summary>ReLU: He, gain √2.</summary>
    Relu,
    /// <summary>ReLU6 (ReLU clipped at 6): He, gain √2.</summary>
    Relu6,
    /// <summary>RReLU (random small negative slope): He, gain √2.</summary>
    RRelu,
    /// <summary>LeakyReLU with <see cref="Activation.NegativeSlope"/> a: He, gain √(2 / (1 + a²)).</summary>
    LeakyRelu,
    /// <summary>PReLU with initial slope <see cref="Activation.NegativeSlope"/> a: He, gain √(2 / (1 + a²)).</summary>
    PRelu,
    /// <summary>Hyperbolic tangent: Glorot, gain 5/3.</summary>
    Tanh,
    /// <summary>Logistic sigmoid: Glorot, gain 1.</summary>
    Sigmoid,
    /// <summary>SELU: LeCun normal (self-normalizing networks).</summary>
    Selu,
    /// <summary>GELU: He, gain √2 (ReLU-like).</summary>
    Gelu,
    /// <summary>SiLU / swish: He, gain √2 (ReLU-like).</summary>
    Silu,
    /// <summary>Mish: He, gain √2 (ReLU-like).</summary>
    Mish,
    /// <summary>ELU: He, gain √2 (ReLU-like).</summary>
    Elu,
    /// <summary>CELU: He, gain √2 (ReLU-like).</summary>
    Celu,
    /// <summary>Softmax (and Softmin, Softmax2d): an output head; the assumed default applies.</summary>
    Softmax,
    /// <summary>LogSoftmax: an output head; the assumed default applies.</summary>
    LogSoftmax,
    /// <summary>Nothing follows: the layer produces the model's output; the assumed default applies.</summary>
    Output,
    /// <summary>A module TorchInit does not know, or nothing could be found; the assumed default applies.</summary>
    Unknown,
}

/// <summary>
/// An activation that follows a layer: its kind, the negative slope for LeakyReLU/PReLU, and the module type
/// it was read from. Use the static members as hints (<see cref="InitPolicy.Hint(string, Activation)"/>).
/// What each kind means for initialization (its family, gain and reason) is one row of <see cref="ActivationTable"/>.
/// </summary>
/// <param name="Kind">The kind, which decides the scheme (<see cref="InitPolicy"/>).</param>
/// <param name="NegativeSlope">LeakyReLU's negative slope or PReLU's initial slope; null for the others.</param>
/// <param name="ModuleType">The module type it was read from (e.g. "Hardswish" for an unknown one); null when not read from a module.</param>
public sealed record Activation(ActivationKind Kind, double? NegativeSlope = null, string? ModuleType = null)
{
    private readonly ActivationKind _kind = Check.Defined(Kind, nameof(Kind), "Activation.Kind");

    /// <summary>The kind, which decides the scheme (<see cref="InitPolicy"/>); a value that is not an <see cref="ActivationKind"/> is an <see cref="ArgumentOutOfRangeException"/>.</summary>
    public ActivationKind Kind { get => _kind; init => _kind = Check.Defined(value, nameof(Kind), "Activation.Kind"); }

    /// <summary>No activation (the next module is a layer).</summary>
    public static Activation Linear { get; } = new(ActivationKind.Linear);
    /// <summary>ReLU.</summary>
    public static Activation Relu { get; } = new(ActivationKind.Relu);
    /// <summary>ReLU6.</summary>
    public static Activation Relu6 { get; } = new(ActivationKind.Relu6);
    /// <summary>RReLU.</summary>
    public static Activation RRelu { get; } = new(ActivationKind.RRelu);
    /// <summary>Hyperbolic tangent.</summary>
    public static Activation Tanh { get; } = new(ActivationKind.Tanh);
    /// <summary>Logistic sigmoid.</summary>
    public static Activation Sigmoid { get; } = new(ActivationKind.Sigmoid);
    /// <summary>SELU.</summary>
    public static Activation Selu { get; } = new(ActivationKind.Selu);
    /// <summary>GELU.</summary>
    public static Activation Gelu { get; } = new(ActivationKind.Gelu);
    /// <summary>SiLU (swish).</summary>
    public static Activation Silu { get; } = new(ActivationKind.Silu);
    /// <summary>Mish.</summary>
    public static Activation Mish { get; } = new(ActivationKind.Mish);
    /// <summary>ELU.</summary>
    public static Activation Elu { get; } = new(ActivationKind.Elu);
    /// <summary>CELU.</summary>
    public static Activation Celu { get; } = new(ActivationKind.Celu);
    /// <summary>Softmax.</summary>
    public static Activation Softmax { get; } = new(ActivationKind.Softmax);
    /// <summary>LogSoftmax.</summary>
    public static Activation LogSoftmax { get; } = new(ActivationKind.LogSoftmax);
    /// <summary>Nothing follows: the model's output.</summary>
    public static Activation Output { get; } = new(ActivationKind.Output);

    /// <summary>LeakyReLU with negative slope <paramref name="negativeSlope"/> (PyTorch's default 0.01).</summary>
    /// <exception cref="ArgumentException">The slope is not finite.</exception>
    public static Activation LeakyRelu(double negativeSlope = Gain.DefaultLeakyReluSlope)
    {
        Check.Finite(negativeSlope, nameof(negativeSlope));
        return new(ActivationKind.LeakyRelu, negativeSlope);
    }

    /// <summary>PReLU with initial slope <paramref name="initialSlope"/> (PyTorch's default 0.25).</summary>
    /// <exception cref="ArgumentException">The slope is not finite.</exception>
    public static Activation PRelu(double initialSlope = 0.25)
    {
        Check.Finite(initialSlope, nameof(initialSlope));
        return new(ActivationKind.PRelu, initialSlope);
    }

    /// <summary>An activation TorchInit does not know, read from a module of type <paramref name="moduleType"/> (null: nothing found).</summary>
    public static Activation Unknown(string? moduleType = null) => new(ActivationKind.Unknown, null, moduleType);

    /// <summary>Display name: "ReLU", "LeakyReLU(0.2)", "linear", "(output)", the module type for unknown ones (<see cref="ActivationTable"/>).</summary>
    public string Name => ActivationTable.Row(Kind).DisplayName(this);

    /// <inheritdoc />
    public override string ToString() => Name;

    /// <summary>
    /// The activation a module computes, or null when it is not an activation module (<see cref="ActivationTable"/>'s module
    /// types): ReLU, ReLU6, RReLU, LeakyReLU (its slope), PReLU (its constructor slope), Tanh, Sigmoid, SELU, GELU, SiLU, Mish,
    /// ELU, CELU, Softmax/Softmin/Softmax2d and LogSoftmax are known; the other TorchSharp activations (Hardtanh,
    /// Hardswish, Softplus...) are <see cref="ActivationKind.Unknown"/> with their type name.
    /// </summary>
    public static Activation? Of(nn.Module module) => ActivationTable.Of(module);

    /// <summary>
    /// Whether <paramref name="module"/> leaves the gain choice unchanged, so the search for the activation
    /// after a layer skips it: dropout, normalization, Flatten/Unflatten, pooling, Identity, padding and
    /// reshapes (PixelShuffle, PixelUnshuffle, ChannelShuffle, Upsample).
    /// </summary>
    public static bool IsGainNeutral(nn.Module module) => LayerTaxonomy.IsGainNeutral(LayerTaxonomy.Classify(module));
}
