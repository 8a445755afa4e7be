using static TorchSharp.torch;

namespace TorchInit;

/// <summary>
/// <c>ApplyInit</c> and <c>PlanInit</c>: initialize a whole model, a single layer or a single tensor, and report what was
/// done. Each call plans first (decides every parameter's fill, writing nothing), checks the whole plan, then writes it:
/// a bad parameter anywhere throws before any weight is touched.
/// </summary>
public static class InitExtensions
{
    /// <summary>
    /// Initializes <paramref name="module"/> (itself included) by <paramref name="policy"/>. A scheme converts to a policy:
    /// <c>model.ApplyInit(InitScheme.HeNormal)</c> gives every Linear, Conv and ConvTranspose weight N(0, 2/fan_in) and its bias
    /// 0; <c>model.ApplyInit(InitPolicy.Auto)</c> chooses each layer's scheme from the activation that follows it and handles
    /// Embedding, RNN/LSTM/GRU and normalization layers too. Modules are visited in pre-order (PyTorch's
    /// <c>named_modules()</c> order), each module and each tied parameter (recognized by its storage) once, weight before
    /// bias, so a seeded call equals PyTorch's <c>torch.manual_seed(seed)</c> followed by the same <c>torch.nn.init</c> calls in
    /// that order. Modules that own parameters but are not handled are left unchanged and listed in
    /// <see cref="InitReport.Unhandled"/>; a shared module's later occurrences get Skipped rows.
    /// </summary>
    /// <param name="module">A model or a single layer.</param>
    /// <param name="policy">The policy, or a scheme (e.g. <see cref="InitScheme.HeNormal"/>); <see cref="InitPolicy.Auto"/> decides per layer.</param>
    /// <param name="options">Bias policy, seed or generator, fan convention, layer types, frozen parameters; null for defaults.</param>
    /// <param name="traceForward">Runs the model once (e.g. <c>() =&gt; model.call(x, y)</c>) to trace the order modules run in, so Auto finds the activation after each layer of custom modules; null: container order only.</param>
    /// <returns>One row per parameter, and one decision per module decided by a rule.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="module"/> or <paramref name="policy"/> is null.</exception>
    /// <exception cref="ArgumentException">Invalid options, or a parameter the scheme cannot fill (fewer than 2 dimensions for a fan-based scheme, a fan of 0, an integer or complex dtype); nothing was written.</exception>
    /// <exception cref="InvalidOperationException">A parameter to initialize is on the meta device, or the traced forward pass failed; nothing was written.</exception>
    /// <exception cref="ObjectDisposedException">The module, a submodule, a parameter or the options' generator was disposed; nothing was written.</exception>
    public static InitReport ApplyInit(this nn.Module module, InitPolicy policy, InitOptions? options = null, Action? traceForward = null) =>
        Run(module, policy, options, traceForward, dryRun: false);

    /// <summary>
    /// As <see cref="ApplyInit(nn.Module, InitPolicy, InitOptions?, Action?)"/>, after one forward pass on
    /// <paramref name="sampleInput"/> (eval mode, <c>no_grad</c>) that records the order in which the leaf modules run, so
    /// <see cref="InitPolicy.Auto"/> finds the activation after each layer of custom modules too. The hooks are removed and the
    /// training flags restored afterwards, even when the pass throws.
    /// </summary>
    /// <param name="module">The model; its <c>call(sampleInput)</c> is run once.</param>
    /// <param name="policy">Usually <see cref="InitPolicy.Auto"/>.</param>
    /// <param name="options">Options; null for defaults.</param>
    /// <param name="sampleInput">An input of the right shape (a batch of 1 is enough); it is not modified.</param>
    /// <exception cref="InvalidOperationException">The forward pass failed (the inner exception says why); nothing was written.</exception>
    public static InitReport ApplyInit(this nn.Module<Tensor, Tensor> module, InitPolicy policy, InitOptions? options, Tensor sampleInput) =>
        Run(module, policy, options, Forward(module, sampleInput), dryRun: false);

    /// <summary>
    /// Dry run of <see cref="ApplyInit(nn.Module, InitPolicy, InitOptions?, Action?)"/>: the same plan and checks — fans, scheme,
    /// gain, target std, activation and reason — without drawing a number or touching a weight; rows that would be written have
    /// action <see cref="InitAction.Planned"/> and no realized statistics. Works on meta-device models too.
    /// </summary>
    /// <exception cref="ArgumentException">A parameter the scheme cannot fill (as <c>ApplyInit</c> would throw).</exception>
    public static InitReport PlanInit(this nn.Module module, InitPolicy policy, InitOptions? options = null, Action? traceForward = null) =>
        Run(module, policy, options, traceForward, dryRun: true);

    /// <summary>Dry run of the sample-input <c>ApplyInit</c>: the forward pass runs (in eval mode, weights unchanged), nothing is written.</summary>
    public static InitReport PlanInit(this nn.Module<Tensor, Tensor> module, InitPolicy policy, InitOptions? options, Tensor sampleInput) =>
        Run(module, policy, options, Forward(module, sampleInput), dryRun: true);

    /// <summary>
    /// Initializes one tensor in place by <paramref name="scheme"/> with explicit <paramref name="fans"/>
    /// (for weights whose fans PyTorch's shape rule gets wrong, or for tensors that are not 2-D).
    /// </summary>
    /// <param name="tensor">The tensor to fill (a parameter or any tensor).</param>
    /// <param name="scheme">The scheme.</param>
    /// <param name="fans">The fans the variance-scaling formula divides by.</param>
    /// <param name="options">Seed or generator and gain override; the layer options do not apply.</param>
    /// <exception cref="ArgumentException">Negative fans, a fan of 0 for a non-empty tensor, invalid options, or a dtype the scheme cannot fill.</exception>
    public static InitReport ApplyInit(this Tensor tensor, InitScheme scheme, Fans fans, InitOptions? options = null)
    {
        TensorCheck.EnsureAlive(tensor, generator: null);
        ArgumentNullException.ThrowIfNull(scheme);
        if (fans.FanIn < 0 || fans.FanOut < 0)
            throw new ArgumentException($"Fans must be non-negative, got {fans}.", nameof(fans));
        return RunTensor(tensor, scheme, () => fans, options);
    }

    /// <summary>
    /// Initializes one tensor in place by <paramref name="scheme"/>, with fans computed from its shape by
    /// PyTorch's rule (fan_in = size(1) × receptive field, fan_out = size(0) × receptive field).
    /// </summary>
    /// <exception cref="ArgumentException">A fan-based scheme on a tensor with fewer than 2 dimensions (the message names the shape), or a dtype the scheme cannot fill.</exception>
    public static InitReport ApplyInit(this Tensor tensor, InitScheme scheme, InitOptions? options = null)
    {
        TensorCheck.EnsureAlive(tensor, generator: null);
        ArgumentNullException.ThrowIfNull(scheme);
        return RunTensor(tensor, scheme, () => Fans.FromShape(tensor.shape), options);
    }

    /// <summary>The one path of every overload: plan, then check and write (or only check, in a dry run).</summary>
    internal static InitReport Run(nn.Module module, InitPolicy policy, InitOptions? options, Action? traceForward, bool dryRun)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(policy);
        options ??= new InitOptions();
        Validate(policy, options);
        var plan = InitPlanner.Plan(module, policy, options, traceForward);
        return dryRun ? PlanWriter.DryRun(plan, options) : PlanWriter.Write(plan, options);
    }

    /// <summary>
    /// The checks of a call's options and policy before anything is planned: the options' (<see cref="InitOptions.Validate"/>), and the
    /// policy's enum values, which a cast integer could otherwise make act as a defined one.
    /// </summary>
    internal static void Validate(InitPolicy policy, InitOptions options)
    {
        options.Validate();
        Check.Defined(policy.Embeddings, nameof(InitPolicy.Embeddings), "InitPolicy.Embeddings");
        foreach (var kind in policy.Mapping.Keys) Check.Defined(kind, "kind", "InitPolicy.Map's kind");
    }

    private static InitReport RunTensor(Tensor tensor, InitScheme scheme, Func<Fans> fans, InitOptions? options)
    {
        options ??= new InitOptions();
        options.Validate();
        return PlanWriter.Write(InitPlanner.PlanTensor(tensor, scheme, fans, options), options, ofModule: false);
    }

    private static Action Forward(nn.Module<Tensor, Tensor> module, Tensor sampleInput)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(sampleInput);
        return () => module.call(sampleInput);
    }
}
