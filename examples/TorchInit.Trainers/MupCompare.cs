using TorchInit.Experiments;

namespace TorchInit.Trainers;

/// <summary>compare's case for the μP twin (scripts/twins/mup.py): replays it with TorchInit's μP and checks the agreement.</summary>
internal static class MupCompare
{
    /// <summary>Replays <paramref name="path"/>, writes the TorchSharp side to OUT/compare/NAME.torchsharp.json, prints the agreement; false on disagreement.</summary>
    public static bool Run(string path, TorchSharp.torch.Device device, string outDir, bool details)
    {
        var reference = MupTwinDocument.Load(path);
        var c = reference.Config;
        Ui.Info($"{path}: {reference.Experiment} by {reference.Producer}, {c.Dtype}, seed {c.Seed}, {c.Steps} Adam steps at lr {c.Lr}, runs {string.Join(", ", c.Runs)}");
        var actual = Ui.WithProgress("replaying mup", MupTwin.TotalSteps(reference), progress => MupTwin.Run(reference, device, progress));
        var saved = Path.Combine(outDir, "compare", Path.GetFileNameWithoutExtension(path) + ".torchsharp.json");
        actual.Save(saved);
        var tol = new MupTolerances();
        var cmp = MupTwinComparison.Compare(reference, actual, tol);

        string[] header =
        [
            "run", "params", "bit-identical", "multipliers", "μP std", "μP scale", "realized std", "realized mean",
            "l1 step 0", "l1 steps ≥ 1", "loss step 0", "loss steps ≥ 1", "ok",
        ];
        var rows = reference.Runs.Select(r =>
        {
            var (same, total) = cmp.Digests.TryGetValue(r.Name, out var d) ? d : (0, 0);
            double mult = MupTwinComparison.Multipliers.Max(q => cmp.Max(q, r.Name));
            bool ok = cmp.Values.Where(v => v.Run == r.Name).All(v => v.Ok) && !cmp.StructuralProblems.Any(p => p.StartsWith(r.Name + ":"));
            return new[]
            {
                r.Name, total.ToString(), $"{same}/{total}", r.Parametrization == "mup" ? Ui.Sci(mult) : "-", Ui.Sci(cmp.Max("mup_std", r.Name)),
                r.Parametrization == "mup" ? Ui.Sci(cmp.Max("mup_scale", r.Name)) : "-", Ui.Sci(cmp.Max("realized_std", r.Name)),
                Ui.Sci(cmp.Max("realized_mean", r.Name)), Ui.Sci(cmp.Max("l1@0", r.Name)), Ui.Sci(cmp.Max("l1", r.Name)),
                Ui.Sci(cmp.Max("loss@0", r.Name)), Ui.Sci(cmp.Max("loss", r.Name)), ok ? "yes" : "NO",
            };
        }).ToList();
        Ui.Table($"mup ({c.Dtype}): {reference.Producer} vs {actual.Producer}, max relative errors", header, rows);
        if (details)
            foreach (var r in reference.Runs)
                Ui.Table($"{r.Name}: parameters", ["parameter", "quantity", "PyTorch", "TorchSharp", "error"],
                    cmp.Values.Where(v => v.Run == r.Name && v.Quantity is "mup_std" or "realized_std" or "adam_lr" or "width_mult")
                        .Select(v => new[] { v.Where, v.Quantity, Ui.Sci(v.Reference), Ui.Sci(v.Actual), Ui.Sci(v.Error) }));
        foreach (var s in cmp.StructuralProblems.Take(40)) Ui.Error(s);
        var failures = cmp.Values.Where(v => !v.Ok).ToList();
        if (failures.Count > 0)
            Ui.Table($"{failures.Count} values out of tolerance (first 40)", ["run", "quantity", "where", "PyTorch", "TorchSharp", "error", "tolerance"],
                failures.Take(40).Select(v => new[] { v.Run, v.Quantity, v.Where, Ui.Sci(v.Reference), Ui.Sci(v.Actual), Ui.Sci(v.Error), Ui.Sci(v.Tolerance) }));
        var summary = $"mup ({c.Dtype}): {cmp.Values.Count} values; classes, base shapes and multipliers {(cmp.StructuralProblems.Count == 0 && MupTwinComparison.Multipliers.All(q => cmp.Max(q) == 0) ? "identical" : "DIFFER")}; " +
                      $"max relative error: μP std {Ui.Sci(Math.Max(cmp.Max("mup_std"), cmp.Max("mup_scale")))} (tolerance {Ui.Sci(tol.MuStd)}), realized std {Ui.Sci(cmp.Max("realized_std"))} ({Ui.Sci(tol.Realized)}), " +
                      $"l1 at step 0 {Ui.Sci(cmp.Max("l1@0"))} ({Ui.Sci(tol.FirstStep)}), after updates {Ui.Sci(cmp.Max("l1"))} ({Ui.Sci(tol.LaterSteps)}), " +
                      $"loss {Ui.Sci(cmp.Max("loss@0"))} / {Ui.Sci(cmp.Max("loss"))}; bit-identical parameters {cmp.Digests.Values.Sum(d => d.Identical)}/{cmp.Digests.Values.Sum(d => d.Total)}";
        Ui.Info($"TorchSharp side written to {saved}");
        if (cmp.Ok) Ui.Good("AGREE  " + summary); else Ui.Error("DISAGREE  " + summary);
        return cmp.Ok;
    }
}
