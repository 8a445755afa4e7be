using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit;

/// <summary>Options for <see cref="SignalProbe.Run"/>; <c>new SignalProbeOptions()</c> probes every leaf module and leaves no gradients behind.</summary>
public sealed record SignalProbeOptions
{
    /// <summary>
    /// Which modules get rows, by dotted path and module; null means every leaf module (one without children), the root
    /// included when it is a leaf, and every attention layer (whose <c>out_proj</c> child TorchSharp computes without calling it).
    /// Modules of any <c>call</c> signature are probed: a row describes the first tensor of the module's output (an LSTM's or GRU's
    /// output sequence, an attention layer's attended values), and its weight gradient the module's <c>weight</c> (else its first
    /// parameter named <c>weight…</c> or <c>…weight</c>: <c>weight_ih_l0</c>, <c>in_proj_weight</c>).
    /// </summary>
    public Func<string, nn.Module, bool>? Include { get; init; }

    /// <summary>
    /// Whether the parameters' <c>.grad</c> afterwards holds the probe's gradients (what <c>zero_grad()</c> then
    /// <c>loss.backward()</c> would leave). Default false: every <c>.grad</c> is restored to what it was before (null or the same tensor).
    /// </summary>
    public bool KeepGradients { get; init; }
}

/// <summary>
/// Measures how signals propagate through a model at its current weights: one forward and one backward pass on a
/// batch, with per-module activation statistics (mean, std, saturated and dead fractions) and gradient statistics
/// (std of ∂loss/∂output and ∂loss/∂weight), in execution order. This is the measurement behind Glorot and Bengio (2010)
/// and He et al. (2015): with N(0, 0.01²) weights the std shrinks layer by layer, with N(0, 1) tanh units saturate, and
/// with a scheme matched to the nonlinearity both stay roughly constant through depth.
/// </summary>
/// <remarks>
/// It uses forward hooks (which fire only through <c>call()</c>) and <c>retain_grad()</c> on the module outputs, since
/// TorchSharp has no backward hooks. The model is left as it was: hooks are removed, every parameter's <c>.grad</c> is
/// restored (unless <see cref="SignalProbeOptions.KeepGradients"/>), buffers such as BatchNorm running statistics are
/// restored, no tensor created by the probe survives it, and the training/eval mode is not changed. The pass runs in
/// the model's current mode; a model that draws random numbers (dropout in training mode) advances the global generator.
/// The input is detached and, when floating-point, made to require grad, so gradients reach every output even when early
/// layers are frozen; the caller's input tensor is not modified. All arithmetic runs on the tensors' device.
/// </remarks>
public static class SignalProbe
{
    /// <summary>The saturation threshold: a Tanh output is saturated when |y| &gt; 0.99, a Sigmoid output when y &lt; 0.01 or y &gt; 0.99.</summary>
    public const double SaturationThreshold = 0.99;

    /// <summary>
    /// Runs <paramref name="model"/> on <paramref name="input"/>, computes <paramref name="loss"/> from its output,
    /// back-propagates, and reports each probed module call: mean ȳ = Σy/n, std √(Σ(y − ȳ)²/(n − 1)), saturated
    /// fraction (Tanh: |y| &gt; 0.99; Sigmoid: y &lt; 0.01 or y &gt; 0.99), dead fraction (ReLU: y = 0),
    /// std(∂loss/∂y) and std(∂loss/∂W) of the module's own weight. Statistics are computed in float64.
    /// </summary>
    /// <param name="model">The model; called once through <c>call()</c>.</param>
    /// <param name="input">A batch; not modified.</param>
    /// <param name="loss">Maps the model's output to a scalar loss, e.g. <c>y =&gt; nn.functional.cross_entropy(y, target)</c>.</param>
    /// <param name="options">Which modules to probe and whether to keep the gradients; null for defaults.</param>
    /// <returns>One row per probed module call, in execution order, and the loss.</returns>
    /// <exception cref="ArgumentException">The loss is not a single element.</exception>
    /// <exception cref="InvalidOperationException">The input or a parameter is on the meta device (it holds no values), or the loss does not require grad.</exception>
    public static SignalReport Run(nn.Module<Tensor, Tensor> model, Tensor input, Func<Tensor, Tensor> loss, SignalProbeOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(loss);
        options ??= new SignalProbeOptions();
        var include = options.Include ?? ((_, m) => !m.children().Any() || LayerTaxonomy.Classify(m) == LayerKind.Attention);

        var parameters = Distinct(model.parameters());
        if (input.device_type == DeviceType.META || parameters.Any(p => p.device_type == DeviceType.META))
            throw new InvalidOperationException("The signal probe needs values, but the input or a parameter is on the meta device. Move the model and input to cpu or cuda and initialize them first.");

        var probed = ModuleTree.PreOrder(model)
            .Where(e => include(e.Path, e.Module))
            .ToList();

        var calls = new List<Call>();
        using var run = ModelRunScope.CurrentMode(model, restoreBuffers: true);
        run.ClearGradients(parameters);
        foreach (var (path, module) in probed)
        {
            var (type, rule, weight) = (ModuleTree.TypeName(module), ActivationTable.ProbeRuleOf(module), OwnWeight(module));
            run.AddPostHook(module, output => calls.Add(Observe(calls.Count, path, type, rule, output, weight, run)));
        }

        var x = input.detach();
        if (x.is_floating_point()) x.requires_grad_(true);
        var y = model.call(x);
        var l = loss(y);
        if (l.numel() != 1)
            throw new ArgumentException($"The loss must be a single element, got shape [{string.Join(", ", l.shape)}].", nameof(loss));
        if (!l.requires_grad)
            throw new InvalidOperationException("The loss does not require grad, so nothing can be back-propagated: does it depend on the model's output?");
        double lossValue = l.detach().to_type(ScalarType.Float64).item<double>();
        l.backward();

        var rows = calls.Select(c => c.ToRow()).ToList();
        if (options.KeepGradients) run.KeepGradients();
        return new SignalReport(rows, lossValue);
    }

    /// <summary>The module's <c>weight</c>, else its first parameter named <c>weight…</c> or <c>…weight</c> (<c>weight_ih_l0</c>, <c>in_proj_weight</c>).</summary>
    private static Tensor? OwnWeight(nn.Module module)
    {
        var own = module.named_parameters(recurse: false).ToList();
        return own.FirstOrDefault(p => p.name == "weight").parameter
            ?? own.FirstOrDefault(p => p.name.StartsWith("weight", StringComparison.Ordinal) || p.name.EndsWith("weight", StringComparison.Ordinal)).parameter;
    }

    private static List<T> Distinct<T>(IEnumerable<T> tensors) where T : Tensor
    {
        var seen = new HashSet<IntPtr>();
        return tensors.Where(t => seen.Add(t.Handle)).ToList();
    }

    private static Call Observe(int index, string path, string type, ProbeRule rule, Tensor output, Tensor? weight, ModelRunScope run)
    {
        double mean, std, saturated = double.NaN, dead = double.NaN;
        using (no_grad())
        using (NewDisposeScope())
        {
            var y = output.detach().to_type(ScalarType.Float64);
            (mean, std) = Moments(y);
            switch (rule)
            {
                case ProbeRule.SaturatedSymmetric:
                    saturated = Fraction(y.abs() > SaturationThreshold, y);
                    break;
                case ProbeRule.SaturatedUnit:
                    saturated = Fraction((y < 1 - SaturationThreshold).logical_or(y > SaturationThreshold), y);
                    break;
                case ProbeRule.Dead:
                    dead = Fraction(y == 0, y);
                    break;
            }
        }
        Tensor? own = null;
        if (output.requires_grad)
        {
            // Containers dispose intermediate outputs (Sequential does), and a model's forward may run in its own
            // dispose scope: keep a private handle to the same tensor, owned by the probe, to read its .grad later.
            own = output.alias().DetachFromDisposeScope();
            run.Track(own);
            own.retain_grad();
        }
        return new Call(index, path, type, output.shape, mean, std, saturated, dead, own, weight);
    }

    private static (double Mean, double Std) Moments(Tensor y64)
    {
        long n = y64.numel();
        if (n == 0) return (double.NaN, double.NaN);
        double mean = y64.mean().item<double>();
        double std = n > 1 ? y64.std().item<double>() : double.NaN;
        return (mean, std);
    }

    private static double Fraction(Tensor mask, Tensor y) =>
        y.numel() == 0 ? double.NaN : mask.to_type(ScalarType.Float64).mean().item<double>();

    private static double GradStd(Tensor? t)
    {
        if (t is null) return double.NaN;
        using var g = t.grad;
        if (g is null) return double.NaN;
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        return Moments(g.detach().to_type(ScalarType.Float64)).Std;
    }

    private sealed record Call(int Index, string Path, string Type, long[] Shape, double Mean, double Std,
        double Saturated, double Dead, Tensor? Output, Tensor? Weight)
    {
        public SignalRow ToRow() => new(Index, Path, Type, Shape, Mean, Std, Saturated, Dead, GradStd(Output), GradStd(Weight));
    }
}
