namespace TorchInit.Experiments;

/// <summary>
/// How close TorchInit's μP must be to the PyTorch twin. Exact: every parameter's class, readout flag, m_in, m_out, m and its Adam,
/// SGD and AdamW multipliers, the base shapes, the data. Relative (|a − b| / max(|a|, |b|)): the μP std and scale ≤
/// <see cref="MuStd"/>; the initial weights' realized std ≤ <see cref="Realized"/> (their mean against the std); the coordinate check's
/// l1 and the loss ≤ <see cref="FirstStep"/> at step 0 (before any update) and ≤ <see cref="LaterSteps"/> after updates.
/// </summary>
public sealed record MupTolerances(double MuStd = 1e-12, double Realized = 1e-6, double FirstStep = 1e-5, double LaterSteps = 1e-3);

/// <summary>The comparison of a TorchSharp μP twin document with its PyTorch reference.</summary>
public sealed class MupTwinComparison
{
    private MupTwinComparison(List<ComparedValue> values, List<string> problems, Dictionary<string, (int Identical, int Total)> digests)
    {
        Values = values;
        StructuralProblems = problems;
        Digests = digests;
    }

    /// <summary>Every compared number; Quantity is mup_std, mup_scale, realized_std, realized_mean, a multiplier's name, l1@0, l1, loss@0, loss.</summary>
    public IReadOnlyList<ComparedValue> Values { get; }

    /// <summary>Disagreements that are not numbers: classes, base shapes, missing or extra parameters, modules or steps.</summary>
    public IReadOnlyList<string> StructuralProblems { get; }

    /// <summary>Per run: how many parameters (over all widths) are bit-identical to PyTorch's (the same SHA-256 of their values).</summary>
    public IReadOnlyDictionary<string, (int Identical, int Total)> Digests { get; }

    /// <summary>Whether everything agrees.</summary>
    public bool Ok => StructuralProblems.Count == 0 && Values.All(v => v.Ok);

    /// <summary>The largest error of <paramref name="quantity"/> (in <paramref name="run"/>, or all runs).</summary>
    public double Max(string quantity, string? run = null) =>
        Values.Where(v => v.Quantity == quantity && (run is null || v.Run == run)).Select(v => v.Error).DefaultIfEmpty(0).Max();

    /// <summary>The exact multipliers.</summary>
    public static readonly string[] Multipliers = ["fan_in_mult", "fan_out_mult", "width_mult", "adam_lr", "sgd_lr", "adamw_wd"];

    /// <summary>Compares <paramref name="actual"/> with <paramref name="reference"/>.</summary>
    public static MupTwinComparison Compare(MupTwinDocument reference, MupTwinDocument actual, MupTolerances? tolerances = null)
    {
        var tol = tolerances ?? new MupTolerances();
        var values = new List<ComparedValue>();
        var problems = new List<string>();
        var digests = new Dictionary<string, (int, int)>();
        if (actual.Experiment != reference.Experiment) problems.Add($"experiment '{actual.Experiment}', reference '{reference.Experiment}'");
        foreach (var r in reference.Runs)
        {
            var a = actual.Runs.FirstOrDefault(x => x.Name == r.Name);
            if (a is null) { problems.Add($"{r.Name}: missing"); continue; }
            void Add(string q, string where, double rv, double av, double t, double floor = 0) =>
                values.Add(new ComparedValue(r.Name, q, where, rv, av, TwinComparison.Relative(rv, av, floor), t));

            Add("data", "batches", r.DataChecksum, a.DataChecksum, 0);

            // Base shapes: the same dimensions infinite. TorchSharp may also list a tied weight's other holder (the same shape).
            if (r.BaseShapes is not null)
            {
                var mine = (a.BaseShapes ?? []).ToDictionary(b => b.Name);
                foreach (var b in r.BaseShapes)
                {
                    if (!mine.TryGetValue(b.Name, out var m)) problems.Add($"{r.Name}: base shape of {b.Name} missing");
                    else if (!m.BaseShape.SequenceEqual(b.BaseShape) || !m.Infinite.SequenceEqual(b.Infinite))
                        problems.Add($"{r.Name}: base shape of {b.Name}: TorchSharp [{string.Join(", ", m.BaseShape)}] infinite [{string.Join(", ", m.Infinite)}], " +
                                     $"PyTorch [{string.Join(", ", b.BaseShape)}] infinite [{string.Join(", ", b.Infinite)}]");
                }
            }

            // Parameters.
            var byKey = a.Parameters.ToDictionary(p => (p.Width, p.Name));
            int identical = 0;
            foreach (var p in r.Parameters)
            {
                string where = $"{p.Name} @ {p.Width}";
                if (!byKey.Remove((p.Width, p.Name), out var q)) { problems.Add($"{r.Name}: parameter {where} missing"); continue; }
                if (!p.Shape.SequenceEqual(q.Shape)) problems.Add($"{r.Name}: {where}: shape [{string.Join(", ", q.Shape)}], PyTorch [{string.Join(", ", p.Shape)}]");
                if (p.Class is not null)
                {
                    if (p.Class != q.Class) problems.Add($"{r.Name}: {where}: class {q.Class ?? "(none)"}, PyTorch {p.Class}");
                    if (p.Readout != q.Readout) problems.Add($"{r.Name}: {where}: readout {q.Readout}, PyTorch {p.Readout}");
                    Add("fan_in_mult", where, p.FanInMult ?? double.NaN, q.FanInMult ?? double.NaN, 0);
                    Add("fan_out_mult", where, p.FanOutMult ?? double.NaN, q.FanOutMult ?? double.NaN, 0);
                    Add("width_mult", where, p.WidthMult ?? double.NaN, q.WidthMult ?? double.NaN, 0);
                    Add("adam_lr", where, p.AdamLr ?? double.NaN, q.AdamLr ?? double.NaN, 0);
                    Add("sgd_lr", where, p.SgdLr ?? double.NaN, q.SgdLr ?? double.NaN, 0);
                    Add("adamw_wd", where, p.AdamwWd ?? double.NaN, q.AdamwWd ?? double.NaN, 0);
                    Add("mup_scale", where, p.MupScale ?? double.NaN, q.MupScale ?? double.NaN, tol.MuStd);
                }
                Add("mup_std", where, p.MupStd, q.MupStd, tol.MuStd);
                Add("realized_std", where, p.RealizedStd, q.RealizedStd, tol.Realized);
                Add("realized_mean", where, p.RealizedMean, q.RealizedMean, tol.Realized, Math.Max(p.RealizedStd, q.RealizedStd));
                if (p.Digest == q.Digest) identical++;
            }
            foreach (var extra in byKey.Keys) problems.Add($"{r.Name}: parameter {extra.Name} @ {extra.Width} not in the reference");
            digests[r.Name] = (identical, r.Parameters.Count);

            // The coordinate check and the losses.
            var rows = a.Coordinates.GroupBy(c => (c.Width, c.Step, c.Module)).ToDictionary(g => g.Key, g => g.ToList());
            foreach (var c in r.Coordinates)
            {
                string where = $"{c.Module} @ {c.Width}, step {c.Step}";
                if (!rows.Remove((c.Width, c.Step, c.Module), out var mine)) { problems.Add($"{r.Name}: coordinate row {where} missing"); continue; }
                if (mine.Count != 1) problems.Add($"{r.Name}: {mine.Count} coordinate rows for {where}, PyTorch 1");
                Add(c.Step == 0 ? "l1@0" : "l1", where, c.L1, mine[0].L1, c.Step == 0 ? tol.FirstStep : tol.LaterSteps);
            }
            foreach (var extra in rows.Keys) problems.Add($"{r.Name}: coordinate row {extra.Module} @ {extra.Width}, step {extra.Step} not in the reference");
            var losses = a.Losses.ToDictionary(l => (l.Width, l.Step));
            foreach (var l in r.Losses)
            {
                if (!losses.TryGetValue((l.Width, l.Step), out var mine)) { problems.Add($"{r.Name}: loss @ {l.Width}, step {l.Step} missing"); continue; }
                Add(l.Step == 0 ? "loss@0" : "loss", $"@ {l.Width}, step {l.Step}", l.Loss, mine.Loss, l.Step == 0 ? tol.FirstStep : tol.LaterSteps);
            }
        }
        foreach (var extra in actual.Runs.Where(a => reference.Runs.All(r => r.Name != a.Name))) problems.Add($"{extra.Name}: not in the reference");
        return new MupTwinComparison(values, problems, digests);
    }
}
