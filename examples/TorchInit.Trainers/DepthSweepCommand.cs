using System.CommandLine;
using TorchInit.Experiments;

namespace TorchInit.Trainers;

/// <summary>depth-sweep: Glorot and Bengio's experiment, activation × scheme through depth.</summary>
internal static class DepthSweepCommand
{
    public static Command Create()
    {
        var common = new CommonOptions();
        var d = new DepthSweepConfig();
        var depth = CommonOptions.Int("--depth", d.Depth, "Hidden layers (Linear + activation).");
        var width = CommonOptions.Int("--width", d.Width, "Units per hidden layer (and input dimension).");
        var batch = CommonOptions.Int("--batch", d.Batch, "Rows per batch.");
        var steps = CommonOptions.Int("--steps", d.Steps, "SGD steps per run.");
        var lr = CommonOptions.Double("--lr", d.Lr, "SGD learning rate.");
        var activations = CommonOptions.Text("--activations", string.Join(",", DepthSweepConfig.DefaultActivations), "Comma-separated: tanh, relu, selu, sigmoid.");
        var schemes = CommonOptions.Text("--schemes", string.Join(",", DepthSweepConfig.DefaultSchemes),
            $"Comma-separated, of: {string.Join(", ", ExperimentScheme.All.Select(s => s.Name))}.");
        var command = new Command("depth-sweep", "Per-layer activation and gradient statistics of a deep MLP for every activation × init scheme, then SGD steps (Glorot & Bengio 2010).");
        common.AddTo(command);
        foreach (var o in new Option[] { depth, width, batch, steps, lr, activations, schemes }) command.Options.Add(o);
        command.SetAction(p => Program.Guard(() =>
        {
            var config = new DepthSweepConfig(p.GetValue(depth), p.GetValue(width), d.Classes, p.GetValue(batch), p.GetValue(steps), p.GetValue(lr),
                p.GetValue(common.Seed), CommonOptions.List(p.GetValue(activations)!), CommonOptions.List(p.GetValue(schemes)!), p.GetValue(common.Dtype)!);
            return Run(config, p.GetValue(common.Device)!, p.GetValue(common.Out)!);
        }));
        return command;
    }

    public static int Run(DepthSweepConfig config, string deviceName, string outDir)
    {
        var device = Devices.Select(deviceName);
        config.Validate();
        int total = config.ActivationList.Length * config.SchemeList.Length * config.Steps;
        Ui.Info($"depth sweep: {config.Depth} hidden layers of {config.Width}, batch {config.Batch}, {config.Steps} SGD steps (lr {config.Lr}), seed {config.Seed}, {device}");
        var start = DateTime.UtcNow;
        var doc = Ui.WithProgress("depth sweep", total, progress => DepthSweep.Run(config, device, progress));
        var elapsed = DateTime.UtcNow - start;

        Directory.CreateDirectory(outDir);
        doc.Save(Path.Combine(outDir, "depth-sweep.json"));
        var (header, rows) = Summary(doc, config);
        Ui.Table($"Depth sweep ({config.Depth} × {config.Width}, seed {config.Seed})", header, rows);
        File.WriteAllText(Path.Combine(outDir, "depth-sweep.md"), Ui.Markdown(header, rows));

        var plots = new List<string>();
        foreach (var activation in config.ActivationList)
        {
            var runs = doc.Runs.Where(r => r.Name.StartsWith(activation + "/", StringComparison.Ordinal)).ToList();
            string Label(TwinRun r) => r.Name[(activation.Length + 1)..];
            var acts = runs.Select(r => (Label(r), ActivationRows(r, activation))).ToList();
            plots.Add(Plots.Lines(Path.Combine(outDir, $"depth-sweep-{activation}-activation-std.png"),
                $"{activation}: std of activations per layer at init", "hidden layer", "std of activation",
                acts.Select(a => (a.Item1, Plots.OneTo(a.Item2.Count), a.Item2.Select(l => l.Std).ToArray())), logY: true, integerX: true));
            plots.Add(Plots.Lines(Path.Combine(outDir, $"depth-sweep-{activation}-gradient-std.png"),
                $"{activation}: std of back-propagated gradient ∂loss/∂h per layer at init", "hidden layer", "std of ∂loss/∂h",
                acts.Select(a => (a.Item1, Plots.OneTo(a.Item2.Count), a.Item2.Select(l => l.GradOutStd).ToArray())), logY: true, integerX: true));
            plots.Add(Plots.Lines(Path.Combine(outDir, $"depth-sweep-{activation}-loss.png"),
                $"{activation}: training loss", "SGD step", "cross-entropy",
                runs.Select(r => (Label(r), Plots.OneTo(r.Losses.Count), r.Losses.ToArray())), logY: true));
        }
        Ui.Info($"{doc.Runs.Count} runs in {elapsed.TotalSeconds:F0} s; wrote {Path.Combine(outDir, "depth-sweep.json")}, depth-sweep.md and {plots.Count} plots:");
        foreach (var p in plots) Ui.Info("  " + p);
        return 0;
    }

    /// <summary>The probe rows of the activation modules (one per hidden layer).</summary>
    internal static List<TwinLayer> ActivationRows(TwinRun run, string activation) =>
        run.Layers.Where(l => l.Path.StartsWith("act", StringComparison.Ordinal)).ToList();

    internal static (string[] Header, List<string[]> Rows) Summary(TwinDocument doc, DepthSweepConfig c)
    {
        string[] header =
        [
            "activation/init", "act std L1", $"act std L{c.Depth}", "∂L/∂h std L1", $"∂L/∂h std L{c.Depth}",
            $"saturated/dead L{c.Depth}", "loss step 0", $"mean loss, last 10 of {c.Steps} steps", "identical-unit layers",
        ];
        var rows = doc.Runs.Select(r =>
        {
            var acts = ActivationRows(r, "");
            var first = acts[0];
            var last = acts[^1];
            string satDead = !double.IsNaN(last.Saturated) ? Ui.Percent(last.Saturated) + " sat" : !double.IsNaN(last.Dead) ? Ui.Percent(last.Dead) + " dead" : "";
            return new[]
            {
                r.Name, Ui.Sci(first.Std), Ui.Sci(last.Std), Ui.Sci(first.GradOutStd), Ui.Sci(last.GradOutStd), satDead,
                Ui.Loss(r.Losses.FirstOrDefault(double.NaN)), Ui.Loss(He2015.FinalLoss(r.Losses)), $"{r.IdenticalUnitLayers}/{c.Depth}",
            };
        }).ToList();
        return (header, rows);
    }
}
