using static TorchSharp.torch;

namespace TorchInit.Modules;

/// <summary>
/// One occurrence of a module in a model's tree: its dotted path, its parent and its position among the
/// parent's children. Built by <see cref="Build"/> in true pre-order, each module expanded once: a module
/// that appears again (shared, e.g. one Linear used at two places) gets a context of its own with
/// <see cref="SharedWith"/> pointing at the first occurrence and no children.
/// </summary>
public sealed class ModuleContext
{
    private readonly List<ModuleContext> _children = new();
    /// <summary>For a part: its dotted prefix inside the native module that holds its parameters ("layers.0.self_attn").</summary>
    private readonly string _prefix;

    private ModuleContext(string path, string name, nn.Module module, ModuleContext? parent, int index, Type? standsFor = null, string prefix = "")
    {
        StandsFor = standsFor;
        _prefix = prefix;
        Path = path;
        Name = name;
        Module = module;
        Parent = parent;
        Index = index;
        Depth = parent is null ? 0 : parent.Depth + 1;
    }

    /// <summary>Dotted path from the root ("" for the root), as in PyTorch's <c>named_modules()</c>.</summary>
    public string Path { get; }

    /// <summary>The last segment of <see cref="Path"/>: the name in the parent ("" for the root).</summary>
    public string Name { get; }

    /// <summary>The module.</summary>
    public nn.Module Module { get; }

    /// <summary>The module's type name as PyTorch prints it (TorchSharp's generic base types unwrapped: "Linear", "Sequential").</summary>
    public string TypeName => StandsFor is null ? ModuleTree.TypeName(Module) : ModuleTree.TypeName(StandsFor);

    /// <summary>
    /// For a part of a native TorchSharp module that exposes no submodules (the <c>out_proj</c> of a <c>MultiheadAttention</c>,
    /// <c>linear1</c> or <c>layers.0.self_attn</c> of a <c>TransformerEncoder</c>): the PyTorch module type at this path
    /// (<c>Linear</c>, <c>LayerNorm</c>, <c>MultiheadAttention</c>…), whose parameters are read from <see cref="Module"/> by their
    /// dotted names. Null for a real module.
    /// </summary>
    public Type? StandsFor { get; }

    /// <summary>Whether this is a module of type <paramref name="type"/> (subclasses included), or a part that stands for one (<see cref="StandsFor"/>).</summary>
    /// <param name="type">A module type.</param>
    public bool Is(Type type)
    {
        ArgumentNullException.ThrowIfNull(type);
        return StandsFor is null ? type.IsInstanceOfType(Module) : type.IsAssignableFrom(StandsFor);
    }

    /// <summary>
    /// The parameters this context owns, with their names in it: a real module's <c>named_parameters(recurse: false)</c> less
    /// those of its parts; a part's own parameters (the dotted names under its prefix, one segment deep).
    /// </summary>
    internal IReadOnlyList<(string Name, TorchSharp.Modules.Parameter Parameter)> OwnParameters()
    {
        var all = Module.named_parameters(recurse: false);
        if (StandsFor is null && _children.Count == 0) return all.Select(p => (p.name, p.parameter)).ToList();
        var start = _prefix.Length == 0 ? "" : _prefix + ".";
        return all.Where(p => p.name.StartsWith(start, StringComparison.Ordinal) && p.name.IndexOf('.', start.Length) < 0)
            .Select(p => (p.name[start.Length..], p.parameter)).ToList();
    }

    /// <summary>Whether this is a part of a native module (<see cref="StandsFor"/>).</summary>
    internal bool IsPart => StandsFor is not null;

    /// <summary>The enclosing module's context; null for the root.</summary>
    public ModuleContext? Parent { get; }

    /// <summary>Position among the parent's children (0-based; 0 for the root).</summary>
    public int Index { get; }

    /// <summary>Number of enclosing modules: 0 for the root.</summary>
    public int Depth { get; }

    /// <summary>
    /// For a repeated occurrence of a shared module: the context of its first occurrence in pre-order,
    /// where it is visited; null for first occurrences.
    /// </summary>
    public ModuleContext? SharedWith { get; private set; }

    /// <summary>Whether this is a repeated occurrence of a module seen earlier in pre-order.</summary>
    public bool IsShared => SharedWith is not null;

    /// <summary>The children's contexts in registration order (empty for a repeated occurrence: its subtree lives at <see cref="SharedWith"/>).</summary>
    public IReadOnlyList<ModuleContext> Children => _children;

    /// <summary>Whether the module has no submodules (checked on the module, so also for repeated occurrences).</summary>
    public bool IsLeaf => _children.Count == 0 && (IsPart || !Module.named_children().Any());

    /// <summary>This context and all below it in pre-order (a repeated occurrence is listed, its subtree is not).</summary>
    public IEnumerable<ModuleContext> PreOrder()
    {
        var stack = new Stack<ModuleContext>();
        stack.Push(this);
        while (stack.Count > 0)
        {
            var c = stack.Pop();
            yield return c;
            for (int i = c._children.Count - 1; i >= 0; i--) stack.Push(c._children[i]);
        }
    }

    /// <summary>The enclosing contexts, nearest first.</summary>
    public IEnumerable<ModuleContext> Ancestors()
    {
        for (var p = Parent; p is not null; p = p.Parent) yield return p;
    }

    /// <summary>
    /// The tree of <paramref name="root"/>: walks <c>named_children()</c> depth-first (TorchSharp's
    /// <c>named_modules()</c> is breadth-first per level, skips the root and repeats shared modules).
    /// </summary>
    /// <exception cref="ObjectDisposedException">A module of the tree was disposed.</exception>
    public static ModuleContext Build(nn.Module root)
    {
        ArgumentNullException.ThrowIfNull(root);
        var first = new Dictionary<nn.Module, ModuleContext>(ReferenceEqualityComparer.Instance);
        var rootContext = new ModuleContext("", "", root, null, 0);
        var stack = new Stack<ModuleContext>();
        stack.Push(rootContext);
        // Contexts are popped in pre-order, so the first one popped for a module is its first occurrence.
        while (stack.Count > 0)
        {
            var c = stack.Pop();
            if (first.TryGetValue(c.Module, out var earlier))
            {
                c.SharedWith = earlier;
                continue;
            }
            first.Add(c.Module, c);
            ModuleTree.EnsureAlive(c.Module, c.Path);
            int index = 0;
            foreach (var (name, child) in c.Module.named_children())
                c._children.Add(new ModuleContext(c.Path.Length == 0 ? name : $"{c.Path}.{name}", name, child, c, index++));
            if (c._children.Count == 0 && TransformerFamily.HasParts(c.Module)) c.AddParts();
            else for (int i = c._children.Count - 1; i >= 0; i--) stack.Push(c._children[i]);
        }
        return rootContext;
    }

    /// <summary>The parts of a native module (<see cref="TransformerFamily"/>), from its parameters' dotted names, in their order.</summary>
    private void AddParts()
    {
        var parts = new Dictionary<string, ModuleContext>(StringComparer.Ordinal) { [""] = this };
        foreach (var (name, _) in Module.named_parameters(recurse: false))
        {
            var segments = name.Split('.');
            for (int k = 1; k < segments.Length; k++)
            {
                var prefix = string.Join('.', segments[..k]);
                if (parts.ContainsKey(prefix)) continue;
                var parent = parts[string.Join('.', segments[..(k - 1)])];
                var parentType = parent.StandsFor ?? parent.Module.GetType();
                var grandType = parent.Parent is { } gp ? gp.StandsFor ?? gp.Module.GetType() : null;
                var part = new ModuleContext($"{(Path.Length == 0 ? "" : Path + ".")}{prefix}", segments[k - 1], Module, parent,
                    parent._children.Count, TransformerFamily.PartType(segments[k - 1], parentType, grandType), prefix);
                parent._children.Add(part);
                parts.Add(prefix, part);
            }
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"{(Path.Length == 0 ? "(root)" : Path)} ({TypeName})";
}
