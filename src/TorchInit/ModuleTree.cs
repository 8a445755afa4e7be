using static TorchSharp.torch;

namespace TorchInit;

/// <summary>Walks a module tree in true pre-order with dotted paths, visiting each module once.</summary>
/// <remarks>
/// TorchSharp's <c>named_modules()</c> is breadth-first per level, skips the root and repeats shared
/// modules, so it is not used: this walks <c>named_children()</c> depth-first and remembers what it saw.
/// A shared module is visited at its first occurrence only.
/// </remarks>
public static class ModuleTree
{
    /// <summary>The root (path "") and every submodule, in pre-order, each module once.</summary>
    public static IEnumerable<(string Path, nn.Module Module)> PreOrder(nn.Module root)
    {
        ArgumentNullException.ThrowIfNull(root);
        var seen = new HashSet<nn.Module>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(string, nn.Module)>();
        stack.Push(("", root));
        while (stack.Count > 0)
        {
            var (path, module) = stack.Pop();
            if (!seen.Add(module)) continue;
            yield return (path, module);
            var children = module.named_children().ToList();
            for (int i = children.Count - 1; i >= 0; i--)
            {
                var (name, child) = children[i];
                stack.Push((path.Length == 0 ? name : $"{path}.{name}", child));
            }
        }
    }

    /// <summary>The module's type name as PyTorch would print it (TorchSharp's generic base types are unwrapped).</summary>
    public static string TypeName(nn.Module module) => module.GetType().Name.Split('`')[0];
}
