using TorchInit.Fast;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit;

/// <summary>
/// What the layer families' rules build a plan with: the policy and options, the activation finder (made on first use, so a fixed
/// scheme pays nothing for Auto), each module's own parameters read once, and the entry factories with their guards (tied,
/// frozen, empty) and the tie registry: a parameter is written at its first occurrence in pre-order, later holders are skipped.
/// </summary>
internal sealed class PlanBuilder
{
    private readonly Lazy<ActivationFinder>? _finder;
    private readonly Lazy<Dictionary<ModuleContext, ModuleContext>>? _tiedToLayer;
    private readonly Dictionary<object, string> _planned = new();
    /// <summary>Storage of parameters of modules the policy does not handle: a tied parameter met later is left too (its first occurrence decides).</summary>
    private readonly Dictionary<object, string> _left = new();
    /// <summary>Each context's own parameters, read once (TorchSharp's native modules hand out a new wrapper on every read).</summary>
    private readonly Dictionary<ModuleContext, List<(string Name, Tensor Tensor)>> _own = new(ReferenceEqualityComparer.Instance);

    public PlanBuilder(InitPolicy policy, InitOptions options, ModuleContext? root, ForwardTrace? trace)
    {
        Policy = policy;
        Options = options;
        Declarations = new Declarations(this);
        if (root is null) return;
        _finder = new Lazy<ActivationFinder>(() => new ActivationFinder(policy, trace, root), LazyThreadSafetyMode.None);
        _tiedToLayer = new Lazy<Dictionary<ModuleContext, ModuleContext>>(() => TiedEmbeddings(root), LazyThreadSafetyMode.None);
    }

    public InitPolicy Policy { get; }
    public InitOptions Options { get; }

    /// <summary>
    /// For the construction replay: every module constructs its own tensors and PyTorch ties parameters afterwards
    /// (<c>head.weight = emb.weight</c>), so a parameter tied to one planned earlier gets its constructor's draws all the same, made
    /// into a scratch tensor and discarded (<see cref="PlannedParameter.DiscardedDraws"/>): the stream advances as in Python and the
    /// shared storage keeps the first holder's values.
    /// </summary>
    public bool ConstructsTiedHolders { get; init; }
    public InitPlan Plan { get; } = new();
    public ActivationFinder Finder => _finder?.Value ?? throw new InvalidOperationException("no module tree to search");
    /// <summary>What <see cref="IInitializable"/> modules declared, for themselves and for their submodules.</summary>
    public Declarations Declarations { get; }

    /// <summary>The later weight layer an Embedding's weight is tied to (a language model's head), or null; found on first use.</summary>
    public ModuleContext? TiedLayerOf(ModuleContext embedding) =>
        _tiedToLayer is not null && _tiedToLayer.Value.TryGetValue(embedding, out var layer) ? layer : null;

    /// <summary>Embeddings whose weight is tied to a later weight layer's, with that layer.</summary>
    private Dictionary<ModuleContext, ModuleContext> TiedEmbeddings(ModuleContext root)
    {
        var tied = new Dictionary<ModuleContext, ModuleContext>(ReferenceEqualityComparer.Instance);
        var firstOwner = new Dictionary<object, (ModuleContext Context, string Name)>();
        foreach (var c in root.PreOrder().Where(c => !c.IsShared))
            foreach (var (name, p) in Own(c))
            {
                if (p.IsInvalid) continue;   // reported by the visit
                var key = StorageKey(p);
                if (!firstOwner.TryGetValue(key, out var owner)) firstOwner.Add(key, (c, name));
                else if (owner.Name == "weight" && name == "weight" && LayerTaxonomy.Classify(owner.Context) == LayerKind.Embedding
                         && LayerTaxonomy.IsWeightLayer(LayerTaxonomy.Classify(c)))
                    tied.TryAdd(owner.Context, c);
            }
        return tied;
    }

    public List<(string Name, Tensor Tensor)> Own(ModuleContext c)
    {
        if (!_own.TryGetValue(c, out var own))
            _own.Add(c, own = c.OwnParameters().Select(p => (p.Name, (Tensor)p.Parameter)).ToList());
        return own;
    }

    public void Add(PlannedParameter entry) => Plan.Parameters.Add(entry);

    /// <summary>Replaces each entry from index <paramref name="first"/> on (those a family just planned) by <paramref name="revise"/>'s version of it.</summary>
    public void Revise(int first, Func<PlannedParameter, PlannedParameter> revise)
    {
        for (int i = first; i < Plan.Parameters.Count; i++) Plan.Parameters[i] = revise(Plan.Parameters[i]);
    }

    /// <summary>
    /// A module initialized before this plan's rules run (by a sub-model's post_init, <see cref="InitPolicy.SubModel"/>): nothing is
    /// planned for it, and its parameters' storage counts as written, so that a parameter tied to one of them met later is skipped.
    /// </summary>
    public void Initialized(ModuleContext c)
    {
        if (c.IsShared) return;
        foreach (var (name, p) in Own(c))
            if (!p.IsInvalid) _planned.TryAdd(StorageKey(p), PlanText.Qualified(c.Path, name));
    }

    /// <summary>A module the policy does not handle: listed, and its parameters' storage remembered, so that a tie met later is left too.</summary>
    public void Unhandled(ModuleContext c, IReadOnlyList<(string Name, Tensor Tensor)> own)
    {
        Plan.Unhandled.Add(new UnhandledModule(c.Path, c.TypeName, own.Select(p => p.Name).ToList()));
        foreach (var (name, p) in own)
            if (!p.IsInvalid) _left.TryAdd(StorageKey(p), PlanText.Qualified(c.Path, name));
    }

    // ---- the generic rules ----

    /// <summary>A layer's weight by <paramref name="scheme"/> (fans by the fan convention), its bias by the bias policy, other parameters skipped.</summary>
    public void Layer(ModuleContext c, List<(string Name, Tensor Tensor)> own, InitScheme scheme, DecisionReason? reason,
        string activation = "", ActivationSource source = ActivationSource.Explicit, BiasInit? bias = null)
    {
        var weight = own.FirstOrDefault(p => p.Name == "weight").Tensor;
        Fans? fans = null;
        var weightName = PlanText.Qualified(c.Path, "weight");
        Fans FansAt(long[] shape) => Fans.ForLayer(c.Module, shape, Options.FanConvention, weightName);
        Func<Fans>? weightFans = weight is null ? null : () => fans ??= FansAt(weight.shape);
        Func<Fans?>? baseWeightFans = weight is null ? null : () => BaseShapeOf(weightName) is { } s ? FansAt(s) : null;
        PlannedParameter Decorate(PlannedParameter e) => reason is null ? e
            : e with { Activation = activation, Source = source, Reason = e.TiedTo is not null ? reason.Then(e.Note) : reason };
        if (weight is not null)
        {
            var stacked = Policy.StackedBlocksFor(c);
            if (stacked is not null && scheme.NeedsFans)
            {
                var entry = Decorate(Blocks(c, "weight", weight, scheme, stacked.Value, PlanText.OnePerStackedBlock));
                Add(entry with { Reason = DecisionReason.Join(entry.Reason, PlanText.StackedBlocks(stacked.Description, stacked.Value)) });
            }
            else
            {
                var entry = Decorate(Weight(c.Path, c.TypeName, "weight", weight, scheme, weightFans!, fansAt: FansAt));
                Add(entry);
                if (stacked is null) WarnIfFused(c, weight, scheme, entry);
            }
        }
        foreach (var (name, p) in own)
        {
            if (name == "weight") continue;
            if (name != "bias")
                Add(Decorate(Row(c, name, p, scheme.Name, InitAction.Skipped, PlanText.NotWeightOrBias)));
            else if (bias is null && Options.Bias is null && Policy.BiasFor(c) is { } rule)
            {
                var entry = Decorate(rule.Value.Scheme is { } biasScheme
                    ? Weight(c, name, p, biasScheme)
                    : Bias(c, name, p, rule.Value.Policy, weightFans, baseWeightFans));
                Add(entry with { Reason = entry.Reason?.Then(rule.Description), Note = PlanText.Join(entry.Note, rule.Description) });
            }
            else Add(Decorate(Bias(c, name, p, bias ?? Options.Bias ?? scheme.DefaultBias, weightFans, baseWeightFans)));
        }
    }

    /// <summary>Under Auto, a layer by what follows it (<see cref="ActivationFinder"/>); returns the decided gain.</summary>
    public double AutoLayer(ModuleContext c, List<(string Name, Tensor Tensor)> own)
    {
        var (activation, source, detail) = Finder.Find(c);
        var (scheme, why, assumed) = Policy.Choose(activation);
        if (assumed) source = ActivationSource.Assumed;
        Layer(c, own, scheme, new DecisionReason(PlanText.FoundActivation(detail, why, GainOverrideNote(scheme))), activation.Name, source);
        return GainOf(scheme);
    }

    /// <summary>
    /// <see cref="InitScheme.TorchDefault"/> on a layer that is not a Linear or Conv: each parameter by its family's PyTorch
    /// constructor default (<see cref="LayerFamily.TorchDefault"/>), in parameter order, as its <c>reset_parameters</c> draws them.
    /// </summary>
    public void ModuleDefault(ModuleContext c, LayerFamily family, List<(string Name, Tensor Tensor)> own, DecisionReason? reason,
        Func<PlannedParameter, Tensor, PlannedParameter>? adjust = null)
    {
        var tensors = own.ToDictionary(p => p.Name, p => p.Tensor);
        var why = DecisionReason.Join(reason, PlanText.TorchDefaultOf(c.TypeName));
        foreach (var (name, p) in own)
        {
            var fill = family.TorchDefault(c.Module, name, tensors);
            var entry = fill is null
                ? Row(c, name, p, "", InitAction.Skipped, PlanText.NoTorchDefault(c.TypeName, name))
                : Guard(c.Path, c.TypeName, name, p, InitScheme.TorchDefault.Name) ?? Planned(new PlannedParameter
                {
                    Path = c.Path, LayerType = c.TypeName, Name = name, Tensor = p, Fill = fill, Action = InitAction.Initialized,
                    Scheme = InitScheme.TorchDefault.Name, MuBaseRatio = BaseRatio(fill, () => DefaultAtBase(c, family, own, name)),
                });
            if (fill is not null && adjust is not null) entry = adjust(entry, p);
            Add(entry with { Source = ActivationSource.Intrinsic, Reason = fill is null ? null : why });
        }
    }

    /// <summary>
    /// A Linear named like a fused q, k, v projection, of shape [3d, d], drawn as one matrix by a scheme whose std depends on
    /// the fans: a policy warning that names the std per block it would get, and how to say it is 3 blocks.
    /// </summary>
    private void WarnIfFused(ModuleContext c, Tensor weight, InitScheme scheme, PlannedParameter entry)
    {
        if (!scheme.NeedsFans || !entry.Writes || weight.dim() != 2 || weight.shape[1] == 0 || weight.shape[0] != 3 * weight.shape[1]) return;
        if (!LinearConvFamily.FusedProjectionNames.Contains(c.Name.ToLowerInvariant())) return;
        if (Declarations.DeclaredBelow(c) is { } declared && declared.ContainsKey("weight")) return;
        long d = weight.shape[1];
        long[] block = [d, d];
        double perBlock = scheme.Resolve(new FillRequest(block, Fans.FromShape(block), Options.Gain, entry.QualifiedName)).TargetStd;
        double whole = entry.Fill!.TargetStd;
        if (!(Math.Abs(perBlock - whole) > 1e-12 * Math.Max(perBlock, whole))) return;
        Plan.PolicyWarnings.Add(PlanText.FusedProjection(entry.QualifiedName, d, entry.Scheme, whole, c.Path, perBlock));
    }

    // ---- entries ----

    /// <summary>
    /// A weight by <paramref name="scheme"/>; <paramref name="fans"/> is called when the scheme needs fans or the weight has them, and
    /// <paramref name="fansAt"/> gives the fans of a tensor of another shape by the same rule (μP's base shape; default PyTorch's shape rule).
    /// </summary>
    public PlannedParameter Weight(string path, string layerType, string name, Tensor weight, InitScheme scheme, Func<Fans> fans, string? schemeName = null,
        Func<long[], Fans>? fansAt = null)
    {
        schemeName ??= scheme.Name;
        if (Guard(path, layerType, name, weight, schemeName) is { } skipped) return skipped;
        // Fixed-value schemes need no fans; they are still reported for weights that have them.
        Fans? f = scheme.NeedsFans || weight.dim() >= 2 ? fans() : null;
        var q = PlanText.Qualified(path, name);
        var fill = scheme.Resolve(new FillRequest(weight.shape, f, Options.Gain, q));
        return Planned(new PlannedParameter
        {
            Path = path, LayerType = layerType, Name = name, Tensor = weight, Fill = fill, Action = InitAction.Initialized,
            Scheme = schemeName, Fans = f, FanConvention = f is null ? null : Options.FanConvention, Gain = GainOf(scheme),
            MuBaseRatio = BaseRatio(fill, () => BaseShapeOf(q) is { } s
                ? scheme.Resolve(new FillRequest(s, f is null ? null : fansAt?.Invoke(s) ?? Fans.FromShape(s, q), Options.Gain, q)) : null),
        });
    }

    /// <summary>A weight by <paramref name="scheme"/> with the shape rule's fans.</summary>
    public PlannedParameter Weight(ModuleContext c, string name, Tensor weight, InitScheme scheme) =>
        Weight(c.Path, c.TypeName, name, weight, scheme, () => Fans.FromShape(weight.shape, PlanText.Qualified(c.Path, name)));

    /// <summary>A weight of <paramref name="blocks"/> equal blocks stacked along dimension 0 (gates), each by <paramref name="scheme"/> with its own fans, in order.</summary>
    public PlannedParameter Blocks(ModuleContext c, string name, Tensor weight, InitScheme scheme, int blocks, string each = PlanText.OnePerGate)
    {
        if (Guard(c.Path, c.TypeName, name, weight, scheme.Name) is { } skipped) return skipped;
        var qualified = PlanText.Qualified(c.Path, name);
        if (weight.dim() == 0 || weight.shape[0] % blocks != 0)
            throw new ArgumentException($"'{qualified}' {Check.Shape(weight.shape)} does not split into {blocks} equal blocks along dimension 0.", qualified);
        var blockShape = weight.shape.ToArray();
        blockShape[0] /= blocks;
        var f = Fans.FromShape(blockShape, qualified);
        var inner = scheme.Resolve(new FillRequest(blockShape, f, Options.Gain, qualified));
        Fill? InnerAtBase()
        {
            if (BaseShapeOf(qualified) is not { } s || s.Length == 0 || s[0] % blocks != 0) return null;
            s[0] /= blocks;
            return scheme.Resolve(new FillRequest(s, Fans.FromShape(s, qualified), Options.Gain, qualified));
        }
        return Planned(new PlannedParameter
        {
            MuBaseRatio = BaseRatio(inner, InnerAtBase),
            Path = c.Path, LayerType = c.TypeName, Name = name, Tensor = weight, Fill = blocks == 1 ? inner : new BlockFill(inner, blocks),
            Action = InitAction.Initialized, Scheme = scheme.Name, Fans = f, FanConvention = FanConvention.Torch, Gain = GainOf(scheme),
            Note = blocks == 1 ? "" : PlanText.Blocks(blocks, blockShape, each),
        });
    }

    public PlannedParameter Constant(ModuleContext c, string name, Tensor p, ConstantFill fill, string scheme, string note = "") =>
        Guard(c.Path, c.TypeName, name, p, scheme) ?? Planned(new PlannedParameter
        {
            Path = c.Path, LayerType = c.TypeName, Name = name, Tensor = p, Fill = fill, Action = InitAction.Initialized, Scheme = scheme, Note = note,
        });

    /// <summary>
    /// A bias by <paramref name="policy"/>; <paramref name="weightFans"/> supplies fan_in for PyTorch's default bias, and
    /// <paramref name="baseWeightFans"/> the weight's fans at its μP base shape (null when unknown).
    /// </summary>
    public PlannedParameter Bias(ModuleContext c, string name, Tensor bias, BiasInit policy, Func<Fans>? weightFans, Func<Fans?>? baseWeightFans = null)
    {
        string scheme = PlanText.BiasName(policy);
        if (policy == BiasInit.Keep)
            return Row(c, name, bias, scheme, InitAction.Kept, PlanText.BiasKept);
        if (Guard(c.Path, c.TypeName, name, bias, scheme) is { } skipped) return skipped;
        if (policy == BiasInit.Zeros)
            return Planned(new PlannedParameter
            {
                Path = c.Path, LayerType = c.TypeName, Name = name, Tensor = bias, Fill = new ConstantFill(0.0), Action = InitAction.Initialized, Scheme = scheme,
            });
        if (weightFans is null)
            return Row(c, name, bias, scheme, InitAction.Warning, PlanText.BiasWithoutWeight);
        var f = weightFans();
        var fill = LinearConvFamily.DefaultBias(f);
        return Planned(new PlannedParameter
        {
            Path = c.Path, LayerType = c.TypeName, Name = name, Tensor = bias, Fill = fill, Action = InitAction.Initialized,
            Scheme = scheme, Fans = f, FanConvention = Options.FanConvention,
            MuBaseRatio = BaseRatio(fill, () => baseWeightFans?.Invoke() is { } f0 ? LinearConvFamily.DefaultBias(f0) : null),
        });
    }

    /// <summary>A second write of a tensor already planned (a constructor that draws a tensor, then sets it): no tie guard.</summary>
    public PlannedParameter Rewrite(ModuleContext c, string name, Tensor p, Fill fill, string scheme, DecisionReason reason) => new()
    {
        Path = c.Path, LayerType = c.TypeName, Name = name, Tensor = p, Fill = fill, Action = InitAction.Initialized, Scheme = scheme,
        Source = ActivationSource.Intrinsic, Reason = reason,
    };

    /// <summary>A row for a parameter that is deliberately not written.</summary>
    public static PlannedParameter Row(ModuleContext c, string name, Tensor p, string scheme, InitAction action, string note) =>
        Row(c.Path, c.TypeName, name, p, scheme, action, note);

    public static PlannedParameter Row(string path, string layerType, string name, Tensor p, string scheme, InitAction action, string note) =>
        new() { Path = path, LayerType = layerType, Name = name, Tensor = p, Action = action, Scheme = scheme, Note = note };

    /// <summary>Why a parameter is not written although its layer is handled: tied to one already planned, frozen, or empty.</summary>
    private PlannedParameter? Guard(string path, string layerType, string name, Tensor p, string scheme)
    {
        TensorCheck.EnsureAlive(p, PlanText.Qualified(path, name));
        if (!ConstructsTiedHolders && _planned.TryGetValue(StorageKey(p), out var first))
            return Row(path, layerType, name, p, scheme, InitAction.Skipped, PlanText.TiedPlanned(first)) with { TiedTo = first };
        if (_left.TryGetValue(StorageKey(p), out var left))
            return Row(path, layerType, name, p, scheme, InitAction.Skipped, PlanText.TiedLeft(left)) with { TiedTo = left };
        if (!Options.IncludeFrozen && p is TorchSharp.Modules.Parameter { requires_grad: false })
            return Row(path, layerType, name, p, scheme, InitAction.Skipped, PlanText.Frozen);
        if (p.numel() == 0)
            return Row(path, layerType, name, p, scheme, InitAction.Warning, PlanText.ZeroElements);
        return null;
    }

    /// <summary>
    /// Remembers a written entry's storage, so that a tied parameter met later is skipped; under <see cref="ConstructsTiedHolders"/>, a
    /// tied parameter met later keeps its draws as <see cref="PlannedParameter.DiscardedDraws"/> and writes nothing.
    /// </summary>
    private PlannedParameter Planned(PlannedParameter entry)
    {
        if (_planned.TryAdd(StorageKey(entry.Tensor), entry.QualifiedName) || !ConstructsTiedHolders) return entry;
        var first = _planned[StorageKey(entry.Tensor)];
        return entry with
        {
            Fill = null, Action = InitAction.Skipped, TiedTo = first, DiscardedDraws = entry.Fill is { Draws: true } fill ? fill : null,
            Note = PlanText.Join(entry.Note, PlanText.TiedConstructed(first)),
        };
    }

    /// <summary>Forgets a planned entry's storage (an enclosing module's declaration replaces it).</summary>
    public void Forget(PlannedParameter entry)
    {
        if (entry.Writes) _planned.Remove(StorageKey(entry.Tensor));
    }

    /// <summary>
    /// Identifies a parameter by its storage, whichever wrapper holds it (TorchSharp's Embedding returns a new wrapper on each
    /// <c>weight</c> read): the address of its first element with dtype and shape; on the meta device, which has no storage, the handle.
    /// </summary>
    internal static object StorageKey(Tensor t)
    {
        var data = FastFill.AnyDataPointer(t);
        return data == IntPtr.Zero ? t.Handle : (data, t.dtype, string.Join(",", t.shape));
    }

    // ---- μP: the rule's std at the base shape ----

    /// <summary>Under <see cref="InitPolicy.MuP"/>: the base shape of the parameter named <paramref name="qualified"/> (a copy), or null.</summary>
    public long[]? BaseShapeOf(string qualified) =>
        Policy.Mu is { } mu && mu.Shapes.TryGet(qualified, out var s) ? s.BaseShape.ToArray() : null;

    /// <summary>σ₀/σ for <see cref="PlannedParameter.MuBaseRatio"/>: NaN without μP, 1 for a fill without spread, NaN where the rule gives no std at the base shape.</summary>
    private double BaseRatio(Fill fill, Func<Fill?> atBase)
    {
        if (Policy.Mu is null) return double.NaN;
        if (!fill.Draws || fill.TargetStd == 0) return 1;
        return atBase() is { } f0 ? f0.TargetStd / fill.TargetStd : double.NaN;
    }

    /// <summary>A family's PyTorch default for parameter <paramref name="name"/> with every parameter of the module at its base shape (meta tensors).</summary>
    private Fill? DefaultAtBase(ModuleContext c, LayerFamily family, List<(string Name, Tensor Tensor)> own, string name)
    {
        using var scope = NewDisposeScope();
        var tensors = own.ToDictionary(p => p.Name, p => empty(BaseShapeOf(PlanText.Qualified(c.Path, p.Name)) ?? p.Tensor.shape, device: META));
        return family.TorchDefault(c.Module, name, tensors);
    }

    /// <summary>The gain a scheme applies here: <see cref="InitOptions.Gain"/> when set, else the scheme's; NaN for schemes without one.</summary>
    public double GainOf(InitScheme scheme) => double.IsNaN(scheme.Gain) ? double.NaN : Options.Gain ?? scheme.Gain;

    public string GainOverrideNote(InitScheme scheme) =>
        Options.Gain is double g && !double.IsNaN(scheme.Gain) ? PlanText.GainOverride(g, scheme.Gain) : "";
}
