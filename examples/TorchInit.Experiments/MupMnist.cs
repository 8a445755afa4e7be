using System.Globalization;
using System.Text.Json.Serialization;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit.Experiments;

/// <summary>Sizes and settings of the μP learning-rate transfer experiment; the JSON "config" of its twin documents.</summary>
/// <param name="Widths">Hidden widths w of the MLP 784 → w → w → 10.</param>
/// <param name="Log2Lrs">The Adam learning rates, as exponents of 2 (−10: lr 2⁻¹⁰).</param>
/// <param name="Parametrizations">"sp" (PyTorch's default init, plain Adam) and/or "mup" (μP).</param>
/// <param name="Readout">The μP head: "mu-readout" (<see cref="MuReadout"/>, Tensor Programs V Table 8) or "plain" (an nn.Linear, Table 3).</param>
/// <param name="BaseWidth">The base model's width (μP's base shapes; at this width μP is SP).</param>
/// <param name="DeltaWidth">The delta model's width (which dimensions are infinite).</param>
/// <param name="Epochs">Passes over the training digits.</param>
/// <param name="Batch">Digits per Adam step.</param>
/// <param name="Train">Training digits: the first of randperm(60,000, seed + 1).</param>
/// <param name="Test">Test digits: the first of MNIST's 10,000.</param>
/// <param name="MaxSteps">Stop each run after this many steps (null: all epochs).</param>
/// <param name="Last">The final training loss is the mean loss of the last this many steps.</param>
/// <param name="Seed">Weight seed (the same for every learning rate and parametrization); seed + 1 the split, seed + 2 the order.</param>
/// <param name="Dtype">"float32" or "float64".</param>
public sealed record MupConfig(
    int[]? Widths = null,
    [property: JsonPropertyName("log2_lrs")] double[]? Log2Lrs = null,
    string[]? Parametrizations = null, string Readout = "mu-readout", int BaseWidth = 128, int DeltaWidth = 256,
    int Epochs = 1, int Batch = 128, int Train = MnistFiles.TrainCount, int Test = MnistFiles.TestCount, int? MaxSteps = null,
    int Last = 50, long Seed = 0, string Dtype = "float32")
{
    /// <summary>The widths, default 128, 256, 512, 1024, 2048.</summary>
    [JsonIgnore] public int[] WidthList => Widths ?? [128, 256, 512, 1024, 2048];
    /// <summary>The learning-rate exponents, default −16 … −5.</summary>
    [JsonIgnore] public double[] Log2LrList => Log2Lrs ?? [.. Enumerable.Range(-16, 12).Select(e => (double)e)];
    /// <summary>The parametrizations, default sp, mup.</summary>
    [JsonIgnore] public string[] ParametrizationList => Parametrizations ?? ["sp", "mup"];

    /// <summary>Checks sizes and names.</summary>
    /// <exception cref="ArgumentException">A size is not positive, a name is unknown, or a width is below the base width.</exception>
    public void Validate()
    {
        Check.Positive(Epochs, "--epochs"); Check.Positive(Batch, "--batch"); Check.Positive(Train, "--train"); Check.Positive(Test, "--test");
        Check.Positive(Last, "--last"); Check.Positive(BaseWidth, "--base-width"); Check.Positive(DeltaWidth, "--delta-width");
        if (MaxSteps is int m) Check.Positive(m, "--max-steps");
        if (WidthList.Length == 0 || Log2LrList.Length == 0 || ParametrizationList.Length == 0)
            throw new ArgumentException("--widths, --log2-lrs and --parametrizations must not be empty.");
        foreach (var w in WidthList) Check.Positive(w, "--widths");
        foreach (var e in Log2LrList)
            if (!double.IsFinite(e)) throw new ArgumentException($"--log2-lrs must be finite numbers, got {e}.");
        foreach (var p in ParametrizationList)
            if (p is not ("sp" or "mup")) throw new ArgumentException($"Unknown parametrization '{p}'. Known: sp, mup.");
        if (Readout is not ("mu-readout" or "plain")) throw new ArgumentException($"Unknown readout '{Readout}'. Known: mu-readout, plain.");
        if (DeltaWidth == BaseWidth) throw new ArgumentException($"--delta-width must differ from --base-width ({BaseWidth}).");
        if (ParametrizationList.Contains("mup") && WidthList.Min() < BaseWidth)
            throw new ArgumentException($"μP needs every width ≥ the base width {BaseWidth}; got {WidthList.Min()}.");
        if (Train > MnistFiles.TrainCount) throw new ArgumentException($"--train ({Train}) exceeds MNIST's {MnistFiles.TrainCount} training digits.");
        if (Test > MnistFiles.TestCount) throw new ArgumentException($"--test ({Test}) exceeds MNIST's {MnistFiles.TestCount} test digits.");
        Dtypes.Parse(Dtype);
    }
}

/// <summary>
/// μP's learning-rate transfer (Yang et al. 2022, "Tensor Programs V", arXiv 2203.03466, Figure 1) on the full MNIST: an MLP
/// 784 → w → w → 10 with ReLU at several widths, trained with Adam over a grid of learning rates, under the standard
/// parametrization (PyTorch's default init, plain Adam) and under μP (the same init made μP from base shapes at
/// <see cref="MupConfig.BaseWidth"/>/<see cref="MupConfig.DeltaWidth"/>, a <see cref="MuReadout"/> head, <see cref="MuP.Adam"/>).
/// The PyTorch twin is scripts/twins/mup_mnist.py (μP written there from the paper and docs/mup.md).
/// </summary>
public static class MupMnist
{
    /// <summary>The twin documents' experiment name.</summary>
    public const string Experiment = "mup-mnist";

    /// <summary>
    /// The model of this experiment (its own, shared with no other): flatten, fc0 (784 → w), act0 (ReLU), fc1 (w → w), act1,
    /// out (w → 10): a <see cref="MuReadout"/> when <paramref name="mup"/> and <paramref name="readout"/> is "mu-readout", else a Linear.
    /// </summary>
    public static Sequential Build(long width, bool mup, string readout = "mu-readout")
    {
        nn.Module<Tensor, Tensor> head = mup && readout == "mu-readout" ? new MuReadout(width, 10) : nn.Linear(width, 10);
        return nn.Sequential(
            ("flatten", nn.Flatten()), ("fc0", nn.Linear(784, width)), ("act0", nn.ReLU()),
            ("fc1", nn.Linear(width, width)), ("act1", nn.ReLU()), ("out", head));
    }

    /// <summary>μP's base shapes of <see cref="Build"/> (on the meta device).</summary>
    public static MuBaseShapes BaseShapes(long baseWidth, long deltaWidth, string readout = "mu-readout") =>
        MuBaseShapes.FromFactory(w => Build(w, mup: true, readout), baseWidth, deltaWidth);

    /// <summary>PyTorch's default init (weights and biases), made μP when <paramref name="shapes"/> is given; from a private generator seeded with <paramref name="seed"/>.</summary>
    public static InitReport Init(nn.Module model, MuBaseShapes? shapes, long seed)
    {
        var options = new InitOptions { Seed = seed, Bias = BiasInit.TorchDefault, MeasureRealized = false };
        return shapes is null ? model.ApplyInit(InitScheme.TorchDefault, options) : model.ApplyInit(InitPolicy.Of(InitScheme.TorchDefault).MuP(shapes), options);
    }

    /// <summary>TorchSharp's Adam at <paramref name="lr"/> (SP), or μP's per-parameter learning rates (<see cref="MuP.Adam"/>).</summary>
    public static Adam Optimizer(nn.Module model, MuBaseShapes? shapes, double lr) =>
        shapes is null ? optim.Adam(model.parameters(), lr) : MuP.Adam(model, shapes, lr);

    /// <summary>A run's name: "sp/w128/lr2^-10".</summary>
    public static string RunName(string parametrization, long width, double log2Lr) =>
        $"{parametrization}/w{width}/lr2^{log2Lr.ToString("0.###", CultureInfo.InvariantCulture)}";

    /// <summary>The mean of the last <paramref name="last"/> losses (all when fewer); NaN when there are none or one is not finite.</summary>
    public static double FinalLoss(IReadOnlyList<double> losses, int last)
    {
        if (losses.Count == 0) return double.NaN;
        return losses.Skip(Math.Max(0, losses.Count - last)).Average();
    }

    /// <summary>Steps per run: ⌈train / batch⌉ × epochs, capped by <see cref="MupConfig.MaxSteps"/>.</summary>
    public static int StepsPerRun(MupConfig c)
    {
        int all = (c.Train + c.Batch - 1) / c.Batch * c.Epochs;
        return c.MaxSteps is int m ? Math.Min(m, all) : all;
    }

    /// <summary>All runs of a configuration.</summary>
    public static int TotalSteps(MupConfig c) => c.ParametrizationList.Length * c.WidthList.Length * c.Log2LrList.Length * StepsPerRun(c);

    /// <summary>
    /// Runs every parametrization × width × learning rate (in that order) on the MNIST files under <paramref name="root"/>;
    /// <paramref name="onStep"/> gets (run, steps done, steps). The training split is read once through TorchVision.NET's
    /// dataset and a DataLoader; every run sees the same batches. Runs of <paramref name="done"/> (by name; e.g. from an interrupted
    /// run's partial document) are taken as they are, not trained again; <paramref name="onRun"/> gets the document so far after each
    /// run trained.
    /// </summary>
    public static TwinDocument Run(MupConfig config, string root, Device device, Action<string, int, int>? onStep = null,
        IReadOnlyList<TwinRun>? done = null, Action<TwinDocument>? onRun = null)
    {
        config.Validate();
        using var trainSet = Mnist.Dataset(root, train: true);
        using var testSet = Mnist.Dataset(root, train: false);
        using var scope = NewDisposeScope();
        var dtype = Dtypes.Parse(config.Dtype);
        var split = Mnist.Permutation(trainSet.Count, config.Seed + 1);
        var (trainX, trainY) = Mnist.Read(trainSet, split[..config.Train]);
        var (testX, testY) = Mnist.Read(testSet, [.. Enumerable.Range(0, config.Test).Select(i => (long)i)]);
        var data = new Data(trainX.to(dtype).to(device), trainY.to(device), testX.to(dtype).to(device), testY.to(device));
        var shapes = config.ParametrizationList.Contains("mup") ? BaseShapes(config.BaseWidth, config.DeltaWidth, config.Readout) : null;
        var runs = new List<TwinRun>();
        foreach (var p in config.ParametrizationList)
        foreach (var w in config.WidthList)
        foreach (var e in config.Log2LrList)
        {
            var name = RunName(p, w, e);
            if (done?.FirstOrDefault(r => r.Name == name) is { } previous) { runs.Add(previous); continue; }
            runs.Add(RunOne(name, config, w, Math.Pow(2, e), p == "mup" ? shapes : null, data, dtype, device, (i, n) => onStep?.Invoke(name, i, n)));
            onRun?.Invoke(Document(config, runs));
        }
        return Document(config, runs);
    }

    private static TwinDocument Document(MupConfig config, List<TwinRun> runs) =>
        new() { Experiment = Experiment, Producer = Producer.TorchSharp, Config = TwinDocument.ConfigOf(config), Runs = [.. runs] };

    /// <summary>Whether two configurations describe the same experiment (the lists compared by value).</summary>
    public static bool SameConfig(MupConfig a, MupConfig b) =>
        a.WidthList.SequenceEqual(b.WidthList) && a.Log2LrList.SequenceEqual(b.Log2LrList) && a.ParametrizationList.SequenceEqual(b.ParametrizationList)
        && a with { Widths = null, Log2Lrs = null, Parametrizations = null } == b with { Widths = null, Log2Lrs = null, Parametrizations = null };

    private sealed record Data(Tensor TrainX, Tensor TrainY, Tensor TestX, Tensor TestY);

    private static TwinRun RunOne(string name, MupConfig c, long width, double lr, MuBaseShapes? shapes, Data data, ScalarType dtype, Device device, Action<int, int> onStep)
    {
        using var scope = NewDisposeScope();
        var model = Build(width, shapes is not null, c.Readout);
        model.to(dtype);
        model.to(device);
        Init(model, shapes, c.Seed);
        using var adam = Optimizer(model, shapes, lr);
        int total = StepsPerRun(c), step = 0;
        var losses = new List<double>(total);
        var accuracy = new List<double>();
        SignalReport? probe = null;
        using var orderGenerator = new Generator((ulong)(c.Seed + 2));
        for (int epoch = 0; epoch < c.Epochs && step < total; epoch++)
        {
            using var epochScope = NewDisposeScope();
            var order = randperm(c.Train, generator: orderGenerator).to(device);
            for (long i = 0; i < c.Train && step < total; i += c.Batch)
            {
                using var stepScope = NewDisposeScope();
                var rows = order.narrow(0, i, Math.Min(c.Batch, c.Train - i));
                var x = data.TrainX.index_select(0, rows);
                var y = data.TrainY.index_select(0, rows);
                probe ??= Training.Probe(model, x, y);
                losses.Add(Training.Step(model, adam, x, y));
                onStep(++step, total);
            }
            accuracy.Add(Training.Accuracy(model, data.TestX, data.TestY));
        }
        return new TwinRun { Name = name, ProbeLoss = probe!.Loss, Layers = TwinLayer.From(probe), Losses = losses, Accuracy = accuracy };
    }

    /// <summary>One run's summary: its parametrization, width, learning-rate exponent, final training loss and final test accuracy.</summary>
    public sealed record Point(string Parametrization, long Width, double Log2Lr, double FinalLoss, double TestAccuracy);

    /// <summary>The summary of every run of <paramref name="doc"/> (a document of this experiment), in the document's order.</summary>
    public static List<Point> Points(TwinDocument doc)
    {
        var c = doc.ConfigAs<MupConfig>();
        var points = new List<Point>();
        foreach (var p in c.ParametrizationList)
        foreach (var w in c.WidthList)
        foreach (var e in c.Log2LrList)
        {
            var r = doc.Runs.FirstOrDefault(x => x.Name == RunName(p, w, e));
            if (r is null) continue;
            points.Add(new Point(p, w, e, FinalLoss(r.Losses, c.Last), r.Accuracy is { Count: > 0 } a ? a[^1] : double.NaN));
        }
        return points;
    }

    /// <summary>Per parametrization and width, the run of least finite final loss (the first on a tie); null when none is finite.</summary>
    public static List<(string Parametrization, long Width, Point? Best)> Optima(IEnumerable<Point> points) =>
        points.GroupBy(p => (p.Parametrization, p.Width))
            .Select(g => (g.Key.Parametrization, g.Key.Width,
                g.Where(p => double.IsFinite(p.FinalLoss)).OrderBy(p => p.FinalLoss).ThenBy(p => p.Log2Lr).FirstOrDefault()))
            .ToList();

    /// <summary>
    /// The coordinate check (Tensor Programs V, Figure 5 / Appendix D.1): for each width, the model of the experiment from the same
    /// init (SP, or μP with <paramref name="shapes"/>), one Adam step at 2^<paramref name="log2Lr"/> per batch of <paramref name="batches"/>,
    /// every layer's mean |y| recorded before each update.
    /// </summary>
    public static CoordinateCheckReport CoordinateCheck(IReadOnlyList<long> widths, MuBaseShapes? shapes, double log2Lr, string readout,
        IReadOnlyList<(Tensor Input, Tensor Target)> batches, long seed, ScalarType dtype, Device device) =>
        TorchInit.CoordinateCheck.Run(widths,
            w =>
            {
                var model = Build(w, shapes is not null, readout);
                model.to(dtype);
                model.to(device);
                Init(model, shapes, seed);
                return model;
            },
            m => Optimizer(m, shapes, Math.Pow(2, log2Lr)),
            batches, Training.Loss);
}
