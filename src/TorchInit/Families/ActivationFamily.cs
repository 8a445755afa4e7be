using static TorchSharp.torch;

namespace TorchInit;

/// <summary>
/// Activation modules TorchInit knows or recognizes (<see cref="Activation.Of"/>: ReLU, Tanh, PReLU, Hardswish…). The activation
/// search reads them; the only ones with parameters (PReLU's slope) keep their constructor value under Auto; a fixed scheme
/// initializes them only when <see cref="InitOptions.LayerTypes"/> names them.
/// </summary>
internal sealed class ActivationFamily : LayerFamily
{
    public override LayerKind? KindOf(nn.Module module) =>
        !ActivationTable.IsGainNeutral(module) && ActivationTable.Of(module) is not null ? LayerKind.Activation : null;
    public override bool TakesAuto => true;

    /// <summary>An activation's parameters (PReLU's slope) are constructor arguments, not draws: nothing to replay.</summary>
    public override bool PlanConstruction(PlanBuilder b, ModuleContext c, List<(string Name, Tensor Tensor)> own) => true;

    public override double PlanAuto(PlanBuilder b, ModuleContext c, List<(string Name, Tensor Tensor)> own)
    {
        foreach (var (name, p) in own)
            b.Add(PlanBuilder.Row(c, name, p, "keep", InitAction.Kept, PlanText.ActivationParameterNote) with
                { Source = ActivationSource.Intrinsic, Reason = new DecisionReason(PlanText.ActivationParameter) });
        return double.NaN;
    }
}
