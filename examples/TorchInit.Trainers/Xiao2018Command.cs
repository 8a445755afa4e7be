using System.CommandLine;
using System.Globalization;
using TorchInit.Experiments;

namespace TorchInit.Trainers;

/// <summary>xiao2018: Xiao et al. (2018), a plain deep tanh CNN on MNIST at growing depth: Glorot and He against delta-orthogonal.</summary>
internal static class Xiao2018Command
{
    public static Command Create()
    {
        var common = new CommonOptions();
        var depths = CommonOptions.Text("--depths", "10,50,100,200", "3×3 tanh convolutions of each network (comma-separated).");
        var channels = CommonOptions.Int("--channels", 16, "Channels of every convolution.");
        var batch = CommonOptions.Int("--batch", 32, "Digits per SGD step.");
        var steps = CommonOptions.Int("--steps", 300, "SGD steps per run.");
        var lr = CommonOptions.Double("--lr", 0.02, "SGD learning rate.");
        var data = MnistCommand.DataOption();
        var command = new Command("xiao2018", "Plain tanh CNNs on MNIST, 10 to 200 layers deep, from Glorot, He and delta-orthogonal initialization (Xiao et al. 2018): at which depth each stops learning.");
        common.AddTo(command);
        foreach (var o in new Option[] { depths, channels, batch, steps, lr, data }) command.Options.Add(o);
        command.SetAction(p => Program.Guard(() => Run(
            [.. CommonOptions.List(p.GetValue(depths)!).Select(x => Xiao2018.Config(int.Parse(x, CultureInfo.InvariantCulture), p.GetValue(channels), p.GetValue(batch),
                p.GetValue(steps), p.GetValue(lr), p.GetValue(common.Seed), p.GetValue(common.Dtype)!))],
            p.GetValue(data)!, p.GetValue(common.Device)!, p.GetValue(common.Out)!)));
        return command;
    }

    public static int Run(IReadOnlyList<MnistConfig> configs, string dataDir, string deviceName, string outDir)
    {
        var device = Devices.Select(deviceName);
        var c0 = configs[0];
        var (docs, elapsed) = MnistCommand.RunSweep("xiao2018", configs, dataDir, device, outDir,
            $"xiao2018: plain tanh CNNs of {string.Join(", ", configs.Select(c => c.HiddenList.Length))} convolutions of {c0.HiddenList[0]} channels, " +
                $"batch {c0.Batch}, {c0.MaxSteps} SGD steps (lr {c0.Lr}), seed {c0.Seed}, {device}",
            c => $"{c.HiddenList.Length} layers", c => $"xiao2018-{c.HiddenList.Length}");

        string[] header = ["layers", "init", "loss step 0", $"mean loss, last tenth of {c0.MaxSteps} steps", "test accuracy", $"learns (loss < {Xiao2018.LearnsBelow:0.00})"];
        var rows = new List<string[]>();
        var curves = new List<(string, double[], double[])>();
        foreach (var (doc, c) in docs.Zip(configs))
            foreach (var r in doc.Runs)
            {
                string scheme = r.Name.Split('/')[1];
                rows.Add([c.HiddenList.Length.ToString(CultureInfo.InvariantCulture), scheme, Ui.Loss(r.Losses[0]), Ui.Loss(Xiao2018.FinalLoss(r.Losses)),
                    Ui.Percent(r.Accuracy?.LastOrDefault() ?? double.NaN), Xiao2018.Learned(r.Losses) ? "yes" : "no"]);
                curves.Add(($"{c.HiddenList.Length} layers, {scheme}", Plots.OneTo(r.Losses.Count), Plots.Smooth(r.Losses, 20)));
            }
        var deepest = Xiao2018.Schemes.Select(s =>
        {
            var learned = docs.Zip(configs).Where(dc => Xiao2018.Learned(dc.First.Runs.First(r => r.Name == $"deep-cnn/{s}").Losses)).Select(dc => dc.Second.HiddenList.Length).ToList();
            return $"{s}: {(learned.Count == 0 ? "learns at none of these depths" : $"the deepest that learns has {learned.Max()} layers")}";
        });
        string verdict = string.Join("; ", deepest);
        Ui.Table($"Xiao et al. 2018 on MNIST: plain tanh CNNs (seed {c0.Seed})", header, rows);
        Ui.Good(verdict);
        File.WriteAllText(Path.Combine(outDir, "xiao2018.md"), Ui.Markdown(header, rows) + "\n" + verdict + "\n");
        var plot = Plots.Lines(Path.Combine(outDir, "xiao2018-loss.png"), "Plain tanh CNNs on MNIST: training loss (Xiao et al. 2018)", "SGD step",
            "cross-entropy (moving average of 20)", curves, logY: false);
        Ui.Info($"{docs.Sum(x => x.Runs.Count)} runs in {elapsed.TotalSeconds:F0} s; wrote {outDir}/xiao2018-*.json, xiao2018.md and {plot}");
        return 0;
    }
}
