using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit;

/// <summary>
/// Embedding: a lookup table weight [num_embeddings, d], a row looked up, not summed over a fan (so no fan decides its std).
/// PyTorch's default (<c>Embedding.reset_parameters</c>): N(0, 1), the <c>padding_idx</c> row 0. Auto: N(0, 1), or N(0, 1/d) under
/// <see cref="EmbeddingInit.Scaled"/>; a weight tied to a later weight layer's (a language model's head) is decided by that layer's
/// rule. TorchSharp does not expose <c>padding_idx</c>: the one all-zero row of the weight is kept at 0.
/// </summary>
internal class EmbeddingFamily : LayerFamily
{
    public override LayerKind? KindOf(nn.Module module) => module is Embedding ? LayerKind.Embedding : null;

    /// <summary>μP's layout: the weight [num, dim] maps a one-hot of num (fan-in) to dim (fan-out).</summary>
    public override WidthRole[] WidthRoles(ModuleContext c, string name, int rank) =>
        name == "weight" && rank == 2 ? [WidthRole.FanIn, WidthRole.FanOut] : MuRules.DefaultRoles(rank);
    public override bool TakesAuto => true;
    public override bool KnowsEveryDefault => true;

    /// <summary>An Embedding's weight: N(0, 1).</summary>
    public static readonly InitScheme DefaultWeight = new NormalScheme(0, 1);

    public override Fill? TorchDefault(nn.Module module, string name, IReadOnlyDictionary<string, Tensor> tensors) =>
        name == "weight" ? DefaultWeight.Resolve(new FillRequest(tensors["weight"].shape, null, null, name)) : null;

    public override void PlanTorchDefault(PlanBuilder b, ModuleContext c, List<(string Name, Tensor Tensor)> own, InitScheme scheme, DecisionReason? why) =>
        b.ModuleDefault(c, this, own, why, (entry, p) => p.dim() == 2 ? KeepingPaddingRow(entry, p).Entry : entry);

    /// <summary>A rule's scheme: the whole weight, as <c>torch.nn.init</c> writes it; under <see cref="InitPolicy.KeepPaddingRows"/>, then its padding row set back to 0.</summary>
    public override void PlanScheme(PlanBuilder b, ModuleContext c, List<(string Name, Tensor Tensor)> own, InitScheme scheme, DecisionReason? why)
    {
        int first = b.Plan.Parameters.Count;
        base.PlanScheme(b, c, own, scheme, why);
        if (!b.Policy.KeepsPaddingRows) return;
        b.Revise(first, e => e is { Name: "weight" } && e.Tensor.dim() == 2 && KeepingPaddingRow(e, e.Tensor) is (var kept, long row)
            ? kept with { Reason = kept.Reason?.Then(PlanText.PaddingRowReason(row)) }
            : e);
    }

    // The text of the rules (a lookup-table family that differs only in its name overrides these).
    protected virtual string DefaultReason => PlanText.EmbeddingDefault;
    protected virtual string ScaledReason(long dim) => PlanText.EmbeddingScaled(dim);
    protected virtual string NotWeight => PlanText.NotEmbeddingWeight;

    public override double PlanAuto(PlanBuilder b, ModuleContext c, List<(string Name, Tensor Tensor)> own)
    {
        var weight = own.FirstOrDefault(p => p.Name == "weight").Tensor;
        if (weight is null || weight.dim() != 2)
        {
            b.Unhandled(c, own);
            return double.NaN;
        }
        if (b.TiedLayerOf(c) is { } layer && b.Policy.OverrideFor(layer) is null)
        {
            Tied(b, c, own, weight, layer);
            return double.NaN;
        }
        long dim = weight.shape[1];
        bool scaled = b.Policy.Embeddings == EmbeddingInit.Scaled;
        var scheme = scaled ? InitScheme.Normal(1 / Math.Sqrt(dim)) : DefaultWeight;
        var entry = b.Weight(c.Path, c.TypeName, "weight", weight, scheme, () => Fans.FromShape(weight.shape, PlanText.Qualified(c.Path, "weight")),
            scaled ? PlanText.EmbeddingScaledScheme(dim) : null);
        var (kept, row) = KeepingPaddingRow(entry, weight);
        var reason = scaled ? ScaledReason(dim) : DefaultReason;
        b.Add(kept with { Source = ActivationSource.Intrinsic, Reason = new DecisionReason(row is long r ? $"{reason}; {PlanText.PaddingRowReason(r)}" : reason) });
        foreach (var (name, p) in own.Where(p => p.Name != "weight"))
            b.Add(PlanBuilder.Row(c, name, p, scheme.Name, InitAction.Skipped, NotWeight));
        return double.NaN;
    }

    /// <summary>
    /// An Embedding's weight tied to a later weight layer's (<c>head.weight = tok.weight</c>): one tensor in two roles, decided by
    /// the layer's Auto rule with the layer's fans. As the output projection it must keep the initial logits small (PyTorch's
    /// embedding N(0, 1) gives logits of std √d and an initial loss far above ln(vocab)); as an embedding a small std is what GPT-2
    /// and BERT use (N(0, 0.02)).
    /// </summary>
    private void Tied(PlanBuilder b, ModuleContext c, List<(string Name, Tensor Tensor)> own, Tensor weight, ModuleContext layer)
    {
        var (activation, source, detail) = b.Finder.Find(layer);
        var (scheme, why, assumed) = b.Policy.Choose(activation);
        if (assumed) source = ActivationSource.Assumed;
        var layerWeight = PlanText.Qualified(layer.Path, "weight");
        var entry = b.Weight(c.Path, c.TypeName, "weight", weight, scheme,
            () => Fans.ForLayer(layer.Module, weight.shape, b.Options.FanConvention, layerWeight),
            fansAt: s => Fans.ForLayer(layer.Module, s, b.Options.FanConvention, layerWeight));
        var (kept, row) = KeepingPaddingRow(entry, weight);
        var reason = PlanText.TiedEmbedding(layerWeight, layer.TypeName, detail, why, b.GainOverrideNote(scheme));
        b.Add(kept with
        {
            Activation = activation.Name, Source = source,
            Reason = new DecisionReason(row is long r ? $"{reason}; {PlanText.PaddingRowReason(r)}" : reason),
            Note = PlanText.Join(kept.Note, PlanText.TiedEmbeddingNote(layerWeight)),
        });
        foreach (var (name, p) in own.Where(p => p.Name != "weight"))
            b.Add(PlanBuilder.Row(c, name, p, scheme.Name, InitAction.Skipped, NotWeight));
    }

    /// <summary>A lookup table's weight entry with its padding row (<see cref="ZeroRow"/>) kept at 0, and that row; the entry as is when there is none.</summary>
    protected static (PlannedParameter Entry, long? Row) KeepingPaddingRow(PlannedParameter entry, Tensor weight)
    {
        if (!entry.Writes || weight.device_type == DeviceType.META || ZeroRow(weight) is not long index) return (entry, null);
        return (entry with { Fill = new PaddingRowFill(entry.Fill!, index), Note = PlanText.Join(entry.Note, PlanText.PaddingRowNote(index)) }, index);
    }

    /// <summary>
    /// TorchSharp does not expose a lookup table's padding_idx; its constructor (like PyTorch's) zeroes that row of an N(0, 1)
    /// draw, so a single all-zero row among several is taken to be it.
    /// </summary>
    private static long? ZeroRow(Tensor weight)
    {
        if (weight.shape[0] < 2) return null;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var zeroRows = weight.eq(0).all(1).nonzero().flatten();
        return zeroRows.numel() == 1 ? zeroRows.item<long>() : null;
    }
}
