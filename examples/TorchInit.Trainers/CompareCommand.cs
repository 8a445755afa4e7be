using System.CommandLine;
using TorchInit.Experiments;

namespace TorchInit.Trainers;

/// <summary>compare: replays PyTorch twin documents in TorchSharp and checks the agreement.</summary>
internal static class CompareCommand
{
    public static Command Create()
    {
        var references = new Argument<string[]>("reference") { Description = "Twin JSON files written by scripts/twins/*.py.", Arity = ArgumentArity.OneOrMore };
        var device = new Option<string>("--device") { Description = "cpu or cuda.", DefaultValueFactory = _ => "cpu" };
        var outDir = CommonOptions.Text("--out", "out", "Folder for the TorchSharp side's JSON (compare/NAME.torchsharp.json).");
        var data = MnistCommand.DataOption();
        var details = new Option<bool>("--details") { Description = "Print every layer side by side, not just the summary and the failures." };
        var t = new Tolerances();
        var statTol = CommonOptions.Double("--stat-tol", t.Statistics, "Relative tolerance of the initial per-layer statistics.");
        var lossTol = CommonOptions.Double("--loss-tol", t.Loss, "Relative tolerance of the losses.");
        var lossSteps = CommonOptions.Int("--loss-steps", t.LossSteps, "Losses compared: before step 1 up to after this many steps.");
        var command = new Command("compare", "Runs the TorchSharp side of PyTorch twin JSON files with their configuration and compares: initial per-layer statistics and the first losses. Exits 1 on disagreement.");
        command.Arguments.Add(references);
        foreach (var o in new Option[] { device, outDir, data, details, statTol, lossTol, lossSteps }) command.Options.Add(o);
        command.SetAction(p => Program.Guard(() =>
        {
            var tol = new Tolerances(p.GetValue(statTol), p.GetValue(lossTol), p.GetValue(lossSteps));
            var dev = Devices.Select(p.GetValue(device)!);
            bool allOk = true;
            foreach (var path in p.GetValue(references)!)
            {
                if (MupTwinDocument.Is(path))
                {
                    allOk &= MupCompare.Run(path, dev, p.GetValue(outDir)!, p.GetValue(details));
                    continue;
                }
                var reference = TwinDocument.Load(path);
                Ui.Info($"{path}: {reference.Experiment} by {reference.Producer}, config {reference.Config.ToJsonString()}");
                var actual = ReplayMup(reference, dev, p.GetValue(data)) ?? Ui.WithProgress($"replaying {reference.Experiment}", Replay.TotalSteps(reference),
                    progress => Replay.Run(reference, dev, p.GetValue(data), progress));
                var saved = Path.Combine(p.GetValue(outDir)!, "compare", Path.GetFileNameWithoutExtension(path) + ".torchsharp.json");
                actual.Save(saved);
                var comparison = TwinComparison.Compare(reference, actual, tol);
                Print(reference, actual, comparison, tol, p.GetValue(details));
                PrintMupOptima(reference, actual);
                Ui.Info($"TorchSharp side written to {saved}");
                allOk &= comparison.Ok;
            }
            if (!allOk) Ui.Error("compare: DISAGREEMENT with PyTorch (see above)");
            return allOk ? 0 : 1;
        }));
        return command;
    }

    private static void Print(TwinDocument reference, TwinDocument actual, TwinComparison c, Tolerances tol, bool details)
    {
        string[] header =
        [
            "run", "probe loss (PyTorch)", "probe loss (TorchSharp)", $"loss@{tol.LossSteps} (PyTorch)", $"loss@{tol.LossSteps} (TorchSharp)",
            "max stat. rel. err", "max fraction diff", "max loss rel. err", "ok",
        ];
        var rows = reference.Runs.Select(r =>
        {
            var a = actual.Runs.FirstOrDefault(x => x.Name == r.Name);
            var mine = c.Values.Where(v => v.Run == r.Name).ToList();
            double Max(Func<ComparedValue, bool> f) => mine.Where(f).Select(v => v.Error).DefaultIfEmpty(0).Max();
            int k = Math.Min(tol.LossSteps, r.Losses.Count - 1);
            return new[]
            {
                r.Name, Ui.Fixed(r.ProbeLoss, 6), a is null ? "-" : Ui.Fixed(a.ProbeLoss, 6),
                k >= 0 ? Ui.Fixed(r.Losses[k], 6) : "-", a is null || k < 0 || k >= a.Losses.Count ? "-" : Ui.Fixed(a.Losses[k], 6),
                Ui.Sci(Max(v => v.Quantity is not ("loss" or "saturated" or "dead"))), Ui.Sci(Max(v => v.Quantity is "saturated" or "dead")),
                Ui.Sci(Max(v => v.Quantity == "loss")), mine.All(v => v.Ok) ? "yes" : "NO",
            };
        }).ToList();
        Ui.Table($"{reference.Experiment}: {reference.Producer} vs {actual.Producer}", header, rows);

        if (details)
        {
            foreach (var r in reference.Runs)
            {
                var vals = c.Values.Where(v => v.Run == r.Name && v.Quantity is "std" or "grad_out_std" or "grad_weight_std").ToList();
                Ui.Table($"{r.Name}: per layer", ["layer", "quantity", "PyTorch", "TorchSharp", "error"],
                    vals.Select(v => new[] { v.Where, v.Quantity, Ui.Sci(v.Reference), Ui.Sci(v.Actual), Ui.Sci(v.Error) }));
            }
        }
        foreach (var a in c.AppliedAllowances)
            Ui.Info($"allowed for {a.Run}{(a.Dtype is null ? "" : $" ({a.Dtype})")}: " +
                    $"{(a.Statistics is double s ? $"statistics to {Ui.Sci(s)}; " : "")}{(a.LossSteps is int k ? $"losses compared up to step {k}; " : "")}because {a.Reason}");
        var failures = c.Values.Where(v => !v.Ok).ToList();
        foreach (var s in c.StructuralProblems) Ui.Error(s);
        if (failures.Count > 0)
            Ui.Table($"{failures.Count} values out of tolerance (first 40)", ["run", "quantity", "where", "PyTorch", "TorchSharp", "error", "tolerance"],
                failures.Take(40).Select(v => new[] { v.Run, v.Quantity, v.Where, Ui.Sci(v.Reference), Ui.Sci(v.Actual), Ui.Sci(v.Error), Ui.Sci(v.Tolerance) }));
        var summary = $"{reference.Experiment}: {c.Values.Count} values; in the {reference.Runs.Count - c.AppliedAllowances.Select(a => a.Run).Distinct().Count()} runs without allowance: max relative error of initial statistics {Ui.Sci(c.MaxStatisticError)} (tolerance {Ui.Sci(tol.Statistics)}), " +
                      $"max saturated/dead fraction difference {Ui.Sci(c.MaxFractionError)}, max relative loss error over {tol.LossSteps} steps {Ui.Sci(c.MaxLossError)} (tolerance {Ui.Sci(tol.Loss)})";
        if (c.Ok) Ui.Good("AGREE  " + summary); else Ui.Error("DISAGREE  " + summary);
    }

    #region mup-mnist (μP's learning-rate transfer: scripts/twins/mup_mnist.py)

    /// <summary>The TorchSharp side of a <see cref="MupMnist"/> twin document; null for any other experiment.</summary>
    private static TwinDocument? ReplayMup(TwinDocument reference, TorchSharp.torch.Device device, string? data)
    {
        if (reference.Experiment != MupMnist.Experiment) return null;
        var config = reference.ConfigAs<MupConfig>();
        var root = MnistFiles.Ensure(data ?? Path.Combine("data", "mnist"), Ui.Info);
        return Ui.WithProgress($"replaying {reference.Experiment}", MupMnist.TotalSteps(config), progress => MupMnist.Run(config, root, device, progress));
    }

    /// <summary>For a <see cref="MupMnist"/> document: the optimum learning rate per parametrization and width on both sides (information; the losses are what is checked).</summary>
    private static void PrintMupOptima(TwinDocument reference, TwinDocument actual)
    {
        if (reference.Experiment != MupMnist.Experiment) return;
        var mine = MupMnist.Optima(MupMnist.Points(actual));
        var rows = MupMnist.Optima(MupMnist.Points(reference)).Select(r =>
        {
            var a = mine.FirstOrDefault(m => m.Parametrization == r.Parametrization && m.Width == r.Width).Best;
            string Lr(MupMnist.Point? x) => x is null ? "none" : $"2^{x.Log2Lr.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture)} ({Ui.Fixed(x.FinalLoss)})";
            return new[] { r.Parametrization, r.Width.ToString(System.Globalization.CultureInfo.InvariantCulture), Lr(r.Best), Lr(a), r.Best?.Log2Lr == a?.Log2Lr ? "yes" : "NO" };
        }).ToList();
        Ui.Table("mup-mnist: optimum learning rate (final training loss)", ["parametrization", "width", "PyTorch", "TorchSharp", "same"], rows);
    }

    #endregion
}
