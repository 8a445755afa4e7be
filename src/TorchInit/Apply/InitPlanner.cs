using static TorchSharp.torch;

namespace TorchInit;

/// <summary>
/// Decides, writes nothing. Walks the model in pre-order and, for each module, only dispatches: its layer family
/// (<see cref="LayerTaxonomy"/>, one file per family under <c>Families/</c>) plans its own parameters by the policy's override, the
/// policy's scheme, <see cref="InitScheme.TorchDefault"/> or Auto. Then passes over the typed plan: an enclosing module's
/// declarations, the zero-last-norm rule, residual scaling, and each module's decision. The result is an <see cref="InitPlan"/>:
/// what <c>PlanInit</c> reports and what <see cref="PlanWriter"/> checks and then writes, weight before bias, so a seeded call draws
/// in PyTorch's order. Tied parameters are recognized by their storage (<see cref="PlanBuilder"/>): the first occurrence is written.
/// </summary>
internal static class InitPlanner
{
    /// <summary>How a module's entries were decided, which the passes read.</summary>
    private enum Mode
    {
        Scheme, TorchDefault, Auto,
        /// <summary>By its own <see cref="IInitializable"/> declarations.</summary>
        Declared,
        /// <summary>Not handled by the policy; only the parameters an enclosing module declared.</summary>
        DeclaredByEnclosing,
        /// <summary>A repeated occurrence of a shared module.</summary>
        Shared,
    }

    /// <summary>
    /// One module's entries in the plan (<see cref="Count"/> from <see cref="First"/>), how they were decided, the gain decided for
    /// it, and the parameters an enclosing module's declaration decided (which the passes leave alone).
    /// </summary>
    private sealed record ModulePlan(ModuleContext Context, Mode Mode, int First, int Count, double Gain, IReadOnlyDictionary<string, Declaration>? Declared = null);

    /// <summary>The plan for <paramref name="module"/>; throws (before anything is written) for a tensor a scheme cannot fill.</summary>
    public static InitPlan Plan(nn.Module module, InitPolicy policy, InitOptions options, Action? traceForward)
    {
        var root = ModuleContext.Build(module);
        // μP: the model is checked against its base shapes before anything is planned.
        var mu = policy.Mu is { } settings ? MuModel.Read(root, settings.Shapes) : null;
        var readouts = policy.Mu is { } s ? MuPlanning.Readouts(root, s) : null;
        var trace = traceForward is null ? null
            : ForwardTrace.Record(root, readouts is null ? traceForward : () => MuPlanning.WithReadoutMultipliers(readouts, traceForward));
        var b = new PlanBuilder(policy, options, root, trace);
        var (constructed, initialized) = policy.ReplaysConstruction ? Replay(root, policy, options, b.Plan) : ([], []);
        var modules = new List<ModulePlan>();
        foreach (var c in policy.Walk(root))
        {
            if (initialized.Contains(c))
            {
                b.Initialized(c);   // a sub-model initialized it in its post_init: not drawn again, and a parameter tied to it keeps that value
                continue;
            }
            if ((c.IsShared ? PlanShared(b, c) : PlanModule(b, c)) is { } planned) modules.Add(planned);
        }
        ZeroLastNorms(b, root, modules);
        foreach (var m in modules)
            if (m.Mode is not (Mode.Shared or Mode.DeclaredByEnclosing) && policy.ResidualFor(m.Context) is { } residual) Narrow(b.Plan, m, residual);
        if (mu is not null) MuPlanning.Apply(b.Plan, mu, policy.Mu!, readouts!);
        foreach (var m in modules) Decide(b.Plan, b.Plan.Parameters, m);
        var decided = modules.Select(m => m.Context).ToHashSet(ReferenceEqualityComparer.Instance);
        // A module's last replayed decision: a block loop's over its constructor's.
        foreach (var m in constructed.Where(m => !decided.Contains(m.Context)).GroupBy(m => m.Context, ReferenceEqualityComparer.Instance).Select(g => g.Last()))
            Decide(b.Plan, b.Plan.Replay, m);
        b.Plan.PolicyWarnings.AddRange(PolicyWarnings(root, policy));
        return b.Plan;
    }

    /// <summary>
    /// <see cref="InitPolicy.ReplaysConstruction"/>: each module's constructor draws (<see cref="LayerFamily.PlanConstruction"/>) in
    /// construction order — the policy's walk — into <see cref="InitPlan.Replay"/>, with PyTorch's fans and biases whatever the
    /// call's options say, and each block's loop right after its subtree (<see cref="InitPolicy.ConstructionLoop"/>,
    /// <see cref="InitPolicy.SubModel"/>); warns about modules whose constructor TorchInit does not know and frozen parameters it
    /// skipped. Returns the replayed modules (constructors first, then loops) and those a sub-model initialized for good.
    /// </summary>
    private static (List<ModulePlan> Modules, HashSet<ModuleContext> Initialized) Replay(ModuleContext root, InitPolicy policy, InitOptions options, InitPlan plan)
    {
        // Each module constructs its own tensors and PyTorch ties them afterwards: a tied holder's draws are made and discarded.
        var rb = new PlanBuilder(new InitPolicy { Mu = policy.Mu }, options with { Bias = null, Gain = null, FanConvention = FanConvention.Torch, LayerTypes = null }, root, null)
            { ConstructsTiedHolders = true };
        var modules = new List<ModulePlan>();
        var loops = new List<ModulePlan>();
        var initialized = new HashSet<ModuleContext>(ReferenceEqualityComparer.Instance);
        var unknown = new List<string>();
        var open = new Stack<(ModuleContext Block, Rule<BlockLoop> Loop)>();
        foreach (var c in policy.Walk(root).Where(c => !c.IsShared))
        {
            while (open.Count > 0 && !ResidualLayout.Within(c, open.Peek().Block)) loops.AddRange(Loop(open.Pop(), policy, options, rb, initialized));
            if (policy.ConstructionLoops.LastOrDefault(r => r.Match(c)) is { } loop) open.Push((c, loop));
            var own = rb.Own(c);
            int first = rb.Plan.Parameters.Count;
            if (!LayerTaxonomy.Of(c).Family.PlanConstruction(rb, c, own))
            {
                if (own.Count > 0) unknown.Add(c.ToString());
                continue;
            }
            if (rb.Plan.Parameters.Count > first) modules.Add(new ModulePlan(c, Mode.TorchDefault, first, rb.Plan.Parameters.Count - first, double.NaN));
        }
        while (open.Count > 0) loops.AddRange(Loop(open.Pop(), policy, options, rb, initialized));
        plan.Replay.AddRange(rb.Plan.Parameters);
        if (unknown.Count > 0) plan.PolicyWarnings.Add(PlanText.NotReplayed(unknown));
        var frozen = rb.Plan.Parameters.Where(e => !options.IncludeFrozen && e.Tensor is TorchSharp.Modules.Parameter { requires_grad: false }).Select(e => e.QualifiedName).ToList();
        if (frozen.Count > 0) plan.PolicyWarnings.Add(PlanText.FrozenNotReplayed(frozen));
        return ([.. modules, .. loops], initialized);
    }

    /// <summary>
    /// A block's loop, right after its subtree was constructed: the loop's rules (<see cref="InitPolicy.ConstructionLoop"/>'s policy, or
    /// a sub-model's own policy) over the block and its submodules in pre-order, skipping what a sub-model inside it initialized already,
    /// appended to the replay (a second write of those tensors). A sub-model's loop (<see cref="BlockLoop.InitializesOnce"/>) runs under
    /// the call's options, as the policy's rules do, and marks its whole subtree initialized; a construction loop runs under the
    /// constructors' (the call's bias policy does not apply). Returns the modules it drew, indexed into the replay.
    /// </summary>
    private static List<ModulePlan> Loop((ModuleContext Block, Rule<BlockLoop> Loop) open, InitPolicy policy, InitOptions options, PlanBuilder replay,
        HashSet<ModuleContext> initialized)
    {
        var (block, rule) = open;
        var loop = rule.Value.Policy ?? policy;
        var lb = new PlanBuilder(loop with { Mu = policy.Mu }, rule.Value.InitializesOnce ? options : options with { Bias = null, LayerTypes = null }, block, null);
        int offset = replay.Plan.Parameters.Count;
        var drawn = new List<ModulePlan>();
        foreach (var c in policy.Walk(block).Where(c => !c.IsShared && !initialized.Contains(c)))
        {
            if (loop.OverrideFor(c) is not { Value: { } scheme } over || lb.Own(c) is not { Count: > 0 } own) continue;
            int first = lb.Plan.Parameters.Count;
            var why = rule.Value.InitializesOnce ? PlanText.SubModelInit(rule.Description, block.Path, scheme.Name) : PlanText.ConstructionLoop(rule.Description, scheme.Name);
            LayerTaxonomy.Of(c).Family.PlanScheme(lb, c, own, scheme, new DecisionReason(why, over));
            drawn.Add(new ModulePlan(c, Mode.Scheme, offset + first, lb.Plan.Parameters.Count - first, lb.GainOf(scheme)));
        }
        if (rule.Value.InitializesOnce) initialized.UnionWith(block.PreOrder());
        replay.Plan.Parameters.AddRange(lb.Plan.Parameters);
        replay.Plan.PolicyWarnings.AddRange(lb.Plan.PolicyWarnings);
        return drawn;
    }

    /// <summary>The plan for one tensor with explicit or shape-rule fans (no module, no policy).</summary>
    public static InitPlan PlanTensor(Tensor tensor, InitScheme scheme, Func<Fans> fans, InitOptions options)
    {
        var b = new PlanBuilder(InitPolicy.Of(scheme), options with { IncludeFrozen = true }, null, null);
        b.Add(b.Weight("", "Tensor", "tensor", tensor, scheme, fans));
        return b.Plan;
    }

    // ---- dispatch ----

    /// <summary>A module's first occurrence: its family plans its own parameters; null when it has none.</summary>
    private static ModulePlan? PlanModule(PlanBuilder b, ModuleContext c)
    {
        var (family, _) = LayerTaxonomy.Of(c);
        var own = b.Own(c);
        var rule = b.Policy.OverrideFor(c);
        bool declaresItself = family.DeclaresItself && rule is null;
        // Asked before the own-parameter check: a module may declare only its submodules' parameters (a fused c_attn).
        if (declaresItself) b.Declarations.Collect(c, own);
        if (own.Count == 0) return null;
        int first = b.Plan.Parameters.Count;
        // An enclosing module's declaration wins over the policy's default for this module, not over an override naming it.
        var declared = rule is null ? b.Declarations.DeclaredBelow(c) : null;
        var scheme = rule is not null ? rule.Value : b.Policy.DefaultScheme;
        Mode mode;
        double gain = double.NaN;
        // After the constructors' replay, a layer's PyTorch default is what construction gave it: not drawn again.
        bool asConstructed = b.Policy.ReplaysConstruction && (declaresItself || scheme is { IsLayerDefault: true });
        if (asConstructed || !Handles(b, c, family, rule is not null, scheme))
            return DeclaredOnly(b, c, own, declared, listRest: !asConstructed, first);
        if (declaresItself)
        {
            b.Declarations.PlanOwn(c, own);
            mode = Mode.Declared;
        }
        else if (scheme is not null)
        {
            var why = rule is null ? null : new DecisionReason(scheme.Name, rule);
            if (scheme.IsLayerDefault) family.PlanTorchDefault(b, c, own, scheme, why);
            else family.PlanScheme(b, c, own, scheme, why);
            mode = scheme.IsLayerDefault ? Mode.TorchDefault : Mode.Scheme;
            gain = b.GainOf(scheme);
        }
        else
        {
            gain = family.PlanAuto(b, c, own);
            if (rule is not null) Cite(b.Plan, first, rule);
            mode = Mode.Auto;
        }
        if (declared is not null) b.Declarations.Replace(c, first, declared);
        return new ModulePlan(c, mode, first, b.Plan.Parameters.Count - first, gain, declared);
    }

    /// <summary>
    /// A module the policy leaves alone (not handled, or as constructed after the replay): only the parameters an enclosing
    /// module declared are planned; the rest is listed as unhandled when <paramref name="listRest"/>.
    /// </summary>
    private static ModulePlan? DeclaredOnly(PlanBuilder b, ModuleContext c, List<(string Name, Tensor Tensor)> own,
        Dictionary<string, Declaration>? declared, bool listRest, int first)
    {
        if (declared is null)
        {
            if (listRest) b.Unhandled(c, own);
            return null;
        }
        foreach (var (name, p) in own.Where(p => declared.ContainsKey(p.Name)))
            b.Add(b.Declarations.Entry(c, name, p, declared[name]));
        var rest = own.Where(p => !declared.ContainsKey(p.Name)).ToList();
        if (rest.Count > 0 && listRest) b.Unhandled(c, rest);
        return new ModulePlan(c, Mode.DeclaredByEnclosing, first, b.Plan.Parameters.Count - first, double.NaN, declared);
    }

    /// <summary>
    /// Whether the module's own parameters are planned: <see cref="InitOptions.LayerTypes"/> when given, else an override, else
    /// what its family takes under the policy's scheme or under Auto.
    /// </summary>
    private static bool Handles(PlanBuilder b, ModuleContext c, LayerFamily family, bool overridden, InitScheme? scheme)
    {
        if (b.Options.LayerTypes is { } types) return types.Any(c.Is);
        if (overridden) return true;
        return scheme is null ? family.TakesAuto : family.TakesFixedScheme(c);
    }

    /// <summary>A repeated occurrence of a shared module: one Skipped row per parameter; its first occurrence decided.</summary>
    private static ModulePlan? PlanShared(PlanBuilder b, ModuleContext c)
    {
        var parameters = c.Module.named_parameters().ToList();
        if (parameters.Count == 0) return null;
        int first = b.Plan.Parameters.Count;
        var origin = c.SharedWith!;
        var reason = PlanText.SharedModule(c.TypeName, origin.Path);
        var rule = b.Policy.OverrideFor(c);
        if (LayerTaxonomy.IsWeightLayer(LayerTaxonomy.Classify(c)) && (rule is not null ? rule.Value : b.Policy.DefaultScheme) is null)
            reason += PlanText.SharedModuleFollowedBy(b.Finder.Sequential(c).Activation.Name);
        foreach (var (name, p) in parameters)
            b.Add(PlanBuilder.Row(c, name, p, "", InitAction.Skipped, PlanText.SharedModuleNote(origin.Path)) with { Reason = new DecisionReason(reason) });
        return new ModulePlan(c, Mode.Shared, first, parameters.Count, double.NaN);
    }

    /// <summary>Cites, in the reasons of the entries from <paramref name="first"/> on, the override that sent the module to Auto.</summary>
    private static void Cite(InitPlan plan, int first, Rule<InitScheme?> rule)
    {
        for (int i = first; i < plan.Parameters.Count; i++)
            if (plan.Parameters[i].Reason is { } reason)
                plan.Parameters[i] = plan.Parameters[i] with { Reason = reason.Under(rule) };
    }

    // ---- passes over the plan ----

    /// <summary>
    /// <see cref="InitPolicy.ZeroLastNormIn(string)"/>: in each matching block, the last normalization of its residual branch
    /// (never a norm on the block's shortcut, as torchvision's zero_init_residual zeroes bn2/bn3 and never downsample.1) gets weight 0,
    /// where Auto planned it.
    /// </summary>
    private static void ZeroLastNorms(PlanBuilder b, ModuleContext root, List<ModulePlan> modules)
    {
        if (b.Policy.ZeroLastNormBlocks.Count == 0) return;
        var byContext = new Dictionary<ModuleContext, ModulePlan>(ReferenceEqualityComparer.Instance);
        foreach (var m in modules.Where(m => m.Mode == Mode.Auto)) byContext.Add(m.Context, m);
        var done = new HashSet<ModuleContext>(ReferenceEqualityComparer.Instance);
        foreach (var rule in b.Policy.ZeroLastNormBlocks)
            foreach (var block in root.PreOrder().Where(c => !c.IsShared && rule.Match(c)))
            {
                var shortcut = ResidualLayout.Shortcut(block);
                var norm = block.PreOrder().Skip(1).LastOrDefault(c => !c.IsShared && LayerTaxonomy.Classify(c) == LayerKind.Normalization
                                                                     && (shortcut is null || !ResidualLayout.Within(c, shortcut)));
                if (norm is null || !done.Add(norm) || !byContext.TryGetValue(norm, out var m)) continue;
                var reason = new DecisionReason(PlanText.ZeroLastNorm(block.Path, rule.Description, shortcut?.Path));
                for (int i = m.First; i < m.First + m.Count; i++)
                {
                    var e = b.Plan.Parameters[i];
                    if (e.Name != "weight" || e.Reason is null || m.Declared?.ContainsKey(e.Name) == true) continue;
                    b.Plan.Parameters[i] = e with { Fill = e.Writes ? new ConstantFill(0.0) : e.Fill, Scheme = "zeros", Reason = reason };
                }
            }
    }

    /// <summary>A residual output projection (<see cref="InitPolicy.ScaleResidual(string, int)"/>): its weight's std divided by the rule's divisor.</summary>
    private static void Narrow(InitPlan plan, ModulePlan m, Rule<double> rule)
    {
        for (int i = m.First; i < m.First + m.Count; i++)
        {
            var e = plan.Parameters[i];
            if (e.Name != "weight" || !e.Writes) continue;
            var fill = e.Fill!.Narrowed(rule.Value)
                ?? throw new ArgumentException(PlanText.CannotNarrow(rule.Description, e.QualifiedName, e.Scheme, e.Fill.Distribution));
            plan.Parameters[i] = e with
            {
                Fill = fill, Scheme = PlanText.NarrowedScheme(e.Scheme, rule.Value),
                Reason = DecisionReason.Join(e.Reason, rule.Description), Note = PlanText.Join(e.Note, PlanText.NarrowedNote(rule.Value)),
            };
        }
    }

    /// <summary>The module's decision, from its first entry a rule gave a reason, with the gain decided for it (also when that entry was not written).</summary>
    private static void Decide(InitPlan plan, List<PlannedParameter> entries, ModulePlan m)
    {
        var e = entries.Skip(m.First).Take(m.Count).FirstOrDefault(x => x.Reason is not null);
        if (e?.Reason is not { } reason) return;
        plan.Decisions.Add(new LayerDecision(m.Context.Path, m.Context.TypeName, e.Activation, e.Source, e.Scheme,
            double.IsNaN(m.Gain) ? e.Gain : m.Gain, reason.Text));
    }

    /// <summary>
    /// Rules of the policy that matched no module; rules that write parameters (overrides, bias and residual rules) but matched only
    /// modules without parameters of their own (a container: the rule writes nothing); hints that matched only modules that are not layers.
    /// </summary>
    private static IEnumerable<string> PolicyWarnings(ModuleContext root, InitPolicy policy)
    {
        var contexts = root.PreOrder().Where(c => !c.IsShared).ToList();
        var paths = contexts.Where(c => c.Path.Length > 0).Select(c => c.Path).ToList();
        // Each rule's matches, found once: (match, description, of a preset, whether it writes parameters).
        var rules = policy.Overrides.Select(r => (r.Match, r.Description, r.OfPreset, Writes: true))
            .Concat(policy.ZeroLastNormBlocks.Select(r => (r.Match, r.Description, r.OfPreset, Writes: false)))
            .Concat(policy.StackedBlockRules.Select(r => (r.Match, r.Description, r.OfPreset, Writes: false)))
            .Concat(policy.BiasRules.Select(r => (r.Match, r.Description, r.OfPreset, Writes: true)))
            .Concat(policy.ChildOrders.Select(r => (r.Match, r.Description, r.OfPreset, Writes: false)))
            .Concat(policy.ConstructionLoops.Select(r => (r.Match, r.Description, r.OfPreset, Writes: false)))
            .Concat(policy.ResidualScales.Select(r => (r.Match, r.Description, r.OfPreset, Writes: true)))
            .Where(r => !r.OfPreset)
            .Select(r => (r.Description, r.Writes, Matched: contexts.Where(r.Match).ToList()))
            .ToList();
        foreach (var rule in rules.Where(r => r.Matched.Count == 0))
            yield return PlanText.MatchesNothing(rule.Description, PlanText.Paths(paths));
        foreach (var rule in rules.Where(r => r.Writes && r.Matched.Count > 0 && !r.Matched.Any(c => c.OwnParameters().Any())))
            yield return PlanText.MatchesNoParameters(rule.Description, string.Join(", ", rule.Matched.Take(6).Select(c => c.ToString())));
        foreach (var signature in policy.Signatures)
            if (!contexts.Any(signature.Match))
                yield return PlanText.NotOfPresetFamily(signature.Description, PlanText.Paths(paths));
        foreach (var hint in policy.Hints)
        {
            var matched = contexts.Where(hint.Match).ToList();
            if (matched.Count == 0)
                yield return PlanText.MatchesNothing(hint.Description, PlanText.Paths(paths));
            else if (!matched.Any(c => LayerTaxonomy.IsLayer(LayerTaxonomy.Classify(c))))
                yield return PlanText.HintOnNonLayers(hint.Description, string.Join(", ", matched.Select(c => c.ToString())));
        }
    }
}
