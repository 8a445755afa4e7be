using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit;

/// <summary>What was found after a layer: the activation, whether the finding settles it, and how it reads in the report.</summary>
internal sealed record Neighbour(Activation Activation, bool Definite, string Detail);

/// <summary>
/// Finds the activation that follows a layer. Precedence: a hint; the traced order, when it names a module;
/// the container order, when it settles it; otherwise nothing usable (the assumed default).
/// </summary>
internal sealed class ActivationFinder(InitPolicy policy, ForwardTrace? trace, ModuleContext root)
{
    private readonly Dictionary<nn.Module, string> _pathOf = PathsOf(root);

    private static Dictionary<nn.Module, string> PathsOf(ModuleContext root)
    {
        var paths = new Dictionary<nn.Module, string>(ReferenceEqualityComparer.Instance);
        foreach (var c in root.PreOrder().Where(c => !c.IsShared && !c.IsPart)) paths.Add(c.Module, c.Path);
        return paths;
    }

    public (Activation Activation, ActivationSource Source, string Detail) Find(ModuleContext layer)
    {
        if (policy.HintFor(layer) is { } hint)
            return (hint.Value, ActivationSource.Hint, $"{hint.Description} says {hint.Value.Name} follows");
        var traced = trace is null ? null : Traced(layer);
        if (traced is { Definite: true })
            return (traced.Activation, ActivationSource.Traced, traced.Detail);
        var sequential = Sequential(layer);
        if (sequential.Definite)
            return (sequential.Activation, ActivationSource.Sequential, sequential.Detail);
        var detail = traced is not null ? traced.Detail
            : trace is not null ? $"it did not run in the traced forward pass (called with forward() instead of call()?); {sequential.Detail}"
            : sequential.Detail;
        return (traced?.Activation ?? sequential.Activation, ActivationSource.Assumed, detail);
    }

    /// <summary>Container order: the next module after the layer in its Sequential, gain-neutral modules skipped, climbing out of nested Sequentials.</summary>
    public Neighbour Sequential(ModuleContext layer)
    {
        var skipped = new List<string>();
        var node = layer;
        while (true)
        {
            var parent = node.Parent;
            if (parent is null)
                return new(Activation.Output, true, node == layer
                    ? "the model is this layer: nothing follows"
                    : $"nothing follows it{After(skipped)} (container order): the model's output");
            if (parent.Module is not TorchSharp.Modules.Sequential)
                return new(Activation.Unknown(), false, node == layer
                    ? $"it sits in {Describe(parent)}, not a Sequential, whose forward decides what follows (trace with a sample input, or add a hint)"
                    : $"it ends Sequential '{node.Path}' inside {Describe(parent)}, whose forward decides what follows (trace with a sample input, or add a hint)");
            foreach (var sibling in parent.Children.Skip(node.Index + 1))
                if (Scan(sibling.Module, sibling.Path, skipped) is { } found)
                    return found with { Detail = $"{found.Detail}{After(skipped)} (container order)" };
            node = parent;
        }
    }

    /// <summary>The first module in <paramref name="module"/> (descending into Sequentials) that decides, or null when all are gain-neutral.</summary>
    private Neighbour? Scan(nn.Module module, string path, List<string> skipped)
    {
        if (policy.IsNeutral(module))
        {
            skipped.Add($"{ModuleTree.TypeName(module)} '{path}'");
            return null;
        }
        if (policy.ActivationOf(module) is { } a)
            return new(a, true, $"{a.Name} '{path}' follows");
        if (module is TorchSharp.Modules.Sequential)
        {
            foreach (var (name, child) in module.named_children())
                if (Scan(child, $"{path}.{name}", skipped) is { } found) return found;
            return null;
        }
        if (IsLayer(module))
            return new(Activation.Linear, true, $"the next module is {ModuleTree.TypeName(module)} '{path}', a layer");
        return new(Activation.Unknown(ModuleTree.TypeName(module)), true, $"{ModuleTree.TypeName(module)} '{path}' follows");
    }

    /// <summary>Traced order: the next module run after the layer's first call, gain-neutral modules skipped; null when the layer did not run.</summary>
    private Neighbour? Traced(ModuleContext layer)
    {
        int first = trace!.FirstCall(layer.Module);
        if (first < 0) return null;
        var skipped = new List<string>();
        for (int i = first + 1; i < trace.Calls.Count; i++)
        {
            var m = trace.Calls[i];
            var path = _pathOf.TryGetValue(m, out var p) ? p : "?";
            if (policy.IsNeutral(m))
            {
                skipped.Add($"{ModuleTree.TypeName(m)} '{path}'");
                continue;
            }
            if (policy.ActivationOf(m) is { } a)
                return new(a, true, $"{a.Name} '{path}' runs next{After(skipped)} (traced)");
            if (IsLayer(m))
                return new(Activation.Unknown(), false,
                    $"the next module run is {ModuleTree.TypeName(m)} '{path}'{After(skipped)} with no activation module in between (traced): " +
                    "linear, or a functional activation (functional.relu) that hooks cannot see; add a hint");
            return new(Activation.Unknown(ModuleTree.TypeName(m)), true, $"{ModuleTree.TypeName(m)} '{path}' runs next{After(skipped)} (traced)");
        }
        return new(Activation.Output, true, $"nothing runs after it{After(skipped)} (traced): the model's output");
    }

    private static bool IsLayer(nn.Module m) =>
        LayerTaxonomy.IsLayer(LayerTaxonomy.Classify(m));

    private static string Describe(ModuleContext c) => c.Path.Length == 0 ? $"the root {c.TypeName}" : $"{c.TypeName} '{c.Path}'";

    private static string After(List<string> skipped) => skipped.Count == 0 ? "" : $", after {string.Join(", ", skipped)}";
}
