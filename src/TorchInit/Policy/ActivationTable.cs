using System.Globalization;
using TorchSharp.Modules;
using M = TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit;

/// <summary>The scheme family an activation calls for in <see cref="InitPolicy.Auto"/>.</summary>
internal enum InitFamily
{
    /// <summary>He/Kaiming (<see cref="InitPolicy.HeScheme"/>) with the activation's gain.</summary>
    He,
    /// <summary>Glorot/Xavier (<see cref="InitPolicy.GlorotScheme"/>) with the activation's gain.</summary>
    Glorot,
    /// <summary>LeCun (<see cref="InitPolicy.LeCunScheme"/>), gain 1.</summary>
    LeCun,
    /// <summary>No gain rule: the assumed default (<see cref="InitPolicy.AssumedScheme"/>).</summary>
    Assumed,
}

/// <summary>What the signal probe counts in an activation's output.</summary>
internal enum ProbeRule
{
    /// <summary>Nothing.</summary>
    None,
    /// <summary>Saturated: |y| &gt; 0.99 (tanh).</summary>
    SaturatedSymmetric,
    /// <summary>Saturated: y &lt; 0.01 or y &gt; 0.99 (sigmoid).</summary>
    SaturatedUnit,
    /// <summary>Dead: y = 0 (ReLU).</summary>
    Dead,
}

/// <summary>
/// One activation kind: its display name, module types, family and gain for initialization, the reason the report gives,
/// and what the signal probe counts in its output.
/// </summary>
/// <param name="Kind">The kind.</param>
/// <param name="Name">Display name (LeakyReLU and PReLU add their slope; Softmax and unknown ones use the module type).</param>
/// <param name="Family">Which scheme family it calls for.</param>
/// <param name="Nonlinearity">The <c>calculate_gain</c> entry whose gain the family's scheme takes.</param>
/// <param name="Why">The reason, as the report prints it ({0}: the display name).</param>
/// <param name="Probe">What the signal probe counts.</param>
/// <param name="ModuleTypes">The TorchSharp module types that compute it.</param>
internal sealed record ActivationRow(ActivationKind Kind, string Name, InitFamily Family, Nonlinearity Nonlinearity, string Why, ProbeRule Probe, IReadOnlyList<Type> ModuleTypes)
{
    /// <summary>The display name of <paramref name="a"/>: "ReLU", "LeakyReLU(0.2)", "Hardswish"...</summary>
    public string DisplayName(Activation a) => Kind switch
    {
        ActivationKind.LeakyRelu => $"LeakyReLU({Num(a.NegativeSlope ?? Gain.DefaultLeakyReluSlope)})",
        ActivationKind.PRelu => $"PReLU({Num(a.NegativeSlope ?? 0.25)})",
        ActivationKind.Softmax or ActivationKind.Unknown => a.ModuleType ?? Name,
        _ => Name,
    };

    /// <summary>The reason for <paramref name="a"/>.</summary>
    public string Reason(Activation a) => string.Format(CultureInfo.InvariantCulture, Why, DisplayName(a));

    private static string Num(double v) => v.ToString("0.####", CultureInfo.InvariantCulture);
}

/// <summary>
/// Every activation TorchInit knows, in one table: module types, display name, initialization family and gain, the reason
/// text, and the probe's saturated/dead rule. <see cref="InitPolicy"/>, the activation finder and <see cref="SignalProbe"/>
/// read it; a new built-in activation is one row.
/// </summary>
internal static class ActivationTable
{
    private const string ReluLike = "is ReLU-like with no calculate_gain entry; the gain that keeps a unit input's second moment, 1/√E[f(z)²], is";

    /// <summary>The rows, one per <see cref="ActivationKind"/>.</summary>
    public static IReadOnlyList<ActivationRow> Rows { get; } =
    [
        new(ActivationKind.Linear, "linear", InitFamily.Glorot, Nonlinearity.Linear, "no activation before the next layer: Glorot, gain 1 (linear)", ProbeRule.None, []),
        new(ActivationKind.Relu, "ReLU", InitFamily.He, Nonlinearity.Relu, "ReLU zeroes half its input, halving the second moment; He's gain √2 restores it", ProbeRule.Dead, [typeof(ReLU)]),
        new(ActivationKind.Relu6, "ReLU6", InitFamily.He, Nonlinearity.Relu, "ReLU6 is ReLU capped at 6, the same near 0: He, gain √2", ProbeRule.None, [typeof(ReLU6)]),
        new(ActivationKind.RRelu, "RReLU", InitFamily.He, Nonlinearity.Relu, "RReLU is ReLU with a small random negative slope (1/8 to 1/3): He, gain √2", ProbeRule.None, [typeof(RReLU)]),
        new(ActivationKind.LeakyRelu, "LeakyReLU", InitFamily.He, Nonlinearity.LeakyRelu, "{0} keeps a² of the negative half's second moment: He with the leaky gain √(2/(1+a²))", ProbeRule.None, [typeof(LeakyReLU)]),
        new(ActivationKind.PRelu, "PReLU", InitFamily.He, Nonlinearity.LeakyRelu, "{0} keeps a² of the negative half's second moment: He with the leaky gain √(2/(1+a²))", ProbeRule.None, [typeof(PReLU)]),
        new(ActivationKind.Tanh, "Tanh", InitFamily.Glorot, Nonlinearity.Tanh, "tanh is the identity near 0 and saturates: Glorot with PyTorch's tanh gain 5/3", ProbeRule.SaturatedSymmetric, [typeof(M.Tanh)]),
        new(ActivationKind.Sigmoid, "Sigmoid", InitFamily.Glorot, Nonlinearity.Sigmoid, "sigmoid: Glorot's own setting, gain 1 (calculate_gain('sigmoid'))", ProbeRule.SaturatedUnit, [typeof(M.Sigmoid)]),
        new(ActivationKind.Selu, "SELU", InitFamily.LeCun, Nonlinearity.Linear, "SELU self-normalizes when weights have variance 1/fan_in: LeCun normal (PyTorch: SELU nets use nonlinearity='linear', not gain 3/4)", ProbeRule.None, [typeof(SELU)]),
        new(ActivationKind.Gelu, "GELU", InitFamily.He, Nonlinearity.Relu, $"GELU {ReluLike} 1.53: He's √2 is within 8%, Glorot's 1 is not", ProbeRule.None, [typeof(GELU)]),
        new(ActivationKind.Silu, "SiLU", InitFamily.He, Nonlinearity.Relu, $"SiLU {ReluLike} 1.68: He's √2 is within 16%, Glorot's 1 is not", ProbeRule.None, [typeof(SiLU)]),
        new(ActivationKind.Mish, "Mish", InitFamily.He, Nonlinearity.Relu, $"Mish {ReluLike} 1.49: He's √2 is within 5%, Glorot's 1 is not", ProbeRule.None, [typeof(M.Mish)]),
        new(ActivationKind.Elu, "ELU", InitFamily.He, Nonlinearity.Relu, $"ELU {ReluLike} 1.25 (α = 1): He's √2 is within 14%", ProbeRule.None, [typeof(ELU)]),
        new(ActivationKind.Celu, "CELU", InitFamily.He, Nonlinearity.Relu, $"CELU {ReluLike} 1.25 (α = 1): He's √2 is within 14%", ProbeRule.None, [typeof(CELU)]),
        new(ActivationKind.Softmax, "Softmax", InitFamily.Assumed, Nonlinearity.Linear, "{0} makes an output head with no gain rule: assumed default", ProbeRule.None, [typeof(M.Softmax), typeof(Softmin), typeof(Softmax2d)]),
        new(ActivationKind.LogSoftmax, "LogSoftmax", InitFamily.Assumed, Nonlinearity.Linear, "{0} makes an output head with no gain rule: assumed default", ProbeRule.None, [typeof(M.LogSoftmax)]),
        new(ActivationKind.Output, "(output)", InitFamily.Assumed, Nonlinearity.Linear, "an output has no activation to fit: assumed default", ProbeRule.None, []),
        new(ActivationKind.Unknown, "(unknown)", InitFamily.Assumed, Nonlinearity.Linear, "{0} is not an activation TorchInit knows: assumed default (Recognize<T>() or a hint decides)", ProbeRule.None,
            [typeof(GLU), typeof(Hardshrink), typeof(Hardsigmoid), typeof(Hardswish), typeof(Hardtanh), typeof(LogSigmoid), typeof(Softplus),
             typeof(Softshrink), typeof(Softsign), typeof(Tanhshrink), typeof(Threshold)]),
    ];

    /// <summary>
    /// Modules that leave the gain choice unchanged (besides normalization layers): dropout, Flatten/Unflatten, Identity,
    /// pooling, padding and reshapes (PixelShuffle, PixelUnshuffle, ChannelShuffle, Upsample).
    /// </summary>
    public static IReadOnlyList<Type> GainNeutralTypes { get; } =
    [
        typeof(Dropout), typeof(Dropout1d), typeof(Dropout2d), typeof(Dropout3d), typeof(AlphaDropout), typeof(FeatureAlphaDropout),
        typeof(Flatten), typeof(Unflatten), typeof(Identity),
        typeof(MaxPool1d), typeof(MaxPool2d), typeof(MaxPool3d), typeof(AvgPool1d), typeof(AvgPool2d), typeof(AvgPool3d),
        typeof(AdaptiveAvgPool1d), typeof(AdaptiveAvgPool2d), typeof(AdaptiveAvgPool3d),
        typeof(AdaptiveMaxPool1d), typeof(AdaptiveMaxPool2d), typeof(AdaptiveMaxPool3d),
        typeof(LPPool1d), typeof(LPPool2d), typeof(FractionalMaxPool2d), typeof(FractionalMaxPool3d),
        typeof(PadBase), typeof(PixelShuffle), typeof(PixelUnshuffle), typeof(ChannelShuffle), typeof(Upsample),
    ];

    private static readonly Dictionary<ActivationKind, ActivationRow> ByKind = Rows.ToDictionary(r => r.Kind);

    /// <summary>The row of <paramref name="kind"/>.</summary>
    public static ActivationRow Row(ActivationKind kind) => ByKind[kind];

    /// <summary>The activation <paramref name="module"/> computes (with LeakyReLU's slope, PReLU's initial slope, an unknown one's type name), or null when it is none.</summary>
    public static Activation? Of(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        foreach (var row in Rows)
            if (row.ModuleTypes.Any(t => t.IsInstanceOfType(module)))
                return module switch
                {
                    LeakyReLU m => new(ActivationKind.LeakyRelu, m.negative_slope),
                    PReLU m => new(ActivationKind.PRelu, m.init),
                    _ when row.Kind is ActivationKind.Softmax or ActivationKind.Unknown => new(row.Kind, null, ModuleTree.TypeName(module)),
                    _ => new Activation(row.Kind),
                };
        return null;
    }

    /// <summary>Whether <paramref name="module"/> is one of <see cref="GainNeutralTypes"/>.</summary>
    public static bool IsGainNeutral(nn.Module module) => GainNeutralTypes.Any(t => t.IsInstanceOfType(module));

    /// <summary>What the probe counts in the output of <paramref name="module"/>.</summary>
    public static ProbeRule ProbeRuleOf(nn.Module module) => Of(module) is { } a ? Row(a.Kind).Probe : ProbeRule.None;
}
