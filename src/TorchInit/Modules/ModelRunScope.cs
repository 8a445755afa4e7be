using System.Linq.Expressions;
using System.Reflection;
using System.Runtime.CompilerServices;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit.Modules;

/// <summary>
/// One "run the model with hooks, then restore everything" scope, shared by <see cref="ForwardTrace.Record"/>,
/// <see cref="Lsuv.ApplyLsuv"/> and <see cref="SignalProbe.Run"/>. Opening it opens a <c>DisposeScope</c> and, as asked,
/// records the training flags and puts the model in eval mode (<see cref="Eval"/>) or leaves the mode alone
/// (<see cref="CurrentMode"/>), and copies the buffers. Disposing it, also after a throw, undoes everything in this order:
/// removes every hook, disposes every tracked tensor, restores the training flags, the buffers and the gradients
/// (<see cref="ClearGradients"/>, unless <see cref="KeepGradients"/>), then closes the <c>DisposeScope</c>.
/// </summary>
/// <remarks>
/// TorchSharp runs hooks only through <c>call()</c>. Its hook API lives on the generic bases (<c>HookableModule&lt;TPreHook,
/// TPostHook&gt;</c>, <c>nn.Module&lt;T1, …, TResult&gt;</c>), so it is reached by reflection where the module's type is not known.
/// Scopes nest like <c>DisposeScope</c>s: open and dispose one on the same thread, innermost first.
/// </remarks>
internal sealed class ModelRunScope : IDisposable
{
    private readonly IDisposable _disposeScope;
    private readonly List<(nn.Module Module, bool Training)> _training = new();
    private readonly List<Tensor> _buffers = new();
    private readonly List<Tensor> _bufferCopies = new();
    private readonly List<Action> _removers = new();
    private readonly List<Tensor> _tracked = new();
    private List<TorchSharp.Modules.Parameter>? _gradParameters;
    private Tensor?[]? _savedGrads;
    private int _gradsSaved;
    private bool _keepGradients, _disposed;

    private ModelRunScope(nn.Module model, IEnumerable<nn.Module>? evalRestoring, bool restoreBuffers)
    {
        if (evalRestoring is not null)
            foreach (var m in evalRestoring) _training.Add((m, m.training));
        _disposeScope = NewDisposeScope();
        try
        {
            if (restoreBuffers)
            {
                var seen = new HashSet<IntPtr>();
                foreach (var b in model.buffers())
                    if (seen.Add(b.Handle)) _buffers.Add(b);
                foreach (var b in _buffers) _bufferCopies.Add(b.detach().clone());
            }
            if (evalRestoring is not null) model.eval();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>
    /// Puts <paramref name="model"/> in eval mode (no dropout draws, no BatchNorm running-statistics updates); on dispose the
    /// training flag of each of <paramref name="restoreFlagsOf"/> is set back, in that order (pre-order: children after their parent).
    /// </summary>
    /// <param name="model">The model.</param>
    /// <param name="restoreFlagsOf">The modules whose flags are restored (the model's, usually in pre-order).</param>
    /// <param name="restoreBuffers">Whether the buffers (BatchNorm running statistics…) are copied now and written back on dispose.</param>
    public static ModelRunScope Eval(nn.Module model, IEnumerable<nn.Module> restoreFlagsOf, bool restoreBuffers = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(restoreFlagsOf);
        return new ModelRunScope(model, restoreFlagsOf, restoreBuffers);
    }

    /// <summary>Runs <paramref name="model"/> in its current training/eval mode: no flag is read or written.</summary>
    /// <param name="model">The model.</param>
    /// <param name="restoreBuffers">Whether the buffers are copied now and written back on dispose.</param>
    public static ModelRunScope CurrentMode(nn.Module model, bool restoreBuffers = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new ModelRunScope(model, null, restoreBuffers);
    }

    /// <summary>Registers a forward pre-hook on <paramref name="module"/>, removed on dispose; false when the module has no hook API.</summary>
    public bool AddPreHook(nn.Module module, Action<nn.Module> hook) => Keep(RegisterPreHook(module, hook));

    /// <summary>
    /// Registers a forward hook on <paramref name="module"/> that hands <paramref name="observe"/> the output and keeps it unchanged,
    /// removed on dispose. An <c>nn.Module&lt;Tensor, Tensor&gt;</c> hands over its output as it is; a module of any other
    /// <c>nn.Module&lt;T1, …, TResult&gt;</c> signature (an LSTM's, a Bilinear's, an attention layer's) the first tensor of its
    /// output (recursively through tuples), and nothing when there is none. False when the module has no typed forward hook (a plain <c>nn.Module</c>).
    /// </summary>
    public bool AddPostHook(nn.Module module, Action<Tensor> observe) => Keep(RegisterOutputHook(module, observe));

    /// <summary>The hook of <see cref="AddPostHook"/>, registered and not kept: returns its remover, or null when the module has no typed forward hook.</summary>
    internal static Action? RegisterOutputHook(nn.Module module, Action<Tensor> observe)
    {
        ArgumentNullException.ThrowIfNull(observe);
        if (module is nn.Module<Tensor, Tensor> single)
        {
            var handle = single.register_forward_hook((_, _, output) =>
            {
                observe(output);
                return null!; // keep the output
            });
            return handle.remove;
        }
        return RegisterPostHook(module, output =>
        {
            if (FirstTensor(output) is { } y) observe(y);
        });
    }

    /// <summary>Runs <paramref name="forward"/> under <c>no_grad</c> in a <c>DisposeScope</c> of its own, so no tensor it makes survives it.</summary>
    public void Forward(Action forward)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        forward();
    }

    /// <summary>Disposes <paramref name="tensor"/> (one detached from every dispose scope) when the scope ends, after the hooks are removed.</summary>
    public void Track(Tensor tensor) => _tracked.Add(tensor);

    /// <summary>Saves each parameter's <c>.grad</c> and sets it to null; on dispose each is set back, unless <see cref="KeepGradients"/> was called.</summary>
    public void ClearGradients(IReadOnlyList<TorchSharp.Modules.Parameter> parameters)
    {
        _gradParameters = parameters.ToList();
        _savedGrads = new Tensor?[parameters.Count];
        for (int i = 0; i < parameters.Count; i++)
        {
            _savedGrads[i] = parameters[i].grad;
            _gradsSaved = i + 1;
            parameters[i].grad = null;
        }
    }

    /// <summary>Leaves the gradients the run produced on the parameters (call it once the run succeeded).</summary>
    public void KeepGradients() => _keepGradients = true;

    /// <summary>Removes the hooks, disposes the tracked tensors, restores the training flags, buffers and gradients, and closes the dispose scope.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        try
        {
            foreach (var remove in _removers) remove();
            foreach (var t in _tracked) t.Dispose();
            foreach (var (module, wasTraining) in _training) module.train(wasTraining);
            if (_buffers.Count > 0)
                using (no_grad())
                    for (int i = 0; i < _bufferCopies.Count; i++) _buffers[i].copy_(_bufferCopies[i]);
            if (_gradParameters is not null && !_keepGradients)
                for (int i = 0; i < _gradsSaved; i++) _gradParameters[i].grad = _savedGrads![i];
        }
        finally
        {
            _disposeScope.Dispose();
        }
    }

    private bool Keep(Action? remove)
    {
        if (remove is null) return false;
        _removers.Add(remove);
        return true;
    }

    private static readonly Dictionary<Type, MethodInfo?> PreHookMethods = new();
    private static readonly Dictionary<Type, MethodInfo?> PostHookMethods = new();

    /// <summary>Registers <paramref name="hook"/> as a forward pre-hook; returns the action that removes it, or null when the module has no hook API.</summary>
    internal static Action? RegisterPreHook(nn.Module module, Action<nn.Module> hook)
    {
        var type = module.GetType();
        MethodInfo? register;
        lock (PreHookMethods)
        {
            if (!PreHookMethods.TryGetValue(type, out register))
                PreHookMethods[type] = register = type.GetMethod("register_forward_pre_hook", BindingFlags.Public | BindingFlags.Instance, [typeof(Action<nn.Module>)]);
        }
        if (register is null) return null;
        var remover = register.Invoke(module, BindingFlags.DoNotWrapExceptions, null, [hook], null);
        return Remover(remover);
    }

    /// <summary>
    /// A forward hook on a module of any <c>nn.Module&lt;T1, …, TResult&gt;</c> signature that hands <paramref name="observe"/> the
    /// output and keeps it unchanged; returns the hook's remover, or null when the module has no typed forward hook (a plain <c>nn.Module</c>).
    /// </summary>
    internal static Action? RegisterPostHook(nn.Module module, Action<object?> observe)
    {
        var type = module.GetType();
        MethodInfo? register;
        lock (PostHookMethods)
        {
            if (!PostHookMethods.TryGetValue(type, out register))
                PostHookMethods[type] = register = type.GetMethods(BindingFlags.Public | BindingFlags.Instance).FirstOrDefault(m =>
                    m.Name == "register_forward_hook" && m.GetParameters() is [{ ParameterType: { IsGenericType: true } t }]
                    && t.GetGenericTypeDefinition().FullName?.StartsWith("System.Func`", StringComparison.Ordinal) == true);
        }
        if (register is null) return null;
        var delegateType = register.GetParameters()[0].ParameterType;
        var arguments = delegateType.GetGenericArguments();
        var parameters = arguments[..^1].Select(a => Expression.Parameter(a)).ToArray();
        var output = parameters[^1];   // (module, inputs…, output) → output
        var body = Expression.Block(
            Expression.Invoke(Expression.Constant(observe), Expression.Convert(output, typeof(object))),
            output);
        var hook = Expression.Lambda(delegateType, body, parameters).Compile();
        var remover = register.Invoke(module, BindingFlags.DoNotWrapExceptions, null, [hook], null);
        return Remover(remover);
    }

    private static Action? Remover(object? remover)
    {
        var remove = remover?.GetType().GetMethod("remove", BindingFlags.Public | BindingFlags.Instance, Type.EmptyTypes);
        if (remove is null) return null;
        return () => remove.Invoke(remover, BindingFlags.DoNotWrapExceptions, null, null, null);
    }

    /// <summary>The first tensor of a module's output: the tensor itself, or the first tensor of a tuple (recursively).</summary>
    private static Tensor? FirstTensor(object? output) => output switch
    {
        Tensor t => t,
        ITuple tuple => Enumerable.Range(0, tuple.Length).Select(i => FirstTensor(tuple[i])).FirstOrDefault(t => t is not null),
        _ => null,
    };
}
