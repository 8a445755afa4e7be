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
        foreach (var e in plan.Replay.Concat(plan.Parameters))
        {
            if ((e.Writes ? e.Fill : e.DiscardedDraws) is not { } fill) continue;
            if (dryRun) TensorCheck.EnsureFits(e.Tensor, fill, e.QualifiedName);
            else TensorCheck.EnsureWritable(e.Tensor, fill, e.QualifiedName);
        }
    }

    /// <summary>The report of a dry run: the plan's rows, entries to be written marked <see cref="InitAction.Planned"/>.</summary>
    public static InitReport DryRun(InitPlan plan, InitOptions options)
    {
        Validate(plan, dryRun: true);
        var rows = Final(plan).Select(e => e.Writes
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
        foreach (var e in plan.Replay)   // the constructors' draws first
        {
            if (e.Writes) e.Fill!.Write(e.Tensor, sampler);
            else if (e.DiscardedDraws is { } discarded) Discard(e.Tensor, discarded, sampler);
        }
        var measured = new Dictionary<PlannedParameter, (double Mean, double Std)>(ReferenceEqualityComparer.Instance);
        foreach (var e in plan.Parameters.Where(e => e.Writes))
            measured[e] = Measure(e.Tensor, e.Fill!.Write(e.Tensor, sampler), options);
        foreach (var (readout, m) in plan.Readouts) readout.WidthMultiplier = m;
        var rows = Final(plan).Select(e =>
        {
            if (!e.Writes) return e.ToRow();
            var (mean, std) = measured.TryGetValue(e, out var m) ? m : Measure(e.Tensor, null, options);   // a replayed entry: measured as it ends
            return e.ToRow() with { RealizedMean = mean, RealizedStd = std };
        }).ToList();
        return new InitReport(rows, plan.Unhandled, plan.Decisions, Warnings(plan, options, ofModule));
    }

    /// <summary>A tied holder's own constructor draws (<see cref="PlannedParameter.DiscardedDraws"/>): made into a scratch tensor like <paramref name="tied"/>, then dropped.</summary>
    private static void Discard(Tensor tied, Fill draws, Sampler sampler)
    {
        using var _ = no_grad();
        using var scratch = empty_like(tied);
        draws.Write(scratch, sampler);
    }

    /// <summary>
    /// Each parameter's final entry, in the order the report lists them: without a replay, the plan's entries; with one, for each
    /// tensor in construction order its entry in the plan if it has one, else its last replayed draw, then the plan's other entries.
    /// </summary>
    private static IEnumerable<PlannedParameter> Final(InitPlan plan)
    {
        if (plan.Replay.Count == 0) return plan.Parameters;
        var planned = plan.Parameters.GroupBy(e => e.QualifiedName).ToDictionary(g => g.Key, g => g.ToList());
        var lastReplayed = plan.Replay.GroupBy(e => e.QualifiedName).ToDictionary(g => g.Key, g => g.Last());
        var rows = new List<PlannedParameter>();
        var seen = new HashSet<string>();
        foreach (var e in plan.Replay.Where(e => seen.Add(e.QualifiedName)))
            rows.AddRange(planned.TryGetValue(e.QualifiedName, out var own) ? own : [lastReplayed[e.QualifiedName]]);
        rows.AddRange(plan.Parameters.Where(e => !seen.Contains(e.QualifiedName)));
        return rows;
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
