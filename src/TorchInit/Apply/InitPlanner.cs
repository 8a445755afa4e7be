using System.Globalization;
using TorchInit.Fast;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit;

/// <summary>
/// Decides, writes nothing: walks the model in pre-order (<see cref="ModuleVisitor"/>), classifies each module once
/// (<see cref="LayerTaxonomy"/>), asks the <see cref="InitPolicy"/> for its scheme (or the activation table, under Auto) and
/// resolves each parameter's fill from its fans and gain. The result is an <see cref="InitPlan"/>: what <c>PlanInit</c> reports and
/// what <see cref="PlanWriter"/> checks and then writes, weight before bias, so a seeded call draws in PyTorch's order.
/// Tied parameters are recognized by their storage: the first occurrence is written, later ones are skipped.
/// </summary>
internal sealed class InitPlanner : ModuleVisitor
{
    private readonly InitPolicy _policy;
    private readonly InitOptions _options;
    /// <summary>Made on first use: a fixed scheme that asks no module what follows it builds no finder.</summary>
    private readonly Lazy<ActivationFinder>? _finder;
    private ActivationFinder Finder => _finder?.Value ?? throw new InvalidOperationException("no module tree to search");
    private readonly Dictionary<ModuleContext, (string Block, string Rule, string? Shortcut)> _zeroNorms = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<object, string> _planned = new();
    /// <summary>Storage of parameters of modules the policy does not handle: a tied parameter met later is left too (its first occurrence decides).</summary>
    private readonly Dictionary<object, string> _left = new();
    private readonly InitPlan _plan = new();
    /// <summary>Each context's own parameters, read once (TorchSharp's native modules hand out a new wrapper on every read).</summary>
    private readonly Dictionary<ModuleContext, List<(string Name, Tensor Tensor)>> _own = new(ReferenceEqualityComparer.Instance);
    /// <summary>
    /// Embeddings whose weight is tied to a later weight layer's (a language model's head), with that layer: under Auto the one
    /// tensor is decided by the layer's rule, its role as the output projection, so that the initial logits are small.
    /// </summary>
    private readonly Dictionary<ModuleContext, ModuleContext> _tiedToLayer = new(ReferenceEqualityComparer.Instance);

    private InitPlanner(InitPolicy policy, InitOptions options)
    {
        _policy = policy;
        _options = options;
    }

    private InitPlanner(ModuleContext root, InitPolicy policy, InitOptions options, ForwardTrace? trace) : this(policy, options)
    {
        _finder = new Lazy<ActivationFinder>(() => new ActivationFinder(policy, trace, root), LazyThreadSafetyMode.None);
        var firstOwner = new Dictionary<object, (ModuleContext Context, string Name)>();
        foreach (var c in root.PreOrder().Where(c => !c.IsShared))
            foreach (var (name, p) in Own(c))
            {
                if (p.IsInvalid) continue;   // reported by the visit
                var key = StorageKey(p);
                if (!firstOwner.TryGetValue(key, out var owner)) firstOwner.Add(key, (c, name));
                else if (owner.Name == "weight" && name == "weight" && LayerTaxonomy.Classify(owner.Context) == LayerKind.Embedding
                         && LayerTaxonomy.IsWeightLayer(LayerTaxonomy.Classify(c)))
                    _tiedToLayer.TryAdd(owner.Context, c);
            }
        // The last normalization of each named block's residual branch: a norm on the block's shortcut (torchvision's
        // downsample.1) is never it, as torchvision's zero_init_residual zeroes bn2/bn3 and never the shortcut's.
        foreach (var rule in policy.ZeroLastNormBlocks)
            foreach (var block in root.PreOrder().Where(c => !c.IsShared && rule.Match(c)))
            {
                var shortcut = ResidualLayout.Shortcut(block);
                if (block.PreOrder().Skip(1).LastOrDefault(c => !c.IsShared && LayerTaxonomy.Classify(c) == LayerKind.Normalization
                                                             && (shortcut is null || !ResidualLayout.Within(c, shortcut))) is { } norm)
                    _zeroNorms.TryAdd(norm, (block.Path, rule.Description, shortcut?.Path));
            }
    }

    /// <summary>The plan for <paramref name="module"/>; throws (before anything is written) for a tensor a scheme cannot fill.</summary>
    public static InitPlan Plan(nn.Module module, InitPolicy policy, InitOptions options, Action? traceForward)
    {
        var root = ModuleContext.Build(module);
        var trace = traceForward is null ? null : ForwardTrace.Record(root, traceForward);
        var planner = new InitPlanner(root, policy, options, trace);
        planner.Visit(root);
        planner._plan.PolicyWarnings.AddRange(PolicyWarnings(root, policy));
        return planner._plan;
    }

    /// <summary>The plan for one tensor with explicit or shape-rule fans (no module, no policy).</summary>
    public static InitPlan PlanTensor(Tensor tensor, InitScheme scheme, Func<Fans> fans, InitOptions options)
    {
        var planner = new InitPlanner(InitPolicy.Of(scheme), options with { IncludeFrozen = true });
        planner.Add(planner.Weight("", "Tensor", "tensor", tensor, scheme, fans));
        return planner._plan;
    }

    // ---- dispatch: one switch on the module's kind ----

    protected override void VisitModule(ModuleContext c, LayerKind kind)
    {
        var own = Own(c);
        var rule = _policy.OverrideFor(c);
        // Asked before the own-parameter check: a module may declare only its submodules' parameters (a fused c_attn).
        if (kind == LayerKind.SelfInitializing && rule is null) CollectDeclarations(c, own);
        if (own.Count == 0) return;
        int first = _plan.Parameters.Count;
        // An enclosing module's declaration wins over the policy's default for this module, not over an override naming it.
        var declared = rule is null && _declaredBelow.TryGetValue(c, out var below) ? below : null;
        if (!Handles(c, kind, rule is not null))
        {
            if (declared is null)
            {
                Unhandled(c, own);
                return;
            }
            foreach (var (name, p) in own.Where(p => declared.ContainsKey(p.Name)))
                Add(DeclaredEntry(c, name, p, declared[name]));
            var rest = own.Where(p => !declared.ContainsKey(p.Name)).ToList();
            if (rest.Count > 0) Unhandled(c, rest);
            Decide(c, first, double.NaN);
            return;
        }
        var scheme = rule is not null ? rule.Value : _policy.DefaultScheme;
        double decidedGain = double.NaN;
        if (kind == LayerKind.SelfInitializing && rule is null)
            SelfInitializing(c, own);
        else if (scheme is not null)
        {
            var why = rule is null ? null : new DecisionReason(scheme.Name, rule);
            if (kind == LayerKind.Attention) Attention(c, own, scheme, why, "", ActivationSource.Explicit);
            else if (c.IsPart && scheme.IsLayerDefault) TorchDefaultPart(c, own, why);
            else if (scheme.IsLayerDefault && kind is LayerKind.Bilinear or LayerKind.Embedding or LayerKind.Normalization or LayerKind.Recurrent)
                ModuleDefault(c, own, why);
            else Layer(c, own, scheme, why);
            decidedGain = GainOf(scheme);
        }
        else
        {
            decidedGain = Auto(c, kind, own);
            if (rule is not null) Cite(first, rule);
        }
        if (declared is not null) ReplaceDeclared(c, first, declared);
        if (_policy.ResidualFor(c) is { } residual) Narrow(c, first, residual);
        Decide(c, first, decidedGain);
    }

    private List<(string Name, Tensor Tensor)> Own(ModuleContext c)
    {
        if (!_own.TryGetValue(c, out var own))
            _own.Add(c, own = c.OwnParameters().Select(p => (p.Name, (Tensor)p.Parameter)).ToList());
        return own;
    }

    /// <summary>Cites, in the reasons of the entries from <paramref name="first"/> on, the override that sent the module to Auto.</summary>
    private void Cite(int first, Rule<InitScheme?> rule)
    {
        for (int i = first; i < _plan.Parameters.Count; i++)
            if (_plan.Parameters[i].Reason is { } reason)
                _plan.Parameters[i] = _plan.Parameters[i] with { Reason = reason.Under(rule) };
    }

    /// <summary>Whether the module's parameters are planned: <see cref="InitOptions.LayerTypes"/> when given, else the kinds the policy has rules for.</summary>
    private bool Handles(ModuleContext c, LayerKind kind, bool overridden)
    {
        if (_options.LayerTypes is { } types) return types.Any(c.Is);
        if (overridden || kind == LayerKind.SelfInitializing) return true;
        if (_policy.IsAuto) return LayerTaxonomy.IsWeightLayer(kind) || kind is LayerKind.Embedding or LayerKind.Recurrent or LayerKind.Normalization or LayerKind.Activation or LayerKind.Attention;
        // A fixed scheme: Linear/Conv layers, and the q, k, v projection of an attention (a stacked Linear).
        return kind == LayerKind.Attention || LayerTaxonomy.FixedSchemeLayerTypes.Any(c.Is);
    }

    /// <summary>Under Auto, by kind; returns the decided gain.</summary>
    private double Auto(ModuleContext c, LayerKind kind, List<(string, Tensor)> own)
    {
        switch (kind)
        {
            case LayerKind.Embedding: AutoEmbedding(c, own); return double.NaN;
            case LayerKind.Recurrent: return AutoRecurrent(c, own);
            case LayerKind.Normalization: AutoNormalization(c, own); return double.NaN;
            case LayerKind.Attention:
            {
                var (scheme, why, _) = _policy.Choose(TorchInit.Activation.Linear);
                Attention(c, own, scheme, new DecisionReason($"q, k and v each feed the attention scores' dot product, no activation: {why}{GainOverrideNote(scheme)}"),
                    TorchInit.Activation.Linear.Name, ActivationSource.Intrinsic);
                return GainOf(scheme);
            }
            case LayerKind.Linear when c.IsPart: return AutoPart(c, own);
            case LayerKind.Activation:
                foreach (var (name, p) in own)
                    Add(Row(c, name, p, "keep", InitAction.Kept, "activation parameter, left as constructed") with
                        { Source = ActivationSource.Intrinsic, Reason = new DecisionReason("an activation's own parameter (PReLU slope): left at its constructor value") });
                return double.NaN;
            default: return AutoWeightLayer(c, own); // weight layers, and types listed in LayerTypes
        }
    }

    /// <summary>A repeated occurrence of a shared module: one Skipped row per parameter; its first occurrence decided.</summary>
    protected override void VisitShared(ModuleContext c)
    {
        var parameters = c.Module.named_parameters().ToList();
        if (parameters.Count == 0) return;
        int first = _plan.Parameters.Count;
        var origin = c.SharedWith!;
        var reason = $"shared: the same {c.TypeName} as '{origin.Path}', initialized there; its first occurrence decides";
        var rule = _policy.OverrideFor(c);
        if (LayerTaxonomy.IsWeightLayer(LayerTaxonomy.Classify(c)) && (rule is not null ? rule.Value : _policy.DefaultScheme) is null)
            reason += $" (here {Finder.Sequential(c).Activation.Name} follows)";
        foreach (var (name, p) in parameters)
            Add(Row(c, name, p, "", InitAction.Skipped, $"shared module, same as '{origin.Path}', already initialized") with { Reason = new DecisionReason(reason) });
        Decide(c, first, double.NaN);
    }

    // ---- the rules ----

    /// <summary>A layer's weight by <paramref name="scheme"/> (fans by the fan convention), its bias by the bias policy, other parameters skipped.</summary>
    private void Layer(ModuleContext c, List<(string Name, Tensor Tensor)> own, InitScheme scheme, DecisionReason? reason,
        string activation = "", ActivationSource source = ActivationSource.Explicit, BiasInit? bias = null)
    {
        var weight = own.FirstOrDefault(p => p.Name == "weight").Tensor;
        Fans? fans = null;
        Func<Fans>? weightFans = weight is null ? null
            : () => fans ??= Fans.ForLayer(c.Module, weight.shape, _options.FanConvention, Qualified(c.Path, "weight"));
        PlannedParameter Decorate(PlannedParameter e) => reason is null ? e
            : e with { Activation = activation, Source = source, Reason = e.TiedTo is not null ? reason.Then(e.Note) : reason };
        if (weight is not null)
        {
            var stacked = _policy.StackedBlocksFor(c);
            if (stacked is not null && scheme.NeedsFans)
            {
                var entry = Decorate(Blocks(c, "weight", weight, scheme, stacked.Value, "one per stacked block"));
                Add(entry with { Reason = Join(entry.Reason, $"{stacked.Description}: {stacked.Value} blocks, each with its own fans") });
            }
            else
            {
                var entry = Decorate(Weight(c.Path, c.TypeName, "weight", weight, scheme, weightFans!));
                Add(entry);
                if (stacked is null) WarnIfFused(c, weight, scheme, entry);
            }
        }
        foreach (var (name, p) in own)
        {
            if (name == "weight") continue;
            Add(Decorate(name == "bias"
                ? Bias(c, name, p, bias ?? _options.Bias ?? scheme.DefaultBias, weightFans)
                : Row(c, name, p, scheme.Name, InitAction.Skipped, "not a weight or bias of a handled layer")));
        }
    }

    /// <summary>The names fused q, k, v projections go by (nanoGPT, timm, PyTorch, GPT-NeoX, MPT, Baichuan).</summary>
    private static readonly string[] FusedProjectionNames = ["c_attn", "qkv", "in_proj", "qkv_proj", "query_key_value", "wqkv", "w_pack"];

    /// <summary>
    /// A Linear named like a fused q, k, v projection, of shape [3d, d], drawn as one matrix by a scheme whose std depends on
    /// the fans: a policy warning that names the std per block it would get, and how to say it is 3 blocks.
    /// </summary>
    private void WarnIfFused(ModuleContext c, Tensor weight, InitScheme scheme, PlannedParameter entry)
    {
        if (!scheme.NeedsFans || !entry.Writes || weight.dim() != 2 || weight.shape[1] == 0 || weight.shape[0] != 3 * weight.shape[1]) return;
        if (!FusedProjectionNames.Contains(c.Name.ToLowerInvariant())) return;
        if (_declaredBelow.TryGetValue(c, out var declared) && declared.ContainsKey("weight")) return;
        long d = weight.shape[1];
        long[] block = [d, d];
        double perBlock = scheme.Resolve(new FillRequest(block, Fans.FromShape(block), _options.Gain, entry.QualifiedName)).TargetStd;
        double whole = entry.Fill!.TargetStd;
        if (!(Math.Abs(perBlock - whole) > 1e-12 * Math.Max(perBlock, whole))) return;
        _plan.PolicyWarnings.Add(
            $"'{entry.QualifiedName}' [{3 * d}, {d}] looks like a fused q, k, v projection; it was drawn as one matrix by {entry.Scheme} (std {Num4(whole)}). " +
            $"If it is q, k and v stacked, StackedBlocks(\"{c.Path}\", 3) draws each [{d}, {d}] block with its own fans (std {Num4(perBlock)})");
    }

    private static string Num4(double v) => v.ToString("0.####", CultureInfo.InvariantCulture);

    private double AutoWeightLayer(ModuleContext c, List<(string, Tensor)> own)
    {
        var (activation, source, detail) = Finder.Find(c);
        var (scheme, why, assumed) = _policy.Choose(activation);
        if (assumed) source = ActivationSource.Assumed;
        Layer(c, own, scheme, new DecisionReason($"{Capitalize(detail)}; {why}{GainOverrideNote(scheme)}"), activation.Name, source);
        return GainOf(scheme);
    }

    private void AutoEmbedding(ModuleContext c, List<(string Name, Tensor Tensor)> own)
    {
        var weight = own.FirstOrDefault(p => p.Name == "weight").Tensor;
        if (weight is null || weight.dim() != 2)
        {
            Unhandled(c, own);
            return;
        }
        if (_tiedToLayer.TryGetValue(c, out var layer) && _policy.OverrideFor(layer) is null)
        {
            AutoTiedEmbedding(c, own, weight, layer);
            return;
        }
        long dim = weight.shape[1];
        bool scaled = _policy.Embeddings == EmbeddingInit.Scaled;
        var scheme = scaled ? InitScheme.Normal(1 / Math.Sqrt(dim)) : TorchDefaults.EmbeddingWeight;
        var reason = scaled
            ? $"Embedding: scaled N(0, 1/d), d = {dim}, so each embedded vector has norm ≈ 1"
            : "Embedding: PyTorch's default N(0, 1): a row is looked up, not summed over a fan";
        var entry = Weight(c.Path, c.TypeName, "weight", weight, scheme, () => Fans.FromShape(weight.shape, Qualified(c.Path, "weight")),
            scaled ? $"Normal(0, 1/√{dim})" : null);
        (entry, reason) = KeepingPaddingRow(entry, weight, reason);
        Add(entry with { Source = ActivationSource.Intrinsic, Reason = new DecisionReason(reason) });
        foreach (var (name, p) in own.Where(p => p.Name != "weight"))
            Add(Row(c, name, p, scheme.Name, InitAction.Skipped, "not a weight of an Embedding"));
    }

    /// <summary>
    /// An Embedding's weight tied to a later weight layer's (a language model's head, <c>head.weight = tok.weight</c>): one tensor
    /// in two roles, decided by the layer's Auto rule with the layer's fans. As the output projection it must keep the initial
    /// logits small (PyTorch's embedding N(0, 1) gives logits of std √d and an initial loss far above ln(vocab)); as an embedding
    /// a small std is what GPT-2 and BERT use (N(0, 0.02)).
    /// </summary>
    private void AutoTiedEmbedding(ModuleContext c, List<(string Name, Tensor Tensor)> own, Tensor weight, ModuleContext layer)
    {
        var (activation, source, detail) = Finder.Find(layer);
        var (scheme, why, assumed) = _policy.Choose(activation);
        if (assumed) source = ActivationSource.Assumed;
        var entry = Weight(c.Path, c.TypeName, "weight", weight, scheme,
            () => Fans.ForLayer(layer.Module, weight.shape, _options.FanConvention, Qualified(layer.Path, "weight")));
        var tied = $"tied with '{Qualified(layer.Path, "weight")}' ({layer.TypeName}), one tensor in two roles: decided by its role as that layer's weight";
        var reason = $"{tied} ({detail}; {why}{GainOverrideNote(scheme)}), so the initial logits are small; as an embedding its rows are drawn from the same scheme, not N(0, 1)";
        (entry, reason) = KeepingPaddingRow(entry, weight, reason);
        Add(entry with { Activation = activation.Name, Source = source, Reason = new DecisionReason(reason), Note = Join(entry.Note, $"tied: also '{Qualified(layer.Path, "weight")}'") });
        foreach (var (name, p) in own.Where(p => p.Name != "weight"))
            Add(Row(c, name, p, scheme.Name, InitAction.Skipped, "not a weight of an Embedding"));
    }

    /// <summary>An Embedding weight's entry with its padding row (<see cref="ZeroRow"/>) kept at 0, and the reason saying so.</summary>
    private static (PlannedParameter Entry, string Reason) KeepingPaddingRow(PlannedParameter entry, Tensor weight, string reason)
    {
        if (!entry.Writes || weight.device_type == DeviceType.META || ZeroRow(weight) is not long index) return (entry, reason);
        return (entry with { Fill = new PaddingRowFill(entry.Fill!, index), Note = Join(entry.Note, $"row {index} kept at 0 (it was the only all-zero row: padding_idx)") },
                $"{reason}; row {index} kept at 0 (padding_idx)");
    }

    /// <summary>
    /// TorchSharp does not expose an Embedding's padding_idx; its constructor (like PyTorch's) zeroes that row of an
    /// N(0, 1) draw, so a single all-zero row among several is taken to be it.
    /// </summary>
    private static long? ZeroRow(Tensor weight)
    {
        if (weight.shape[0] < 2) return null;
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var zeroRows = weight.eq(0).all(1).nonzero().flatten();
        return zeroRows.numel() == 1 ? zeroRows.item<long>() : null;
    }

    private double AutoRecurrent(ModuleContext c, List<(string Name, Tensor Tensor)> own)
    {
        var hh = own.FirstOrDefault(p => p.Name.StartsWith("weight_hh", StringComparison.Ordinal)).Tensor;
        var ih = own.FirstOrDefault(p => p.Name.StartsWith("weight_ih", StringComparison.Ordinal)).Tensor;
        if (hh is null || ih is null || hh.dim() != 2)
        {
            Unhandled(c, own);
            return double.NaN;
        }
        long hidden = hh.shape[1];
        int gates = (int)(ih.shape[0] / hidden);
        bool lstm = c.Module is LSTM or LSTMCell, gru = c.Module is GRU or GRUCell;
        string gateNames = lstm ? "i, f, g, o" : gru ? "r, z, n" : "";

        Activation activation;
        ActivationSource source;
        string why;
        if (lstm || gru)
            (activation, source, why) = (Activation.Sigmoid, ActivationSource.Intrinsic, $"{c.TypeName} gates ({gateNames}) are sigmoids (the candidate's tanh shares the layout)");
        else if (_policy.HintFor(c) is { } hint)
            (activation, source, why) = (hint.Value, ActivationSource.Hint, $"{hint.Description} says the cell's nonlinearity is {hint.Value.Name}");
        else
            (activation, source, why) = (Activation.Tanh, ActivationSource.Assumed,
                "TorchSharp does not expose an RNN's nonlinearity: tanh (PyTorch's default) assumed; a hint with Activation.Relu says otherwise");
        var (inputScheme, inputWhy, _) = _policy.Choose(activation);
        var recurrent = _policy.HiddenToHiddenScheme;
        var forget = _policy.LstmForgetGateBias;
        foreach (var (name, p) in own)
        {
            PlannedParameter entry;
            string? reason;
            if (name.StartsWith("weight_ih", StringComparison.Ordinal))
            {
                entry = Blocks(c, name, p, inputScheme, gates);
                reason = $"input-to-hidden, per gate: {why}; {inputWhy}{GainOverrideNote(inputScheme)}";
            }
            else if (name.StartsWith("weight_hh", StringComparison.Ordinal))
            {
                entry = Blocks(c, name, p, recurrent, gates);
                reason = $"hidden-to-hidden, per gate [{hidden}, {hidden}] block: {recurrent.Name} keeps the recurrent map's singular values at the gain, " +
                         "so repeated steps neither explode nor vanish (Saxe et al. 2013)";
            }
            else if (lstm && forget != 0 && name.StartsWith("bias_ih", StringComparison.Ordinal) && p.shape[0] == 4 * hidden)
            {
                entry = Constant(c, name, p, new ConstantFill(0.0, (hidden, hidden, forget)), $"zeros, forget gate {Num(forget)}",
                    $"elements [{hidden}, {2 * hidden}) (forget gate) = {Num(forget)}");
                reason = $"bias 0, forget gate {Num(forget)} in bias_ih only (bias_hh stays 0, so b_ih + b_hh = {Num(forget)}): the cell remembers by default (Jozefowicz et al. 2015)";
            }
            else if (name.StartsWith("bias", StringComparison.Ordinal))
            {
                entry = Constant(c, name, p, new ConstantFill(0.0), "zeros");
                reason = "recurrent bias: 0";
            }
            else
            {
                entry = Row(c, name, p, "", InitAction.Skipped, "not a weight or bias of a recurrent layer");
                reason = null;
            }
            Add(entry with { Activation = activation.Name, Source = source, Reason = reason is null ? null : new DecisionReason(reason) });
        }
        return GainOf(inputScheme);
    }

    private void AutoNormalization(ModuleContext c, List<(string Name, Tensor Tensor)> own)
    {
        bool zero = _zeroNorms.TryGetValue(c, out var block);
        foreach (var (name, p) in own)
        {
            var entry = name switch
            {
                "weight" => Constant(c, name, p, new ConstantFill(zero ? 0.0 : TorchDefaults.NormWeight), zero ? "zeros" : "ones") with
                {
                    Reason = new DecisionReason(zero
                        ? $"last normalization of the residual branch of block '{block.Block}' ({block.Rule}): weight 0, so the block starts as the identity (Goyal et al. 2017)" +
                          (block.Shortcut is { } shortcut ? $"; '{shortcut}' is the shortcut, its normalization keeps weight 1" : "")
                        : "normalization: weight 1, bias 0 (the identity affine map, PyTorch's default)"),
                },
                "bias" => Constant(c, name, p, new ConstantFill(TorchDefaults.NormBias), "zeros") with { Reason = new DecisionReason("normalization: bias 0") },
                _ => Row(c, name, p, "", InitAction.Skipped, "not a weight or bias of a normalization layer"),
            };
            Add(entry with { Source = ActivationSource.Intrinsic });
        }
    }

    /// <summary>One declaration of an <see cref="IInitializable"/> module, with the module that made it ("Block.DeclareInit").</summary>
    private readonly record struct Declaration(InitScheme? Scheme, Fans? Fans, int Blocks, string Reason, string By);

    /// <summary>Own parameters' declarations of each <see cref="IInitializable"/> module.</summary>
    private readonly Dictionary<ModuleContext, Dictionary<string, Declaration>> _declaredOwn = new(ReferenceEqualityComparer.Instance);
    /// <summary>Declarations an enclosing <see cref="IInitializable"/> module made for a submodule's parameters, by the submodule.</summary>
    private readonly Dictionary<ModuleContext, Dictionary<string, Declaration>> _declaredBelow = new(ReferenceEqualityComparer.Instance);

    /// <summary>Asks an <see cref="IInitializable"/> module for its declarations, once: its own parameters' and its submodules' (by dotted name).</summary>
    private void CollectDeclarations(ModuleContext c, List<(string Name, Tensor Tensor)> own)
    {
        var below = new Dictionary<string, (ModuleContext Context, string Name)>(StringComparer.Ordinal);
        foreach (var d in c.PreOrder().Skip(1).Where(d => !d.IsShared))
            foreach (var (name, _) in Own(d))
                below.TryAdd($"{d.Path[(c.Path.Length == 0 ? 0 : c.Path.Length + 1)..]}.{name}", (d, name));
        var declarations = new ParameterDeclarations(c, own.Select(p => p.Name), below.Keys);
        ((IInitializable)c.Module).DeclareInit(declarations);
        string by = $"{c.TypeName}.DeclareInit";
        var mine = new Dictionary<string, Declaration>(StringComparer.Ordinal);
        foreach (var (name, scheme, fans, blocks, reason) in declarations.Declared)
        {
            var declaration = new Declaration(scheme, fans, blocks, reason, by);
            if (own.Any(p => p.Name == name)) mine[name] = declaration;
            else
            {
                var (context, parameter) = below[name];
                if (!_declaredBelow.TryGetValue(context, out var forContext)) _declaredBelow[context] = forContext = new(StringComparer.Ordinal);
                forContext[parameter] = declaration;   // an inner module's declaration, collected later, wins (nearest first)
            }
        }
        _declaredOwn[c] = mine;
    }

    /// <summary>An <see cref="IInitializable"/> module: each declared parameter by its scheme, the rest skipped.</summary>
    private void SelfInitializing(ModuleContext c, List<(string Name, Tensor Tensor)> own)
    {
        var declared = _declaredOwn[c];
        foreach (var (name, p) in own)
            Add(declared.TryGetValue(name, out var d)
                ? DeclaredEntry(c, name, p, d)
                : Row(c, name, p, "", InitAction.Skipped, $"not declared by {c.TypeName}.DeclareInit") with { Source = ActivationSource.Intrinsic });
    }

    /// <summary>A declared parameter's entry: kept, drawn in blocks, or drawn by its scheme with its declared or shape-rule fans.</summary>
    private PlannedParameter DeclaredEntry(ModuleContext c, string name, Tensor p, Declaration d)
    {
        var entry = d.Scheme is null ? Row(c, name, p, "keep", InitAction.Kept, $"kept by {d.By}")
            : d.Blocks > 1 ? Blocks(c, name, p, d.Scheme, d.Blocks, "one per declared block")
            : Weight(c.Path, c.TypeName, name, p, d.Scheme, () => d.Fans ?? Fans.FromShape(p.shape, Qualified(c.Path, name)));
        return entry with { Source = ActivationSource.Intrinsic, Reason = new DecisionReason($"{d.By}: {d.Reason}") };
    }

    /// <summary>Replaces the entries from <paramref name="first"/> on that an enclosing module declared (<see cref="_declaredBelow"/>).</summary>
    private void ReplaceDeclared(ModuleContext c, int first, Dictionary<string, Declaration> declared)
    {
        for (int i = first; i < _plan.Parameters.Count; i++)
        {
            var e = _plan.Parameters[i];
            if (!declared.TryGetValue(e.Name, out var d)) continue;
            if (e.Writes) _planned.Remove(StorageKey(e.Tensor));   // it was planned (Planned), so it holds its storage's first occurrence
            _plan.Parameters[i] = DeclaredEntry(c, e.Name, e.Tensor, d);
        }
    }

    // ---- attention and transformer parts ----

    /// <summary>
    /// A MultiheadAttention's own parameters (its out_proj is a Linear part, planned on its own). <c>in_proj_weight</c> [3·d, d] is
    /// q, k, v stacked: a scheme that needs fans draws each [d, d] block with its own fans (as recurrent gates); a fixed one draws
    /// the whole tensor; <see cref="InitScheme.TorchDefault"/> is PyTorch's <c>_reset_parameters</c> (<see cref="TorchDefaults"/>).
    /// </summary>
    private void Attention(ModuleContext c, List<(string Name, Tensor Tensor)> own, InitScheme scheme, DecisionReason? reason, string activation, ActivationSource source)
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
                    entry = Weight(c.Path, c.TypeName, name, p, TorchDefaults.AttentionInProjection, () => Fans.FromShape(p.shape, Qualified(c.Path, name)));
                    why = Join(reason, $"PyTorch's MultiheadAttention._reset_parameters: xavier_uniform_ on {(name == "in_proj_weight" ? "the whole stacked [3·d, d] tensor" : name)}");
                    break;
                case "in_proj_weight" when scheme.NeedsFans:
                    entry = Blocks(c, name, p, scheme, 3, "q, k, v");
                    break;
                case "in_proj_weight" or "q_proj_weight" or "k_proj_weight" or "v_proj_weight":
                    entry = Weight(c.Path, c.TypeName, name, p, scheme, () => Fans.FromShape(p.shape, Qualified(c.Path, name)));
                    break;
                case "in_proj_bias":
                {
                    var policy = torch ? BiasInit.Zeros : _options.Bias ?? scheme.DefaultBias;
                    entry = Bias(c, name, p, policy, blockRows > 0 ? () => new Fans(blockRows, blockRows) : null);
                    if (torch) why = Join(reason, "PyTorch's MultiheadAttention._reset_parameters: in_proj_bias 0");
                    break;
                }
                case "bias_k" or "bias_v":
                    entry = Weight(c.Path, c.TypeName, name, p, TorchDefaults.AttentionKeyValueBias, () => Fans.FromShape(p.shape, Qualified(c.Path, name)));
                    why = Join(reason, $"{name}: PyTorch's rule, xavier_normal_ (MultiheadAttention._reset_parameters), whatever the policy");
                    break;
                default:
                    entry = Row(c, name, p, scheme.Name, InitAction.Skipped, "not a parameter of a MultiheadAttention TorchInit knows");
                    break;
            }
            Add(why is null ? entry : entry with { Activation = activation, Source = source, Reason = why });
        }
    }

    /// <summary>A Linear part under <see cref="InitScheme.TorchDefault"/>: what PyTorch's constructors and <c>_reset_parameters</c> give it (<see cref="TorchDefaults"/>).</summary>
    private void TorchDefaultPart(ModuleContext c, List<(string Name, Tensor Tensor)> own, DecisionReason? reason)
    {
        bool transformer = NativeLayout.InsideTransformer(c);
        bool outProj = NativeLayout.RoleOf(c) == PartRole.AttentionOutput;
        var scheme = transformer ? TorchDefaults.TransformerMatrix : TorchDefaults.LinearWeight;
        var why = transformer ? "PyTorch's Transformer._reset_parameters: xavier_uniform_ on every matrix"
            : outProj ? "PyTorch's MultiheadAttention: out_proj is a Linear (kaiming_uniform_(a=√5)), its bias 0 (_reset_parameters)"
            : "PyTorch's default Linear init";
        if (transformer && outProj) why += "; out_proj.bias 0 (MultiheadAttention._reset_parameters)";
        Layer(c, own, scheme, Join(reason, why), bias: outProj ? BiasInit.Zeros : BiasInit.TorchDefault);
    }

    /// <summary>
    /// <see cref="InitScheme.TorchDefault"/> on a layer that is not a Linear or Conv: each parameter by its PyTorch constructor
    /// default (<see cref="TorchDefaults.For"/>), in parameter order, as its <c>reset_parameters</c> draws them.
    /// </summary>
    private void ModuleDefault(ModuleContext c, List<(string Name, Tensor Tensor)> own, DecisionReason? reason)
    {
        var tensors = own.ToDictionary(p => p.Name, p => p.Tensor);
        var why = Join(reason, $"PyTorch's default {c.TypeName} init (its reset_parameters)");
        foreach (var (name, p) in own)
        {
            var fill = TorchDefaults.For(c.Module, name, tensors);
            string note = "";
            if (fill is not null && LayerTaxonomy.Classify(c) == LayerKind.Embedding && p.dim() == 2 && p.device_type != DeviceType.META && ZeroRow(p) is long row)
                (fill, note) = (new PaddingRowFill(fill, row), $"row {row} kept at 0 (it was the only all-zero row: padding_idx)");
            var entry = fill is null
                ? Row(c, name, p, "", InitAction.Skipped, $"PyTorch's {c.TypeName} has no default for '{name}'")
                : Guard(c.Path, c.TypeName, name, p, TorchDefaults.LinearWeight.Name) ?? Planned(new PlannedParameter
                {
                    Path = c.Path, LayerType = c.TypeName, Name = name, Tensor = p, Fill = fill, Action = InitAction.Initialized,
                    Scheme = TorchDefaults.LinearWeight.Name, Note = note,
                });
            Add(entry with { Source = ActivationSource.Intrinsic, Reason = fill is null ? null : why });
        }
    }

    /// <summary>Under Auto, a Linear part of a transformer layer: by its role (what its output feeds), or a hint.</summary>
    private double AutoPart(ModuleContext c, List<(string Name, Tensor Tensor)> own)
    {
        var role = NativeLayout.RoleOf(c);
        Activation activation;
        ActivationSource source;
        string detail;
        var hint = _policy.HintFor(c) ?? (role == PartRole.FeedForwardIn && c.Parent is { } layer ? _policy.HintFor(layer) : null);
        if (hint is not null)
            (activation, source, detail) = (hint.Value, ActivationSource.Hint, $"{hint.Description} says {hint.Value.Name} follows");
        else
            (activation, source, detail) = role switch
            {
                PartRole.FeedForwardIn => (TorchInit.Activation.Relu, ActivationSource.Assumed,
                    $"TorchSharp 0.107 does not expose the activation of {c.Parent?.TypeName ?? "the layer"} '{c.Parent?.Path}': relu (the default of PyTorch and TorchSharp) assumed; " +
                    $"Hint(\"{c.Path}\", Activation.Gelu) or Hint<{c.Parent?.TypeName ?? "TransformerEncoderLayer"}>(Activation.Gelu) says otherwise"),
                PartRole.AttentionOutput => (TorchInit.Activation.Linear, ActivationSource.Intrinsic, "the attention's output projection feeds the residual sum, no activation"),
                PartRole.FeedForwardOut => (TorchInit.Activation.Linear, ActivationSource.Intrinsic, "the feed-forward output projection feeds the residual sum, no activation"),
                _ => (TorchInit.Activation.Linear, ActivationSource.Intrinsic, "a projection inside a transformer layer, no activation"),
            };
        var (scheme, why, _) = _policy.Choose(activation);
        Layer(c, own, scheme, new DecisionReason($"{detail}; {why}{GainOverrideNote(scheme)}"), activation.Name, source);
        return GainOf(scheme);
    }

    /// <summary>A residual output projection (<see cref="InitPolicy.ScaleResidual(string, int)"/>): its weight's std divided by the rule's divisor.</summary>
    private void Narrow(ModuleContext c, int first, Rule<double> rule)
    {
        for (int i = first; i < _plan.Parameters.Count; i++)
        {
            var e = _plan.Parameters[i];
            if (e.Name != "weight" || !e.Writes) continue;
            var fill = e.Fill!.Narrowed(rule.Value)
                ?? throw new ArgumentException($"{rule.Description}: '{e.QualifiedName}' is filled by {e.Scheme} ({e.Fill.Distribution}), which has no std to scale.");
            var what = rule.Description;
            _plan.Parameters[i] = e with
            {
                Fill = fill, Scheme = $"{e.Scheme} / {Num(rule.Value)}",
                Reason = Join(e.Reason, what), Note = Join(e.Note, $"std / {Num(rule.Value)} (residual)"),
            };
        }
    }

    private static string Join(string a, string b) => a.Length == 0 ? b : $"{a}; {b}";
    private static DecisionReason Join(DecisionReason? reason, string more) => DecisionReason.Join(reason, more);

    // ---- entries ----

    /// <summary>A weight by <paramref name="scheme"/>; <paramref name="fans"/> is called when the scheme needs fans or the weight has them.</summary>
    private PlannedParameter Weight(string path, string layerType, string name, Tensor weight, InitScheme scheme, Func<Fans> fans, string? schemeName = null)
    {
        schemeName ??= scheme.Name;
        if (Guard(path, layerType, name, weight, schemeName) is { } skipped) return skipped;
        // Fixed-value schemes need no fans; they are still reported for weights that have them.
        Fans? f = scheme.NeedsFans || weight.dim() >= 2 ? fans() : null;
        var fill = scheme.Resolve(new FillRequest(weight.shape, f, _options.Gain, Qualified(path, name)));
        return Planned(new PlannedParameter
        {
            Path = path, LayerType = layerType, Name = name, Tensor = weight, Fill = fill, Action = InitAction.Initialized,
            Scheme = schemeName, Fans = f, FanConvention = f is null ? null : _options.FanConvention, Gain = GainOf(scheme),
        });
    }

    /// <summary>A weight of <paramref name="blocks"/> equal blocks stacked along dimension 0 (gates), each by <paramref name="scheme"/> with its own fans, in order.</summary>
    private PlannedParameter Blocks(ModuleContext c, string name, Tensor weight, InitScheme scheme, int blocks, string each = "one per gate")
    {
        if (Guard(c.Path, c.TypeName, name, weight, scheme.Name) is { } skipped) return skipped;
        var qualified = Qualified(c.Path, name);
        if (weight.dim() == 0 || weight.shape[0] % blocks != 0)
            throw new ArgumentException($"'{qualified}' {Check.Shape(weight.shape)} does not split into {blocks} equal blocks along dimension 0.", qualified);
        var blockShape = weight.shape.ToArray();
        blockShape[0] /= blocks;
        var f = Fans.FromShape(blockShape, qualified);
        var inner = scheme.Resolve(new FillRequest(blockShape, f, _options.Gain, qualified));
        return Planned(new PlannedParameter
        {
            Path = c.Path, LayerType = c.TypeName, Name = name, Tensor = weight, Fill = blocks == 1 ? inner : new BlockFill(inner, blocks),
            Action = InitAction.Initialized, Scheme = scheme.Name, Fans = f, FanConvention = TorchInit.FanConvention.Torch, Gain = GainOf(scheme),
            Note = blocks == 1 ? "" : $"{blocks} blocks [{string.Join(", ", blockShape)}], {each}, each drawn on its own",
        });
    }

    private PlannedParameter Constant(ModuleContext c, string name, Tensor p, ConstantFill fill, string scheme, string note = "") =>
        Guard(c.Path, c.TypeName, name, p, scheme) ?? Planned(new PlannedParameter
        {
            Path = c.Path, LayerType = c.TypeName, Name = name, Tensor = p, Fill = fill, Action = InitAction.Initialized, Scheme = scheme, Note = note,
        });

    /// <summary>A bias by <paramref name="policy"/>; <paramref name="weightFans"/> supplies fan_in for PyTorch's default bias.</summary>
    private PlannedParameter Bias(ModuleContext c, string name, Tensor bias, BiasInit policy, Func<Fans>? weightFans)
    {
        string scheme = BiasName(policy);
        if (policy == BiasInit.Keep)
            return Row(c, name, bias, scheme, InitAction.Kept, "bias policy Keep");
        if (Guard(c.Path, c.TypeName, name, bias, scheme) is { } skipped) return skipped;
        if (policy == BiasInit.Zeros)
            return Planned(new PlannedParameter
            {
                Path = c.Path, LayerType = c.TypeName, Name = name, Tensor = bias, Fill = new ConstantFill(0.0), Action = InitAction.Initialized, Scheme = scheme,
            });
        if (weightFans is null)
            return Row(c, name, bias, scheme, InitAction.Warning, "no weight to take fan_in from; left unchanged");
        var f = weightFans();
        return Planned(new PlannedParameter
        {
            Path = c.Path, LayerType = c.TypeName, Name = name, Tensor = bias, Fill = TorchDefaults.LinearBias(f), Action = InitAction.Initialized,
            Scheme = scheme, Fans = f, FanConvention = _options.FanConvention,
        });
    }

    /// <summary>How a bias policy reads in the report: "zeros", "keep", "TorchDefault".</summary>
    private static string BiasName(BiasInit policy) => policy switch
    {
        BiasInit.Zeros => "zeros",
        BiasInit.Keep => "keep",
        _ => "TorchDefault",
    };

    /// <summary>A row for a parameter that is deliberately not written.</summary>
    private static PlannedParameter Row(ModuleContext c, string name, Tensor p, string scheme, InitAction action, string note) =>
        Row(c.Path, c.TypeName, name, p, scheme, action, note);

    private static PlannedParameter Row(string path, string layerType, string name, Tensor p, string scheme, InitAction action, string note) =>
        new() { Path = path, LayerType = layerType, Name = name, Tensor = p, Action = action, Scheme = scheme, Note = note };

    /// <summary>Why a parameter is not written although its layer is handled: tied to one already planned, frozen, or empty.</summary>
    private PlannedParameter? Guard(string path, string layerType, string name, Tensor p, string scheme)
    {
        TensorCheck.EnsureAlive(p, Qualified(path, name));
        if (_planned.TryGetValue(StorageKey(p), out var first))
            return Row(path, layerType, name, p, scheme, InitAction.Skipped,
                $"shared with {first}, already initialized: tied (the same storage), one parameter with one decision and one write, at its first occurrence in pre-order") with { TiedTo = first };
        if (_left.TryGetValue(StorageKey(p), out var left))
            return Row(path, layerType, name, p, scheme, InitAction.Skipped,
                $"shared with {left}, which this policy leaves unchanged: tied (the same storage), its first occurrence in pre-order decides") with { TiedTo = left };
        if (!_options.IncludeFrozen && p is TorchSharp.Modules.Parameter { requires_grad: false })
            return Row(path, layerType, name, p, scheme, InitAction.Skipped, "frozen (requires_grad = false); set IncludeFrozen to initialize it");
        if (p.numel() == 0)
            return Row(path, layerType, name, p, scheme, InitAction.Warning, "zero-element tensor: initialization is a no-op");
        return null;
    }

    /// <summary>Remembers a written entry's storage, so that a tied parameter met later is skipped.</summary>
    private PlannedParameter Planned(PlannedParameter entry)
    {
        _planned.TryAdd(StorageKey(entry.Tensor), entry.QualifiedName);
        return entry;
    }

    /// <summary>
    /// Identifies a parameter by its storage, whichever wrapper holds it (TorchSharp's Embedding returns a new wrapper on each
    /// <c>weight</c> read): the address of its first element with dtype and shape; on the meta device, which has no storage, the handle.
    /// </summary>
    private static object StorageKey(Tensor t)
    {
        var data = FastFill.AnyDataPointer(t);
        return data == IntPtr.Zero ? t.Handle : (data, t.dtype, string.Join(",", t.shape));
    }

    private void Add(PlannedParameter entry) => _plan.Parameters.Add(entry);

    private void Unhandled(ModuleContext c, List<(string Name, Tensor Tensor)> own)
    {
        _plan.Unhandled.Add(new UnhandledModule(c.Path, c.TypeName, own.Select(p => p.Name).ToList()));
        foreach (var (name, p) in own)
            if (!p.IsInvalid) _left.TryAdd(StorageKey(p), Qualified(c.Path, name));
    }

    /// <summary>The module's decision, from its first entry a rule gave a reason, with the gain decided for it (also when that entry was not written).</summary>
    private void Decide(ModuleContext c, int firstEntry, double decidedGain)
    {
        var e = _plan.Parameters.Skip(firstEntry).FirstOrDefault(x => x.Reason is not null);
        if (e?.Reason is not { } reason) return;
        _plan.Decisions.Add(new LayerDecision(c.Path, c.TypeName, e.Activation, e.Source, e.Scheme, double.IsNaN(decidedGain) ? e.Gain : decidedGain, reason.Text));
    }

    /// <summary>The gain a scheme applies here: <see cref="InitOptions.Gain"/> when set, else the scheme's; NaN for schemes without one.</summary>
    private double GainOf(InitScheme scheme) => double.IsNaN(scheme.Gain) ? double.NaN : _options.Gain ?? scheme.Gain;

    private string GainOverrideNote(InitScheme scheme) =>
        _options.Gain is double g && !double.IsNaN(scheme.Gain) ? $"; gain {Num(g)} set by InitOptions.Gain instead of {Num(scheme.Gain)}" : "";

    /// <summary>Rules of the policy that matched no module, and hints that matched only modules that are not layers.</summary>
    private static IEnumerable<string> PolicyWarnings(ModuleContext root, InitPolicy policy)
    {
        var contexts = root.PreOrder().Where(c => !c.IsShared).ToList();
        foreach (var rule in policy.Overrides.Select(r => (r.Match, r.Description))
                     .Concat(policy.ZeroLastNormBlocks.Select(r => (r.Match, r.Description)))
                     .Concat(policy.StackedBlockRules.Select(r => (r.Match, r.Description))))
            if (!contexts.Any(rule.Match))
                yield return $"{rule.Description} matches no module of this model (paths and globs are case-sensitive: {Paths(contexts)})";
        foreach (var hint in policy.Hints)
        {
            var matched = contexts.Where(hint.Match).ToList();
            if (matched.Count == 0)
                yield return $"{hint.Description} matches no module of this model (paths and globs are case-sensitive: {Paths(contexts)})";
            else if (!matched.Any(c => LayerTaxonomy.IsLayer(LayerTaxonomy.Classify(c))))
                yield return $"{hint.Description} matches only modules that are not layers ({string.Join(", ", matched.Select(c => c.ToString()))}): " +
                             "a hint names the layer an activation follows";
        }
    }

    private static string Paths(List<ModuleContext> contexts)
    {
        var paths = contexts.Where(c => c.Path.Length > 0).Select(c => c.Path).ToList();
        return paths.Count == 0 ? "it has no submodules" : "its modules are " + string.Join(", ", paths.Take(12)) + (paths.Count > 12 ? ", …" : "");
    }

    private static string Qualified(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";
    private static string Num(double v) => v.ToString("0.###", CultureInfo.InvariantCulture);
    private static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];
}
