using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit.Modules;

/// <summary>
/// Walks a TorchSharp model in true pre-order with dotted paths, each module once, and calls a typed hook
/// for each layer kind. Override the hooks you need; each one defaults to a more general hook, ending in
/// <see cref="VisitOther"/>, which does nothing. <c>ApplyInit</c> and <c>PlanInit</c> are one visitor on top of it.
/// </summary>
/// <remarks>
/// Dispatch: a repeated occurrence of a shared module goes to <see cref="VisitShared"/>; every other module to
/// <see cref="VisitModule"/> with its <see cref="LayerKind"/> from <see cref="LayerTaxonomy.Classify(nn.Module)"/>, which by default
/// calls the typed hook: Linear, ConvTranspose1d/2d/3d, Conv1d/2d/3d, Bilinear (their default is <see cref="VisitWeightLayer"/>),
/// Embedding, RNN/LSTM/GRU and their cells, normalization layers (BatchNorm, InstanceNorm, LayerNorm, GroupNorm,
/// LocalResponseNorm), activation modules (<see cref="Activation.Of"/>), modules that initialize themselves
/// (<see cref="IInitializable"/>), attention and transformer modules (whose parts, which TorchSharp exposes only by parameter name,
/// are visited as the Linear, LayerNorm and MultiheadAttention modules PyTorch has there: <see cref="ModuleContext.StandsFor"/>), and everything else (containers, gain-neutral, custom and unknown modules) to <see cref="VisitOther"/>.
/// </remarks>
public abstract class ModuleVisitor
{
    /// <summary>Visits every module of <paramref name="root"/> (itself included) in pre-order.</summary>
    public void Visit(nn.Module root) => Visit(ModuleContext.Build(root));

    /// <summary>Visits <paramref name="root"/> and every context below it in pre-order.</summary>
    public void Visit(ModuleContext root)
    {
        ArgumentNullException.ThrowIfNull(root);
        foreach (var c in root.PreOrder()) Dispatch(c);
    }

    private void Dispatch(ModuleContext c)
    {
        if (c.IsShared) VisitShared(c);
        else VisitModule(c, LayerTaxonomy.Classify(c));
    }

    /// <summary>Every module's first occurrence, with its kind. Default: the typed hook for the kind.</summary>
    protected virtual void VisitModule(ModuleContext context, LayerKind kind)
    {
        switch (kind)
        {
            case LayerKind.Linear when context.Module is Linear linear: VisitLinear(context, linear); break;
            case LayerKind.Linear: VisitWeightLayer(context); break; // a Linear part of a native module (ModuleContext.StandsFor)
            case LayerKind.ConvTranspose: VisitConvTranspose(context, (ConvolutionTranspose)context.Module); break;
            case LayerKind.Convolution: VisitConvolution(context, (Convolution)context.Module); break;
            case LayerKind.Bilinear: VisitBilinear(context, (Bilinear)context.Module); break;
            case LayerKind.Embedding when context.Module is Embedding embedding: VisitEmbedding(context, embedding); break;
            case LayerKind.Recurrent: VisitRecurrent(context); break;
            case LayerKind.Normalization: VisitNormalization(context); break;
            case LayerKind.Activation: VisitActivation(context, ActivationTable.Of(context.Module)!); break;
            case LayerKind.SelfInitializing: VisitSelfInitializing(context, (IInitializable)context.Module); break;
            case LayerKind.Attention: VisitAttention(context); break;
            case LayerKind.Transformer: VisitTransformer(context); break;
            default: VisitOther(context); break;
        }
    }

    /// <summary>A Linear layer. Default: <see cref="VisitWeightLayer"/>.</summary>
    protected virtual void VisitLinear(ModuleContext context, Linear layer) => VisitWeightLayer(context);

    /// <summary>A Conv1d, Conv2d or Conv3d layer. Default: <see cref="VisitWeightLayer"/>.</summary>
    protected virtual void VisitConvolution(ModuleContext context, Convolution layer) => VisitWeightLayer(context);

    /// <summary>A ConvTranspose1d, ConvTranspose2d or ConvTranspose3d layer. Default: <see cref="VisitWeightLayer"/>.</summary>
    protected virtual void VisitConvTranspose(ModuleContext context, ConvolutionTranspose layer) => VisitWeightLayer(context);

    /// <summary>A Bilinear layer (y = x₁ᵀ W x₂ + b). Default: <see cref="VisitWeightLayer"/>.</summary>
    protected virtual void VisitBilinear(ModuleContext context, Bilinear layer) => VisitWeightLayer(context);

    /// <summary>
    /// A layer whose weight feeds an activation: Linear, Conv*, ConvTranspose*, Bilinear (the hooks above
    /// land here unless overridden). Default: <see cref="VisitOther"/>.
    /// </summary>
    protected virtual void VisitWeightLayer(ModuleContext context) => VisitOther(context);

    /// <summary>An Embedding (an EmbeddingBag, also of kind <see cref="LayerKind.Embedding"/>, goes to <see cref="VisitOther"/>; <see cref="VisitModule"/> sees its kind). Default: <see cref="VisitOther"/>.</summary>
    protected virtual void VisitEmbedding(ModuleContext context, Embedding layer) => VisitOther(context);

    /// <summary>An RNN, LSTM or GRU, or one of their cells (RNNCell, LSTMCell, GRUCell). Default: <see cref="VisitOther"/>.</summary>
    protected virtual void VisitRecurrent(ModuleContext context) => VisitOther(context);

    /// <summary>A normalization layer: BatchNorm1d/2d/3d, InstanceNorm1d/2d/3d, LayerNorm, GroupNorm, LocalResponseNorm. Default: <see cref="VisitOther"/>.</summary>
    protected virtual void VisitNormalization(ModuleContext context) => VisitOther(context);

    /// <summary>An activation module (ReLU, Tanh, PReLU...), as classified by <see cref="Activation.Of"/>. Default: <see cref="VisitOther"/>.</summary>
    protected virtual void VisitActivation(ModuleContext context, Activation activation) => VisitOther(context);

    /// <summary>A module that says how its own parameters are initialized (<see cref="IInitializable"/>). Default: <see cref="VisitOther"/>.</summary>
    protected virtual void VisitSelfInitializing(ModuleContext context, IInitializable module) => VisitOther(context);

    /// <summary>
    /// A MultiheadAttention, real or a part of a transformer module (<see cref="ModuleContext.StandsFor"/>): its own parameters are
    /// <c>in_proj_weight</c> [3·d, d] (q, k, v stacked; or <c>q_proj_weight</c>, <c>k_proj_weight</c>, <c>v_proj_weight</c>), <c>in_proj_bias</c>,
    /// and <c>bias_k</c>, <c>bias_v</c> when present; its <c>out_proj</c> is visited next as a Linear part. Default: <see cref="VisitOther"/>.
    /// </summary>
    protected virtual void VisitAttention(ModuleContext context) => VisitOther(context);

    /// <summary>A TransformerEncoderLayer, TransformerDecoderLayer, TransformerEncoder, TransformerDecoder or Transformer (a container; its parts follow in pre-order). Default: <see cref="VisitOther"/>.</summary>
    protected virtual void VisitTransformer(ModuleContext context) => VisitOther(context);

    /// <summary>Any other module: the root, containers, gain-neutral modules, custom modules, unknown layers. Default: nothing.</summary>
    protected virtual void VisitOther(ModuleContext context) { }

    /// <summary>A repeated occurrence of a module already visited at <see cref="ModuleContext.SharedWith"/> (its subtree is not walked again). Default: nothing.</summary>
    protected virtual void VisitShared(ModuleContext context) { }
}
