using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit.Modules;

/// <summary>What kind of layer a module is, as far as initialization is concerned (<see cref="LayerTaxonomy.Classify(nn.Module)"/>).</summary>
public enum LayerKind
{
    /// <summary>Anything else: the root, containers, custom and unknown modules.</summary>
    Other,
    /// <summary>Linear: a weight [out, in] that feeds an activation.</summary>
    Linear,
    /// <summary>Conv1d/2d/3d: a weight [out, in/groups, k…] that feeds an activation.</summary>
    Convolution,
    /// <summary>ConvTranspose1d/2d/3d: a weight [in, out/groups, k…] that feeds an activation.</summary>
    ConvTranspose,
    /// <summary>Bilinear: a weight [out, in1, in2] that feeds an activation.</summary>
    Bilinear,
    /// <summary>Embedding and EmbeddingBag: a lookup table, not a sum over a fan.</summary>
    Embedding,
    /// <summary>RNN, LSTM, GRU and their cells: stacked gate blocks.</summary>
    Recurrent,
    /// <summary>BatchNorm, InstanceNorm, LayerNorm, GroupNorm, LocalResponseNorm.</summary>
    Normalization,
    /// <summary>An activation module TorchInit knows or recognizes (ReLU, Tanh, PReLU, Hardswish…; <see cref="Activation.Of"/>).</summary>
    Activation,
    /// <summary>A module that leaves the gain choice unchanged: dropout, pooling, reshapes, Identity, padding (normalization layers are <see cref="Normalization"/>, and gain-neutral too).</summary>
    GainNeutral,
    /// <summary>A module that says how its own parameters are initialized (<see cref="IInitializable"/>).</summary>
    SelfInitializing,
    /// <summary>MultiheadAttention: the stacked q, k, v projection <c>in_proj_weight</c> [3·d, d] (or separate <c>q/k/v_proj_weight</c>), its bias, and an <c>out_proj</c> Linear.</summary>
    Attention,
    /// <summary>TransformerEncoderLayer, TransformerDecoderLayer, TransformerEncoder, TransformerDecoder, Transformer: containers of attention, Linear and LayerNorm parts (TorchSharp exposes them only by parameter name; <see cref="ModuleContext.StandsFor"/>).</summary>
    Transformer,
}

/// <summary>
/// The one classifier of modules: which <see cref="LayerKind"/> each is, as its layer family says. The visitor dispatches on it, the activation
/// finder asks it what is a layer and what is gain-neutral, <see cref="Build"/> asks it which defaults it knows, and
/// <see cref="InitOptions.LayerTypes"/>' defaults come from it.
/// </summary>
public static class LayerTaxonomy
{
    /// <summary>The kind of <paramref name="module"/>: the kind its layer family gives it (<c>Families/</c>, one file per family).</summary>
    public static LayerKind Classify(nn.Module module) => Of(module).Kind;

    /// <summary>
    /// The kind of the module at <paramref name="context"/>: of its module, or, for a part of a native transformer module
    /// (<see cref="ModuleContext.StandsFor"/>), of the PyTorch type it stands for (Linear, LayerNorm, MultiheadAttention…).
    /// </summary>
    public static LayerKind Classify(ModuleContext context) => Of(context).Kind;

    /// <summary>The layer family of <paramref name="module"/> and the kind it gives it: the first family in <see cref="LayerFamilies.All"/> that claims it.</summary>
    internal static (LayerFamily Family, LayerKind Kind) Of(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        foreach (var family in LayerFamilies.All)
            if (family.KindOf(module) is { } kind) return (family, kind);
        return (LayerFamilies.Other, LayerFamilies.Other.KindOf(module)!.Value);
    }

    /// <summary>The layer family of the module at <paramref name="context"/> (of the type a part stands for) and its kind.</summary>
    internal static (LayerFamily Family, LayerKind Kind) Of(ModuleContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return context.StandsFor is { } type ? TransformerFamily.Part(type) : Of(context.Module);
    }

    /// <summary>Whether <paramref name="kind"/> is a layer whose weight feeds an activation: Linear, Conv*, ConvTranspose*, Bilinear.</summary>
    public static bool IsWeightLayer(LayerKind kind) => kind is LayerKind.Linear or LayerKind.Convolution or LayerKind.ConvTranspose or LayerKind.Bilinear;

    /// <summary>Whether <paramref name="kind"/> is a layer at all (a weight layer, an Embedding, a recurrent, attention or transformer layer): what the activation search stops at.</summary>
    public static bool IsLayer(LayerKind kind) => IsWeightLayer(kind) || kind is LayerKind.Embedding or LayerKind.Recurrent or LayerKind.Attention or LayerKind.Transformer;

    /// <summary>Whether the activation search skips modules of <paramref name="kind"/>: gain-neutral modules and normalization layers.</summary>
    public static bool IsGainNeutral(LayerKind kind) => kind is LayerKind.GainNeutral or LayerKind.Normalization;

    /// <summary>The module types a fixed scheme initializes by default: Linear, Conv1d/2d/3d, ConvTranspose1d/2d/3d.</summary>
    public static IReadOnlyList<Type> FixedSchemeLayerTypes => LinearConvFamily.FixedSchemeTypes;
}
