using static TorchSharp.torch;

namespace TorchInit;

/// <summary>
/// <c>ApplyInit</c>: initializes the weights of a whole model, a single layer or a single tensor with an
/// <see cref="InitScheme"/> and returns an <see cref="InitReport"/>.
/// </summary>
public static class InitExtensions
{
    /// <summary>
    /// Initializes every layer of <paramref name="module"/> (itself included) whose type is in
    /// <see cref="InitOptions.LayerTypes"/> (default Linear, Conv1d/2d/3d, ConvTranspose1d/2d/3d):
    /// the weight by <paramref name="scheme"/>, the bias by <see cref="InitOptions.Bias"/>.
    /// Modules are visited in pre-order (PyTorch's <c>named_modules()</c> order), each module and each tied
    /// parameter once, weight before bias, so a seeded call equals PyTorch's <c>torch.manual_seed(seed)</c>
    /// followed by the same <c>torch.nn.init</c> calls in that order. Other modules that own parameters are
    /// left unchanged and listed in <see cref="InitReport.Unhandled"/>; a shared module's later occurrences
    /// get Skipped rows.
    /// With <see cref="InitScheme.Auto"/> each layer's scheme is chosen from the activation that follows it
    /// (<see cref="InitPolicy.Auto"/>), and Embedding, RNN/LSTM/GRU and normalization layers are handled too.
    /// </summary>
    /// <param name="module">A model or a single layer.</param>
    /// <param name="scheme">The weight scheme, e.g. <see cref="InitScheme.HeNormal"/>, or <see cref="InitScheme.Auto"/>.</param>
    /// <param name="options">Bias policy, seed or generator, fan convention, layer types, frozen parameters; null for defaults.</param>
    /// <returns>One row per parameter.</returns>
    /// <exception cref="ArgumentException">Invalid options (NaN gain, both seed and generator...).</exception>
    /// <exception cref="InvalidOperationException">A parameter to initialize is on the meta device.</exception>
    public static InitReport ApplyInit(this nn.Module module, InitScheme scheme, InitOptions? options = null) =>
        Initializer.Run(module, InitPolicy.Of(scheme), options, null, plan: false);

    /// <summary>
    /// As <see cref="ApplyInit(nn.Module, InitScheme, InitOptions?)"/>, after one forward pass on
    /// <paramref name="sampleInput"/> (eval mode, <c>no_grad</c>) that records the order in which the leaf modules
    /// run, so <see cref="InitScheme.Auto"/> finds the activation after each layer of custom modules too. The hooks
    /// are removed and the training flags restored afterwards, even when the pass throws.
    /// </summary>
    /// <param name="module">The model; its <c>call(sampleInput)</c> is run once.</param>
    /// <param name="scheme">Usually <see cref="InitScheme.Auto"/>.</param>
    /// <param name="options">Options; null for defaults.</param>
    /// <param name="sampleInput">An input of the right shape (a batch of 1 is enough); it is not modified.</param>
    /// <exception cref="InvalidOperationException">The forward pass failed (the inner exception says why).</exception>
    public static InitReport ApplyInit(this nn.Module<Tensor, Tensor> module, InitScheme scheme, InitOptions? options, Tensor sampleInput) =>
        Initializer.Run(module, InitPolicy.Of(scheme), options, Forward(module, sampleInput), plan: false);

    /// <summary>
    /// Initializes <paramref name="module"/> by <paramref name="policy"/>: per-layer overrides, hints, the
    /// activation-to-scheme mapping and the options for Embedding, recurrent and normalization layers
    /// (<see cref="InitPolicy"/>). With <paramref name="traceForward"/> (an action that runs the model once, e.g.
    /// <c>() => model.call(x, y)</c>), the traced module order is used as in the sample-input overload.
    /// </summary>
    /// <param name="module">A model or a single layer.</param>
    /// <param name="policy">The policy, e.g. <c>InitPolicy.Auto.For&lt;Conv2d&gt;(InitScheme.HeNormal)</c>.</param>
    /// <param name="options">Options; null for defaults.</param>
    /// <param name="traceForward">Runs one forward pass for tracing; null: container order only.</param>
    public static InitReport ApplyInit(this nn.Module module, InitPolicy policy, InitOptions? options = null, Action? traceForward = null) =>
        Initializer.Run(module, policy, options, traceForward, plan: false);

    /// <summary>As <see cref="ApplyInit(nn.Module, InitPolicy, InitOptions?, Action?)"/>, tracing one forward pass on <paramref name="sampleInput"/>.</summary>
    public static InitReport ApplyInit(this nn.Module<Tensor, Tensor> module, InitPolicy policy, InitOptions? options, Tensor sampleInput) =>
        Initializer.Run(module, policy, options, Forward(module, sampleInput), plan: false);

    /// <summary>
    /// Dry run of <see cref="ApplyInit(nn.Module, InitScheme, InitOptions?)"/>: the same report (fans, scheme, gain,
    /// target std, activation and reason) without drawing a number or touching a weight; rows that would be written
    /// have action <see cref="InitAction.Planned"/> and no realized statistics. Works on meta-device models too.
    /// </summary>
    public static InitReport PlanInit(this nn.Module module, InitScheme scheme, InitOptions? options = null) =>
        Initializer.Run(module, InitPolicy.Of(scheme), options, null, plan: true);

    /// <summary>Dry run of the sample-input <c>ApplyInit</c>: the forward pass runs (in eval mode, weights unchanged), nothing is written.</summary>
    public static InitReport PlanInit(this nn.Module<Tensor, Tensor> module, InitScheme scheme, InitOptions? options, Tensor sampleInput) =>
        Initializer.Run(module, InitPolicy.Of(scheme), options, Forward(module, sampleInput), plan: true);

    /// <summary>Dry run of <see cref="ApplyInit(nn.Module, InitPolicy, InitOptions?, Action?)"/>.</summary>
    public static InitReport PlanInit(this nn.Module module, InitPolicy policy, InitOptions? options = null, Action? traceForward = null) =>
        Initializer.Run(module, policy, options, traceForward, plan: true);

    /// <summary>Dry run of <see cref="ApplyInit(nn.Module{Tensor, Tensor}, InitPolicy, InitOptions?, Tensor)"/>.</summary>
    public static InitReport PlanInit(this nn.Module<Tensor, Tensor> module, InitPolicy policy, InitOptions? options, Tensor sampleInput) =>
        Initializer.Run(module, policy, options, Forward(module, sampleInput), plan: true);

    private static Action Forward(nn.Module<Tensor, Tensor> module, Tensor sampleInput)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(sampleInput);
        return () => module.call(sampleInput);
    }

    /// <summary>
    /// Initializes one tensor in place by <paramref name="scheme"/> with explicit <paramref name="fans"/>
    /// (use this for weights whose fans PyTorch's shape rule gets wrong, or for tensors that are not 2-D).
    /// </summary>
    /// <param name="tensor">The tensor to fill (a parameter or any tensor).</param>
    /// <param name="scheme">The scheme.</param>
    /// <param name="fans">The fans the variance-scaling formula divides by.</param>
    /// <param name="options">Seed or generator and gain override; the layer options do not apply.</param>
    /// <exception cref="ArgumentException">Negative fans or invalid options.</exception>
    public static InitReport ApplyInit(this Tensor tensor, InitScheme scheme, Fans fans, InitOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ArgumentNullException.ThrowIfNull(scheme);
        if (fans.FanIn < 0 || fans.FanOut < 0)
            throw new ArgumentException($"Fans must be non-negative, got {fans}.", nameof(fans));
        return ApplyToTensor(tensor, scheme, () => fans, options);
    }

    /// <summary>
    /// Initializes one tensor in place by <paramref name="scheme"/>, with fans computed from its shape by
    /// PyTorch's rule (fan_in = size(1) × receptive field, fan_out = size(0) × receptive field).
    /// </summary>
    /// <exception cref="ArgumentException">A fan-based scheme on a tensor with fewer than 2 dimensions (the message names the shape).</exception>
    public static InitReport ApplyInit(this Tensor tensor, InitScheme scheme, InitOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        ArgumentNullException.ThrowIfNull(scheme);
        return ApplyToTensor(tensor, scheme, () => Fans.FromShape(tensor.shape), options);
    }

    private static InitReport ApplyToTensor(Tensor tensor, InitScheme scheme, Func<Fans> fans, InitOptions? options)
    {
        if (scheme.Kind == InitKind.Auto)
            throw new ArgumentException("InitScheme.Auto chooses a scheme per layer from the activation that follows it; " +
                "apply it to a module (model.ApplyInit(InitScheme.Auto)), not to a lone tensor.", nameof(scheme));
        using var writer = new ParameterWriter((options ?? new InitOptions()) with { IncludeFrozen = true });
        var row = writer.Weight("", "Tensor", "tensor", tensor, scheme, fans);
        return new InitReport([row], []);
    }
}
