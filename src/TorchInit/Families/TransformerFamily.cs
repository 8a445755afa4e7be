using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit;

/// <summary>
/// MultiheadAttention and the transformer modules (TransformerEncoderLayer, TransformerDecoderLayer, TransformerEncoder,
/// TransformerDecoder, Transformer), with their parts. In TorchSharp 0.107 these expose no submodules (<c>named_children()</c> is
/// empty); their parameters sit on the module itself under PyTorch's dotted names (<c>layers.0.self_attn.out_proj.weight</c>).
/// This family reads those names back into the modules PyTorch has there (<see cref="ModuleContext.StandsFor"/>): attention,
/// Linear parts (<c>out_proj</c>, <c>linear1</c>, <c>linear2</c>, planned by <see cref="LinearPartFamily"/>) and LayerNorm parts
/// (<see cref="NormalizationFamily"/>).
/// <para>An attention's own parameters: <c>in_proj_weight</c> [3·d, d] (q, k, v stacked; or <c>q/k/v_proj_weight</c>),
/// <c>in_proj_bias</c>, <c>bias_k</c>/<c>bias_v</c>. PyTorch's default (<c>MultiheadAttention._reset_parameters</c>):
/// <c>in_proj_weight</c> xavier_uniform_ on the whole tensor, <c>in_proj_bias</c> and <c>out_proj.bias</c> 0, <c>out_proj.weight</c>
/// the Linear default, <c>bias_k</c>/<c>bias_v</c> xavier_normal_; inside <c>nn.Transformer</c> every matrix xavier_uniform_. A
/// scheme that needs fans draws each [d, d] block of <c>in_proj_weight</c> with its own fans; Auto gives q, k, v the scheme of
/// "no activation" (they feed a dot product).</para>
/// </summary>
internal sealed class TransformerFamily : LayerFamily
{
    /// <summary>The transformer container types (each holds attention, Linear and LayerNorm parts).</summary>
    private static readonly Type[] Containers =
        [typeof(TransformerEncoderLayer), typeof(TransformerDecoderLayer), typeof(TransformerEncoder), typeof(TransformerDecoder), typeof(Transformer)];

    public override LayerKind? KindOf(nn.Module module) =>
        module is MultiheadAttention ? LayerKind.Attention : Containers.Any(t => t.IsInstanceOfType(module)) ? LayerKind.Transformer : null;

    /// <summary>μP's layout: <c>in_proj_weight</c> [3d, d] (and q/k/v_proj_weight) PyTorch's rule; the biases (<c>in_proj_bias</c>, <c>bias_k</c>/<c>bias_v</c> [1, 1, d]) every dimension fan-out.</summary>
    public override WidthRole[] WidthRoles(ModuleContext c, string name, int rank) =>
        name.Contains("bias", StringComparison.Ordinal) ? MuRules.AllFanOut(rank) : MuRules.DefaultRoles(rank);

    /// <summary>μP's zero queries: an attention's <c>in_proj_weight</c> [3d, d] has q in its first d rows; <c>q_proj_weight</c> (separate projections, kdim/vdim ≠ d) is q alone.</summary>
    public override long? QueryRows(ModuleContext c, string name, IReadOnlyList<long> shape) => name switch
    {
        "in_proj_weight" when shape.Count == 2 && shape[0] % 3 == 0 => shape[0] / 3,
        "q_proj_weight" when shape.Count == 2 => shape[0],
        _ => null,
    };

    /// <summary>Whether <paramref name="module"/> is a native module whose parameters are read by name, as parts.</summary>
    public static bool HasParts(nn.Module module) => module is MultiheadAttention || Containers.Any(t => t.IsInstanceOfType(module));

    /// <summary>The family and kind of a part that stands for PyTorch type <paramref name="type"/>.</summary>
    public static (LayerFamily Family, LayerKind Kind) Part(Type type)
    {
        if (typeof(Linear).IsAssignableFrom(type)) return (LinearPart, LayerKind.Linear);
        if (typeof(LayerNorm).IsAssignableFrom(type)) return (LayerFamilies.Normalization, LayerKind.Normalization);
        if (typeof(MultiheadAttention).IsAssignableFrom(type)) return (LayerFamilies.Transformer, LayerKind.Attention);
        if (Containers.Contains(type)) return (LayerFamilies.Transformer, LayerKind.Transformer);
        return (LayerFamilies.Other, LayerKind.Other);
    }

    /// <summary>The PyTorch module type at <paramref name="segment"/> inside a module of type <paramref name="parent"/> (whose own parent is <paramref name="grandparent"/>).</summary>
    public static Type PartType(string segment, Type parent, Type? grandparent) => segment switch
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

    /// <summary>What a Linear part does in its block, which decides what follows its weight.</summary>
    private static PartRole RoleOf(ModuleContext c) => c.Name switch
    {
        "out_proj" => PartRole.AttentionOutput,
        "linear1" => PartRole.FeedForwardIn,
        "linear2" => PartRole.FeedForwardOut,
        _ => PartRole.Other,
    };

    private enum PartRole { Other, AttentionOutput, FeedForwardIn, FeedForwardOut }

    /// <summary>Whether <paramref name="c"/> lies inside an <c>nn.Transformer</c>, whose <c>_reset_parameters</c> redraws every matrix with <c>xavier_uniform_</c>.</summary>
    private static bool InsideTransformer(ModuleContext c) => c.Module is Transformer || c.Ancestors().Any(a => a.Module is Transformer);

    /// <summary><c>in_proj_weight</c> (or <c>q/k/v_proj_weight</c>) by PyTorch: xavier_uniform_ on the whole tensor (fan_in = d, fan_out = 3·d when stacked).</summary>
    private static readonly InitScheme DefaultInProjection = InitScheme.GlorotUniform;
    /// <summary><c>bias_k</c>, <c>bias_v</c> [1, 1, d]: xavier_normal_, PyTorch's fans fan_in = fan_out = d, so σ = 1/√d.</summary>
    private static readonly InitScheme DefaultKeyValueBias = InitScheme.GlorotNormal;
    /// <summary><c>nn.Transformer._reset_parameters</c>: xavier_uniform_ on every parameter with more than one dimension.</summary>
    private static readonly InitScheme DefaultTransformerMatrix = InitScheme.GlorotUniform;

    public override bool TakesFixedScheme(ModuleContext c) => true;
    public override bool TakesAuto => true;

    public override void PlanScheme(PlanBuilder b, ModuleContext c, List<(string Name, Tensor Tensor)> own, InitScheme scheme, DecisionReason? why) =>
        Attention(b, c, own, scheme, why, "", ActivationSource.Explicit);

    public override void PlanTorchDefault(PlanBuilder b, ModuleContext c, List<(string Name, Tensor Tensor)> own, InitScheme scheme, DecisionReason? why) =>
        Attention(b, c, own, scheme, why, "", ActivationSource.Explicit);

    /// <summary>
    /// A MultiheadAttention's constructor, as PyTorch's and libtorch's run it: its <c>out_proj</c> Linear is built first (weight
    /// kaiming_uniform_(a = √5), bias U(±1/√d): both drawn), then <c>_reset_parameters</c> draws <c>in_proj_weight</c> xavier_uniform_
    /// and sets <c>in_proj_bias</c> and <c>out_proj.bias</c> to 0 (the out_proj bias is drawn, then zeroed), and <c>bias_k</c>/<c>bias_v</c>
    /// xavier_normal_. Containers have no parameters of their own; their parts follow.
    /// </summary>
    public override bool PlanConstruction(PlanBuilder b, ModuleContext c, List<(string Name, Tensor Tensor)> own)
    {
        var why = new DecisionReason(PlanText.Constructed(c.TypeName));
        if (c.Children.FirstOrDefault(p => p.Name == "out_proj") is { } outProj)
        {
            b.Layer(outProj, b.Own(outProj), LinearConvFamily.DefaultWeight, new DecisionReason(PlanText.ConstructedOutProjection), bias: BiasInit.TorchDefault);
            Attention(b, c, own, InitScheme.TorchDefault, why, "", ActivationSource.Intrinsic);
            foreach (var (name, p) in b.Own(outProj).Where(p => p.Name == "bias"))
                b.Add(b.Rewrite(outProj, name, p, new ConstantFill(0.0), "zeros", new DecisionReason(PlanText.AttentionOutBiasZeroed)));
        }
        else Attention(b, c, own, InitScheme.TorchDefault, why, "", ActivationSource.Intrinsic);
        return true;
    }

    public override double PlanAuto(PlanBuilder b, ModuleContext c, List<(string Name, Tensor Tensor)> own)
    {
        var (scheme, why, _) = b.Policy.Choose(Activation.Linear);
        Attention(b, c, own, scheme, new DecisionReason(PlanText.AttentionAuto(why, b.GainOverrideNote(scheme))), Activation.Linear.Name, ActivationSource.Intrinsic);
        return b.GainOf(scheme);
    }

    /// <summary>
    /// An attention's own parameters (its out_proj is a Linear part, planned on its own). <c>in_proj_weight</c> [3·d, d] is q, k, v
    /// stacked: a scheme that needs fans draws each [d, d] block with its own fans (as recurrent gates); a fixed one draws the whole
    /// tensor; <see cref="InitScheme.TorchDefault"/> is PyTorch's <c>_reset_parameters</c>.
    /// </summary>
    private static void Attention(PlanBuilder b, ModuleContext c, List<(string Name, Tensor Tensor)> own, InitScheme scheme, DecisionReason? reason,
        string activation, ActivationSource source)
    {
        bool torch = scheme.IsLayerDefault;
        long blockRows = own.FirstOrDefault(p => p.Name == "in_proj_weight").Tensor is { } ipw && ipw.dim() == 2 ? ipw.shape[0] / 3 : 0;
        foreach (var (name, p) in own)
        {
            DecisionReason? why = reason;
            PlannedParameter entry;
            switch (name)
            {
                case "in_proj_weight" or "q_proj_weight" or "k_proj_weight" or "v_proj_weight" when torch:
                    entry = b.Weight(c, name, p, DefaultInProjection);
                    why = DecisionReason.Join(reason, PlanText.AttentionInProjection(name));
                    break;
                case "in_proj_weight" when scheme.NeedsFans:
                    entry = b.Blocks(c, name, p, scheme, 3, PlanText.QKV);
                    break;
                case "in_proj_weight" or "q_proj_weight" or "k_proj_weight" or "v_proj_weight":
                    entry = b.Weight(c, name, p, scheme);
                    break;
                case "in_proj_bias":
                {
                    var policy = torch ? BiasInit.Zeros : b.Options.Bias ?? scheme.DefaultBias;
                    entry = b.Bias(c, name, p, policy, blockRows > 0 ? () => new Fans(blockRows, blockRows) : null,
                        () => b.BaseShapeOf(PlanText.Qualified(c.Path, "in_proj_weight")) is [var rows, _] ? new Fans(rows / 3, rows / 3) : null);
                    if (torch) why = DecisionReason.Join(reason, PlanText.AttentionInBias);
                    break;
                }
                case "bias_k" or "bias_v":
                    entry = b.Weight(c, name, p, DefaultKeyValueBias);
                    why = DecisionReason.Join(reason, PlanText.AttentionKeyValueBias(name));
                    break;
                default:
                    entry = PlanBuilder.Row(c, name, p, scheme.Name, InitAction.Skipped, PlanText.NotAttentionParameter);
                    break;
            }
            b.Add(why is null ? entry : entry with { Activation = activation, Source = source, Reason = why });
        }
    }

    /// <summary>The Linear parts of attention and transformer modules: <c>out_proj</c>, <c>linear1</c>, <c>linear2</c>.</summary>
    public static readonly LayerFamily LinearPart = new LinearPartFamily();

    /// <summary>
    /// A Linear part: a fixed scheme as any Linear; TorchDefault what PyTorch's constructors give it (out_proj's bias 0; inside
    /// <c>nn.Transformer</c> xavier_uniform_); Auto by its role: <c>linear1</c> feeds the layer's activation (relu unless a hint says
    /// otherwise: TorchSharp 0.107 does not expose it), <c>out_proj</c> and <c>linear2</c> feed the residual sum.
    /// </summary>
    private sealed class LinearPartFamily : LayerFamily
    {
        public override LayerKind? KindOf(nn.Module module) => null;   // parts are found by their names (Part), not by a module type
        public override bool TakesFixedScheme(ModuleContext c) => true;
        public override bool TakesAuto => true;

        /// <summary>A Linear part's constructor: the Linear default, drawn; an attention's out_proj is drawn by its attention (first).</summary>
        public override bool PlanConstruction(PlanBuilder b, ModuleContext c, List<(string Name, Tensor Tensor)> own)
        {
            if (RoleOf(c) != PartRole.AttentionOutput)
                b.Layer(c, own, LinearConvFamily.DefaultWeight, new DecisionReason(PlanText.Constructed(c.TypeName)), bias: BiasInit.TorchDefault);
            return true;
        }

        public override void PlanTorchDefault(PlanBuilder b, ModuleContext c, List<(string Name, Tensor Tensor)> own, InitScheme scheme, DecisionReason? why)
        {
            bool transformer = InsideTransformer(c);
            bool outProj = RoleOf(c) == PartRole.AttentionOutput;
            var matrix = transformer ? DefaultTransformerMatrix : LinearConvFamily.DefaultWeight;
            var text = transformer ? PlanText.TransformerMatrices : outProj ? PlanText.AttentionOutProjection : PlanText.LinearDefault;
            if (transformer && outProj) text += PlanText.TransformerOutProjectionBias;
            b.Layer(c, own, matrix, DecisionReason.Join(why, text), bias: outProj ? BiasInit.Zeros : BiasInit.TorchDefault);
        }

        public override double PlanAuto(PlanBuilder b, ModuleContext c, List<(string Name, Tensor Tensor)> own)
        {
            var role = RoleOf(c);
            Activation activation;
            ActivationSource source;
            string detail;
            var hint = b.Policy.HintFor(c) ?? (role == PartRole.FeedForwardIn && c.Parent is { } layer ? b.Policy.HintFor(layer) : null);
            if (hint is not null)
                (activation, source, detail) = (hint.Value, ActivationSource.Hint, PlanText.PartHint(hint.Description, hint.Value.Name));
            else
                (activation, source, detail) = role switch
                {
                    PartRole.FeedForwardIn => (Activation.Relu, ActivationSource.Assumed, PlanText.FeedForwardAssumed(c.Parent?.TypeName, c.Parent?.Path, c.Path)),
                    PartRole.AttentionOutput => (Activation.Linear, ActivationSource.Intrinsic, PlanText.AttentionOutput),
                    PartRole.FeedForwardOut => (Activation.Linear, ActivationSource.Intrinsic, PlanText.FeedForwardOutput),
                    _ => (Activation.Linear, ActivationSource.Intrinsic, PlanText.OtherProjection),
                };
            var (scheme, why, _) = b.Policy.Choose(activation);
            b.Layer(c, own, scheme, new DecisionReason(PlanText.Part(detail, why, b.GainOverrideNote(scheme))), activation.Name, source);
            return b.GainOf(scheme);
        }
    }
}
