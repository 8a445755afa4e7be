using System.Reflection;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit;

/// <summary>
/// Builds a model without TorchSharp's default initialization, so that a full model costs one init pass
/// (<c>ApplyInit</c>'s) instead of two (every layer constructor's, then <c>ApplyInit</c>'s).
/// </summary>
/// <remarks>
/// <para>How: the factory runs with <c>torch.set_default_device(meta)</c>, so layers that take their device
/// from the default (Linear, Conv*, norms, Embedding, …) get storage-less meta parameters and their default
/// init is a no-op. Every meta parameter and buffer is then replaced, through the layer's setter, by an
/// uninitialized tensor on <c>device</c>, <c>ApplyInit</c> writes the scheme, and every tensor the scheme did not write gets the default
/// its layer would have given it: Linear/Conv*/Bilinear weight and bias PyTorch's U(±1/√fan_in) rule, norms
/// weight 1, bias 0 and fresh running statistics, Embedding N(0, 1), drawn from the global generator.</para>
/// <para>With the same seed, the scheme's weights are bit-identical to constructing normally and calling
/// <c>ApplyInit</c>. Tensors a factory creates with an explicit device are left as they are.</para>
/// <para>Not supported (the call throws <see cref="NotSupportedException"/> before allocating): TorchSharp's
/// native modules without parameter setters (RNN, LSTM, GRU) and modules of your own with parameters that are
/// other module types owning meta parameters (your own modules' own parameters, attention, …), whose
/// default TorchInit cannot know, and parameters tied inside the factory (tie them afterwards, as with PyTorch's
/// <c>to_empty</c>). Create the former with <c>device: torch.CPU</c> inside the factory: they then keep their
/// constructor's init.
/// <c>Embedding</c>'s padding row is not zeroed (TorchSharp does not expose <c>padding_idx</c>). TorchSharp 0.107's
/// <c>Embedding</c> constructor draws its weight on the CPU before moving it to the meta device, so constructing one here
/// briefly allocates its full size on the CPU (an <c>Embedding(100000, 256)</c> peaks about 100 MB higher than a Linear of the
/// same size); the global generator's state is saved before the factory runs and restored after, so that draw consumes no
/// random numbers.</para>
/// <para><c>set_default_device</c> is process-wide: do not construct modules on other threads during the call.</para>
/// </remarks>
public static class Build
{
    /// <summary>
    /// Constructs the model returned by <paramref name="factory"/> without default initialization and
    /// initializes it once: the layers <c>ApplyInit</c> handles by <paramref name="policy"/>, everything else by
    /// its layer's PyTorch default.
    /// </summary>
    /// <param name="factory">Constructs the model, e.g. <c>() =&gt; new MyModel()</c>.</param>
    /// <param name="policy">The policy or scheme for <c>ApplyInit</c> (e.g. <see cref="InitScheme.HeNormal"/>, <see cref="InitPolicy.Auto"/>).</param>
    /// <param name="report"><c>ApplyInit</c>'s report.</param>
    /// <param name="options"><c>ApplyInit</c>'s options (seed, mode, bias policy, …).</param>
    /// <param name="device">Where the parameters are allocated; default CPU.</param>
    /// <returns>The initialized model.</returns>
    /// <exception cref="NotSupportedException">A module's meta parameters cannot be replaced or given a default (see remarks).</exception>
#pragma warning disable RS0026 // two overloads with optional parameters: the out parameter tells them apart, as in 0.1.0
    public static T WithoutDefaultInit<T>(Func<T> factory, InitPolicy policy, out InitReport report, InitOptions? options = null, Device? device = null)
        where T : nn.Module
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(policy);
        options ??= new InitOptions();
        InitExtensions.Validate(policy, options);
        device ??= CPU;
        var previous = get_default_device();
        // Layers that initialize natively before moving to the default device draw from the global generator even on the
        // meta device: its state is put back, so constructing here consumes no random numbers.
        using var rngState = torch.random.get_rng_state();
        T model;
        set_default_device(META);
        try { model = factory(); }
        finally
        {
            set_default_device(previous);
            torch.random.set_rng_state(rngState);
        }

        var slots = Slots(model);
        using (no_grad())
        {
            foreach (var s in slots.Where(s => s.IsParameter))
                s.Materialize(device);
            foreach (var s in slots.Where(s => !s.IsParameter))
                s.Materialize(device);
        }
        var plan = InitPlanner.Plan(model, policy, options, null);
        report = PlanWriter.Write(plan, options);

        // What the plan did not write gets its layer's PyTorch default, in slot (pre-)order, from the global generator.
        var written = plan.Parameters.Where(e => e.Writes).Select(e => Fast.FastFill.AnyDataPointer(e.Tensor)).ToHashSet();
        using var sampler = new Sampler((Generator?)null);
        using (no_grad())
        {
            foreach (var s in slots.Where(s => !written.Contains(Fast.FastFill.AnyDataPointer(s.Current!))))
            {
                var tensors = s.Owner.named_parameters(recurse: false).Select(p => (p.name, (Tensor)p.parameter))
                    .Concat(s.Owner.named_buffers(recurse: false)).ToDictionary(x => x.Item1, x => x.Item2);
                TorchDefaults.For(s.Owner, s.Name, tensors)?.Write(s.Current!, sampler);
            }
        }
        return model;
    }

    /// <summary>As <see cref="WithoutDefaultInit{T}(Func{T}, InitPolicy, out InitReport, InitOptions?, Device?)"/>, without the report.</summary>
    /// <param name="factory">Constructs the model.</param>
    /// <param name="policy">The policy or scheme for <c>ApplyInit</c> (e.g. <see cref="InitScheme.HeNormal"/>, <see cref="InitPolicy.Auto"/>).</param>
    /// <param name="options"><c>ApplyInit</c>'s options.</param>
    /// <param name="device">Where the parameters are allocated; default CPU.</param>
    /// <returns>The initialized model.</returns>
    public static T WithoutDefaultInit<T>(Func<T> factory, InitPolicy policy, InitOptions? options = null, Device? device = null)
        where T : nn.Module => WithoutDefaultInit(factory, policy, out _, options, device);
#pragma warning restore RS0026

    /// <summary>One meta tensor to replace: where it lives and how to put its replacement there.</summary>
    private sealed class Slot(nn.Module owner, string path, string name, Tensor meta, bool isParameter, Action<Tensor> assign)
    {
        public nn.Module Owner { get; } = owner;
        public string Name { get; } = name;
        public string Qualified { get; } = path.Length == 0 ? name : $"{path}.{name}";
        public bool IsParameter { get; } = isParameter;
        public Tensor? Current { get; private set; }

        /// <summary>Allocates the replacement (uninitialized) and assigns it; the meta tensor it replaces is released.</summary>
        public void Materialize(Device device)
        {
            var storage = empty(meta.shape, meta.dtype, device);
            Current = IsParameter ? new Parameter(storage, meta.requires_grad) : storage; // a Parameter takes over the storage's handle
            assign(Current);
            if (!meta.IsInvalid) meta.Dispose();
        }
    }

    private static List<Slot> Slots(nn.Module model)
    {
        var slots = new List<Slot>();
        var problems = new List<string>();
        var byMeta = new Dictionary<Tensor, Slot>(ReferenceEqualityComparer.Instance);
        foreach (var (path, m) in ModuleTree.PreOrder(model))
        {
            var metaParams = m.named_parameters(recurse: false).Where(p => p.parameter.is_meta).ToList();
            var metaBuffers = m.named_buffers(recurse: false).Where(b => b.buffer.is_meta).ToList();
            if (metaParams.Count + metaBuffers.Count == 0) continue;
            string where = $"'{(path.Length == 0 ? "(root)" : path)}' ({ModuleTree.TypeName(m)})";
            if (!TorchDefaults.Knows(m))
            {
                problems.Add($"{where}: TorchInit does not know its default initialization; construct it with device: torch.CPU in the factory");
                continue;
            }
            foreach (var (name, p) in metaParams)
            {
                var assign = Assigner(m, name, isParameter: true);
                if (assign is null) { problems.Add($"{where}.{name}: the module has no setter for it (TorchSharp's RNN, LSTM and GRU have none); construct it with device: torch.CPU in the factory"); continue; }
                // TorchSharp's setters dispose the tensor they replace, so a parameter shared by two modules cannot be
                // replaced in both: tie after materializing, as with PyTorch's to_empty.
                if (byMeta.TryGetValue(p, out var first))
                {
                    problems.Add($"{where}.{name} is the same parameter as '{first.Qualified}': tie parameters after Build.WithoutDefaultInit returns");
                    continue;
                }
                var slot = new Slot(m, path, name, p, true, assign);
                byMeta.Add(p, slot);
                slots.Add(slot);
            }
            foreach (var (name, b) in metaBuffers)
            {
                var assign = Assigner(m, name, isParameter: false);
                if (assign is null) { problems.Add($"{where}.{name}: buffer without setter"); continue; }
                slots.Add(new Slot(m, path, name, b, false, assign));
            }
        }
        if (problems.Count > 0)
            throw new NotSupportedException("Build.WithoutDefaultInit cannot materialize this model:\n  " + string.Join("\n  ", problems));
        return slots;
    }

    /// <summary>How to put a replacement into <paramref name="m"/>: the public setter of the same name (TorchSharp's layers have one); null: none.</summary>
    private static Action<Tensor>? Assigner(nn.Module m, string name, bool isParameter)
    {
        var prop = m.GetType().GetProperty(name, BindingFlags.Public | BindingFlags.Instance);
        var wanted = isParameter ? typeof(Parameter) : typeof(Tensor);
        if (prop is { CanWrite: true } && prop.SetMethod!.IsPublic && prop.PropertyType.IsAssignableFrom(wanted))
            return t => prop.SetValue(m, t);
        return null;
    }
}
