using System.CommandLine;
using System.Globalization;
using TorchInit.Experiments;

namespace TorchInit.Trainers;

/// <summary>glorot2010: Glorot &amp; Bengio (2010), Table 1 (MNIST column), on the full MNIST: the learning rate chosen on a validation split.</summary>
internal static class Glorot2010Command
{
    public static Command Create()
    {
        var common = new CommonOptions();
        var hidden = CommonOptions.Text("--hidden", "1000,1000,1000,1000,1000", "Hidden widths (the paper: five layers of 1000).");
        var epochs = CommonOptions.Int("--epochs", 1, "Passes over the training digits (docs/trainers.md: the budget of the recorded run).");
        var batch = CommonOptions.Int("--batch", 10, "Digits per SGD step (the paper: mini-batches of 10).");
        var lrs = CommonOptions.Text("--lrs", "0.3,0.1,0.03", "SGD learning rates to choose from on the validation split (comma-separated).");
        var train = CommonOptions.Int("--train", 50_000, "Training digits (the paper: 50,000 of MNIST's 60,000).");
        var validation = CommonOptions.Int("--validation", 10_000, "Validation digits, the rest of the 60,000 (the paper: 10,000).");
        var test = CommonOptions.Int("--test", MnistFiles.TestCount, "Test digits (the paper: MNIST's 10,000).");
        var activations = CommonOptions.Text("--activations", string.Join(",", Glorot2010.Activations), "Comma-separated: tanh, softsign, sigmoid.");
        var maxSteps = new Option<int?>("--max-steps") { Description = "Stop each run after this many steps." };
        var data = MnistCommand.DataOption();
        var command = new Command("glorot2010", "Glorot & Bengio 2010, Table 1 on MNIST: 5 hidden layers of 1000, tanh / softsign / sigmoid, the standard U(±1/√n) init against the normalized one, the learning rate chosen on a validation split; test error beside the paper's.");
        common.AddTo(command);
        foreach (var o in new Option[] { hidden, epochs, batch, lrs, train, validation, test, activations, maxSteps, data }) command.Options.Add(o);
        command.SetAction(p => Program.Guard(() =>
        {
            var widths = CommonOptions.List(p.GetValue(hidden)!).Select(h => int.Parse(h, CultureInfo.InvariantCulture)).ToArray();
            var grid = CommonOptions.List(p.GetValue(lrs)!).Select(l => double.Parse(l, CultureInfo.InvariantCulture)).ToArray();
            var configs = (from a in CommonOptions.List(p.GetValue(activations)!)
                           from lr in grid
                           select Glorot2010.Config(a, widths, p.GetValue(epochs), p.GetValue(batch), lr, p.GetValue(common.Seed), p.GetValue(train),
                               p.GetValue(validation), p.GetValue(test), p.GetValue(common.Dtype)!, p.GetValue(maxSteps))).ToList();
            return Run(configs, p.GetValue(data)!, p.GetValue(common.Device)!, p.GetValue(common.Out)!);
        }));
        return command;
    }

    private static string Percent(double v) => double.IsNaN(v) ? "" : (100 * v).ToString("0.00", CultureInfo.InvariantCulture) + "%";

    public static int Run(IReadOnlyList<MnistConfig> configs, string dataDir, string deviceName, string outDir)
    {
        var device = Devices.Select(deviceName);
        if (configs.Select(c => c.Lr).Distinct().Count() > 1 && configs.Any(c => c.Validation == 0))
            throw new ArgumentException("Choosing the learning rate from a grid (--lrs) needs a validation split (--validation > 0).");
        var c0 = configs[0];
        var grid = string.Join(", ", configs.Select(c => c.Lr).Distinct().Select(l => l.ToString(CultureInfo.InvariantCulture)));
        var (docs, elapsed) = MnistCommand.RunSweep("glorot2010", configs, dataDir, device, outDir,
            $"glorot2010: hidden {string.Join("-", c0.HiddenList)}, {c0.Train} training / {c0.Validation} validation / {c0.Test} test digits, " +
            $"{c0.Epochs} epoch(s) of batch {c0.Batch}, learning rates {grid}, seed {c0.Seed}, {device}",
            c => $"{c.Activation}/lr {c.Lr}", c => $"glorot2010-{c.Activation}-lr{c.Lr.ToString(CultureInfo.InvariantCulture)}");

        string[] header = ["activation", "init", "lr (chosen on validation)", "validation error", "test error (here)", "test error (paper)"];
        var table = Glorot2010.Table([.. configs.Zip(docs)]);
        var rows = table.Select(r => new[]
        {
            r.Activation, r.Scheme == "glorot" ? "normalized U(±√(6/(n_in+n_out)))" : "standard U(±1/√n)", r.Lr.ToString(CultureInfo.InvariantCulture),
            Percent(r.ValidationError), Percent(r.TestError), r.PaperTestError is { } e ? $"{e:0.00}%" : "(not run)",
        }).ToList();
        Ui.Table("Glorot & Bengio 2010, Table 1 (MNIST), here and in the paper", header, rows);
        string budget = $"Budget here: {c0.Epochs} epoch(s) of plain SGD (batch {c0.Batch}) per run, {configs.Count * c0.SchemeList.Length} runs, " +
                        $"{elapsed.TotalMinutes:F1} min; the paper trained each to its best validation error, so the errors here are an upper bound of what this setting reaches.";
        Ui.Info(budget);
        File.WriteAllText(Path.Combine(outDir, "glorot2010.md"), Ui.Markdown(header, rows) + "\n" + budget + "\n");

        var plot = Plots.Lines(Path.Combine(outDir, "glorot2010-loss.png"), "Glorot & Bengio 2010 setting on MNIST: training loss (chosen learning rates)", "SGD step", "cross-entropy (moving average of 200)",
            table.Select(r => ($"{r.Activation} {r.Scheme} (lr {r.Lr.ToString(CultureInfo.InvariantCulture)})", Plots.OneTo(r.Chosen.Losses.Count), Plots.Smooth(r.Chosen.Losses, 200))),
            logY: false);
        Ui.Info($"{docs.Sum(d => d.Runs.Count)} runs in {elapsed.TotalSeconds:F0} s; wrote {outDir}/glorot2010-*.json, glorot2010.md and {plot}");
        return 0;
    }
}
