using System.Collections.Concurrent;
using System.Reflection;
using static TorchSharp.torch;

namespace TorchInit.Modules;

/// <summary>Walks a module tree in true pre-order with dotted paths, visiting each module once.</summary>
/// <remarks>
/// TorchSharp's <c>named_modules()</c> is breadth-first per level, skips the root and repeats shared
/// modules, so it is not used: this walks <c>named_children()</c> depth-first and remembers what it saw.
/// A shared module is visited at its first occurrence only. <see cref="ModuleContext.Build"/> gives the
/// same walk with parents, positions and the repeated occurrences; <see cref="ModuleVisitor"/> dispatches on it.
/// </remarks>
internal static class ModuleTree
{
    /// <summary>The root (path "") and every submodule, in pre-order, each module once (parts of native transformer modules are not modules: <see cref="ModuleContext.StandsFor"/>).</summary>
    public static IEnumerable<(string Path, nn.Module Module)> PreOrder(nn.Module root) =>
        ModuleContext.Build(root).PreOrder().Where(c => !c.IsShared && !c.IsPart).Select(c => (c.Path, c.Module));

    /// <summary>The module's type name as PyTorch would print it (TorchSharp's generic base types are unwrapped).</summary>
    public static string TypeName(nn.Module module) => TypeName(module.GetType());

    /// <summary>A module type's name as PyTorch prints it (generic arity dropped).</summary>
    public static string TypeName(Type type) => type.Name.Split('`')[0];

    private static readonly ConcurrentDictionary<Type, FieldInfo[]> TensorFields = new();
    private static readonly FieldInfo? HandleField = typeof(nn.Module).GetField("handle", BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Instance);

    /// <summary>
    /// Throws <see cref="ObjectDisposedException"/> when <paramref name="module"/> was disposed: its native handle is closed
    /// (containers), or a tensor it holds in a field was disposed (TorchSharp's layers keep their parameters in fields, and a
    /// disposed layer lists no parameters at all, so without this check it would look like a layer with nothing to initialize).
    /// </summary>
    public static void EnsureAlive(nn.Module module, string path)
    {
        bool disposed = HandleField?.GetValue(module) is System.Runtime.InteropServices.SafeHandle { IsClosed: true };
        if (!disposed)
            foreach (var f in TensorFields.GetOrAdd(module.GetType(), FieldsOf))
                if (f.GetValue(module) is Tensor { IsInvalid: true }) { disposed = true; break; }
        if (disposed)
            throw new ObjectDisposedException(path.Length == 0 ? "(root)" : path,
                $"Module '{(path.Length == 0 ? "(root)" : path)}' ({TypeName(module)}) was disposed; its parameters no longer exist.");
    }

    private static FieldInfo[] FieldsOf(Type type)
    {
        var fields = new List<FieldInfo>();
        for (var t = type; t is not null && t != typeof(nn.Module); t = t.BaseType)
            fields.AddRange(t.GetFields(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly)
                .Where(f => typeof(Tensor).IsAssignableFrom(f.FieldType)));
        return fields.ToArray();
    }
}
