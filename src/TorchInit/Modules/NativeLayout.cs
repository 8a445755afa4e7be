using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit;

/// <summary>
/// The PyTorch structure of TorchSharp's native attention and transformer modules. In TorchSharp 0.107,
/// <c>MultiheadAttention</c>, <c>TransformerEncoderLayer</c>, <c>TransformerDecoderLayer</c>, <c>TransformerEncoder</c>,
/// <c>TransformerDecoder</c> and <c>Transformer</c> expose no submodules (<c>named_children()</c> is empty); their parameters sit on
/// the module itself under PyTorch's dotted names (<c>layers.0.self_attn.out_proj.weight</c>). This is the one place that reads
/// those names back into the modules PyTorch has there: each dotted prefix becomes a part (<see cref="ModuleContext.StandsFor"/>)
/// of the type PyTorch has at that name.
/// </summary>
internal static class NativeLayout
{
    /// <summary>Whether <paramref name="module"/> is a native module whose parameters are read by name.</summary>
    public static bool HasParts(nn.Module module) =>
        module is MultiheadAttention or TransformerEncoderLayer or TransformerDecoderLayer or TransformerEncoder or TransformerDecoder or Transformer;

    /// <summary>The PyTorch module type at <paramref name="segment"/> inside a module of type <paramref name="parent"/> (whose own parent is <paramref name="grandparent"/>).</summary>
    public static Type TypeOf(string segment, Type parent, Type? grandparent) => segment switch
    {
        "self_attn" or "multihead_attn" => typeof(MultiheadAttention),
        "out_proj" or "linear1" or "linear2" => typeof(Linear),
        "norm" or "norm1" or "norm2" or "norm3" => typeof(LayerNorm),
        "layers" => typeof(ModuleList<nn.Module>),
        "encoder" => typeof(TransformerEncoder),
        "decoder" => typeof(TransformerDecoder),
        _ when segment.All(char.IsAsciiDigit) && grandparent == typeof(TransformerEncoder) => typeof(TransformerEncoderLayer),
        _ when segment.All(char.IsAsciiDigit) && grandparent == typeof(TransformerDecoder) => typeof(TransformerDecoderLayer),
        _ => typeof(nn.Module),
    };

    /// <summary>What a part does in its block, which decides what follows its weight.</summary>
    public static PartRole RoleOf(ModuleContext c) => c.Name switch
    {
        "out_proj" => PartRole.AttentionOutput,
        "linear1" => PartRole.FeedForwardIn,
        "linear2" => PartRole.FeedForwardOut,
        _ => PartRole.Other,
    };

    /// <summary>Whether <paramref name="c"/> lies inside an <c>nn.Transformer</c>, whose <c>_reset_parameters</c> redraws every matrix with <c>xavier_uniform_</c>.</summary>
    public static bool InsideTransformer(ModuleContext c) =>
        c.Module is Transformer || c.Ancestors().Any(a => a.Module is Transformer);
}

/// <summary>The role of a part of a native transformer module (<see cref="NativeLayout"/>).</summary>
internal enum PartRole
{
    Other,
    /// <summary>An attention's <c>out_proj</c>: feeds the residual sum, no activation.</summary>
    AttentionOutput,
    /// <summary>A feed-forward block's <c>linear1</c>: feeds the layer's activation (relu or gelu).</summary>
    FeedForwardIn,
    /// <summary>A feed-forward block's <c>linear2</c>: feeds the residual sum, no activation.</summary>
    FeedForwardOut,
}
