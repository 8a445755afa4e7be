using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace TorchInit;

/// <summary>How <see cref="InitPolicy.Auto"/> initializes an Embedding's weight.</summary>
public enum EmbeddingInit
{
    /// <summary>PyTorch's default N(0, 1) (an embedding row is an input, not a sum over a fan).</summary>
    TorchDefault,
    /// <summary>N(0, 1/d) with d = embedding_dim, i.e. σ = 1/√d (the Transformer convention: each embedded vector has norm ≈ 1).</summary>
    Scaled,
}

/// <summary>
/// Which scheme each layer gets. The default policy, <see cref="Auto"/>, chooses from the activation that
/// follows each layer; per-layer overrides by type, path or predicate win over it, and hints name the
/// activation where it cannot be found. Immutable: every method returns a new policy.
/// </summary>
/// <example>
/// <code>
/// model.ApplyInit(InitPolicy.Auto
///     .For&lt;Conv2d&gt;(InitScheme.HeNormal)
///     .ForPath("head.*", InitScheme.GlorotUniform)
///     .Hint("encoder.fc*", Activation.Relu));
/// </code>
/// </example>
/// <remarks>
/// <para>The mapping, for each layer whose weight feeds an activation (Linear, Conv*, ConvTranspose*, Bilinear):</para>
/// <list type="table">
/// <listheader><term>activation</term><description>scheme (default family scheme) and why</description></listheader>
/// <item><term>ReLU, ReLU6, RReLU</term><description>He (HeNormal), gain √2: ReLU zeroes half its input, halving the second moment; √2 restores it (He et al. 2015).</description></item>
/// <item><term>LeakyReLU(a), PReLU(a)</term><description>He with gain √(2 / (1 + a²)): the negative half keeps a² of its second moment.</description></item>
/// <item><term>Tanh</term><description>Glorot (GlorotUniform) with PyTorch's tanh gain 5/3.</description></item>
/// <item><term>Sigmoid, linear (next module is a layer)</term><description>Glorot, gain 1.</description></item>
/// <item><term>SELU</term><description>LeCun normal: self-normalizing networks need weight variance 1/fan_in (PyTorch's note: use nonlinearity='linear', not SELU's 3/4 gain).</description></item>
/// <item><term>GELU, SiLU, Mish, ELU, CELU</term><description>
/// He, gain √2. They are ReLU-like (≈ x for large x, ≈ 0 or a bounded tail for very negative x) and
/// <c>calculate_gain</c> has no entry for them; the gain that keeps a unit-variance input's second moment,
/// 1/√E[f(z)²] for z ~ N(0, 1), is 1.53 (GELU), 1.68 (SiLU), 1.49 (Mish), 1.25 (ELU, CELU with α = 1):
/// √2 ≈ 1.41 is within 16% of each, Glorot's 1 is not.</description></item>
/// <item><term>Softmax, LogSoftmax, nothing (model output), unknown modules</term><description>
/// The assumed default (<see cref="AssumedScheme"/>, GlorotUniform gain 1), flagged <see cref="ActivationSource.Assumed"/>.</description></item>
/// </list>
/// <para>
/// Other layer kinds: Embedding by <see cref="Embeddings"/>; RNN/LSTM/GRU input-to-hidden weights per gate block
/// by the cell's activation (LSTM/GRU gates are sigmoids: Glorot gain 1; RNN: tanh, Glorot gain 5/3, unless hinted
/// ReLU), hidden-to-hidden weights per gate block by <see cref="HiddenToHiddenScheme"/> (orthogonal, Saxe et al.),
/// biases 0 (with <see cref="LstmForgetGateBias"/> on the forget gate of <c>bias_ih</c>); normalization layers
/// weight 1, bias 0 (0 weight for the last norm of blocks named by <see cref="ZeroLastNormIn(Func{ModuleContext, bool}, string)"/>);
/// MultiheadAttention's stacked q, k, v projection per [d, d] block by the linear rule (Glorot, gain 1: they feed the scores' dot
/// product), its biases 0; the Linear parts of transformer layers by role: <c>out_proj</c> and <c>linear2</c> feed the residual sum
/// (Glorot, gain 1), <c>linear1</c> the layer's activation, which TorchSharp 0.107 does not expose (relu assumed, flagged
/// <see cref="ActivationSource.Assumed"/>, unless hinted, e.g. <c>Hint&lt;TransformerEncoderLayer&gt;(Activation.Gelu)</c>).
/// Presets: <see cref="Gpt2"/>, <see cref="Bert"/>, <see cref="Vit"/>; <see cref="ScaleResidual(string, int)"/> on any policy.
/// </para>
/// </remarks>
public sealed partial record InitPolicy
{
    /// <summary>Every layer by the activation that follows it, with the default families (HeNormal, GlorotUniform, LeCunNormal).</summary>
    public static InitPolicy Auto { get; } = new();

    /// <summary>
    /// A policy that gives every layer of the fixed-scheme layer types (<see cref="LayerTaxonomy.FixedSchemeLayerTypes"/>:
    /// Linear, Conv*, ConvTranspose*) <paramref name="scheme"/>, whatever follows it; its bias by the bias policy.
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="scheme"/> is null.</exception>
    public static InitPolicy Of(InitScheme scheme) => new() { DefaultScheme = scheme ?? throw new ArgumentNullException(nameof(scheme)) };

    /// <summary>A scheme is the policy "this scheme for every Linear/Conv layer" (<see cref="Of"/>), so <c>model.ApplyInit(InitScheme.HeNormal)</c> reads as it should.</summary>
    /// <param name="scheme">The scheme.</param>
    public static implicit operator InitPolicy(InitScheme scheme) => Of(scheme);

    /// <summary>The scheme for layers no override matches, or null (the default): chosen per layer from the activation that follows it.</summary>
    public InitScheme? DefaultScheme { get; init; }

    /// <summary>Whether layers no override matches are decided by their activation (<see cref="DefaultScheme"/> is null).</summary>
    public bool IsAuto => DefaultScheme is null;

    /// <summary>The He family's scheme (ReLU-like activations); its gain is replaced by the activation's. Default <see cref="InitScheme.HeNormal"/> (PyTorch's <c>kaiming_normal_</c>).</summary>
    public InitScheme HeScheme { get; init; } = InitScheme.HeNormal;

    /// <summary>The Glorot family's scheme (tanh, sigmoid, linear); its gain is replaced by the activation's. Default <see cref="InitScheme.GlorotUniform"/> (PyTorch's <c>xavier_uniform_</c>).</summary>
    public InitScheme GlorotScheme { get; init; } = InitScheme.GlorotUniform;

    /// <summary>The LeCun family's scheme (SELU), gain 1. Default <see cref="InitScheme.LeCunNormal"/> (<c>kaiming_normal_(nonlinearity='linear')</c>).</summary>
    public InitScheme LeCunScheme { get; init; } = InitScheme.LeCunNormal;

    /// <summary>The scheme, used as is, when no usable activation is found (output layers, Softmax, unknown modules). Default <see cref="InitScheme.GlorotUniform"/>, gain 1.</summary>
    public InitScheme AssumedScheme { get; init; } = InitScheme.GlorotUniform;

    /// <summary>Recurrent hidden-to-hidden weights, per gate block. Default <see cref="InitScheme.Orthogonal"/>, gain 1 (Saxe et al. 2013).</summary>
    public InitScheme HiddenToHiddenScheme { get; init; } = InitScheme.Orthogonal;

    /// <summary>Embedding weights: PyTorch's N(0, 1) (default) or scaled N(0, 1/embedding_dim).</summary>
    public EmbeddingInit Embeddings { get; init; } = EmbeddingInit.TorchDefault;

    /// <summary>
    /// The value of an LSTM's forget-gate bias (elements [hidden, 2·hidden) of <c>bias_ih</c>, gate order i, f, g, o);
    /// <c>bias_hh</c> stays 0, so the effective forget bias b_ih + b_hh equals this. Default 0 (all biases 0).
    /// </summary>
    public double LstmForgetGateBias { get; init; }

    internal IReadOnlyList<Rule<InitScheme?>> Overrides { get; init; } = [];
    internal IReadOnlyList<Rule<Activation>> Hints { get; init; } = [];
    internal IReadOnlyList<Rule<bool>> ZeroLastNormBlocks { get; init; } = [];
    internal IReadOnlyList<Rule<int>> StackedBlockRules { get; init; } = [];
    internal IReadOnlyDictionary<ActivationKind, InitScheme> Mapping { get; init; } = new Dictionary<ActivationKind, InitScheme>();
    internal IReadOnlyList<(Type Type, Activation? Activation)> ModuleTypes { get; init; } = [];

    /// <summary>Sets <see cref="DefaultScheme"/>: a fixed scheme, or null for the choice by activation.</summary>
    public InitPolicy Default(InitScheme? scheme) => this with { DefaultScheme = scheme };

    /// <summary>Layers of type <typeparamref name="TModule"/> (subclasses included) get <paramref name="scheme"/>, whatever follows them.</summary>
    public InitPolicy For<TModule>(InitScheme scheme) where TModule : nn.Module => For(typeof(TModule), scheme);

    /// <summary>Layers of type <paramref name="moduleType"/> (subclasses included) get <paramref name="scheme"/>.</summary>
    public InitPolicy For(Type moduleType, InitScheme scheme)
    {
        ArgumentNullException.ThrowIfNull(moduleType);
        return For(c => c.Is(moduleType), scheme, $"For<{moduleType.Name}>");
    }

    /// <summary>
    /// Layers whose dotted path matches <paramref name="pathGlob"/> get <paramref name="scheme"/>: an exact path, or a glob
    /// where <c>*</c> matches any characters (dots included) and <c>?</c> one character ("head.*", "encoder.*.fc1").
    /// </summary>
    public InitPolicy ForPath(string pathGlob, InitScheme scheme)
    {
        var match = Glob.Matcher(pathGlob);
        return For(c => match(c.Path), scheme, $"ForPath(\"{pathGlob}\")");
    }

    /// <summary>
    /// Layers for which <paramref name="predicate"/> holds get <paramref name="scheme"/>. Overrides apply the scheme as
    /// <c>ApplyInit(scheme)</c> does (the module's <c>weight</c>, its bias by the bias policy); a later override wins over an earlier one.
    /// </summary>
    public InitPolicy For(Func<ModuleContext, bool> predicate, InitScheme scheme, string description = "For(predicate)")
    {
        ArgumentNullException.ThrowIfNull(scheme);
        return Override(predicate, scheme, description);
    }

    /// <summary>Layers of type <typeparamref name="TModule"/> are decided by the activation that follows them, as <see cref="Auto"/> does, under a fixed default.</summary>
    public InitPolicy AutoFor<TModule>() where TModule : nn.Module =>
        Override(c => c.Is(typeof(TModule)), null, $"AutoFor<{typeof(TModule).Name}>");

    /// <summary>Layers whose dotted path matches <paramref name="pathGlob"/> are decided by the activation that follows them (a fixed scheme everywhere, Auto where named).</summary>
    public InitPolicy AutoForPath(string pathGlob)
    {
        var match = Glob.Matcher(pathGlob);
        return Override(c => match(c.Path), null, $"AutoForPath(\"{pathGlob}\")");
    }

    /// <summary>Layers for which <paramref name="predicate"/> holds are decided by the activation that follows them.</summary>
    public InitPolicy AutoFor(Func<ModuleContext, bool> predicate, string description = "AutoFor(predicate)") => Override(predicate, null, description);

    private InitPolicy Override(Func<ModuleContext, bool> predicate, InitScheme? scheme, string description)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        ArgumentNullException.ThrowIfNull(description);
        return this with { Overrides = [.. Overrides, new(predicate, scheme, description)] };
    }

    /// <summary>Replaces the mapping for one activation kind: layers followed by it get <paramref name="scheme"/> as is (its own gain).</summary>
    public InitPolicy Map(ActivationKind kind, InitScheme scheme)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        return this with { Mapping = new Dictionary<ActivationKind, InitScheme>(Mapping) { [kind] = scheme } };
    }

    /// <summary>Sets the He family's scheme (<see cref="HeScheme"/>), e.g. <see cref="InitScheme.HeUniform"/>.</summary>
    public InitPolicy He(InitScheme scheme) => this with { HeScheme = Concrete(scheme) };

    /// <summary>Sets the Glorot family's scheme (<see cref="GlorotScheme"/>), e.g. <see cref="InitScheme.GlorotNormal"/>.</summary>
    public InitPolicy Glorot(InitScheme scheme) => this with { GlorotScheme = Concrete(scheme) };

    /// <summary>Sets the LeCun family's scheme (<see cref="LeCunScheme"/>), e.g. <see cref="InitScheme.LeCunTruncatedNormal"/>.</summary>
    public InitPolicy LeCun(InitScheme scheme) => this with { LeCunScheme = Concrete(scheme) };

    /// <summary>Sets the scheme used when no usable activation is found (<see cref="AssumedScheme"/>).</summary>
    public InitPolicy Assumed(InitScheme scheme) => this with { AssumedScheme = Concrete(scheme) };

    /// <summary>Sets <see cref="Embeddings"/>.</summary>
    public InitPolicy Embedding(EmbeddingInit embeddings) => this with { Embeddings = embeddings };

    /// <summary>Sets the LSTM forget-gate bias (<see cref="LstmForgetGateBias"/>), 1 by default (Jozefowicz et al. 2015).</summary>
    public InitPolicy ForgetGateBias(double value = 1.0)
    {
        Check.Finite(value, nameof(value));
        return this with { LstmForgetGateBias = value };
    }

    /// <summary>
    /// The layers whose dotted path matches <paramref name="pathGlob"/> are followed by <paramref name="activation"/>: for
    /// activations applied functionally in <c>forward</c> (<c>functional.relu(fc1.call(x))</c>), which no hook can see.
    /// For an RNN it names the cell's nonlinearity (<see cref="Activation.Relu"/> for a ReLU RNN). A hint wins over what is found.
    /// </summary>
    public InitPolicy Hint(string pathGlob, Activation activation)
    {
        var match = Glob.Matcher(pathGlob);
        return Hint(c => match(c.Path), activation, $"Hint(\"{pathGlob}\")");
    }

    /// <summary>Every layer of type <typeparamref name="TModule"/> is followed by <paramref name="activation"/>.</summary>
    public InitPolicy Hint<TModule>(Activation activation) where TModule : nn.Module =>
        Hint(c => c.Is(typeof(TModule)), activation, $"Hint<{typeof(TModule).Name}>");

    /// <summary>Layers for which <paramref name="predicate"/> holds are followed by <paramref name="activation"/>; a later hint wins.</summary>
    public InitPolicy Hint(Func<ModuleContext, bool> predicate, Activation activation, string description = "Hint(predicate)")
    {
        ArgumentNullException.ThrowIfNull(predicate);
        ArgumentNullException.ThrowIfNull(activation);
        return this with { Hints = [.. Hints, new(predicate, activation, description)] };
    }

    /// <summary>Modules of type <typeparamref name="TModule"/> compute <paramref name="activation"/> (a custom activation module, or Hardswish treated as SiLU).</summary>
    public InitPolicy Recognize<TModule>(Activation activation) where TModule : nn.Module
    {
        ArgumentNullException.ThrowIfNull(activation);
        return this with { ModuleTypes = [.. ModuleTypes, (typeof(TModule), activation)] };
    }

    /// <summary>Modules of type <typeparamref name="TModule"/> do not change the gain choice: the search for the activation skips them (like Dropout).</summary>
    public InitPolicy SkipOver<TModule>() where TModule : nn.Module =>
        this with { ModuleTypes = [.. ModuleTypes, (typeof(TModule), null)] };

    /// <summary>
    /// In every module of type <typeparamref name="TBlock"/> (a residual block), the last normalization layer inside
    /// it in pre-order gets weight 0, so the block starts as the identity (Goyal et al. 2017; torchvision's <c>zero_init_residual</c>).
    /// </summary>
    public InitPolicy ZeroLastNormIn<TBlock>() where TBlock : nn.Module =>
        ZeroLastNormIn(c => c.Module is TBlock, $"ZeroLastNormIn<{typeof(TBlock).Name}>");

    /// <summary>As <see cref="ZeroLastNormIn{TBlock}"/>, for the blocks whose path matches <paramref name="pathGlob"/>.</summary>
    public InitPolicy ZeroLastNormIn(string pathGlob)
    {
        var match = Glob.Matcher(pathGlob);
        return ZeroLastNormIn(c => match(c.Path), $"ZeroLastNormIn(\"{pathGlob}\")");
    }

    /// <summary>As <see cref="ZeroLastNormIn{TBlock}"/>, for the blocks for which <paramref name="predicate"/> holds.</summary>
    public InitPolicy ZeroLastNormIn(Func<ModuleContext, bool> predicate, string description = "ZeroLastNormIn(predicate)")
    {
        ArgumentNullException.ThrowIfNull(predicate);
        return this with { ZeroLastNormBlocks = [.. ZeroLastNormBlocks, new(predicate, true, description)] };
    }

    /// <summary>
    /// The weight of each layer whose dotted path matches <paramref name="pathGlob"/> is <paramref name="blocks"/> equal blocks
    /// stacked along dimension 0 — a fused q, k, v projection (nanoGPT's <c>c_attn</c>, timm's <c>qkv</c>: 3 blocks of
    /// [d, d]), or fused gates — and each block is drawn by the layer's scheme with its own fans, in order, as PyTorch's
    /// <c>init.xavier_uniform_(w[k·d:(k+1)·d])</c> for k = 0, 1, 2. For Glorot, σ = gain × √(2 / (fan_in + fan_out)) becomes
    /// gain × √(1 / d) per [d, d] block instead of gain × √(2 / 4d) for the [3d, d] whole. TorchSharp's <c>Linear</c> is sealed,
    /// so this says by path what a module would otherwise declare (<see cref="IInitializable"/>). A fixed-std scheme draws the
    /// whole tensor (each block would get the same std).
    /// </summary>
    /// <param name="pathGlob">An exact path or a glob ("*.c_attn", "blocks.*.attn.qkv").</param>
    /// <param name="blocks">The number of blocks, at least 2; the weight's size(0) must divide by it.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="blocks"/> is below 2.</exception>
    public InitPolicy StackedBlocks(string pathGlob, int blocks)
    {
        var match = Glob.Matcher(pathGlob);
        if (blocks < 2) throw new ArgumentOutOfRangeException(nameof(blocks), blocks, "A stacked weight has at least 2 blocks.");
        return this with { StackedBlockRules = [.. StackedBlockRules, new(c => match(c.Path), blocks, $"StackedBlocks(\"{pathGlob}\", {blocks})")] };
    }

    internal Rule<int>? StackedBlocksFor(ModuleContext c) => StackedBlockRules.LastOrDefault(r => r.Match(c));

    private static InitScheme Concrete(InitScheme scheme) => scheme ?? throw new ArgumentNullException(nameof(scheme));

    internal Rule<InitScheme?>? OverrideFor(ModuleContext c) => Overrides.LastOrDefault(r => r.Match(c));

    internal Rule<Activation>? HintFor(ModuleContext c) => Hints.LastOrDefault(r => r.Match(c));

    /// <summary>The activation a module computes, with <see cref="Recognize{TModule}"/> first; null when it is not one.</summary>
    internal Activation? ActivationOf(nn.Module m)
    {
        for (int i = ModuleTypes.Count - 1; i >= 0; i--)
            if (ModuleTypes[i].Type.IsInstanceOfType(m)) return ModuleTypes[i].Activation;
        return ActivationTable.Of(m);
    }

    /// <summary>Whether the activation search skips <paramref name="m"/> (<see cref="TorchInit.Activation.IsGainNeutral"/> or <see cref="SkipOver{TModule}"/>).</summary>
    internal bool IsNeutral(nn.Module m)
    {
        for (int i = ModuleTypes.Count - 1; i >= 0; i--)
            if (ModuleTypes[i].Type.IsInstanceOfType(m)) return ModuleTypes[i].Activation is null;
        return LayerTaxonomy.IsGainNeutral(LayerTaxonomy.Classify(m));
    }

    /// <summary>The scheme for a layer followed by <paramref name="a"/>, why, and whether it is the assumed default (<see cref="ActivationTable"/>).</summary>
    internal (InitScheme Scheme, string Why, bool Assumed) Choose(Activation a)
    {
        if (Mapping.TryGetValue(a.Kind, out var mapped))
            return (mapped, $"{a.Name}: mapped by Map(ActivationKind.{a.Kind})", false);
        var row = ActivationTable.Row(a.Kind);
        double? slope = row.Nonlinearity == Nonlinearity.LeakyRelu ? a.NegativeSlope ?? Gain.DefaultLeakyReluSlope : null;
        var scheme = row.Family switch
        {
            InitFamily.He => WithGain(HeScheme, row.Nonlinearity, slope),
            InitFamily.Glorot => WithGain(GlorotScheme, row.Nonlinearity, slope),
            InitFamily.LeCun => WithGain(LeCunScheme, Nonlinearity.Linear, null),
            _ => AssumedScheme,
        };
        string why = a.Kind == ActivationKind.Unknown && a.ModuleType is null ? "no activation found: assumed default" : row.Reason(a);
        return (scheme, why, row.Family == InitFamily.Assumed);
    }

    /// <summary>A family scheme with the activation's gain; a scheme without a gain (a fixed normal) is used as is.</summary>
    private static InitScheme WithGain(InitScheme scheme, Nonlinearity nonlinearity, double? slope) =>
        scheme.Gain is double g && !double.IsNaN(g) ? scheme.WithNonlinearity(nonlinearity, slope) : scheme;
}

/// <summary>A policy rule: where it applies, what it says, and how it reads in the report.</summary>
internal sealed record Rule<T>(Func<ModuleContext, bool> Match, T Value, string Description)
{
    /// <summary>A zoo preset's rule: it covers a family of models, so matching no module of one of them is not a mistake to warn about.</summary>
    public bool OfPreset { get; init; }
}

/// <summary>Dotted-path globs: <c>*</c> any characters (dots included), <c>?</c> one character, anything else literal.</summary>
internal static class Glob
{
    public static Func<string, bool> Matcher(string glob)
    {
        ArgumentNullException.ThrowIfNull(glob);
        if (glob.IndexOfAny(['*', '?']) < 0) return path => path == glob;
        var regex = new Regex("^" + Regex.Escape(glob).Replace(@"\*", ".*").Replace(@"\?", ".") + "$", RegexOptions.CultureInvariant);
        return regex.IsMatch;
    }
}
