using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit;

/// <summary>
/// EmbeddingBag: a lookup table weight [num_embeddings, d] whose rows are summed, averaged or max-pooled per bag
/// (<c>mode</c>); like <see cref="EmbeddingFamily"/> no fan decides its std. PyTorch's default
/// (<c>EmbeddingBag.reset_parameters</c>): N(0, 1), the <c>padding_idx</c> row 0 (TorchSharp does not expose it: the one
/// all-zero row is kept). Auto: N(0, 1), or N(0, 1/d) under <see cref="EmbeddingInit.Scaled"/>; tied to a later weight layer,
/// that layer's rule. The rules are the lookup table's; this family adds the type and its text.
/// </summary>
internal sealed class EmbeddingBagFamily : EmbeddingFamily
{
    public override LayerKind? KindOf(nn.Module module) => module is EmbeddingBag ? LayerKind.Embedding : null;

    /// <summary>μP's layout: the weight [num, dim] maps a one-hot of num (fan-in) to dim (fan-out).</summary>
    public override WidthRole[] WidthRoles(ModuleContext c, string name, int rank) =>
        name == "weight" && rank == 2 ? [WidthRole.FanIn, WidthRole.FanOut] : MuRules.DefaultRoles(rank);
    protected override string DefaultReason => PlanText.EmbeddingBagDefault;
    protected override string ScaledReason(long dim) => PlanText.EmbeddingBagScaled(dim);
    protected override string NotWeight => PlanText.NotEmbeddingBagWeight;
}
