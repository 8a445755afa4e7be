using System.CommandLine;
using TorchInit.Experiments;

namespace TorchInit.Trainers;

/// <summary>lsuv: LSUV (Mishkin &amp; Matas 2016) against Glorot and He on deep plain nets, loss curves on the same data.</summary>
internal static class LsuvCommand
{
    public static Command Create()
    {
        var common = new CommonOptions();
        var d = new LsuvConfig();
        var width = CommonOptions.Int("--width", d.Width, "Units per hidden layer (and input dimension).");
        var batch = CommonOptions.Int("--batch", d.Batch, "Rows per batch (LSUV rescales on the first).");
        var steps = CommonOptions.Int("--steps", d.Steps, "SGD steps per run.");
        var lr = CommonOptions.Double("--lr", d.Lr, "SGD learning rate.");
        var nets = CommonOptions.Text("--nets", string.Join(",", d.NetList), "Comma-separated activation:depth (relu:30 is He et al.'s net; tanh, relu, selu, sigmoid, softsign, hardswish).");
        var schemes = CommonOptions.Text("--schemes", string.Join(",", d.SchemeList), $"Comma-separated, of: {string.Join(", ", ExperimentScheme.All.Select(s => s.Name))}.");
        var command = new Command("lsuv", "LSUV (Mishkin & Matas 2016) against Glorot and He on a 30-layer ReLU, a 10-layer tanh and a 10-layer Hardswish plain net: loss curves on the same data.");
        common.AddTo(command);
        foreach (var o in new Option[] { width, batch, steps, lr, nets, schemes }) command.Options.Add(o);
        command.SetAction(p => Program.Guard(() => Run(
            new LsuvConfig(p.GetValue(width), d.Classes, p.GetValue(batch), p.GetValue(steps), p.GetValue(lr), p.GetValue(common.Seed),
                CommonOptions.List(p.GetValue(nets)!), CommonOptions.List(p.GetValue(schemes)!), p.GetValue(common.Dtype)!),
            p.GetValue(common.Device)!, p.GetValue(common.Out)!)));
        return command;
    }

    public static int Run(LsuvConfig config, string deviceName, string outDir)
    {
        var device = Devices.Select(deviceName);
        config.Validate();
        Ui.Info($"lsuv: nets {string.Join(", ", config.NetList)} of width {config.Width}, batch {config.Batch}, {config.Steps} SGD steps (lr {config.Lr}), seed {config.Seed}, {device}");
        var start = DateTime.UtcNow;
        var doc = Ui.WithProgress("lsuv", config.NetList.Length * config.SchemeList.Length * config.Steps, progress => LsuvExperiment.Run(config, device, progress));
        var elapsed = DateTime.UtcNow - start;
        Directory.CreateDirectory(outDir);
        doc.Save(Path.Combine(outDir, "lsuv.json"));

        string[] header = ["net/init", "act std, first layer", "act std, last layer", "loss step 0", $"mean loss, last 10 of {config.Steps} steps"];
        var rows = doc.Runs.Select(r =>
        {
            var acts = r.Layers.Where(l => l.Path.StartsWith("act", StringComparison.Ordinal)).ToList();
            return new[] { r.Name, Ui.Sci(acts[0].Std), Ui.Sci(acts[^1].Std), Ui.Loss(r.Losses[0]), Ui.Loss(He2015.FinalLoss(r.Losses)) };
        }).ToList();
        Ui.Table($"LSUV against Glorot and He (width {config.Width}, seed {config.Seed})", header, rows);
        File.WriteAllText(Path.Combine(outDir, "lsuv.md"), Ui.Markdown(header, rows));

        var plots = new List<string>();
        foreach (var group in doc.Runs.GroupBy(r => r.Name.Split('/')[0]))
            plots.Add(Plots.Lines(Path.Combine(outDir, $"lsuv-{group.Key}-loss.png"), $"{group.Key} plain net: training loss", "SGD step", "cross-entropy (moving average of 10)",
                group.Select(r => (r.Name.Split('/')[1], Plots.OneTo(r.Losses.Count), Plots.Smooth(r.Losses, 10))), logY: false));
        Ui.Info($"{doc.Runs.Count} runs in {elapsed.TotalSeconds:F0} s; wrote {Path.Combine(outDir, "lsuv.json")}, lsuv.md and plots:");
        foreach (var p in plots) Ui.Info("  " + p);
        return 0;
    }
}
