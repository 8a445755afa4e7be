using System.CommandLine;
using TorchInit.Experiments;

namespace TorchInit.Trainers;

/// <summary>
/// he2015: He et al. (2015) Fig. 3, Xavier vs He on 22- and 30-layer plain ReLU networks: on the full MNIST (the default), or with
/// --synthetic on the synthetic cluster task at one depth (the twin-checked small-scale version).
/// </summary>
internal static class He2015Command
{
    public static Command Create()
    {
        var common = new CommonOptions();
        var d = new He2015Config();
        var depth = CommonOptions.Int("--depth", d.Depth, "Hidden ReLU layers (with --synthetic).");
        var depths = CommonOptions.Text("--depths", "22,30", "Hidden ReLU layers of each MNIST network (comma-separated; the paper: 22 and 30).");
        var synthetic = new Option<bool>("--synthetic") { Description = "Train on the synthetic cluster task at --depth instead of MNIST." };
        var data = MnistCommand.DataOption();
        var width = CommonOptions.Int("--width", d.Width, "Units per hidden layer (with --synthetic also the input dimension).");
        var batch = CommonOptions.Int("--batch", d.Batch, "Rows per batch.");
        var steps = new Option<int?>("--steps") { Description = $"SGD steps per scheme (default {He2015.MnistSteps} on MNIST, {d.Steps} with --synthetic)." };
        var lr = new Option<double?>("--lr") { Description = $"SGD learning rate (default {He2015.MnistLr} on MNIST, {d.Lr} with --synthetic)." };
        var command = new Command("he2015", "Plain 22- and 30-layer ReLU MLPs on MNIST trained from Xavier (std √(1/n)) and from He (std √(2/n)) initialization (He et al. 2015, Fig. 3).");
        common.AddTo(command);
        foreach (var o in new Option[] { depth, depths, width, batch, steps, lr, synthetic, data }) command.Options.Add(o);
        command.SetAction(p => Program.Guard(() => p.GetValue(synthetic)
            ? Run(new He2015Config(p.GetValue(depth), p.GetValue(width), d.Classes, p.GetValue(batch), p.GetValue(steps) ?? d.Steps, p.GetValue(lr) ?? d.Lr,
                    p.GetValue(common.Seed), Dtype: p.GetValue(common.Dtype)!),
                p.GetValue(common.Device)!, p.GetValue(common.Out)!)
            : RunMnist([.. CommonOptions.List(p.GetValue(depths)!).Select(x => He2015.OnMnist(int.Parse(x, System.Globalization.CultureInfo.InvariantCulture), p.GetValue(width),
                    p.GetValue(batch), p.GetValue(steps) ?? He2015.MnistSteps, p.GetValue(lr) ?? He2015.MnistLr, p.GetValue(common.Seed), p.GetValue(common.Dtype)!))],
                p.GetValue(data)!, p.GetValue(common.Device)!, p.GetValue(common.Out)!)));
        return command;
    }

    /// <summary>Fig. 3 on MNIST: each depth's Xavier and He runs, the table of final losses and one plot of all training curves.</summary>
    public static int RunMnist(IReadOnlyList<MnistConfig> configs, string dataDir, string deviceName, string outDir)
    {
        var device = Devices.Select(deviceName);
        var c0 = configs[0];
        var (docs, elapsed) = MnistCommand.RunSweep("he2015", configs, dataDir, device, outDir,
            $"he2015 on MNIST: plain ReLU MLPs of {string.Join(" and ", configs.Select(c => c.HiddenList.Length))} hidden layers of {c0.HiddenList[0]}, " +
                $"batch {c0.Batch}, {c0.MaxSteps} SGD steps (lr {c0.Lr}), seed {c0.Seed}, {device}",
            c => $"{c.HiddenList.Length} layers", c => $"he2015-mnist-{c.HiddenList.Length}");

        string[] header = ["layers", "init", "loss step 0", $"mean loss, last 10 of {c0.MaxSteps} steps", "test accuracy"];
        var curves = new List<(string, double[], double[])>();
        var rows = new List<string[]>();
        foreach (var (doc, c) in docs.Zip(configs))
            foreach (var r in doc.Runs)
            {
                string init = r.Name.EndsWith("/he", StringComparison.Ordinal) ? "He" : "Xavier";
                rows.Add([c.HiddenList.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), init, Ui.Loss(r.Losses[0]), Ui.Loss(He2015.FinalLoss(r.Losses)), Ui.Percent(r.Accuracy?.LastOrDefault() ?? double.NaN)]);
                curves.Add(($"{c.HiddenList.Length} layers, {init}", Plots.OneTo(r.Losses.Count), Plots.Smooth(r.Losses, 20)));
            }
        Ui.Table($"He et al. 2015, Fig. 3, on MNIST (seed {c0.Seed})", header, rows);
        File.WriteAllText(Path.Combine(outDir, "he2015-mnist.md"), Ui.Markdown(header, rows));
        var plot = Plots.Lines(Path.Combine(outDir, "he2015-mnist-loss.png"), "Plain ReLU MLPs on MNIST: training loss (He et al. 2015, Fig. 3)", "SGD step",
            "cross-entropy (moving average of 20)", curves, logY: false);
        Ui.Info($"{docs.Sum(x => x.Runs.Count)} runs in {elapsed.TotalSeconds:F0} s; wrote {outDir}/he2015-mnist-*.json, he2015-mnist.md and {plot}");
        return 0;
    }

    public static int Run(He2015Config config, string deviceName, string outDir)
    {
        var device = Devices.Select(deviceName);
        config.Validate();
        Ui.Info($"he2015: {config.Depth} hidden ReLU layers of {config.Width}, batch {config.Batch}, {config.Steps} SGD steps (lr {config.Lr}), seed {config.Seed}, {device}");
        var start = DateTime.UtcNow;
        var doc = Ui.WithProgress("he2015", config.SchemeList.Length * config.Steps, progress => He2015.Run(config, device, progress));
        var elapsed = DateTime.UtcNow - start;
        Directory.CreateDirectory(outDir);
        doc.Save(Path.Combine(outDir, "he2015.json"));

        string[] header = ["init", "act std L1", $"act std L{config.Depth}", "∂L/∂h std L1", "loss step 0", $"mean loss, last 10 of {config.Steps} steps"];
        var rows = doc.Runs.Select(r =>
        {
            var acts = DepthSweepCommand.ActivationRows(r, "relu");
            return new[] { r.Name, Ui.Sci(acts[0].Std), Ui.Sci(acts[^1].Std), Ui.Sci(acts[0].GradOutStd), Ui.Loss(r.Losses[0]), Ui.Loss(He2015.FinalLoss(r.Losses)) };
        }).ToList();
        string ratio = "";
        if (doc.Runs.Count == 2)
        {
            double a = He2015.FinalLoss(doc.Runs[0].Losses), b = He2015.FinalLoss(doc.Runs[1].Losses);
            ratio = $"loss ratio {doc.Runs[0].Name} / {doc.Runs[1].Name} after {config.Steps} steps: {a / b:F2}";
        }
        Ui.Table($"He et al. 2015 at small scale ({config.Depth} × {config.Width}, seed {config.Seed})", header, rows);
        if (ratio.Length > 0) Ui.Good(ratio);
        File.WriteAllText(Path.Combine(outDir, "he2015.md"), Ui.Markdown(header, rows) + (ratio.Length > 0 ? "\n" + ratio + "\n" : ""));

        var plots = new[]
        {
            Plots.Lines(Path.Combine(outDir, "he2015-loss.png"), $"{config.Depth}-layer plain ReLU MLP: training loss", "SGD step", "cross-entropy (moving average of 10)",
                doc.Runs.Select(r => (r.Name, Plots.OneTo(r.Losses.Count), Plots.Smooth(r.Losses, 10))), logY: false),
            Plots.Lines(Path.Combine(outDir, "he2015-activation-std.png"), "std of ReLU outputs per layer at init", "hidden layer", "std of activation",
                doc.Runs.Select(r => { var a = DepthSweepCommand.ActivationRows(r, "relu"); return (r.Name, Plots.OneTo(a.Count), a.Select(l => l.Std).ToArray()); }), logY: true, integerX: true),
        };
        Ui.Info($"{doc.Runs.Count} runs in {elapsed.TotalSeconds:F0} s; wrote {Path.Combine(outDir, "he2015.json")}, he2015.md and plots:");
        foreach (var p in plots) Ui.Info("  " + p);
        return 0;
    }
}
