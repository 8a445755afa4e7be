using System.CommandLine;
using System.Globalization;
using TorchInit.Experiments;

namespace TorchInit.Trainers;

/// <summary>glorot2010: Glorot &amp; Bengio (2010), Table 1 (MNIST column), run for real on the 10,000 digits here.</summary>
internal static class Glorot2010Command
{
    public static Command Create()
    {
        var common = new CommonOptions();
        var hidden = CommonOptions.Text("--hidden", "1000,1000,1000,1000,1000", "Hidden widths (the paper: five layers of 1000).");
        var epochs = CommonOptions.Int("--epochs", 3, "Passes over the training digits.");
        var batch = CommonOptions.Int("--batch", 10, "Digits per SGD step (the paper: mini-batches of 10).");
        var lr = CommonOptions.Double("--lr", 0.01, "SGD learning rate.");
        var train = CommonOptions.Int("--train", 8000, "Training digits (of 10,000).");
        var test = CommonOptions.Int("--test", 2000, "Test digits (disjoint).");
        var activations = CommonOptions.Text("--activations", string.Join(",", Glorot2010.Activations), "Comma-separated: tanh, softsign, sigmoid.");
        var maxSteps = new Option<int?>("--max-steps") { Description = "Stop each run after this many steps." };
        var data = MnistCommand.DataOption();
        var command = new Command("glorot2010", "Glorot & Bengio 2010, Table 1 on MNIST: 5 hidden layers of 1000, tanh / softsign / sigmoid, the standard U(±1/√n) init against the normalized one; test error beside the paper's.");
        common.AddTo(command);
        foreach (var o in new Option[] { hidden, epochs, batch, lr, train, test, activations, maxSteps, data }) command.Options.Add(o);
        command.SetAction(p => Program.Guard(() =>
        {
            var widths = CommonOptions.List(p.GetValue(hidden)!).Select(h => int.Parse(h, CultureInfo.InvariantCulture)).ToArray();
            var configs = CommonOptions.List(p.GetValue(activations)!).Select(a => Glorot2010.Config(a, widths, p.GetValue(epochs), p.GetValue(batch), p.GetValue(lr),
                p.GetValue(common.Seed), p.GetValue(train), p.GetValue(test), p.GetValue(common.Dtype)!, p.GetValue(maxSteps))).ToList();
            return Run(configs, p.GetValue(data)!, p.GetValue(common.Device)!, p.GetValue(common.Out)!);
        }));
        return command;
    }

    public static int Run(IReadOnlyList<MnistConfig> configs, string dataDir, string deviceName, string outDir)
    {
        var device = Devices.Select(deviceName);
        foreach (var c in configs) c.Validate();
        var cache = MnistCache.Ensure(dataDir, Ui.Info);
        var view = MnistCache.Load(cache);
        var c0 = configs[0];
        Ui.Info($"glorot2010: hidden {string.Join("-", c0.HiddenList)}, {c0.Train} training / {c0.Test} test digits, {c0.Epochs} epochs of batch {c0.Batch} (lr {c0.Lr}), seed {c0.Seed}, {device}");
        var start = DateTime.UtcNow;
        int total = configs.Sum(c => c.SchemeList.Length * MnistTraining.StepsPerRun(c));
        var docs = Ui.WithProgress("glorot2010", total, progress => Glorot2010.Run(configs, view, device, progress));
        var elapsed = DateTime.UtcNow - start;
        Directory.CreateDirectory(outDir);
        foreach (var (doc, c) in docs.Zip(configs)) doc.Save(Path.Combine(outDir, $"glorot2010-{c.Activation}.json"));

        string[] header = ["activation", "init", "test error (here)", "test error (paper)", "mean loss, last 50 steps"];
        var rows = new List<string[]>();
        foreach (var (doc, c) in docs.Zip(configs))
            foreach (var r in doc.Runs)
            {
                var scheme = r.Name.Split('/')[1];
                double error = 1 - (r.Accuracy?.LastOrDefault() ?? double.NaN);
                string paper = Glorot2010.PaperTestError.TryGetValue((c.Activation, scheme), out var e) ? $"{e:0.00}%" : "(not run)";
                rows.Add([c.Activation, scheme == "glorot" ? "normalized U(±√(6/(n_in+n_out)))" : "standard U(±1/√n)", Ui.Percent(error), paper,
                    Ui.Loss(r.Losses.Skip(Math.Max(0, r.Losses.Count - 50)).Average())]);
            }
        Ui.Table("Glorot & Bengio 2010, Table 1 (MNIST), here and in the paper", header, rows);
        string differs = $"What differs from the paper: {c0.Train} training digits here (the paper: 50,000 of MNIST's 60,000), {c0.Epochs} epoch(s) of plain SGD " +
                         $"(lr {c0.Lr}, batch {c0.Batch}; the paper trained to the best validation error with a tuned learning rate), test on {c0.Test} held-out digits " +
                         "(the paper: the 10,000 test digits), one seed; the errors are therefore higher and noisier (one digit is " +
                         $"{100.0 / c0.Test:0.00}%).";
        Ui.Info(differs);
        File.WriteAllText(Path.Combine(outDir, "glorot2010.md"), Ui.Markdown(header, rows) + "\n" + differs + "\n");

        var plot = Plots.Lines(Path.Combine(outDir, "glorot2010-loss.png"), "Glorot & Bengio 2010 setting on MNIST: training loss", "SGD step", "cross-entropy (moving average of 50)",
            docs.Zip(configs).SelectMany(dc => dc.First.Runs.Select(r => ($"{dc.Second.Activation} {r.Name.Split('/')[1]}", Plots.OneTo(r.Losses.Count), Plots.Smooth(r.Losses, 50)))), logY: false);
        Ui.Info($"{docs.Sum(d => d.Runs.Count)} runs in {elapsed.TotalSeconds:F0} s; wrote {outDir}/glorot2010-*.json, glorot2010.md and {plot}");
        return 0;
    }
}
