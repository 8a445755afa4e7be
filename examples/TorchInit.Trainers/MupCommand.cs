using System.CommandLine;
using System.Globalization;
using System.Text;
using ScottPlot;
using TorchInit.Experiments;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit.Trainers;

/// <summary>
/// mup and mup-coord: μP's learning-rate transfer across width (Yang et al. 2022, "Tensor Programs V", Figure 1) on the full MNIST,
/// standard parametrization against μP, and the coordinate check of the same MLPs.
/// </summary>
internal static class MupCommand
{
    public static Command Create()
    {
        var common = new CommonOptions();
        var d = new MupConfig();
        var widths = CommonOptions.Text("--widths", string.Join(",", d.WidthList), "Hidden widths w of the MLP 784 → w → w → 10 (comma-separated).");
        var lrs = CommonOptions.Text("--log2-lrs", "-16:-5", "Adam learning rates as exponents of 2: FROM:TO[:STEP] (−16:−5 is 2⁻¹⁶ … 2⁻⁵) or a comma-separated list.");
        var parametrizations = CommonOptions.Text("--parametrizations", "sp,mup", "sp (PyTorch's default init, plain Adam) and/or mup.");
        var readout = CommonOptions.Text("--readout", d.Readout, "μP's head: mu-readout (MuReadout, Tensor Programs V Table 8) or plain (nn.Linear, Table 3).");
        var baseWidth = CommonOptions.Int("--base-width", d.BaseWidth, "μP's base width (μP equals SP there).");
        var deltaWidth = CommonOptions.Int("--delta-width", d.DeltaWidth, "μP's delta width (which dimensions grow).");
        var epochs = CommonOptions.Int("--epochs", d.Epochs, "Passes over the training digits.");
        var batch = CommonOptions.Int("--batch", d.Batch, "Digits per Adam step.");
        var train = CommonOptions.Int("--train", d.Train, "Training digits (of MNIST's 60,000).");
        var test = CommonOptions.Int("--test", d.Test, "Test digits (the first of MNIST's 10,000).");
        var maxSteps = new Option<int?>("--max-steps") { Description = "Stop each run after this many steps." };
        var last = CommonOptions.Int("--last", d.Last, "The final training loss is the mean over this many last steps.");
        var resume = new Option<bool>("--resume") { Description = "Continue an interrupted run: take the runs of OUT/mup.partial.json (same configuration) and train only the others." };
        var from = new Option<string[]>("--from") { Description = "Tabulate and plot these mup JSON files (their runs merged) instead of training.", AllowMultipleArgumentsPerToken = true };
        var data = MnistCommand.DataOption();
        var command = new Command("mup", "μP's learning-rate transfer (Tensor Programs V, Fig. 1): MLPs of several widths on the full MNIST, Adam over a grid of learning rates, standard parametrization against μP: the optimum per width.");
        common.AddTo(command);
        foreach (var o in new Option[] { widths, lrs, parametrizations, readout, baseWidth, deltaWidth, epochs, batch, train, test, maxSteps, last, resume, from, data })
            command.Options.Add(o);
        command.SetAction(p => Program.Guard(() =>
        {
            var files = p.GetValue(from);
            if (files is { Length: > 0 }) return Report(Merge(files), null, p.GetValue(common.Out)!);
            var config = new MupConfig([.. CommonOptions.List(p.GetValue(widths)!).Select(w => int.Parse(w, CultureInfo.InvariantCulture))],
                ParseExponents(p.GetValue(lrs)!), CommonOptions.List(p.GetValue(parametrizations)!), p.GetValue(readout)!, p.GetValue(baseWidth), p.GetValue(deltaWidth),
                p.GetValue(epochs), p.GetValue(batch), p.GetValue(train), p.GetValue(test), p.GetValue(maxSteps), p.GetValue(last), p.GetValue(common.Seed), p.GetValue(common.Dtype)!);
            return Run(config, p.GetValue(data)!, p.GetValue(common.Device)!, p.GetValue(common.Out)!, p.GetValue(resume));
        }));
        return command;
    }

    /// <summary>"−16:−6" or "−16:−6:2" (a range, the end included) or "−12,−9,−6".</summary>
    public static double[] ParseExponents(string text)
    {
        static double D(string s) => double.Parse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture);
        var parts = text.Split(':');
        if (parts.Length == 1) return [.. CommonOptions.List(text).Select(D)];
        if (parts.Length > 3) throw new ArgumentException($"--log2-lrs: FROM:TO[:STEP], got '{text}'.");
        double a = D(parts[0]), b = D(parts[1]), step = parts.Length == 3 ? D(parts[2]) : 1;
        if (!(step > 0) || b < a) throw new ArgumentException($"--log2-lrs: FROM ≤ TO and STEP > 0, got '{text}'.");
        var list = new List<double>();
        for (int i = 0; a + i * step <= b + 1e-9; i++) list.Add(a + i * step);
        return [.. list];
    }

    public static int Run(MupConfig config, string dataDir, string deviceName, string outDir, bool resume = false)
    {
        config.Validate();
        var partial = Path.Combine(outDir, "mup.partial.json");
        List<TwinRun>? done = null;
        if (resume && File.Exists(partial))
        {
            var previous = TwinDocument.Load(partial);
            if (previous.Experiment != MupMnist.Experiment || !MupMnist.SameConfig(previous.ConfigAs<MupConfig>(), config))
                throw new ArgumentException($"--resume: {partial} is another configuration ({previous.Config.ToJsonString()}).");
            done = previous.Runs;
            Ui.Info($"--resume: {done.Count} runs taken from {partial}");
        }
        var device = Devices.Select(deviceName);
        var root = MnistFiles.Ensure(dataDir, Ui.Info);
        Ui.Info($"mup: MLP 784 → w → w → 10 (ReLU), w = {string.Join(", ", config.WidthList)}; {string.Join(" and ", config.ParametrizationList)}; " +
                $"Adam at 2^({string.Join(", ", config.Log2LrList)}); μP base/delta width {config.BaseWidth}/{config.DeltaWidth}, head {config.Readout}; " +
                $"{config.Train} training / {config.Test} test digits, {config.Epochs} epoch(s) of batch {config.Batch}" +
                (config.MaxSteps is int m ? $" (at most {m} steps)" : "") + $", {MupMnist.StepsPerRun(config)} steps a run; seed {config.Seed}, {config.Dtype}, {device}");
        var start = DateTime.UtcNow;
        Directory.CreateDirectory(outDir);
        int remaining = MupMnist.TotalSteps(config) - (done?.Count ?? 0) * MupMnist.StepsPerRun(config);
        var doc = Ui.WithProgress("mup", remaining, progress => MupMnist.Run(config, root, device, progress, done, d => d.Save(partial)));
        var elapsed = DateTime.UtcNow - start;
        doc.Save(Path.Combine(outDir, "mup.json"));
        File.Delete(partial);
        return Report(doc, elapsed, outDir);
    }

    /// <summary>Several documents of this experiment as one: the first's configuration with every width, rate and parametrization, the runs of all.</summary>
    private static TwinDocument Merge(string[] files)
    {
        var docs = files.Select(TwinDocument.Load).ToList();
        foreach (var (doc, f) in docs.Zip(files))
            if (doc.Experiment != MupMnist.Experiment) throw new InvalidDataException($"{f} is a '{doc.Experiment}' document, not {MupMnist.Experiment}.");
        var configs = docs.Select(x => x.ConfigAs<MupConfig>()).ToList();
        var c = configs[0] with
        {
            Widths = [.. configs.SelectMany(x => x.WidthList).Distinct().Order()],
            Log2Lrs = [.. configs.SelectMany(x => x.Log2LrList).Distinct().Order()],
            Parametrizations = [.. configs.SelectMany(x => x.ParametrizationList).Distinct()],
        };
        var runs = docs.SelectMany(x => x.Runs).GroupBy(r => r.Name).Select(g => g.Last()).ToList();
        return docs[0] with { Config = TwinDocument.ConfigOf(c), Runs = runs };
    }

    private static string Lr(double e) => $"2^{e.ToString("0.###", CultureInfo.InvariantCulture)}";
    private static string Name(string p) => p == "mup" ? "μP" : "SP";

    private static int Report(TwinDocument doc, TimeSpan? elapsed, string outDir)
    {
        var c = doc.ConfigAs<MupConfig>();
        var points = MupMnist.Points(doc);
        var optima = MupMnist.Optima(points);
        Directory.CreateDirectory(outDir);

        // Every run: final training loss (and test accuracy), one row per parametrization × width.
        string[] header = ["parametrization / width", .. c.Log2LrList.Select(Lr)];
        var lossRows = new List<string[]>();
        var accRows = new List<string[]>();
        foreach (var p in c.ParametrizationList)
        foreach (var w in c.WidthList)
        {
            var mine = c.Log2LrList.Select(e => points.FirstOrDefault(x => x.Parametrization == p && x.Width == w && x.Log2Lr == e)).ToList();
            var best = optima.First(o => o.Parametrization == p && o.Width == w).Best;
            lossRows.Add([$"{Name(p)} {w}", .. mine.Select(x => x is null ? "-" : Ui.Loss(x.FinalLoss) + (ReferenceEquals(x, best) ? " *" : ""))]);
            accRows.Add([$"{Name(p)} {w}", .. mine.Select(x => x is null ? "-" : Ui.Percent(x.TestAccuracy))]);
        }
        Ui.Table($"final training loss (mean of the last {c.Last} steps; * the optimum)", header, lossRows);
        Ui.Table("test accuracy", header, accRows);

        // The optimum learning rate per width.
        string[] optHeader = ["width", .. c.ParametrizationList.SelectMany(p => new[] { $"{Name(p)} optimum lr", $"{Name(p)} loss", $"{Name(p)} test acc." })];
        var optRows = c.WidthList.Select(w => new[] { w.ToString(CultureInfo.InvariantCulture) }.Concat(c.ParametrizationList.SelectMany(p =>
        {
            var b = optima.First(o => o.Parametrization == p && o.Width == w).Best;
            return b is null ? new[] { "none finite", "-", "-" } : [Lr(b.Log2Lr), Ui.Loss(b.FinalLoss), Ui.Percent(b.TestAccuracy)];
        })).ToArray()).ToList();
        Ui.Table("the optimum learning rate per width (least final training loss)", optHeader, optRows);
        var verdicts = c.ParametrizationList.Select(p =>
        {
            var exps = optima.Where(o => o.Parametrization == p && o.Best is not null).Select(o => o.Best!.Log2Lr).ToList();
            return exps.Count == 0 ? $"{Name(p)}: no finite run" :
                $"{Name(p)}: optimum from {Lr(exps[0])} (w {c.WidthList[0]}) to {Lr(exps[^1])} (w {c.WidthList[^1]}), spread {exps.Max() - exps.Min():0.###} octaves";
        }).ToList();
        foreach (var v in verdicts) Ui.Good(v);

        var md = new StringBuilder();
        md.AppendLine($"Final training loss (mean of the last {c.Last} steps; * the optimum):").AppendLine().Append(Ui.Markdown(header, lossRows)).AppendLine();
        md.AppendLine("Test accuracy:").AppendLine().Append(Ui.Markdown(header, accRows)).AppendLine();
        md.AppendLine("Optimum learning rate per width:").AppendLine().Append(Ui.Markdown(optHeader, optRows)).AppendLine();
        foreach (var v in verdicts) md.AppendLine($"- {v}");
        File.WriteAllText(Path.Combine(outDir, "mup.md"), md.ToString());

        var csv = new StringBuilder("parametrization,width,log2_lr,lr,final_loss,test_accuracy,optimum\n");
        foreach (var x in points)
            csv.AppendLine(string.Join(",", x.Parametrization, x.Width.ToString(CultureInfo.InvariantCulture), x.Log2Lr.ToString(CultureInfo.InvariantCulture),
                Math.Pow(2, x.Log2Lr).ToString("R", CultureInfo.InvariantCulture), x.FinalLoss.ToString("R", CultureInfo.InvariantCulture),
                x.TestAccuracy.ToString("R", CultureInfo.InvariantCulture), optima.Any(o => ReferenceEquals(o.Best, x)) ? "1" : "0"));
        File.WriteAllText(Path.Combine(outDir, "mup.csv"), csv.ToString());

        // Figure 1 of the paper: training loss against log2 lr, one curve per width, SP | μP.
        var finite = points.Where(x => double.IsFinite(x.FinalLoss)).Select(x => x.FinalLoss).DefaultIfEmpty(0).ToList();
        double yMin = finite.Min(), yMax = Math.Min(finite.Max(), Math.Log(10) + 0.2);
        var panels = c.ParametrizationList.Select(p => new Panel(
            p == "mup" ? $"μP (base width {c.BaseWidth}, {(c.Readout == "plain" ? "plain head" : "MuReadout")}, MuP.Adam)" : "standard parametrization (PyTorch's default init, Adam)",
            $"log2 learning rate (Adam; MNIST, {MupMnist.StepsPerRun(c)} steps of {c.Batch})", $"training loss (mean of last {c.Last} steps)",
            c.WidthList.Select(w => ($"width {w}", points.Where(x => x.Parametrization == p && x.Width == w).Select(x => x.Log2Lr).ToArray(),
                points.Where(x => x.Parametrization == p && x.Width == w).Select(x => x.FinalLoss).ToArray())).ToList(),
            optima.Where(o => o.Parametrization == p && o.Best is not null).Select(o => (o.Best!.Log2Lr, o.Best.FinalLoss)).ToList())).ToList();
        // A second row: the same curves near the optimum (y up to 2.5 × the least loss).
        double zoomMax = Math.Min(yMax, 2.5 * yMin);
        panels.AddRange(panels.ToList().Select((x, i) => x with { Title = $"{Name(c.ParametrizationList[i])}, near the optimum", YMin = yMin - 0.05 * (zoomMax - yMin), YMax = zoomMax }));
        var plot = MupPlots.Panels(Path.Combine(outDir, "mup-lr-transfer.png"), panels, 2, panels.Count / 2, yMin - 0.02 * (yMax - yMin), yMax, logY: false, height: 1000);

        // Training loss curves at one learning rate (the base width's μP optimum), every width: why the optimum moves.
        var curvePlot = LossCurves(doc, c, optima, outDir);
        Ui.Info($"{doc.Runs.Count} runs{(elapsed is TimeSpan t ? $" in {t.TotalSeconds:F0} s ({t.TotalMinutes:F1} min); wrote {Path.Combine(outDir, "mup.json")}," : "; wrote")} {Path.Combine(outDir, "mup.csv")}, mup.md, {plot}" +
                (curvePlot is null ? "" : $" and {curvePlot}"));
        return 0;
    }

    private static string? LossCurves(TwinDocument doc, MupConfig c, List<(string Parametrization, long Width, MupMnist.Point? Best)> optima, string outDir)
    {
        var reference = optima.FirstOrDefault(o => o.Parametrization == "mup" && o.Width == c.WidthList[0]).Best
                        ?? optima.FirstOrDefault(o => o.Width == c.WidthList[0]).Best;
        if (reference is null) return null;
        int window = Math.Max(1, Math.Min(25, MupMnist.StepsPerRun(c) / 10));
        var panels = c.ParametrizationList.Select(p => new Panel($"{Name(p)} at lr {Lr(reference.Log2Lr)}", "Adam step", $"training loss (moving average of {window})",
            c.WidthList.Select(w => doc.Runs.FirstOrDefault(r => r.Name == MupMnist.RunName(p, w, reference.Log2Lr)) is { } r
                ? ($"width {w}", Plots.OneTo(r.Losses.Count), Plots.Smooth(r.Losses, window)) : ($"width {w}", Array.Empty<double>(), Array.Empty<double>())).ToList(),
            [])).ToList();
        var all = panels.SelectMany(x => x.Series).SelectMany(s => s.Y.Skip(window)).Where(double.IsFinite).DefaultIfEmpty(1).ToList();
        return MupPlots.Panels(Path.Combine(outDir, "mup-loss-curves.png"), panels, 1, panels.Count, 0, Math.Min(all.Max(), Math.Log(10) + 0.2), logY: false);
    }

    // ---- mup-coord -----------------------------------------------------------------------------------------------------

    public static Command CreateCoordinateCheck()
    {
        var common = new CommonOptions();
        var widths = CommonOptions.Text("--widths", "128,256,512,1024,2048,4096", "Widths of the MLP 784 → w → w → 10 (comma-separated).");
        var steps = CommonOptions.Int("--steps", 5, "Adam steps (one batch each); l1 is recorded before each.");
        var lr = CommonOptions.Double("--log2-lr", -7, "Adam learning rate as an exponent of 2.");
        var batch = CommonOptions.Int("--batch", 128, "Digits per step.");
        var readout = CommonOptions.Text("--readout", "mu-readout", "μP's head: mu-readout or plain.");
        var baseWidth = CommonOptions.Int("--base-width", 128, "μP's base width.");
        var deltaWidth = CommonOptions.Int("--delta-width", 256, "μP's delta width.");
        var data = MnistCommand.DataOption();
        var command = new Command("mup-coord", "The coordinate check of the mup MLPs (Tensor Programs V, Fig. 5): each layer's mean |y| against width over the first Adam steps, standard parametrization against μP, with verdicts.");
        common.AddTo(command);
        foreach (var o in new Option[] { widths, steps, lr, batch, readout, baseWidth, deltaWidth, data }) command.Options.Add(o);
        command.SetAction(p => Program.Guard(() => RunCoordinateCheck(
            [.. CommonOptions.List(p.GetValue(widths)!).Select(w => long.Parse(w, CultureInfo.InvariantCulture))], p.GetValue(steps), p.GetValue(lr), p.GetValue(batch),
            p.GetValue(readout)!, p.GetValue(baseWidth), p.GetValue(deltaWidth), p.GetValue(common.Seed), p.GetValue(common.Dtype)!, p.GetValue(data)!,
            p.GetValue(common.Device)!, p.GetValue(common.Out)!)));
        return command;
    }

    private static int RunCoordinateCheck(long[] widths, int steps, double log2Lr, int batch, string readout, int baseWidth, int deltaWidth, long seed,
        string dtypeName, string dataDir, string deviceName, string outDir)
    {
        var config = new MupConfig(widths.Select(w => (int)w).ToArray(), [log2Lr], ["sp", "mup"], readout, baseWidth, deltaWidth, Batch: batch, MaxSteps: steps, Seed: seed, Dtype: dtypeName);
        config.Validate();
        var device = Devices.Select(deviceName);
        var dtype = Dtypes.Parse(dtypeName);
        var root = MnistFiles.Ensure(dataDir, Ui.Info);
        var start = DateTime.UtcNow;
        using var scope = NewDisposeScope();
        // The experiment's first batches: the training digits in the order the mup runs see them.
        using var trainSet = Mnist.Dataset(root, train: true);
        var split = Mnist.Permutation(trainSet.Count, seed + 1);
        using var g = new Generator((ulong)(seed + 2));
        var order = randperm(trainSet.Count, generator: g).data<long>().Take(steps * batch).Select(i => split[i]).ToArray();
        var (x, y) = Mnist.Read(trainSet, order);
        x = x.to(dtype).to(device);
        y = y.to(device);
        var batches = Enumerable.Range(0, steps).Select(i => (x.narrow(0, i * batch, batch), y.narrow(0, i * batch, batch))).ToList();
        var shapes = MupMnist.BaseShapes(baseWidth, deltaWidth, readout);
        Ui.Info($"mup-coord: widths {string.Join(", ", widths)}, {steps} Adam steps at {Lr(log2Lr)} on batches of {batch} MNIST digits, SP and μP (base {baseWidth}, head {readout}), seed {seed}, {dtypeName}");
        var reports = new Dictionary<string, CoordinateCheckReport>
        {
            ["sp"] = MupMnist.CoordinateCheck(widths, null, log2Lr, readout, batches, seed, dtype, device),
            ["mup"] = MupMnist.CoordinateCheck(widths, shapes, log2Lr, readout, batches, seed, dtype, device),
        };
        var elapsed = DateTime.UtcNow - start;
        Directory.CreateDirectory(outDir);

        string[] header = ["module", "type", "SP exponent", "SP verdict", "μP exponent", "μP verdict"];
        var modules = reports["sp"].Verdicts.Select(v => v.Module).Union(reports["mup"].Verdicts.Select(v => v.Module)).ToList();
        var rows = modules.Select(m =>
        {
            var s = reports["sp"].Verdicts.FirstOrDefault(v => v.Module == m);
            var u = reports["mup"].Verdicts.FirstOrDefault(v => v.Module == m);
            string E(CoordinateCheckVerdict? v) => v is null ? "-" : $"{v.Exponent.ToString("+0.00;-0.00", CultureInfo.InvariantCulture)} (step {v.Step})";
            return new[] { m, string.Join(" / ", new[] { s?.LayerType, u?.LayerType }.OfType<string>().Distinct()), E(s), s?.Verdict.ToString().ToLowerInvariant() ?? "-", E(u), u?.Verdict.ToString().ToLowerInvariant() ?? "-" };
        }).ToList();
        Ui.Table("coordinate check: exponent of mean |y| ∝ width^e (the largest |e| over steps ≥ 1)", header, rows);
        File.WriteAllText(Path.Combine(outDir, "mup-coord.md"), Ui.Markdown(header, rows));
        foreach (var (p, r) in reports) File.WriteAllText(Path.Combine(outDir, $"mup-coord-{p}.csv"), r.ToCsv());

        var panels = new List<Panel>();
        foreach (var (p, r) in reports)
            for (int t = 0; t < steps; t++)
                panels.Add(new Panel($"{Name(p)}, step {t}", "log2 width", "mean |y|",
                    r.Rows.Where(z => z.Step == t).GroupBy(z => z.Module).Select(gr =>
                    {
                        var pts = gr.OrderBy(z => z.Width).ToList();
                        return (gr.Key, pts.Select(z => Math.Log2(z.Width)).ToArray(), pts.Select(z => z.L1).ToArray());
                    }).ToList(), []));
        var all = reports.Values.SelectMany(r => r.Rows).Select(z => z.L1).Where(v => double.IsFinite(v) && v > 0).ToList();
        var plot = MupPlots.Panels(Path.Combine(outDir, "mup-coord.png"), panels, 2, steps, Math.Log10(all.Min()) - 0.1, Math.Log10(all.Max()) + 0.1, logY: true,
            width: 330 * steps + 160, height: 760);
        Ui.Info($"coordinate check in {elapsed.TotalSeconds:F0} s; wrote {Path.Combine(outDir, "mup-coord.md")}, mup-coord-sp.csv, mup-coord-mup.csv and {plot}");
        return 0;
    }
}

/// <summary>One panel of a figure: a title, axis labels, its lines, highlighted points (the optima) and its own y range (else the figure's).</summary>
internal sealed record Panel(string Title, string XLabel, string YLabel, List<(string Label, double[] X, double[] Y)> Series, List<(double X, double Y)> Marks,
    double? YMin = null, double? YMax = null);

/// <summary>Figures of several panels (ScottPlot's Multiplot), the y range shared.</summary>
internal static class MupPlots
{
    public static string Panels(string path, IReadOnlyList<Panel> panels, int rows, int columns, double yMin, double yMax, bool logY, int width = 1400, int height = 600)
    {
        var multiplot = new Multiplot();
        multiplot.AddPlots(panels.Count);
        var palette = new ScottPlot.Palettes.Category10();
        for (int i = 0; i < panels.Count; i++)
        {
            var panel = panels[i];
            var plot = multiplot.GetPlot(i);
            int k = 0;
            foreach (var (label, xs, ys) in panel.Series)
            {
                var color = palette.GetColor(k++);
                var pts = xs.Zip(ys).Where(q => double.IsFinite(q.Second) && (!logY || q.Second > 0)).Select(q => (q.First, logY ? Math.Log10(q.Second) : q.Second)).ToArray();
                if (pts.Length == 0) continue;
                var line = plot.Add.Scatter(pts.Select(q => q.First).ToArray(), pts.Select(q => q.Item2).ToArray());
                line.LegendText = label;
                line.LineWidth = 2;
                line.MarkerSize = pts.Length > 60 ? 0 : 5;
                line.Color = color;
            }
            foreach (var (x, y) in panel.Marks)
            {
                var m = plot.Add.Marker(x, logY ? Math.Log10(y) : y);
                m.Shape = MarkerShape.OpenCircle;
                m.Size = 14;
                m.Color = Colors.Black;
            }
            if (logY)
                plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
                {
                    MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
                    IntegerTicksOnly = true,
                    LabelFormatter = y => $"1e{y:0}",
                };
            plot.Axes.AutoScaleX();
            plot.Axes.SetLimitsY(panel.YMin ?? yMin, panel.YMax ?? yMax);
            plot.Title(panel.Title);
            plot.XLabel(panel.XLabel);
            plot.YLabel(logY ? $"{panel.YLabel} (log scale)" : panel.YLabel);
            if (i % columns == columns - 1) plot.ShowLegend(Edge.Right);
            else plot.HideLegend();
        }
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(rows, columns);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        multiplot.SavePng(path, width, height);
        return path;
    }
}
