using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit;

/// <summary>
/// PyTorch's default initialization, defined once: what each layer's constructor (its <c>reset_parameters</c>) gives
/// each parameter. <see cref="InitScheme.TorchDefault"/>, the <see cref="BiasInit.TorchDefault"/> bias policy, Auto's
/// Embedding rule and <see cref="Build.WithoutDefaultInit{T}(Func{T}, InitPolicy, InitOptions?, Device?)"/> all read it.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Linear, Conv*, ConvTranspose*: weight <c>kaiming_uniform_(a = √5)</c> = U(±1/√fan_in); bias U(±1/√fan_in) (0 when fan_in is 0).</item>
/// <item>Bilinear: weight and bias U(±1/√in1), in1 = weight.size(1).</item>
/// <item>Embedding: N(0, 1).</item>
/// <item>MultiheadAttention: <c>in_proj_weight</c> xavier_uniform_ on the whole [3·d, d] tensor, <c>in_proj_bias</c> and <c>out_proj.bias</c> 0,
/// <c>out_proj.weight</c> the Linear default, <c>bias_k</c>/<c>bias_v</c> xavier_normal_; transformer layers' linear1/linear2 the Linear default;
/// inside <c>nn.Transformer</c> every matrix xavier_uniform_ (its <c>_reset_parameters</c>).</item>
/// <item>Normalization: weight 1, bias 0; running mean 0, running variance 1, batches tracked 0.</item>
/// <item>RNN, LSTM, GRU (and their cells): every weight and bias U(±1/√hidden), hidden = weight_hh.size(1) (<c>RNNBase.reset_parameters</c>).</item>
/// </list>
/// </remarks>
internal static class TorchDefaults
{
    /// <summary>The <c>a</c> of <c>kaiming_uniform_(w, a = √5)</c> in <c>nn.Linear.reset_parameters</c>: gain √(2/(1+5)), so U(±1/√fan_in).</summary>
    public static readonly double LinearWeightSlope = Math.Sqrt(5);

    /// <summary>The weight scheme of Linear and Conv layers.</summary>
    public static readonly VarianceScalingScheme LinearWeight =
        new VarianceScalingScheme(1.0, FanMode.FanIn, Distribution.Uniform, Nonlinearity.LeakyRelu, LinearWeightSlope)
            { DisplayName = "TorchDefault", BiasDefault = BiasInit.TorchDefault }.AsLayerDefault();

    /// <summary>A Linear/Conv bias: U(±1/√fan_in) with the weight's fan_in (all zeros when it is 0).</summary>
    public static Fill LinearBias(Fans weightFans)
    {
        double bound = weightFans.FanIn > 0 ? 1 / Math.Sqrt(weightFans.FanIn) : 0;
        return new UniformFill(-bound, bound) { ExactStd = bound / Math.Sqrt(3.0) };
    }

    /// <summary>
    /// A MultiheadAttention's <c>in_proj_weight</c> (or <c>q/k/v_proj_weight</c>): <c>xavier_uniform_</c> on the whole tensor,
    /// U(±√(6/(fan_in + fan_out))) with fan_in = d and fan_out = 3·d for the stacked [3·d, d] weight. Its <c>in_proj_bias</c> and
    /// <c>out_proj.bias</c> are 0; <c>out_proj.weight</c> keeps the Linear default (<c>MultiheadAttention._reset_parameters</c>).
    /// </summary>
    public static readonly InitScheme AttentionInProjection = InitScheme.GlorotUniform;

    /// <summary>A MultiheadAttention's <c>bias_k</c> and <c>bias_v</c> [1, 1, d]: <c>xavier_normal_</c>: PyTorch's fans of a [1, 1, d] tensor are fan_in = fan_out = d, so σ = √(2/(2d)) = 1/√d.</summary>
    public static readonly InitScheme AttentionKeyValueBias = InitScheme.GlorotNormal;

    /// <summary><c>nn.Transformer._reset_parameters</c>: <c>xavier_uniform_</c> on every parameter with more than one dimension (in_proj, out_proj, linear1, linear2).</summary>
    public static readonly InitScheme TransformerMatrix = InitScheme.GlorotUniform;

    /// <summary>An Embedding's weight: N(0, 1).</summary>
    public static readonly InitScheme EmbeddingWeight = new NormalScheme(0, 1);

    /// <summary>A normalization layer's weight (1) and bias (0): the identity affine map.</summary>
    public const double NormWeight = 1, NormBias = 0;

    /// <summary>
    /// The constructor default of parameter or buffer <paramref name="name"/> of <paramref name="m"/>, or null when this
    /// table does not know the layer (only the layers <see cref="Build"/> can construct on the meta device are listed).
    /// </summary>
    public static Fill? For(nn.Module m, string name, IReadOnlyDictionary<string, Tensor> tensors) => (LayerTaxonomy.Classify(m), name) switch
    {
        (LayerKind.Linear or LayerKind.Convolution or LayerKind.ConvTranspose, "weight") =>
            LinearWeight.Resolve(new FillRequest(tensors["weight"].shape, Fans.FromShape(tensors["weight"].shape), null, name)),
        (LayerKind.Linear or LayerKind.Convolution or LayerKind.ConvTranspose, "bias") =>
            LinearBias(tensors["weight"].dim() >= 2 ? Fans.FromShape(tensors["weight"].shape) : new Fans(0, 0)),
        (LayerKind.Bilinear, "weight" or "bias") => BilinearUniform(tensors["weight"]),
        (LayerKind.Embedding, "weight") => EmbeddingWeight.Resolve(new FillRequest(tensors["weight"].shape, null, null, name)),
        (LayerKind.Normalization, "weight") => new ConstantFill(NormWeight),
        (LayerKind.Normalization, "bias") => new ConstantFill(NormBias),
        (LayerKind.Normalization, "running_var") => new ConstantFill(1),
        (LayerKind.Normalization, "running_mean" or "num_batches_tracked") => new ConstantFill(0),
        (LayerKind.Recurrent, _) when name.StartsWith("weight_", StringComparison.Ordinal) || name.StartsWith("bias_", StringComparison.Ordinal) =>
            RecurrentUniform(tensors),
        _ => null,
    };

    /// <summary>RNNBase.reset_parameters: U(±1/√hidden) for every weight and bias, hidden = weight_hh's size(1) (0: all zeros); null without a 2-D weight_hh.</summary>
    private static Fill? RecurrentUniform(IReadOnlyDictionary<string, Tensor> tensors)
    {
        var hh = tensors.FirstOrDefault(t => t.Key.StartsWith("weight_hh", StringComparison.Ordinal)).Value;
        if (hh is null || hh.dim() != 2) return null;
        double bound = hh.shape[1] > 0 ? 1 / Math.Sqrt(hh.shape[1]) : 0;
        return new UniformFill(-bound, bound) { ExactStd = bound / Math.Sqrt(3.0) };
    }

    /// <summary>Whether <see cref="For"/> knows every tensor of <paramref name="m"/>'s kind.</summary>
    public static bool Knows(nn.Module m) => LayerTaxonomy.Classify(m) is LayerKind.Linear or LayerKind.Convolution or LayerKind.ConvTranspose
        or LayerKind.Bilinear or LayerKind.Embedding or LayerKind.Normalization;

    private static Fill BilinearUniform(Tensor weight)
    {
        double bound = 1 / Math.Sqrt(weight.shape[1]);
        return new UniformFill(-bound, bound);
    }
}

public abstract partial record InitScheme
{
    /// <summary>
    /// PyTorch's own default for Linear and Conv layers: weight <c>kaiming_uniform_(a=√5)</c>, i.e.
    /// U(−b, b) with b = √3 × √(2 / (1 + 5)) / √fan_in = 1/√fan_in, and bias U(−1/√fan_in, 1/√fan_in). Applied to another
    /// layer it is that layer's PyTorch default: Bilinear U(±1/√in1), Embedding N(0, 1), normalization weight 1 and bias 0,
    /// RNN/LSTM/GRU U(±1/√hidden), attention and transformer layers their <c>_reset_parameters</c>.
    /// </summary>
    public static InitScheme TorchDefault => TorchDefaults.LinearWeight;
}
