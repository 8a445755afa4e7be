using System.Text.RegularExpressions;
using static TorchSharp.torch;

namespace TorchInit;

/// <summary>How <see cref="InitScheme.Auto"/> initializes an Embedding's weight.</summary>
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
/// weight 1, bias 0 (0 weight for the last norm of blocks named by <see cref="ZeroLastNormIn(Func{ModuleContext, bool}, string)"/>).
/// </para>
/// </remarks>
public sealed record InitPolicy
{
    /// <summary>Every layer by the activation that follows it, with the default families (HeNormal, GlorotUniform, LeCunNormal).</summary>
    public static InitPolicy Auto { get; } = new();

    /// <summary>A policy whose default is <paramref name="scheme"/> (<see cref="InitScheme.Auto"/> or a fixed scheme).</summary>
    public static InitPolicy Of(InitScheme scheme) => new() { DefaultScheme = scheme ?? throw new ArgumentNullException(nameof(scheme)) };

    /// <summary>The scheme for layers no override matches: <see cref="InitScheme.Auto"/> (default) or a fixed scheme.</summary>
    public InitScheme DefaultScheme { get; init; } = InitScheme.Auto;

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

    internal IReadOnlyList<Rule<InitScheme>> Overrides { get; init; } = [];
    internal IReadOnlyList<Rule<Activation>> Hints { get; init; } = [];
    internal IReadOnlyList<Rule<bool>> ZeroLastNormBlocks { get; init; } = [];
    internal IReadOnlyDictionary<ActivationKind, InitScheme> Mapping { get; init; } = new Dictionary<ActivationKind, InitScheme>();
    internal IReadOnlyList<(Type Type, Activation? Activation)> ModuleTypes { get; init; } = [];

    /// <summary>Sets <see cref="DefaultScheme"/>.</summary>
    public InitPolicy Default(InitScheme scheme) => this with { DefaultScheme = scheme ?? throw new ArgumentNullException(nameof(scheme)) };

    /// <summary>Layers of type <typeparamref name="TModule"/> (subclasses included) get <paramref name="scheme"/>, whatever follows them.</summary>
    public InitPolicy For<TModule>(InitScheme scheme) where TModule : nn.Module => For(typeof(TModule), scheme);

    /// <summary>Layers of type <paramref name="moduleType"/> (subclasses included) get <paramref name="scheme"/>.</summary>
    public InitPolicy For(Type moduleType, InitScheme scheme)
    {
        ArgumentNullException.ThrowIfNull(moduleType);
        return For(c => moduleType.IsInstanceOfType(c.Module), scheme, $"For<{moduleType.Name}>");
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
        ArgumentNullException.ThrowIfNull(predicate);
        ArgumentNullException.ThrowIfNull(scheme);
        return this with { Overrides = [.. Overrides, new(predicate, scheme, description)] };
    }

    /// <summary>Replaces the mapping for one activation kind: layers followed by it get <paramref name="scheme"/> as is (its own gain).</summary>
    public InitPolicy Map(ActivationKind kind, InitScheme scheme)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        if (scheme.Kind == InitKind.Auto) throw new ArgumentException("Map needs a concrete scheme, not Auto.", nameof(scheme));
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
        Hint(c => c.Module is TModule, activation, $"Hint<{typeof(TModule).Name}>");

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

    private static InitScheme Concrete(InitScheme scheme)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        if (scheme.Kind == InitKind.Auto) throw new ArgumentException("A family scheme must be concrete, not Auto.", nameof(scheme));
        return scheme;
    }

    internal Rule<InitScheme>? OverrideFor(ModuleContext c) => Overrides.LastOrDefault(r => r.Match(c));

    internal Rule<Activation>? HintFor(ModuleContext c) => Hints.LastOrDefault(r => r.Match(c));

    /// <summary>The activation a module computes, with <see cref="Recognize{TModule}"/> first; null when it is not one.</summary>
    internal Activation? ActivationOf(nn.Module m)
    {
        for (int i = ModuleTypes.Count - 1; i >= 0; i--)
            if (ModuleTypes[i].Type.IsInstanceOfType(m)) return ModuleTypes[i].Activation;
        return TorchInit.Activation.Of(m);
    }

    /// <summary>Whether the activation search skips <paramref name="m"/> (<see cref="TorchInit.Activation.IsGainNeutral"/> or <see cref="SkipOver{TModule}"/>).</summary>
    internal bool IsNeutral(nn.Module m)
    {
        for (int i = ModuleTypes.Count - 1; i >= 0; i--)
            if (ModuleTypes[i].Type.IsInstanceOfType(m)) return ModuleTypes[i].Activation is null;
        return TorchInit.Activation.IsGainNeutral(m);
    }

    /// <summary>The scheme for a layer followed by <paramref name="a"/>, why, and whether it is the assumed default.</summary>
    internal (InitScheme Scheme, string Why, bool Assumed) Choose(Activation a)
    {
        if (Mapping.TryGetValue(a.Kind, out var mapped))
            return (mapped, $"{a.Name}: mapped by Map(ActivationKind.{a.Kind})", false);
        const string reluLike = "is ReLU-like with no calculate_gain entry; the gain that keeps a unit input's second moment, 1/√E[f(z)²], is";
        return a.Kind switch
        {
            ActivationKind.Relu => (HeScheme.WithNonlinearity(Nonlinearity.Relu), "ReLU zeroes half its input, halving the second moment; He's gain √2 restores it", false),
            ActivationKind.Relu6 => (HeScheme.WithNonlinearity(Nonlinearity.Relu), "ReLU6 is ReLU capped at 6, the same near 0: He, gain √2", false),
            ActivationKind.RRelu => (HeScheme.WithNonlinearity(Nonlinearity.Relu), "RReLU is ReLU with a small random negative slope (1/8 to 1/3): He, gain √2", false),
            ActivationKind.LeakyRelu or ActivationKind.PRelu => (HeScheme.WithNonlinearity(Nonlinearity.LeakyRelu, a.NegativeSlope ?? Gain.DefaultLeakyReluSlope),
                $"{a.Name} keeps a² of the negative half's second moment: He with the leaky gain √(2/(1+a²))", false),
            ActivationKind.Tanh => (GlorotScheme.WithNonlinearity(Nonlinearity.Tanh), "tanh is the identity near 0 and saturates: Glorot with PyTorch's tanh gain 5/3", false),
            ActivationKind.Sigmoid => (GlorotScheme.WithNonlinearity(Nonlinearity.Sigmoid), "sigmoid: Glorot's own setting, gain 1 (calculate_gain('sigmoid'))", false),
            ActivationKind.Linear => (GlorotScheme.WithNonlinearity(Nonlinearity.Linear), "no activation before the next layer: Glorot, gain 1 (linear)", false),
            ActivationKind.Selu => (LeCunScheme.WithNonlinearity(Nonlinearity.Linear),
                "SELU self-normalizes when weights have variance 1/fan_in: LeCun normal (PyTorch: SELU nets use nonlinearity='linear', not gain 3/4)", false),
            ActivationKind.Gelu => (HeScheme.WithNonlinearity(Nonlinearity.Relu), $"GELU {reluLike} 1.53: He's √2 is within 8%, Glorot's 1 is not", false),
            ActivationKind.Silu => (HeScheme.WithNonlinearity(Nonlinearity.Relu), $"SiLU {reluLike} 1.68: He's √2 is within 16%, Glorot's 1 is not", false),
            ActivationKind.Mish => (HeScheme.WithNonlinearity(Nonlinearity.Relu), $"Mish {reluLike} 1.49: He's √2 is within 5%, Glorot's 1 is not", false),
            ActivationKind.Elu or ActivationKind.Celu => (HeScheme.WithNonlinearity(Nonlinearity.Relu), $"{a.Name} {reluLike} 1.25 (α = 1): He's √2 is within 14%", false),
            ActivationKind.Softmax or ActivationKind.LogSoftmax => (AssumedScheme, $"{a.Name} makes an output head with no gain rule: assumed default", true),
            ActivationKind.Output => (AssumedScheme, "an output has no activation to fit: assumed default", true),
            _ => (AssumedScheme, a.ModuleType is null
                ? "no activation found: assumed default"
                : $"{a.ModuleType} is not an activation TorchInit knows: assumed default (Recognize<T>() or a hint decides)", true),
        };
    }
}

/// <summary>A policy rule: where it applies, what it says, and how it reads in the report.</summary>
internal sealed record Rule<T>(Func<ModuleContext, bool> Match, T Value, string Description);

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
