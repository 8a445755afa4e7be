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
/// default TorchInit cannot know. Create them with <c>device: torch.CPU</c> inside the factory: they then keep their
/// constructor's init. Parameters tied inside the factory (<c>head.weight = tok.weight</c>) stay tied: one tensor, written once,
/// reported as tied.
/// <c>Embedding</c>'s padding row is not zeroed (TorchSharp does not expose <c>padding_idx</c>). TorchSharp 0.107's
/// <c>Embedding</c> constructor draws its weight on the CPU before moving it to the meta device, and its native module keeps that
/// CPU tensor until the module is disposed (measured: an <c>Embedding(100000, 256)</c> built here holds two 98 MiB copies, one of
/// them unused; nothing TorchSharp exposes releases it): the report's policy warnings say so for each such Embedding. Construct
/// large embeddings with <c>device: torch.CPU</c> in the factory: one copy, still written by the policy. The global generator's
/// state is saved before the factory runs and restored after, so that draw consumes no random numbers.
/// Each replaced parameter is a new <c>Parameter</c>; TorchSharp's <c>Parameter</c> constructor leaves the tensor it took over
/// counted in <c>Tensor.TotalCount</c> without a native handle (as its own layer constructors do), so that count grows by one
/// per replaced parameter with no native memory behind it.</para>
/// <para><c>set_default_device</c> is process-wide: do not construct modules on other threads during the call (TorchInit's own meta
/// constructions, this and <see cref="MuBaseShapes.FromFactory"/>, take turns).</para>
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
#pragma warning disable RS0026 // overloads with optional parameters: the out parameter and the trace argument tell them apart, as in 0.1.0
    public static T WithoutDefaultInit<T>(Func<T> factory, InitPolicy policy, out InitReport report, InitOptions? options = null, Device? device = null)
        where T : nn.Module => Run(factory, policy, null, out report, options, device);

    /// <summary>
    /// As <see cref="WithoutDefaultInit{T}(Func{T}, InitPolicy, out InitReport, InitOptions?, Device?)"/>, with one forward pass
    /// on <paramref name="sampleInput"/> (eval mode, <c>no_grad</c>, on the materialized but not yet initialized model) that records
    /// the order the leaf modules run in, so <see cref="InitPolicy.Auto"/> finds the activation after each layer of custom modules
    /// (a ResNet's blocks), as <c>model.ApplyInit(policy, options, sampleInput)</c> does.
    /// </summary>
    /// <param name="factory">Constructs the model.</param>
    /// <param name="policy">Usually <see cref="InitPolicy.Auto"/>.</param>
    /// <param name="sampleInput">An input of the right shape on <paramref name="device"/> (a batch of 1 is enough); not modified.</param>
    /// <param name="report"><c>ApplyInit</c>'s report.</param>
    /// <param name="options"><c>ApplyInit</c>'s options.</param>
    /// <param name="device">Where the parameters are allocated; default CPU.</param>
    /// <returns>The initialized model.</returns>
    /// <exception cref="InvalidOperationException">The forward pass failed (the inner exception says why).</exception>
    public static T WithoutDefaultInit<T>(Func<T> factory, InitPolicy policy, Tensor sampleInput, out InitReport report, InitOptions? options = null, Device? device = null)
        where T : nn.Module<Tensor, Tensor>
    {
        ArgumentNullException.ThrowIfNull(sampleInput);
        return Run(factory, policy, m => m.call(sampleInput), out report, options, device);
    }

    /// <summary>
    /// As <see cref="WithoutDefaultInit{T}(Func{T}, InitPolicy, out InitReport, InitOptions?, Device?)"/>, with
    /// <paramref name="traceForward"/> run once on the materialized model (eval mode, <c>no_grad</c>) to trace the order modules
    /// run in, for models whose forward takes other arguments (<c>m =&gt; m.call(tokens, mask)</c>).
    /// </summary>
    /// <param name="factory">Constructs the model.</param>
    /// <param name="policy">Usually <see cref="InitPolicy.Auto"/>.</param>
    /// <param name="traceForward">Runs the model once.</param>
    /// <param name="report"><c>ApplyInit</c>'s report.</param>
    /// <param name="options"><c>ApplyInit</c>'s options.</param>
    /// <param name="device">Where the parameters are allocated; default CPU.</param>
    /// <returns>The initialized model.</returns>
    /// <exception cref="InvalidOperationException">The forward pass failed (the inner exception says why).</exception>
    public static T WithoutDefaultInit<T>(Func<T> factory, InitPolicy policy, Action<T> traceForward, out InitReport report, InitOptions? options = null, Device? device = null)
        where T : nn.Module
    {
        ArgumentNullException.ThrowIfNull(traceForward);
        return Run(factory, policy, traceForward, out report, options, device);
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

    private static T Run<T>(Func<T> factory, InitPolicy policy, Action<T>? traceForward, out InitReport report, InitOptions? options, Device? device)
        where T : nn.Module
    {
        ArgumentNullException.ThrowIfNull(factory);
        ArgumentNullException.ThrowIfNull(policy);
        options ??= new InitOptions();
        InitExtensions.Validate(policy, options);
        device ??= CPU;
        var model = MetaConstruction.Run(factory);
        var slots = Slots(model);
        using (no_grad())
        {
            foreach (var s in slots.Where(s => s.IsParameter))
                s.Materialize(device);
            foreach (var s in slots.Where(s => !s.IsParameter))
                s.Materialize(device);
        }
        var plan = InitPlanner.Plan(model, policy, options, traceForward is null ? null : () => traceForward(model));
        // TorchSharp 0.107's Embedding draws its weight on the CPU and moves it to the meta device, and its native module keeps
        // that CPU tensor until the module is disposed (measured: an Embedding(100000, 256) built on meta holds 98 MiB); nothing
        // TorchSharp exposes releases it, so the report says so.
        foreach (var s in slots.Where(s => s.IsParameter))
            foreach (var t in s.Targets.Where(t => t.Owner is Embedding))
            {
                long bytes = s.Current!.numel() * s.Current.element_size();
                string path = t.Qualified.Contains('.') ? t.Qualified[..t.Qualified.LastIndexOf('.')] : "(root)";
                plan.PolicyWarnings.Add($"Embedding '{path}' was constructed on the meta device: TorchSharp 0.107 keeps the CPU draw of its " +
                                        $"constructor ({bytes / 1048576.0:0} MiB) until the module is disposed; construct it with device: torch.CPU " +
                                        "in the factory to hold one copy (the policy still writes it)");
            }
        report = PlanWriter.Write(plan, options);

        // What the plan did not write gets its layer's PyTorch default, in slot (pre-)order, from the global generator.
        var written = plan.Parameters.Where(e => e.Writes).Select(e => Fast.FastFill.AnyDataPointer(e.Tensor)).ToHashSet();
        using var sampler = new Sampler((Generator?)null);
        using (no_grad())
        {
            foreach (var s in slots.Where(s => !written.Contains(Fast.FastFill.AnyDataPointer(s.Current!))))
            {
                var (owner, name) = (s.Targets[0].Owner, s.Targets[0].Name);
                var tensors = owner.named_parameters(recurse: false).Select(p => (p.name, (Tensor)p.parameter))
                    .Concat(owner.named_buffers(recurse: false)).ToDictionary(x => x.Item1, x => x.Item2);
                LayerTaxonomy.Of(owner).Family.TorchDefault(owner, name, tensors)?.Write(s.Current!, sampler);
            }
        }
        return model;
    }

    /// <summary>Where a meta tensor lives: the module that holds it, its name there, and how to put its replacement there.</summary>
    private sealed record Target(nn.Module Owner, string Name, string Qualified, Tensor Meta, Action<Tensor> Assign);

    /// <summary>
    /// One meta tensor to replace, held by one or more modules (a tied weight: an Embedding and a head sharing it): all of them
    /// get the same replacement, so the tie survives.
    /// </summary>
    private sealed class Slot(bool isParameter, Target first)
    {
        public List<Target> Targets { get; } = [first];
        public bool IsParameter { get; } = isParameter;
        public Tensor? Current { get; private set; }

        /// <summary>
        /// Allocates the replacement (zeros, not uninitialized memory: the planner reads a lookup table's rows to find its padding
        /// row, and garbage could show one) and assigns it to every holder; the meta tensors it replaces are released.
        /// </summary>
        public void Materialize(Device device)
        {
            var meta = Targets[0].Meta;
            var storage = zeros(meta.shape, meta.dtype, device);
            Current = IsParameter ? new Parameter(storage, meta.requires_grad) : storage; // a Parameter takes over the storage's handle
            foreach (var t in Targets)
            {
                // TorchSharp's managed setters dispose the tensor they replace: a holder met later whose wrapper an earlier
                // holder's setter disposed (the same Parameter object, tied by `b.weight = a.weight`) has its stale field
                // cleared first, as the setter would have found it on a fresh module.
                if (t.Meta.IsInvalid) ClearStaleField(t.Owner, t.Meta);
                t.Assign(Current);
            }
            foreach (var t in Targets)
                if (!t.Meta.IsInvalid) t.Meta.Dispose();
        }
    }

    /// <summary>Sets to null the instance fields of <paramref name="owner"/> (its type and base types) that hold <paramref name="stale"/>.</summary>
    private static void ClearStaleField(nn.Module owner, Tensor stale)
    {
        for (var type = owner.GetType(); type is not null && type != typeof(object); type = type.BaseType)
            foreach (var f in type.GetFields(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.DeclaredOnly))
                if (f.FieldType.IsAssignableFrom(typeof(Parameter)) && typeof(Tensor).IsAssignableFrom(f.FieldType) && ReferenceEquals(f.GetValue(owner), stale))
                    f.SetValue(owner, null);
    }

    /// <summary>
    /// Whether two meta parameter wrappers are one parameter. Meta tensors have no storage to compare, and TorchSharp's native
    /// modules hand out a new wrapper on every read; a wrapper's <c>requires_grad</c> is its tensor's, so flipping it on one and
    /// seeing it flip on the other tells (and it is flipped back).
    /// </summary>
    private static bool SameParameter(Tensor a, Tensor b)
    {
        if (ReferenceEquals(a, b)) return true;
        if (a.dtype != b.dtype || !a.shape.SequenceEqual(b.shape) || !a.is_floating_point()) return false;
        bool ra = a.requires_grad, rb = b.requires_grad;
        if (ra != rb) return false;
        a.requires_grad = !ra;
        bool same = b.requires_grad != rb;
        a.requires_grad = ra;
        return same;
    }

    private static List<Slot> Slots(nn.Module model)
    {
        var slots = new List<Slot>();
        var problems = new List<string>();
        foreach (var (path, m) in ModuleTree.PreOrder(model))
        {
            var metaParams = m.named_parameters(recurse: false).Where(p => p.parameter.is_meta).ToList();
            var metaBuffers = m.named_buffers(recurse: false).Where(b => b.buffer.is_meta).ToList();
            if (metaParams.Count + metaBuffers.Count == 0) continue;
            string where = $"'{(path.Length == 0 ? "(root)" : path)}' ({ModuleTree.TypeName(m)})";
            if (!LayerTaxonomy.Of(m).Family.KnowsEveryDefault)
            {
                problems.Add($"{where}: TorchInit does not know its default initialization; construct it with device: torch.CPU in the factory");
                continue;
            }
            foreach (var (name, p) in metaParams)
            {
                var assign = Assigner(m, name, isParameter: true);
                if (assign is null) { problems.Add($"{where}.{name}: the module has no setter for it (TorchSharp's RNN, LSTM and GRU have none); construct it with device: torch.CPU in the factory"); continue; }
                var target = new Target(m, name, path.Length == 0 ? name : $"{path}.{name}", p, assign);
                // A parameter held by two modules (tied in the factory) is one slot: one tensor, assigned to both.
                if (slots.FirstOrDefault(s => s.IsParameter && SameParameter(s.Targets[0].Meta, p)) is { } tied) tied.Targets.Add(target);
                else slots.Add(new Slot(true, target));
            }
            foreach (var (name, b) in metaBuffers)
            {
                var assign = Assigner(m, name, isParameter: false);
                if (assign is null) { problems.Add($"{where}.{name}: buffer without setter"); continue; }
                slots.Add(new Slot(false, new Target(m, name, path.Length == 0 ? name : $"{path}.{name}", b, assign)));
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
