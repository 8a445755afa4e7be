using static TorchSharp.torch;

namespace TorchInit;

/// <summary>A bias rule of a policy: the bias drawn by a scheme, or by a bias policy (zeros, keep, PyTorch's default).</summary>
/// <param name="Scheme">The scheme that draws the bias (N(0, 1e-6) for torchvision's ViT MLP), or null.</param>
/// <param name="Policy">The bias policy when <paramref name="Scheme"/> is null.</param>
internal readonly record struct BiasRule(InitScheme? Scheme, BiasInit Policy);

/// <summary>
/// A loop a block runs over its own subtree right after it is constructed (<see cref="InitPolicy.ConstructionLoop"/>,
/// <see cref="InitPolicy.SubModel"/>).
/// </summary>
/// <param name="Policy">The loop's rules; null: the rules of the policy that holds the loop (a sub-model's post_init).</param>
/// <param name="InitializesOnce">Whether the modules the loop reaches are initialized for good: later loops and the policy's own rules
/// skip them (Hugging Face's <c>_is_hf_initialized</c>).</param>
internal readonly record struct BlockLoop(InitPolicy? Policy, bool InitializesOnce);

/// <summary>
/// The parts of the policy language that reproduce a model zoo's initialization as PyTorch performs it: replaying the
/// constructors' draws, the order modules are constructed and visited in, and biases with their own rule.
/// </summary>
public sealed partial record InitPolicy
{
    /// <summary>
    /// Whether the call first redraws every parameter with its layer's PyTorch constructor default (<c>reset_parameters</c>),
    /// in construction order, from the call's generator, before the policy's rules: a model zoo's init loop runs after its
    /// constructors have drawn, so with <see cref="InitOptions.Seed"/> the result is that of <c>torch.manual_seed(seed); Model()</c>
    /// in Python. Under it, <see cref="InitScheme.TorchDefault"/> (as a default or a rule's scheme) means "as constructed": that
    /// module is not drawn a second time.
    /// </summary>
    public bool ReplaysConstruction { get; init; }

    /// <summary>
    /// The model as PyTorch constructs it: every layer's constructor default replayed in construction order
    /// (<see cref="ReplaysConstruction"/>), nothing else. The starting point of the zoo presets, which add their init loop's
    /// rules (For, ForBias, ZeroLastNormIn…): those modules are drawn again, in pre-order, as the zoo's loop over
    /// <c>self.modules()</c> draws them.
    /// </summary>
    public static InitPolicy AsConstructed { get; } = new() { DefaultScheme = InitScheme.TorchDefault, ReplaysConstruction = true };

    /// <summary>This policy, after replaying every layer's constructor default in construction order (<see cref="ReplaysConstruction"/>).</summary>
    public InitPolicy ReplayingConstruction() => this with { ReplaysConstruction = true };

    internal IReadOnlyList<Rule<BiasRule>> BiasRules { get; init; } = [];

    /// <summary>A zoo preset's expectations of the model it is for: each that no module meets is a policy warning (the preset applied to another family).</summary>
    internal IReadOnlyList<Rule<bool>> Signatures { get; init; } = [];

    /// <summary>This preset expects a module at each of <paramref name="pathGlobs"/> (torchvision's names; a model without one is not of the preset's family).</summary>
    internal InitPolicy Expects(string preset, params string[] pathGlobs) =>
        this with { Signatures = [.. Signatures, .. pathGlobs.Select(g => { var m = Glob.Matcher(g); return new Rule<bool>(c => m(c.Path), true, PlanText.PresetExpects(preset, $"a module '{g}'")); })] };

    /// <summary>This preset expects a module for which <paramref name="match"/> holds (<paramref name="what"/>, as the warning says it).</summary>
    internal InitPolicy Expects(string preset, Func<ModuleContext, bool> match, string what) =>
        this with { Signatures = [.. Signatures, new Rule<bool>(match, true, PlanText.PresetExpects(preset, what))] };

    internal IReadOnlyList<Rule<BlockLoop>> ConstructionLoops { get; init; } = [];

    /// <summary>
    /// Under <see cref="ReplaysConstruction"/>: each module whose path matches <paramref name="blockGlob"/> runs
    /// <paramref name="loop"/>'s rules (its For… and ForBias… rules) over itself and its submodules as soon as it is constructed —
    /// right after its subtree's constructor draws, before the modules built after it — as a Python block whose
    /// <c>__init__</c> ends with <c>for m in self.modules(): …</c> (torchvision's ViT <c>MLPBlock</c>: xavier_uniform_ weights,
    /// N(0, 1e-6²) biases). Those modules are then as constructed for this policy's own rules unless one names them.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="loop"/> replays construction itself, or has no For… rule.</exception>
    public InitPolicy ConstructionLoop(string blockGlob, InitPolicy loop)
    {
        ArgumentNullException.ThrowIfNull(loop);
        if (loop.ReplaysConstruction) throw new ArgumentException("A construction loop's policy runs inside the replay; give its rules on InitPolicy.Auto or InitPolicy.Of(…), not on AsConstructed.", nameof(loop));
        if (loop.Overrides.Count == 0) throw new ArgumentException("A construction loop needs at least one For… rule.", nameof(loop));
        var match = Glob.Matcher(blockGlob);
        return this with { ConstructionLoops = [.. ConstructionLoops, new(c => match(c.Path), new BlockLoop(loop, false), $"ConstructionLoop(\"{blockGlob}\")")] };
    }

    /// <summary>
    /// Under <see cref="ReplaysConstruction"/>: each module whose path matches <paramref name="pathGlob"/> is a model of its own inside
    /// the model — Hugging Face's PreTrainedModel inside another (LlamaForCausalLM's <c>model</c>, T5ForConditionalGeneration's
    /// <c>encoder</c> and <c>decoder</c>), whose <c>__init__</c> ends with <c>post_init()</c>. Right after its subtree is constructed,
    /// before the modules built after it, this policy's For… and ForBias… rules run over it and its submodules in pre-order (post_init's
    /// <c>apply</c> visits in post-order; for rules on leaf layers the order is the same), and every module in it is then initialized for
    /// good: this policy's rules and the loops of enclosing sub-models do not draw it again (HF's <c>_is_hf_initialized</c>), and a
    /// parameter tied to one of its parameters (a tied LM head) keeps the value drawn there. The policy's own rules then draw what no
    /// sub-model holds, after every construction and every sub-model's loop: the heads built after the sub-model, and the root's own
    /// draws (T5's root draws <c>shared</c>, constructed first, after both stacks). So the init order differs from the construction
    /// order exactly where Python's does.
    /// </summary>
    /// <param name="pathGlob">An exact path or a glob ("model", "gpt_neox", "encoder").</param>
    public InitPolicy SubModel(string pathGlob)
    {
        var match = Glob.Matcher(pathGlob);
        return this with { ConstructionLoops = [.. ConstructionLoops, new(c => match(c.Path), new BlockLoop(null, true), $"SubModel(\"{pathGlob}\")")] };
    }

    internal bool KeepsPaddingRows { get; init; }

    /// <summary>
    /// An Embedding (or EmbeddingBag) drawn by a rule's scheme keeps its padding row at 0, as Hugging Face's <c>_init_weights</c> does
    /// (<c>normal_(weight)</c>, then <c>weight[padding_idx].zero_()</c>): the whole weight is drawn (the stream advances as in Python),
    /// then the row is set back to 0. TorchSharp does not expose <c>padding_idx</c>; its constructor zeroes that row, so the weight's one
    /// all-zero row is taken to be it. Without this, a scheme writes the whole weight, as <c>torch.nn.init</c> does.
    /// </summary>
    public InitPolicy KeepPaddingRows() => this with { KeepsPaddingRows = true };
    internal IReadOnlyList<Rule<string[]>> ChildOrders { get; init; } = [];

    /// <summary>
    /// The bias of every layer of type <typeparamref name="TModule"/> is drawn by <paramref name="scheme"/> (e.g.
    /// <c>InitScheme.Normal(1e-6)</c>, torchvision's ViT MLP), whatever the layer's weight scheme; the call's
    /// <see cref="InitOptions.Bias"/> still wins. Fans are not needed: a bias scheme is a fixed distribution or constant.
    /// </summary>
    public InitPolicy ForBias<TModule>(InitScheme scheme) where TModule : nn.Module =>
        AddBiasRule(c => c.Is(typeof(TModule)), new BiasRule(Concrete(scheme), BiasInit.Zeros), $"ForBias<{typeof(TModule).Name}>({scheme})");

    /// <summary>The bias of every layer of type <typeparamref name="TModule"/> by <paramref name="bias"/> (zeros, kept as constructed, PyTorch's default U(±1/√fan_in)).</summary>
    public InitPolicy ForBias<TModule>(BiasInit bias) where TModule : nn.Module =>
        AddBiasRule(c => c.Is(typeof(TModule)), new BiasRule(null, Check.Defined(bias, nameof(bias))), $"ForBias<{typeof(TModule).Name}>({bias})");

    /// <summary>As <see cref="ForBias{TModule}(InitScheme)"/>, for the layers whose path matches <paramref name="pathGlob"/>.</summary>
    public InitPolicy ForBiasPath(string pathGlob, InitScheme scheme)
    {
        var match = Glob.Matcher(pathGlob);
        return AddBiasRule(c => match(c.Path), new BiasRule(Concrete(scheme), BiasInit.Zeros), $"ForBiasPath(\"{pathGlob}\", {scheme})");
    }

    /// <summary>As <see cref="ForBias{TModule}(BiasInit)"/>, for the layers whose path matches <paramref name="pathGlob"/>.</summary>
    public InitPolicy ForBiasPath(string pathGlob, BiasInit bias)
    {
        var match = Glob.Matcher(pathGlob);
        return AddBiasRule(c => match(c.Path), new BiasRule(null, Check.Defined(bias, nameof(bias))), $"ForBiasPath(\"{pathGlob}\", {bias})");
    }

    private InitPolicy AddBiasRule(Func<ModuleContext, bool> match, BiasRule rule, string description) =>
        this with { BiasRules = [.. BiasRules, new(match, rule, description)] };

    /// <summary>This policy with every rule marked as a zoo preset's (<see cref="Rule{T}.OfPreset"/>): no warning for a rule a model variant does not need (vgg11 has no BatchNorm).</summary>
    internal InitPolicy AsPreset() => this with
    {
        Overrides = [.. Overrides.Select(r => r with { OfPreset = true })],
        ZeroLastNormBlocks = [.. ZeroLastNormBlocks.Select(r => r with { OfPreset = true })],
        BiasRules = [.. BiasRules.Select(r => r with { OfPreset = true })],
        ChildOrders = [.. ChildOrders.Select(r => r with { OfPreset = true })],
        ConstructionLoops = [.. ConstructionLoops.Select(r => r with { OfPreset = true })],
        ResidualScales = [.. ResidualScales.Select(r => r with { OfPreset = true })],
    };

    internal Rule<BiasRule>? BiasFor(ModuleContext c) => BiasRules.LastOrDefault(r => r.Match(c));

    /// <summary>
    /// Visits (and, under <see cref="ReplaysConstruction"/>, constructs) the children of the modules whose path matches
    /// <paramref name="pathGlob"/> ("" for the root) in the order <paramref name="children"/> names them, the others after them in
    /// registration order: the order the Python model builds them in, where a port registers them in another (TorchVision.NET's
    /// MobileNet registers <c>classifier</c> before <c>features</c>, so the same rules would consume the draws in another order).
    /// </summary>
    /// <exception cref="ArgumentException">No child is named, or a name is given twice.</exception>
    public InitPolicy VisitOrder(string pathGlob, params string[] children)
    {
        ArgumentNullException.ThrowIfNull(children);
        if (children.Length == 0) throw new ArgumentException("VisitOrder needs at least one child name.", nameof(children));
        if (children.Distinct(StringComparer.Ordinal).Count() != children.Length)
            throw new ArgumentException($"VisitOrder names a child twice: {string.Join(", ", children)}.", nameof(children));
        var match = Glob.Matcher(pathGlob);
        return this with { ChildOrders = [.. ChildOrders, new(c => match(c.Path), children.ToArray(), $"VisitOrder(\"{pathGlob}\", {string.Join(", ", children)})")] };
    }

    /// <summary>
    /// The model's modules in the order this policy visits them: pre-order, each context's children in their
    /// <see cref="VisitOrder"/> when one matches it, else in registration order.
    /// </summary>
    internal IEnumerable<ModuleContext> Walk(ModuleContext root)
    {
        if (ChildOrders.Count == 0)
        {
            foreach (var c in root.PreOrder()) yield return c;
            yield break;
        }
        var stack = new Stack<ModuleContext>();
        stack.Push(root);
        while (stack.Count > 0)
        {
            var c = stack.Pop();
            yield return c;
            var children = Ordered(c);
            for (int i = children.Count - 1; i >= 0; i--) stack.Push(children[i]);
        }
    }

    private IReadOnlyList<ModuleContext> Ordered(ModuleContext c)
    {
        if (ChildOrders.LastOrDefault(r => r.Match(c)) is not { } rule) return c.Children;
        var named = rule.Value.Select(n => c.Children.FirstOrDefault(x => x.Name == n)).OfType<ModuleContext>();
        return [.. named, .. c.Children.Where(x => !rule.Value.Contains(x.Name))];
    }
}
