using static TorchSharp.torch;

namespace TorchInit;

/// <summary>
/// The order in which a model's leaf modules run in one forward pass, recorded with forward pre-hooks.
/// The pass runs in eval mode (no dropout draws, no BatchNorm running-statistics updates) under <c>no_grad</c>;
/// afterwards every hook is removed and every module's training flag restored, also when the pass throws.
/// </summary>
/// <remarks>
/// TorchSharp runs hooks only through <c>call()</c>: a leaf whose <c>forward()</c> is called directly, and
/// functional activations (<c>functional.relu</c>), leave no trace. The hook API lives on the generic base
/// <c>HookableModule&lt;TPreHook, TPostHook&gt;</c>, so it is reached by reflection on each leaf's type (<see cref="ModelRunScope"/>).
/// </remarks>
internal sealed class ForwardTrace
{
    private readonly Dictionary<nn.Module, int> _first = new(ReferenceEqualityComparer.Instance);

    private ForwardTrace(List<nn.Module> calls)
    {
        Calls = calls;
        for (int i = 0; i < calls.Count; i++) _first.TryAdd(calls[i], i);
    }

    /// <summary>The leaf modules in the order their <c>call()</c> ran (a module called twice appears twice).</summary>
    public IReadOnlyList<nn.Module> Calls { get; }

    /// <summary>The index of the first call of <paramref name="module"/>, or −1 when it did not run.</summary>
    public int FirstCall(nn.Module module) => _first.TryGetValue(module, out var i) ? i : -1;

    /// <summary>Runs <paramref name="forward"/> once with pre-hooks on every leaf module of <paramref name="root"/>.</summary>
    /// <exception cref="InvalidOperationException">The forward pass threw (the inner exception says why).</exception>
    public static ForwardTrace Record(ModuleContext root, Action forward)
    {
        ArgumentNullException.ThrowIfNull(forward);
        // Parts of a native transformer module are not modules: the module itself is hooked, as a leaf.
        var modules = root.PreOrder().Where(c => !c.IsShared && !c.IsPart).ToList();
        var calls = new List<nn.Module>();
        try
        {
            using var run = ModelRunScope.Eval(root.Module, modules.Select(c => c.Module)); // pre-order: children after their parent
            foreach (var leaf in modules.Where(c => c.Children.Count == 0 || TransformerFamily.HasParts(c.Module)))
                run.AddPreHook(leaf.Module, calls.Add);
            run.Forward(forward);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new InvalidOperationException(
                $"The sample forward pass that traces the module order failed ({e.GetType().Name}: {e.Message}). " +
                "Check the sample input's shape and dtype; hooks were removed and training flags restored.", e);
        }
        return new ForwardTrace(calls);
    }

    /// <summary>Registers <paramref name="hook"/> as a forward pre-hook; returns the action that removes it, or null when the module has no hook API.</summary>
    internal static Action? RegisterPreHook(nn.Module module, Action<nn.Module> hook) => ModelRunScope.RegisterPreHook(module, hook);
}
