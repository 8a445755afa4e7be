using System.Globalization;
using System.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit;

/// <summary>How <see cref="Lsuv.ApplyLsuv"/> runs (Mishkin &amp; Matas 2016, "All you need is a good init").</summary>
public sealed record LsuvOptions
{
    /// <summary>The initialization before rescaling: the paper's orthonormal matrices (<see cref="InitScheme.Orthogonal"/>, biases 0) by default, or any policy.</summary>
    public InitPolicy Start { get; init; } = InitScheme.Orthogonal;

    /// <summary>The options of the start's <c>ApplyInit</c> (its <see cref="InitOptions.Seed"/> makes the whole run reproducible).</summary>
    public InitOptions Init { get; init; } = new();

    /// <summary>The variance each layer's output is brought to; 1 in the paper.</summary>
    public double TargetVariance { get; init; } = 1.0;

    /// <summary>A layer is done when |Var(output) − <see cref="TargetVariance"/>| &lt; this; 0.1 in the paper.</summary>
    public double Tolerance { get; init; } = 0.1;

    /// <summary>At most this many rescalings per layer; 10 in the paper.</summary>
    public int MaxIterations { get; init; } = 10;

    /// <summary>Which layers are rescaled (path, module); null: every Linear, Conv* and ConvTranspose* that runs in the forward pass.</summary>
    public Func<string, nn.Module, bool>? Include { get; init; }
}

/// <summary>One layer of an LSUV run: how many rescalings it took, its output variance before and after, and the factor its weight was multiplied by.</summary>
/// <param name="Path">The layer's dotted path.</param>
/// <param name="LayerType">Its type ("Linear", "Conv2d").</param>
/// <param name="Iterations">Rescalings applied (0: it was within tolerance after the start).</param>
/// <param name="VarianceBefore">Var(output) on the batch before this layer was rescaled (after the layers before it were).</param>
/// <param name="VarianceAfter">Var(output) after the last rescaling.</param>
/// <param name="Scale">The product of the factors 1/√Var applied to the weight.</param>
/// <param name="Converged">Whether |VarianceAfter − target| &lt; tolerance.</param>
public sealed record LsuvLayer(string Path, string LayerType, int Iterations, double VarianceBefore, double VarianceAfter, double Scale, bool Converged);

/// <summary>The result of <see cref="Lsuv.ApplyLsuv"/>: the start's report and one row per rescaled layer, in forward order.</summary>
public sealed class LsuvReport
{
    internal LsuvReport(InitReport start, IReadOnlyList<LsuvLayer> layers, LsuvOptions options)
    {
        Start = start;
        Layers = layers;
        Options = options;
    }

    /// <summary>The report of the initialization LSUV started from (<see cref="LsuvOptions.Start"/>).</summary>
    public InitReport Start { get; }

    /// <summary>One row per layer, in forward order.</summary>
    public IReadOnlyList<LsuvLayer> Layers { get; }

    /// <summary>The options of the run.</summary>
    public LsuvOptions Options { get; }

    /// <summary>The layer at <paramref name="path"/>.</summary>
    /// <exception cref="KeyNotFoundException">No layer was rescaled at that path.</exception>
    public LsuvLayer this[string path] => Layers.FirstOrDefault(l => l.Path == path) ?? throw new KeyNotFoundException($"LSUV rescaled no layer '{path}'.");

    /// <summary>The per-layer table: layer, type, iterations, Var before, Var after, scale, converged.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture, $"LSUV (Mishkin & Matas 2016): target Var = {Options.TargetVariance}, tolerance {Options.Tolerance}, at most {Options.MaxIterations} iterations per layer");
        var rows = Layers.Select(l => new[]
        {
            l.Path, l.LayerType, l.Iterations.ToString(CultureInfo.InvariantCulture), F(l.VarianceBefore), F(l.VarianceAfter), F(l.Scale), l.Converged ? "yes" : "NO",
        }).ToList();
        TextTable.AppendText(sb, ["layer", "type", "iterations", "Var before", "Var after", "scale", "converged"], [false, false, true, true, true, true, false], rows);
        return sb.ToString();

        static string F(double v) => v.ToString("0.0000", CultureInfo.InvariantCulture);
    }
}

/// <summary>
/// Layer-sequential unit-variance initialization (Mishkin &amp; Matas 2016): start from an initialization (orthonormal), then, layer by layer
/// in forward order, divide the weight by √Var(output) on a batch until |Var − 1| &lt; tolerance or the iterations run out.
/// </summary>
public static class Lsuv
{
    /// <summary>
    /// Runs LSUV on <paramref name="model"/> with <paramref name="batch"/>: applies <see cref="LsuvOptions.Start"/>, then for each layer in the
    /// order of a forward pass: v = Var(layer output) (float64, unbiased, over all elements); while |v − target| ≥ tolerance and fewer than
    /// MaxIterations rescalings: W ← W · √(target / v), forward again. Forward hooks on the real model measure each output; they are
    /// removed, the forward passes run under no_grad in eval mode, the training flags and buffers are restored, and no tensor is kept.
    /// The batch runs through the model once before anything is written, so a batch the model cannot take throws with the weights unchanged.
    /// </summary>
    /// <param name="model">The model; its weights are changed in place.</param>
    /// <param name="batch">A batch the model accepts (the paper uses one mini-batch of training data).</param>
    /// <param name="options">The options (null: the paper's).</param>
    /// <returns>The start's report and one row per layer.</returns>
    /// <exception cref="ArgumentException">The options are out of range, the start is a μP policy (LSUV's unit variances would undo
    /// μP's width scaling), or no layer runs in the forward pass.</exception>
    public static LsuvReport ApplyLsuv(this nn.Module<Tensor, Tensor> model, Tensor batch, LsuvOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(batch);
        options ??= new LsuvOptions();
        Validate(options);

        var include = options.Include ?? ((_, m) => LayerTaxonomy.IsWeightLayer(LayerTaxonomy.Classify(m)) && LayerTaxonomy.Classify(m) != LayerKind.Bilinear);
        var candidates = ModuleTree.PreOrder(model)
            .Where(e => e.Module is nn.Module<Tensor, Tensor> && include(e.Path, e.Module)
                        && e.Module.named_parameters(recurse: false).Any(p => p.name == "weight"))
            .ToList();

        var layers = new List<LsuvLayer>();
        using var run = ModelRunScope.Eval(model, ModuleTree.PreOrder(model).Select(e => e.Module).ToList(), restoreBuffers: true);
        // The forward order: the first call of each candidate.
        var order = new List<int>();
        double[] variance = new double[candidates.Count];
        for (int i = 0; i < candidates.Count; i++)
        {
            int index = i;
            run.AddPostHook(candidates[i].Module, output =>
            {
                if (!order.Contains(index)) order.Add(index);
                using var inner = NewDisposeScope();
                variance[index] = output.detach().to_type(ScalarType.Float64).var().item<double>();
            });
        }
        void Forward() => run.Forward(() => model.call(batch));
        // A first pass before anything is written: a batch the model cannot take throws here, leaving the weights as they were.
        Forward();
        if (order.Count == 0)
            throw new ArgumentException("No Linear or Conv layer ran in the forward pass: nothing to rescale.", nameof(model));
        var start = model.ApplyInit(options.Start, options.Init);
        Forward();
        foreach (int i in order)
            layers.Add(Rescale(candidates[i].Path, candidates[i].Module, variance[i], () => { Forward(); return variance[i]; }, options));
        return new LsuvReport(start, layers, options);
    }

    private static void Validate(LsuvOptions options)
    {
        if (!(options.Tolerance > 0) || !double.IsFinite(options.Tolerance)) throw new ArgumentException($"Tolerance must be positive, got {options.Tolerance}.", nameof(options));
        if (!(options.TargetVariance > 0) || !double.IsFinite(options.TargetVariance)) throw new ArgumentException($"TargetVariance must be positive, got {options.TargetVariance}.", nameof(options));
        if (options.MaxIterations < 0) throw new ArgumentException($"MaxIterations must be at least 0, got {options.MaxIterations}.", nameof(options));
        if (options.Start is null) throw new ArgumentException("Start must be a policy or scheme.", nameof(options));
        if (options.Start.Mu is not null) throw new ArgumentException(MuText.LsuvStart, nameof(options));
    }

    /// <summary>Rescales one layer's weight until |Var(output) − target| &lt; tolerance or the iterations run out; <paramref name="forward"/> runs the batch again and returns the layer's new variance.</summary>
    private static LsuvLayer Rescale(string path, nn.Module module, double before, Func<double> forward, LsuvOptions options)
    {
        var weight = module.named_parameters(recurse: false).First(p => p.name == "weight").parameter;
        double v = before, scale = 1;
        int iterations = 0;
        while (Math.Abs(v - options.TargetVariance) >= options.Tolerance && iterations < options.MaxIterations)
        {
            if (!(v > 0) || !double.IsFinite(v)) break; // a dead or exploded output cannot be rescaled
            double s = Math.Sqrt(options.TargetVariance / v);
            using (no_grad()) weight.mul_(s);
            scale *= s;
            iterations++;
            v = forward();
        }
        return new LsuvLayer(path, ModuleTree.TypeName(module), iterations, before, v, scale, Math.Abs(v - options.TargetVariance) < options.Tolerance);
    }
}
