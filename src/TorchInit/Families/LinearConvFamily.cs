using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit;

/// <summary>
/// Linear, Conv1d/2d/3d and ConvTranspose1d/2d/3d: a weight [out, in, k…] (ConvTranspose: [in, out/groups, k…], fans by
/// <see cref="Fans.ForLayer"/>) that feeds an activation, and a bias [out]. PyTorch's default (<c>reset_parameters</c>): weight
/// <c>kaiming_uniform_(a = √5)</c> = U(±1/√fan_in), bias U(±1/√fan_in). Fixed schemes initialize them by default; Auto gives the
/// weight the scheme of the activation that follows it.
/// </summary>
internal sealed class LinearConvFamily : LayerFamily
{
    public override LayerKind? KindOf(nn.Module module) => module switch
    {
        Linear or MuReadoutModule => LayerKind.Linear,
        ConvolutionTranspose => LayerKind.ConvTranspose,
        Convolution => LayerKind.Convolution,
        _ => null,
    };

    /// <summary>The module types a fixed scheme initializes by default (a Linear part of a transformer module included: <see cref="ModuleContext.Is"/>).</summary>
    public static IReadOnlyList<Type> FixedSchemeTypes { get; } =
    [
        typeof(Linear), typeof(MuReadoutModule), typeof(Conv1d), typeof(Conv2d), typeof(Conv3d),
        typeof(ConvTranspose1d), typeof(ConvTranspose2d), typeof(ConvTranspose3d),
    ];

    public override bool TakesFixedScheme(ModuleContext c) => FixedSchemeTypes.Any(c.Is);
    public override bool TakesAuto => true;
    public override bool KnowsEveryDefault => true;

    /// <summary>The <c>a</c> of <c>kaiming_uniform_(w, a = √5)</c> in <c>nn.Linear.reset_parameters</c>: gain √(2/(1+5)), so U(±1/√fan_in).</summary>
    public static readonly double DefaultWeightSlope = Math.Sqrt(5);

    /// <summary>The weight scheme of Linear and Conv layers: <see cref="InitScheme.TorchDefault"/>.</summary>
    public static readonly VarianceScalingScheme DefaultWeight =
        new VarianceScalingScheme(1.0, FanMode.FanIn, Distribution.Uniform, Nonlinearity.LeakyRelu, DefaultWeightSlope)
            { DisplayName = "TorchDefault", BiasDefault = BiasInit.TorchDefault }.AsLayerDefault();

    /// <summary>A Linear/Conv bias: U(±1/√fan_in) with the weight's fan_in (all zeros when it is 0).</summary>
    public static Fill DefaultBias(Fans weightFans)
    {
        double bound = weightFans.FanIn > 0 ? 1 / Math.Sqrt(weightFans.FanIn) : 0;
        return new UniformFill(-bound, bound) { ExactStd = bound / Math.Sqrt(3.0) };
    }

    public override Fill? TorchDefault(nn.Module module, string name, IReadOnlyDictionary<string, Tensor> tensors) => name switch
    {
        "weight" => DefaultWeight.Resolve(new FillRequest(tensors["weight"].shape, Fans.FromShape(tensors["weight"].shape), null, name)),
        "bias" => DefaultBias(tensors["weight"].dim() >= 2 ? Fans.FromShape(tensors["weight"].shape) : new Fans(0, 0)),
        _ => null,
    };

    /// <summary>
    /// μP's layout: a ConvTranspose weight [in, out/groups, k…] is fan-in first, except a depthwise one (groups = in_channels: one
    /// input channel a group, so its dimension 0 counts groups, not fan-in), which is laid out as the depthwise Conv it mirrors
    /// (channels fan-out, the per-group count fan-in: an input-class weight); the rest PyTorch's rule.
    /// </summary>
    public override WidthRole[] WidthRoles(ModuleContext c, string name, int rank) =>
        name == "weight" && rank >= 2 && c.Module is ConvolutionTranspose t && !(t.groups > 1 && t.in_channels == t.groups)
            ? [WidthRole.FanIn, WidthRole.FanOut, .. Enumerable.Repeat(WidthRole.None, rank - 2)]
            : MuRules.DefaultRoles(rank);

    /// <summary>The names fused q, k, v projections go by (nanoGPT, timm, PyTorch, GPT-NeoX, MPT, Baichuan): a policy warning names the per-block std.</summary>
    public static readonly string[] FusedProjectionNames = ["c_attn", "qkv", "in_proj", "qkv_proj", "query_key_value", "wqkv", "w_pack"];
}

public abstract partial record InitScheme
{
    /// <summary>
    /// PyTorch's own default for Linear and Conv layers: weight <c>kaiming_uniform_(a=√5)</c>, i.e.
    /// U(−b, b) with b = √3 × √(2 / (1 + 5)) / √fan_in = 1/√fan_in, and bias U(−1/√fan_in, 1/√fan_in). Applied to another
    /// layer it is that layer's PyTorch default: Bilinear U(±1/√in1), Embedding and EmbeddingBag N(0, 1), normalization weight 1
    /// and bias 0, RNN/LSTM/GRU U(±1/√hidden), attention and transformer layers their <c>_reset_parameters</c>.
    /// </summary>
    public static InitScheme TorchDefault => LinearConvFamily.DefaultWeight;
}
