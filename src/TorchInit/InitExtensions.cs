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
    /// left unchanged and listed in <see cref="InitReport.Unhandled"/>.
    /// </summary>
    /// <param name="module">A model or a single layer.</param>
    /// <param name="scheme">The weight scheme, e.g. <see cref="InitScheme.HeNormal"/>.</param>
    /// <param name="options">Bias policy, seed or generator, fan convention, layer types, frozen parameters; null for defaults.</param>
    /// <returns>One row per parameter.</returns>
    /// <exception cref="ArgumentException">Invalid options (NaN gain, both seed and generator...).</exception>
    /// <exception cref="InvalidOperationException">A parameter to initialize is on the meta device.</exception>
    public static InitReport ApplyInit(this nn.Module module, InitScheme scheme, InitOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(scheme);
        using var writer = new ParameterWriter(options);
        var layerTypes = writer.Options.LayerTypes ?? InitOptions.DefaultLayerTypes;
        var rows = new List<InitReportRow>();
        var unhandled = new List<UnhandledModule>();
        foreach (var (path, m) in ModuleTree.PreOrder(module))
        {
            var own = m.named_parameters(recurse: false).ToList();
            if (own.Count == 0) continue;
            var type = ModuleTree.TypeName(m);
            if (!layerTypes.Any(t => t.IsInstanceOfType(m)))
            {
                unhandled.Add(new UnhandledModule(path, type, own.Select(p => p.name).ToList()));
                continue;
            }
            var weight = own.FirstOrDefault(p => p.name == "weight").parameter;
            Fans? fans = null;
            Func<Fans>? weightFans = weight is null ? null : () => fans ??= Fans.ForLayer(m, weight.shape, writer.Options.FanConvention, Qualified(path, "weight"));
            if (weight is not null)
                rows.Add(writer.Weight(path, type, "weight", weight, scheme, weightFans!));
            foreach (var (name, p) in own)
            {
                if (name == "weight") continue;
                rows.Add(name == "bias"
                    ? writer.Bias(path, type, name, p, writer.Options.Bias ?? scheme.DefaultBias, weightFans)
                    : ParameterWriter.Row(path, type, name, p, scheme.Name, InitAction.Skipped, "not a weight or bias of a handled layer"));
            }
        }
        return new InitReport(rows, unhandled);
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
        using var writer = new ParameterWriter((options ?? new InitOptions()) with { IncludeFrozen = true });
        var row = writer.Weight("", "Tensor", "tensor", tensor, scheme, fans);
        return new InitReport([row], []);
    }

    private static string Qualified(string path, string name) => path.Length == 0 ? name : $"{path}.{name}";
}
