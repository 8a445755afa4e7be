using TorchInit.Fast;
using TorchInit.Modules;

namespace TorchInit;

/// <summary>
/// The μP pass over a typed plan (<see cref="InitPolicy.MuP"/>): every entry that writes a parameter gets its class's std, by
/// scaling the fill its rule resolved (s = σ₀ × factor / σ, with σ₀/σ from <see cref="PlannedParameter.MuBaseRatio"/>), or a
/// zero under <see cref="MuOptions.ZeroReadout"/> / <see cref="MuOptions.ZeroQueries"/>; every row gets its class and width
/// multiplier; the readouts' m_in is recorded for the writer. Decides, writes nothing.
/// </summary>
internal static class MuPlanning
{
    public static void Apply(InitPlan plan, MuModel model, MuSettings mu, IReadOnlyList<(MuReadoutModule Readout, double WidthMultiplier)> readouts)
    {
        Revise(plan.Replay, model, mu);
        Revise(plan.Parameters, model, mu);
        plan.PolicyWarnings.AddRange(model.Warnings);
        plan.Readouts.AddRange(readouts);
    }

    /// <summary>Each μP readout of the model with its m_in = in_features / the base's (throws when one was given another m_in).</summary>
    public static List<(MuReadoutModule Readout, double WidthMultiplier)> Readouts(ModuleContext root, MuSettings mu)
    {
        var list = new List<(MuReadoutModule, double)>();
        foreach (var c in root.PreOrder().Where(c => !c.IsShared && c.Module is MuReadoutModule))
        {
            var readout = (MuReadoutModule)c.Module;
            var b = mu.Shapes[PlanText.Qualified(c.Path, "weight")];
            double m = b.BaseShape.Count == 2 && b.BaseShape[1] > 0 ? (double)readout.InFeatures / b.BaseShape[1] : 1;
            if (!double.IsNaN(readout.WidthMultiplier) && Math.Abs(readout.WidthMultiplier - m) > 1e-12 * m)
                throw new ArgumentException(MuText.ReadoutMultiplierDiffers(c.Path, readout.WidthMultiplier, m));
            list.Add((readout, m));
        }
        return list;
    }

    /// <summary>
    /// Runs <paramref name="forward"/> (the planner's traced sample forward) with every readout whose m_in is not known yet given it
    /// for the call and unset again after: a plan writes nothing, and a readout refuses to run without its multiplier.
    /// </summary>
    public static void WithReadoutMultipliers(IReadOnlyList<(MuReadoutModule Readout, double WidthMultiplier)> readouts, Action forward)
    {
        var unset = readouts.Where(r => double.IsNaN(r.Readout.WidthMultiplier)).ToList();
        try
        {
            foreach (var (readout, m) in unset) readout.WidthMultiplier = m;
            forward();
        }
        finally
        {
            foreach (var (readout, _) in unset) readout.WidthMultiplier = double.NaN;
        }
    }

    private static void Revise(List<PlannedParameter> entries, MuModel model, MuSettings mu)
    {
        for (int i = 0; i < entries.Count; i++)
            if (model.ByName.TryGetValue(entries[i].QualifiedName, out var info))
                entries[i] = Revise(entries[i], info, model.QueryRows.TryGetValue(entries[i].QualifiedName, out var rows) ? rows : null, mu);
    }

    /// <param name="e">The entry.</param>
    /// <param name="info">Its μP class and multipliers.</param>
    /// <param name="queryRows">Its leading rows that are an attention's query projection, if any.</param>
    /// <param name="mu">The μP settings.</param>
    private static PlannedParameter Revise(PlannedParameter e, MuParameter info, long? queryRows, MuSettings mu)
    {
        if (!mu.Options.ZeroQueries) queryRows = null;
        var decision = new MuDecision(info.Class, info.WidthMultiplier, double.NaN);
        if (!e.Writes) return e with { Mu = decision };
        if (mu.Options.ZeroReadout && info.Class == MuClass.Output && e.Name == "weight")
            return Zeroed(e, decision, MuText.ZeroReadout);
        if ((mu.IsQueryLayer(e.Path) && e.Name == "weight") || queryRows >= e.Tensor.shape[0])
            return Zeroed(e, decision, MuText.ZeroQuery);
        var fill = e.Fill!;
        double s = 1;
        if (double.IsNaN(fill.TargetStd) && !fill.Draws && info.Class != MuClass.Finite)
            throw new ArgumentException(MuText.NoStd(e.QualifiedName, e.Scheme, fill.Distribution, info.Class));
        if (fill.Draws && fill.TargetStd != 0)
        {
            if (double.IsNaN(e.MuBaseRatio) || double.IsInfinity(e.MuBaseRatio))
                throw new ArgumentException(MuText.NoBaseStd(e.QualifiedName, e.Scheme, fill.Distribution));
            s = e.MuBaseRatio * info.InitStdFactor;
            if (Math.Abs(s - 1) > 1e-12)
                fill = fill.Narrowed(1 / s) ?? throw new ArgumentException(MuText.CannotScale(e.QualifiedName, e.Scheme, fill.Distribution));
        }
        string reason = MuText.Reason(info, s);
        if (queryRows is long rows)
        {
            fill = new LeadingRowsZeroFill(fill, rows);
            reason = $"{reason}; {MuText.ZeroQueryBlock(rows)}";
        }
        return e with
        {
            Fill = fill, Mu = decision with { Scale = s },
            Reason = DecisionReason.Join(e.Reason, reason), Note = PlanText.Join(e.Note, MuText.Note(info, s)),
        };
    }

    private static PlannedParameter Zeroed(PlannedParameter e, MuDecision decision, string why) => e with
    {
        Fill = new ConstantFill(0.0), Scheme = "zeros", Mu = decision with { Scale = 0 },
        Reason = DecisionReason.Join(e.Reason, why), Note = PlanText.Join(e.Note, why),
    };
}

/// <summary>
/// Rows [0, <see cref="Rows"/>) of dimension 0 set to 0 and the rest written by <see cref="Rest"/> (a fused q, k, v projection with
/// its query block zero): a <see cref="BlockFill"/> of 3 blocks writes its last two blocks; any other fill the remaining rows as one tensor.
/// </summary>
internal sealed record LeadingRowsZeroFill(Fill Rest, long Rows) : Fill
{
    public override string Distribution => Rest.Distribution;
    public override double TargetStd => Rest.TargetStd;
    public override double Bound => Rest.Bound;
    public override bool Draws => Rest.Draws;
    public override string? Problem(TorchSharp.torch.Tensor t) =>
        t.dim() == 0 || t.shape[0] <= Rows ? $"shape {Check.Shape(t.shape)} has no rows after the first {Rows}" : Rest.Problem(t);
    public override Fill? Narrowed(double divisor) => Rest.Narrowed(divisor) is { } r ? this with { Rest = r } : null;

    public override Moments? Write(TorchSharp.torch.Tensor t, Sampler sampler)
    {
        using (var head = t.narrow(0, 0, Rows)) ExactSampling.Fill(head, 0.0);
        using var rest = t.narrow(0, Rows, t.shape[0] - Rows);
        var inner = Rest is BlockFill { Blocks: var n } block && n > 1 && t.shape[0] % n == 0 && t.shape[0] / n == Rows
            ? block with { Blocks = n - 1 } : Rest;
        inner.Write(rest, sampler);
        return null;
    }
}
