using static TorchSharp.torch;

namespace TorchInit;

/// <summary>
/// A family of TorchSharp layers and everything TorchInit knows about it, in one file: which module types belong to it and of
/// which <see cref="LayerKind"/>, its parameter layout (which parameter is the weight, which are stacked blocks), its fans, its PyTorch
/// default (<c>reset_parameters</c>, what <see cref="InitScheme.TorchDefault"/> and <see cref="Build"/> write), and its rules under a
/// fixed scheme, under TorchDefault and under Auto. The planner asks <see cref="LayerTaxonomy"/> for a module's family and only dispatches.
/// A new family is one file of this type plus its line in <see cref="LayerFamilies.All"/>.
/// </summary>
internal abstract class LayerFamily
{
    /// <summary>The kind of <paramref name="module"/> when this family holds its type; null when it does not.</summary>
    public abstract LayerKind? KindOf(nn.Module module);

    /// <summary>Whether a fixed scheme initializes the module when <see cref="InitOptions.LayerTypes"/> does not say otherwise.</summary>
    public virtual bool TakesFixedScheme(ModuleContext c) => false;

    /// <summary>Whether Auto initializes the module when <see cref="InitOptions.LayerTypes"/> does not say otherwise.</summary>
    public virtual bool TakesAuto => false;

    /// <summary>Whether the module, unless overridden, says how its own parameters are initialized (<see cref="IInitializable"/>).</summary>
    public virtual bool DeclaresItself => false;

    /// <summary>The module's own parameters by a fixed scheme (a policy's default or an override). Default: the weight by the scheme, the bias by the bias policy.</summary>
    public virtual void PlanScheme(PlanBuilder b, ModuleContext c, List<(string Name, Tensor Tensor)> own, InitScheme scheme, DecisionReason? why) =>
        b.Layer(c, own, scheme, why);

    /// <summary>The module's own parameters by <see cref="InitScheme.TorchDefault"/>: what its PyTorch constructor gives them. Default: as <see cref="PlanScheme"/> (kaiming_uniform_(a = √5), bias U(±1/√fan_in)).</summary>
    public virtual void PlanTorchDefault(PlanBuilder b, ModuleContext c, List<(string Name, Tensor Tensor)> own, InitScheme scheme, DecisionReason? why) =>
        b.Layer(c, own, scheme, why);

    /// <summary>The module's own parameters under Auto; returns the gain decided for it (NaN: none). Default: by the activation that follows it.</summary>
    public virtual double PlanAuto(PlanBuilder b, ModuleContext c, List<(string Name, Tensor Tensor)> own) => b.AutoLayer(c, own);

    /// <summary>
    /// The module's constructor draws, in the order its PyTorch constructor makes them, for <see cref="InitPolicy.ReplaysConstruction"/>;
    /// false when the family does not know its constructor (nothing is planned, and the plan warns). Default: its
    /// <see cref="PlanTorchDefault"/>, parameter by parameter.
    /// </summary>
    public virtual bool PlanConstruction(PlanBuilder b, ModuleContext c, List<(string Name, Tensor Tensor)> own)
    {
        PlanTorchDefault(b, c, own, InitScheme.TorchDefault, new DecisionReason(PlanText.Constructed(c.TypeName)));
        return true;
    }

    /// <summary>
    /// The PyTorch constructor default of parameter or buffer <paramref name="name"/> of <paramref name="module"/> (given all its
    /// tensors by name), or null when the family does not define one.
    /// </summary>
    public virtual Fill? TorchDefault(nn.Module module, string name, IReadOnlyDictionary<string, Tensor> tensors) => null;

    /// <summary>
    /// μP's layout of parameter <paramref name="name"/> (of <paramref name="rank"/> dimensions): which dimensions are its fan-in and which
    /// its fan-out (<see cref="MuBaseShapes"/>). Default: PyTorch's fan rule, dimension 0 fan-out and 1 fan-in; a vector fan-out.
    /// </summary>
    public virtual WidthRole[] WidthRoles(ModuleContext c, string name, int rank) => MuRules.DefaultRoles(rank);

    /// <summary>
    /// How many leading rows (of dimension 0) of parameter <paramref name="name"/> of shape <paramref name="shape"/> are an attention's
    /// query projection, zeroed under μP's <see cref="MuOptions.ZeroQueries"/> (all of them for a query-only weight); null when it has none.
    /// </summary>
    public virtual long? QueryRows(ModuleContext c, string name, IReadOnlyList<long> shape) => null;

    /// <summary>Whether <see cref="TorchDefault"/> knows every tensor of the family's modules, so that <see cref="Build"/> can construct them on the meta device.</summary>
    public virtual bool KnowsEveryDefault => false;
}

/// <summary>The families, in the order a module's type is matched (the first that claims it): the one list of layer families.</summary>
internal static class LayerFamilies
{
    public static readonly LayerFamily SelfInitializing = new SelfInitializingFamily();
    public static readonly LayerFamily LinearConv = new LinearConvFamily();
    public static readonly LayerFamily Bilinear = new BilinearFamily();
    public static readonly LayerFamily Embedding = new EmbeddingFamily();
    public static readonly LayerFamily EmbeddingBag = new EmbeddingBagFamily();
    public static readonly LayerFamily Recurrent = new RecurrentFamily();
    public static readonly LayerFamily Transformer = new TransformerFamily();
    public static readonly LayerFamily Normalization = new NormalizationFamily();
    public static readonly LayerFamily Activation = new ActivationFamily();
    /// <summary>Modules no family holds: containers, gain-neutral, custom and unknown modules (planned only when <see cref="InitOptions.LayerTypes"/> names them).</summary>
    public static readonly LayerFamily Other = new OtherFamily();

    /// <summary>Matched in this order; <see cref="Activation"/> comes after <see cref="Normalization"/> and is asked after the gain-neutral modules.</summary>
    public static readonly IReadOnlyList<LayerFamily> All = [SelfInitializing, LinearConv, Bilinear, Embedding, EmbeddingBag, Recurrent, Transformer, Normalization, Activation];

    private sealed class OtherFamily : LayerFamily
    {
        public override LayerKind? KindOf(nn.Module module) => ActivationTable.IsGainNeutral(module) ? LayerKind.GainNeutral : LayerKind.Other;
        public override bool PlanConstruction(PlanBuilder b, ModuleContext c, List<(string Name, Tensor Tensor)> own) => false;   // a custom module's constructor is unknown
    }
}
