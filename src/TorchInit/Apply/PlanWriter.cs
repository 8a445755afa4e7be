using TorchInit.Fast;
using static TorchSharp.torch;

namespace TorchInit;

/// <summary>
/// Does, decides nothing: checks a whole <see cref="InitPlan"/> — every tensor to write alive, with storage, of a dtype and
/// shape its fill can hold — and only then writes it, entry by entry in the plan's (pre-)order, measuring each tensor when
/// asked. A bad entry anywhere therefore throws before any tensor is touched.
/// </summary>
internal static class PlanWriter
{
    /// <summary>Throws what writing <paramref name="plan"/> would end in; a dry run skips the device check (a meta-device model can be planned).</summary>
    public static void Validate(InitPlan plan, bool dryRun)
    {
        foreach (var e in plan.Parameters.Where(e => e.Writes))
        {
            if (dryRun) TensorCheck.EnsureFits(e.Tensor, e.Fill!, e.QualifiedName);
            else TensorCheck.EnsureWritable(e.Tensor, e.Fill!, e.QualifiedName);
        }
    }

    /// <summary>The report of a dry run: the plan's rows, entries to be written marked <see cref="InitAction.Planned"/>.</summary>
    public static InitReport DryRun(InitPlan plan, InitOptions options)
    {
        Validate(plan, dryRun: true);
        var rows = plan.Parameters.Select(e => e.Writes
            ? e.ToRow() with { Action = InitAction.Planned, Note = e.Note.Length == 0 ? "dry run" : $"dry run; {e.Note}" }
            : e.ToRow()).ToList();
        return new InitReport(rows, plan.Unhandled, plan.Decisions, Warnings(plan, options, ofModule: true));
    }

    /// <summary>
    /// The plan's policy warnings, and those of options that are probably a mistake: a gain of 0 (every weight a gain scheme
    /// writes is then 0), and an empty <see cref="InitOptions.LayerTypes"/> (no layer type is initialized; only for a module's plan).
    /// </summary>
    private static List<string> Warnings(InitPlan plan, InitOptions options, bool ofModule)
    {
        var warnings = new List<string>(plan.PolicyWarnings);
        if (options.Gain == 0)
        {
            var zeroed = plan.Parameters.Where(e => e.Writes && e.Gain == 0).Select(e => e.QualifiedName).ToList();
            if (zeroed.Count > 0)
                warnings.Add($"InitOptions.Gain = 0 makes every weight its schemes write 0 ({string.Join(", ", zeroed.Take(8))}{(zeroed.Count > 8 ? ", …" : "")}): " +
                             "a constant, whose units all compute the same thing. If zeros are meant, InitScheme.Zeros says so; otherwise leave Gain unset or give the gain you mean.");
        }
        if (ofModule && options.LayerTypes is { Count: 0 })
            warnings.Add("InitOptions.LayerTypes is empty, so no layer type is initialized (only layers named by an override and IInitializable modules are): " +
                         "null means the kinds the policy has rules for.");
        return warnings;
    }

    /// <summary>Checks, then writes <paramref name="plan"/>; returns the report with the realized statistics when <see cref="InitOptions.MeasureRealized"/>.</summary>
    /// <param name="plan">The plan.</param>
    /// <param name="options">The call's options (generator, engine, measuring, and the options warned about).</param>
    /// <param name="ofModule">Whether the plan is a module's (false: one tensor's, to which <see cref="InitOptions.LayerTypes"/> does not apply).</param>
    public static InitReport Write(InitPlan plan, InitOptions options, bool ofModule = true)
    {
        Validate(plan, dryRun: false);
        using var sampler = new Sampler(options);
        var rows = new List<InitReportRow>(plan.Parameters.Count);
        foreach (var e in plan.Parameters)
        {
            if (!e.Writes)
            {
                rows.Add(e.ToRow());
                continue;
            }
            var moments = e.Fill!.Write(e.Tensor, sampler);
            var (mean, std) = Measure(e.Tensor, moments, options);
            rows.Add(e.ToRow() with { RealizedMean = mean, RealizedStd = std });
        }
        return new InitReport(rows, plan.Unhandled, plan.Decisions, Warnings(plan, options, ofModule));
    }

    /// <summary>
    /// The realized mean and unbiased std: the moments the fast fill summed, else one parallel SIMD read (contiguous CPU
    /// float32/float64), else libtorch's mean and std of the tensor converted to float64 (so half-precision tensors are not
    /// accumulated in half precision). NaN when not asked for; the std is NaN for a single element.
    /// </summary>
    private static (double Mean, double Std) Measure(Tensor p, Moments? drawn, InitOptions options)
    {
        if (!options.MeasureRealized) return (double.NaN, double.NaN);
        if (drawn is { } m) return (m.Mean, m.Std);
        if (FastFill.Measure(p, options.MaxDegreeOfParallelism ?? Environment.ProcessorCount) is { } read) return (read.Mean, read.Std);
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var x = p.to_type(ScalarType.Float64);
        return (x.mean().item<double>(), p.numel() < 2 ? double.NaN : x.std().item<double>()); // no std of one value (libtorch would warn)
    }
}
