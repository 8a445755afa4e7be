using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit.Modules;

/// <summary>
/// A module that says how its own parameters are initialized (timm's <c>init_weights</c> convention): the visitor calls
/// <see cref="DeclareInit"/> when it plans the module, and each declared parameter gets a plan entry and a report row like a
/// built-in layer's — validated with the rest of the plan, drawn in pre-order from the call's generator. Its submodules are
/// visited as usual. A policy override (<see cref="InitPolicy.For{TModule}(InitScheme)"/>, <see cref="InitPolicy.ForPath"/>)
/// still wins over the declaration.
/// </summary>
/// <example>
/// <code>
/// sealed class Scale : nn.Module&lt;Tensor, Tensor&gt;, IInitializable
/// {
///     public Parameter gamma = nn.Parameter(torch.empty(64));
///     public void DeclareInit(ParameterDeclarations init) =&gt; init.Use("gamma", InitScheme.Constant(1e-4), "LayerScale starts small (Touvron et al. 2021)");
///     …
/// }
/// </code>
/// </example>
public interface IInitializable
{
    /// <summary>
    /// Declares, for each of the module's own parameters (<c>named_parameters(recurse: false)</c>), how it is initialized; it
    /// may also declare a submodule's parameter by its dotted name ("c_attn.weight": a fused q, k, v projection as 3 blocks).
    /// </summary>
    /// <param name="init">Collects the declarations; own parameters left undeclared are skipped and reported, a submodule's
    /// undeclared parameters follow the policy.</param>
    void DeclareInit(ParameterDeclarations init);
}

/// <summary>The declarations an <see cref="IInitializable"/> module makes for its own parameters.</summary>
public sealed class ParameterDeclarations
{
    private readonly HashSet<string> _own;
    private readonly IReadOnlyCollection<string> _below;
    internal readonly List<(string Name, InitScheme? Scheme, Fans? Fans, int Blocks, string Reason)> Declared = new();

    internal ParameterDeclarations(ModuleContext module, IEnumerable<string> ownParameters, IReadOnlyCollection<string> submoduleParameters)
    {
        Module = module;
        _own = new HashSet<string>(ownParameters, StringComparer.Ordinal);
        _below = submoduleParameters;
    }

    /// <summary>The module being planned: its path, parent and position.</summary>
    public ModuleContext Module { get; }

    /// <summary>The names of the module's own parameters.</summary>
    public IReadOnlyCollection<string> ParameterNames => _own;

    /// <summary>The dotted names of its submodules' parameters ("c_attn.weight"), which a declaration may name too.</summary>
    public IReadOnlyCollection<string> SubmoduleParameterNames => _below;

    /// <summary>
    /// <paramref name="parameter"/> (an own parameter, or a submodule's by its dotted name) is initialized by
    /// <paramref name="scheme"/>, with <paramref name="fans"/> (null: PyTorch's shape rule, fan_in = size(1) × receptive field;
    /// σ = gain × √(scale / fan) for a variance-scaling scheme); <paramref name="reason"/> appears in the report.
    /// </summary>
    /// <exception cref="ArgumentException">The module has no such parameter, or it was declared already.</exception>
    public ParameterDeclarations Use(string parameter, InitScheme scheme, string reason, Fans? fans = null)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        return Add(parameter, scheme, fans, 1, reason);
    }

    /// <summary>
    /// <paramref name="parameter"/> (an own parameter, or a submodule's by its dotted name: "c_attn.weight") is
    /// <paramref name="blocks"/> equal blocks stacked along dimension 0 (q, k, v of a fused projection; the gates of a
    /// recurrent weight), each [size(0) / blocks, …] block initialized by <paramref name="scheme"/> with its own fans.
    /// </summary>
    /// <exception cref="ArgumentException">The module has no such parameter, it was declared already, or <paramref name="blocks"/> is below 1.</exception>
    public ParameterDeclarations UseBlocks(string parameter, InitScheme scheme, int blocks, string reason)
    {
        ArgumentNullException.ThrowIfNull(scheme);
        if (blocks < 1) throw new ArgumentException($"blocks must be at least 1, got {blocks}.", nameof(blocks));
        return Add(parameter, scheme, null, blocks, reason);
    }

    /// <summary><paramref name="parameter"/> keeps its current value; <paramref name="reason"/> appears in the report.</summary>
    /// <exception cref="ArgumentException">The module has no such parameter, or it was declared already.</exception>
    public ParameterDeclarations Keep(string parameter, string reason) => Add(parameter, null, null, 1, reason);

    private ParameterDeclarations Add(string parameter, InitScheme? scheme, Fans? fans, int blocks, string reason)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        ArgumentNullException.ThrowIfNull(reason);
        if (!_own.Contains(parameter) && !_below.Contains(parameter))
            throw new ArgumentException($"{Module} has no parameter '{parameter}'. Its parameters: {string.Join(", ", _own.Concat(_below.Take(12)))}" +
                                        $"{(_below.Count > 12 ? ", …" : "")}.", nameof(parameter));
        if (Declared.Any(d => d.Name == parameter))
            throw new ArgumentException($"{Module}: parameter '{parameter}' is declared twice.", nameof(parameter));
        if (fans is { FanIn: < 0 } or { FanOut: < 0 })
            throw new ArgumentException($"Fans must be non-negative, got {fans}.", nameof(fans));
        Declared.Add((parameter, scheme, fans, blocks, reason));
        return this;
    }
}
