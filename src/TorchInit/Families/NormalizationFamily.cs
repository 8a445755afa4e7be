using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit;

/// <summary>
/// BatchNorm1d/2d/3d, InstanceNorm1d/2d/3d, LayerNorm, GroupNorm, LocalResponseNorm (and a LayerNorm part of a transformer
/// module): an affine weight and bias of one value per channel, and running statistics. Gain-neutral for the activation search.
/// PyTorch's default: weight 1, bias 0 (the identity affine map); running mean 0, running variance 1, batches tracked 0. Auto: the
/// same weight 1 and bias 0 (the zero-last-norm pass, <see cref="InitPolicy.ZeroLastNormIn(string)"/>, then zeroes a block's last one).
/// </summary>
internal sealed class NormalizationFamily : LayerFamily
{
    public override LayerKind? KindOf(nn.Module module) =>
        module is NormBase or LayerNorm or GroupNorm or LocalResponseNorm ? LayerKind.Normalization : null;
    public override bool TakesAuto => true;
    public override bool KnowsEveryDefault => true;

    /// <summary>μP's layout: weight and bias (of any rank: a LayerNorm's normalized shape) are vector-like, every dimension fan-out.</summary>
    public override WidthRole[] WidthRoles(ModuleContext c, string name, int rank) => MuRules.AllFanOut(rank);

    /// <summary>A normalization layer's weight (1) and bias (0): the identity affine map.</summary>
    public const double DefaultWeight = 1, DefaultBias = 0;

    public override Fill? TorchDefault(nn.Module module, string name, IReadOnlyDictionary<string, Tensor> tensors) => name switch
    {
        "weight" => new ConstantFill(DefaultWeight),
        "bias" => new ConstantFill(DefaultBias),
        "running_var" => new ConstantFill(1),
        "running_mean" or "num_batches_tracked" => new ConstantFill(0),
        _ => null,
    };

    public override void PlanTorchDefault(PlanBuilder b, ModuleContext c, List<(string Name, Tensor Tensor)> own, InitScheme scheme, DecisionReason? why) =>
        b.ModuleDefault(c, this, own, why);

    public override double PlanAuto(PlanBuilder b, ModuleContext c, List<(string Name, Tensor Tensor)> own)
    {
        foreach (var (name, p) in own)
        {
            var entry = name switch
            {
                "weight" => b.Constant(c, name, p, new ConstantFill(DefaultWeight), "ones") with { Reason = new DecisionReason(PlanText.NormalizationWeight) },
                "bias" => b.Constant(c, name, p, new ConstantFill(DefaultBias), "zeros") with { Reason = new DecisionReason(PlanText.NormalizationBias) },
                _ => PlanBuilder.Row(c, name, p, "", InitAction.Skipped, PlanText.NotNormalizationParameter),
            };
            b.Add(entry with { Source = ActivationSource.Intrinsic });
        }
        return double.NaN;
    }
}
