using static TorchSharp.torch;

namespace TorchInit;

/// <summary>
/// Modules that say how their own parameters are initialized (<see cref="IInitializable"/>): unless a per-layer override names
/// them, each declared parameter gets its declared scheme (with its declared or shape-rule fans, or in blocks) and the rest is
/// skipped; a declaration may name a submodule's parameter by its dotted name, and wins over the policy there. Under an override
/// the module is planned as a layer (weight and bias).
/// </summary>
internal sealed class SelfInitializingFamily : LayerFamily
{
    public override LayerKind? KindOf(nn.Module module) => module is IInitializable ? LayerKind.SelfInitializing : null;
    public override bool TakesFixedScheme(ModuleContext c) => true;
    public override bool TakesAuto => true;
    public override bool DeclaresItself => true;

    /// <summary>
    /// Under <see cref="InitPolicy.ReplaysConstruction"/> a module's declarations are what its constructor draws (torchvision's ViT
    /// encoder draws <c>pos_embedding</c> N(0, 0.02²) in its <c>__init__</c>, before its layers): replayed at its place in
    /// pre-order, before its children, and not drawn again by the policy unless an override names it; the report cites them as constructed.
    /// </summary>
    public override bool PlanConstruction(PlanBuilder b, ModuleContext c, List<(string Name, Tensor Tensor)> own)
    {
        b.Declarations.Collect(c, own);
        if (own.Count == 0) return true;
        int first = b.Plan.Parameters.Count;
        b.Declarations.PlanOwn(c, own);
        b.Revise(first, e => e.Reason is { } declared ? e with { Reason = new DecisionReason(PlanText.ConstructedByDeclaration(declared.Text)) } : e);
        return true;
    }
}

/// <summary>One declaration of an <see cref="IInitializable"/> module, with the module that made it ("Block.DeclareInit").</summary>
internal readonly record struct Declaration(InitScheme? Scheme, Fans? Fans, int Blocks, string Reason, string By);

/// <summary>
/// What a plan's <see cref="IInitializable"/> modules declared: for their own parameters, and for their submodules' parameters
/// (an enclosing module's declaration wins over the policy's default for the submodule, not over an override naming it).
/// </summary>
internal sealed class Declarations(PlanBuilder b)
{
    private readonly Dictionary<ModuleContext, Dictionary<string, Declaration>> _own = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<ModuleContext, Dictionary<string, Declaration>> _below = new(ReferenceEqualityComparer.Instance);

    /// <summary>The declarations enclosing modules made for <paramref name="c"/>'s parameters, by parameter name; null: none.</summary>
    public Dictionary<string, Declaration>? DeclaredBelow(ModuleContext c) => _below.TryGetValue(c, out var d) ? d : null;

    /// <summary>Asks an <see cref="IInitializable"/> module for its declarations, once: its own parameters' and its submodules' (by dotted name).</summary>
    public void Collect(ModuleContext c, List<(string Name, Tensor Tensor)> own)
    {
        var below = new Dictionary<string, (ModuleContext Context, string Name)>(StringComparer.Ordinal);
        foreach (var d in c.PreOrder().Skip(1).Where(d => !d.IsShared))
            foreach (var (name, _) in b.Own(d))
                below.TryAdd($"{d.Path[(c.Path.Length == 0 ? 0 : c.Path.Length + 1)..]}.{name}", (d, name));
        var declarations = new ParameterDeclarations(c, own.Select(p => p.Name), below.Keys);
        ((IInitializable)c.Module).DeclareInit(declarations);
        string by = PlanText.DeclaredBy(c.TypeName);
        var mine = new Dictionary<string, Declaration>(StringComparer.Ordinal);
        foreach (var (name, scheme, fans, blocks, reason) in declarations.Declared)
        {
            var declaration = new Declaration(scheme, fans, blocks, reason, by);
            if (own.Any(p => p.Name == name)) mine[name] = declaration;
            else
            {
                var (context, parameter) = below[name];
                if (!_below.TryGetValue(context, out var forContext)) _below[context] = forContext = new(StringComparer.Ordinal);
                forContext[parameter] = declaration;   // an inner module's declaration, collected later, wins (nearest first)
            }
        }
        _own[c] = mine;
    }

    /// <summary>An <see cref="IInitializable"/> module's own parameters: each declared one by its declaration, the rest skipped.</summary>
    public void PlanOwn(ModuleContext c, List<(string Name, Tensor Tensor)> own)
    {
        var declared = _own[c];
        foreach (var (name, p) in own)
            b.Add(declared.TryGetValue(name, out var d)
                ? Entry(c, name, p, d)
                : PlanBuilder.Row(c, name, p, "", InitAction.Skipped, PlanText.NotDeclared(c.TypeName)) with { Source = ActivationSource.Intrinsic });
    }

    /// <summary>A declared parameter's entry: kept, drawn in blocks, or drawn by its scheme with its declared or shape-rule fans.</summary>
    public PlannedParameter Entry(ModuleContext c, string name, Tensor p, Declaration d)
    {
        var entry = d.Scheme is null ? PlanBuilder.Row(c, name, p, "keep", InitAction.Kept, PlanText.KeptBy(d.By))
            : d.Blocks > 1 ? b.Blocks(c, name, p, d.Scheme, d.Blocks, PlanText.OnePerDeclaredBlock)
            : b.Weight(c.Path, c.TypeName, name, p, d.Scheme, () => d.Fans ?? Fans.FromShape(p.shape, PlanText.Qualified(c.Path, name)),
                fansAt: s => d.Fans ?? Fans.FromShape(s, PlanText.Qualified(c.Path, name)));
        return entry with { Source = ActivationSource.Intrinsic, Reason = new DecisionReason(PlanText.Declared(d.By, d.Reason)) };
    }

    /// <summary>The pass for a module an enclosing module declared parameters of: its entries from <paramref name="first"/> on that were declared are replaced.</summary>
    public void Replace(ModuleContext c, int first, Dictionary<string, Declaration> declared)
    {
        var entries = b.Plan.Parameters;
        for (int i = first; i < entries.Count; i++)
        {
            var e = entries[i];
            if (!declared.TryGetValue(e.Name, out var d)) continue;
            b.Forget(e);   // it was planned, so it holds its storage's first occurrence
            entries[i] = Entry(c, e.Name, e.Tensor, d);
        }
    }
}
