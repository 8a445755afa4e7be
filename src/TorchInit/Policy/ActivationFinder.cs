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
    private readonly Dictionary<ModuleContext, ModuleContext?> _shortcuts = new(ReferenceEqualityComparer.Instance);

    /// <summary>The block's shortcut (<see cref="ResidualLayout.Shortcut"/>), found once per block.</summary>
    private ModuleContext? ShortcutOf(ModuleContext block)
    {
        if (!_shortcuts.TryGetValue(block, out var shortcut)) _shortcuts.Add(block, shortcut = ResidualLayout.Shortcut(block));
        return shortcut;
    }

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
        var beside = ShortcutsBeside(layer);
        int start = first + 1;
        // A layer on a shortcut that runs before the residual branch (identity = downsample(x) first): what follows it is what
        // follows the sum, after the branch's last layer or normalization, so the branch's calls are passed over.
        foreach (var block in layer.Ancestors())
            if (ShortcutOf(block) is { } shortcut && ResidualLayout.Within(layer, shortcut))
            {
                var inBlock = new Dictionary<nn.Module, ModuleContext>(ReferenceEqualityComparer.Instance);
                foreach (var c in block.PreOrder().Where(c => !c.IsPart && !c.IsShared)) inBlock.TryAdd(c.Module, c);
                int last = -1;
                for (int i = start; i < trace.Calls.Count && inBlock.TryGetValue(trace.Calls[i], out var member); i++)
                    if (!ResidualLayout.Within(member, shortcut) && LayerTaxonomy.Classify(member) is var k && (LayerTaxonomy.IsLayer(k) || k == LayerKind.Normalization))
                        last = i;
                if (last >= 0)
                {
                    skipped.Add($"the residual branch of block '{block.Path}' beside its shortcut '{shortcut.Path}'");
                    start = last + 1;
                }
                break;
            }
        for (int i = start; i < trace.Calls.Count; i++)
        {
            var m = trace.Calls[i];
            var path = _pathOf.TryGetValue(m, out var p) ? p : "?";
            if (beside.TryGetValue(m, out var shortcut))
            {
                // The shortcut runs between the residual branch and the sum (torchvision's downsample): what follows the
                // branch is what follows the sum, so the search goes on after it.
                if (!skipped.Contains(shortcut)) skipped.Add(shortcut);
                continue;
            }
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

    /// <summary>
    /// The modules of the shortcuts (<see cref="ResidualLayout.Shortcut"/>) of the residual blocks enclosing
    /// <paramref name="layer"/> that it is not part of, each with how the report names it.
    /// </summary>
    private Dictionary<nn.Module, string> ShortcutsBeside(ModuleContext layer)
    {
        var beside = new Dictionary<nn.Module, string>(ReferenceEqualityComparer.Instance);
        foreach (var block in layer.Ancestors())
            if (ShortcutOf(block) is { } shortcut && !ResidualLayout.Within(layer, shortcut))
                foreach (var c in shortcut.PreOrder().Where(c => !c.IsPart))
                    beside.TryAdd(c.Module, $"the shortcut {shortcut.TypeName} '{shortcut.Path}' of block '{block.Path}'");
        return beside;
    }

    private static bool IsLayer(nn.Module m) =>
        LayerTaxonomy.IsLayer(LayerTaxonomy.Classify(m));

    private static string Describe(ModuleContext c) => c.Path.Length == 0 ? $"the root {c.TypeName}" : $"{c.TypeName} '{c.Path}'";

    private static string After(List<string> skipped) => skipped.Count == 0 ? "" : $", after {string.Join(", ", skipped)}";
}
