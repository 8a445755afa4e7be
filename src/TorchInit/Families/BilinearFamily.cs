using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit;

/// <summary>
/// Bilinear (y = x₁ᵀ W x₂ + b): a weight [out, in1, in2] that feeds an activation, fans by the shape rule. PyTorch's default
/// (<c>Bilinear.reset_parameters</c>): weight and bias U(±1/√in1), in1 = weight.size(1). Auto gives the weight the scheme of the
/// activation that follows it; a fixed scheme initializes it only when <see cref="InitOptions.LayerTypes"/> names it.
/// </summary>
internal sealed class BilinearFamily : LayerFamily
{
    public override LayerKind? KindOf(nn.Module module) => module is Bilinear ? LayerKind.Bilinear : null;

    /// <summary>μP's layout: the weight [out, in1, in2] has two fan-in dimensions.</summary>
    public override WidthRole[] WidthRoles(ModuleContext c, string name, int rank) =>
        name == "weight" && rank == 3 ? [WidthRole.FanOut, WidthRole.FanIn, WidthRole.FanIn] : MuRules.DefaultRoles(rank);
    public override bool TakesAuto => true;
    public override bool KnowsEveryDefault => true;

    public override void PlanTorchDefault(PlanBuilder b, ModuleContext c, List<(string Name, Tensor Tensor)> own, InitScheme scheme, DecisionReason? why) =>
        b.ModuleDefault(c, this, own, why);

    public override Fill? TorchDefault(nn.Module module, string name, IReadOnlyDictionary<string, Tensor> tensors)
    {
        if (name is not ("weight" or "bias")) return null;
        double bound = 1 / Math.Sqrt(tensors["weight"].shape[1]);
        return new UniformFill(-bound, bound);
    }
}
