using static TorchSharp.torch;

namespace TorchInit;

/// <summary>Walks a module tree in true pre-order with dotted paths, visiting each module once.</summary>
/// <remarks>
/// TorchSharp's <c>named_modules()</c> is breadth-first per level, skips the root and repeats shared
/// modules, so it is not used: this walks <c>named_children()</c> depth-first and remembers what it saw.
/// A shared module is visited at its first occurrence only. <see cref="ModuleContext.Build"/> gives the
/// same walk with parents, positions and the repeated occurrences; <see cref="ModuleVisitor"/> dispatches on it.
/// </remarks>
public static class ModuleTree
{
    /// <summary>The root (path "") and every submodule, in pre-order, each module once.</summary>
    public static IEnumerable<(string Path, nn.Module Module)> PreOrder(nn.Module root) =>
        ModuleContext.Build(root).PreOrder().Where(c => !c.IsShared).Select(c => (c.Path, c.Module));

    /// <summary>The module's type name as PyTorch would print it (TorchSharp's generic base types are unwrapped).</summary>
    public static string TypeName(nn.Module module) => module.GetType().Name.Split('`')[0];
}
