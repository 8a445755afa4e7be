using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit.Experiments;

/// <summary>Sizes and settings of the MNIST trainer; the JSON "config" of its twin documents.</summary>
/// <param name="Epochs">Passes over the training digits.</param>
/// <param name="Batch">Rows per SGD step.</param>
/// <param name="Lr">SGD learning rate.</param>
/// <param name="Seed">Weight seed; the training/validation split of the 60,000 training digits uses seed + 1 and the epoch order seed + 2.</param>
/// <param name="Train">Training digits, of MNIST's 60,000 (the first of the seed + 1 permutation).</param>
/// <param name="Test">Test digits: the first of MNIST's 10,000 test digits, in file order.</param>
/// <param name="MaxSteps">Stop each run after this many steps (null: all epochs); the twins use it.</param>
/// <param name="Activation">Hidden nonlinearity of both models.</param>
/// <param name="Models">"mlp" (784-256-128-10), "cnn" (<see cref="Models.SmallCnn"/>) and/or "deep-cnn" (<see cref="Models.DeepCnn"/>).</param>
/// <param name="Schemes">Schemes to train with.</param>
/// <param name="Dtype">"float32" (default) or "float64".</param>
/// <param name="Hidden">Hidden widths of the "mlp" model (default 256, 128; Glorot &amp; Bengio 2010: five of 1000); the channels of the "deep-cnn"'s 3×3 convolutions.</param>
/// <param name="Validation">Validation digits, held out of the 60,000 training ones (the next of the seed + 1 permutation); 0: none.</param>
public sealed record MnistConfig(
    int Epochs = 1, int Batch = 64, double Lr = 0.05, long Seed = 0, int Train = MnistFiles.TrainCount, int Test = MnistFiles.TestCount, int? MaxSteps = null,
    string Activation = "relu", string[]? Models = null, string[]? Schemes = null, string Dtype = "float32", int[]? Hidden = null, int Validation = 0)
{
    /// <summary>The MLP's hidden widths, the default (256, 128) filled in.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int[] HiddenList => Hidden ?? [256, 128];

    /// <summary>The models, defaults (mlp, cnn) filled in.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string[] ModelList => Models ?? ["mlp", "cnn"];
    /// <summary>The schemes, defaults (normal-0.01, glorot, he, torch-default) filled in.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public string[] SchemeList => Schemes ?? ["normal-0.01", "glorot", "he", "torch-default"];

    /// <summary>Checks sizes, names and dtype.</summary>
    /// <exception cref="ArgumentException">A size is not positive, or a name is unknown.</exception>
    public void Validate()
    {
        Check.Positive(Epochs, "--epochs"); Check.Positive(Batch, "--batch"); Check.PositiveFinite(Lr, "--lr");
        Check.Positive(Train, "--train"); Check.Positive(Test, "--test");
        if (Validation < 0) throw new ArgumentException($"--validation must not be negative, got {Validation}.");
        foreach (var h in HiddenList) Check.Positive(h, "--hidden");
        if (MaxSteps is int m) Check.Positive(m, "--max-steps");
        if (Train + Validation > MnistFiles.TrainCount)
            throw new ArgumentException($"--train ({Train}) + --validation ({Validation}) exceed MNIST's {MnistFiles.TrainCount} training digits.");
        if (Test > MnistFiles.TestCount) throw new ArgumentException($"--test ({Test}) exceeds MNIST's {MnistFiles.TestCount} test digits.");
        Experiments.Models.ParseActivation(Activation);
        foreach (var s in ModelList)
            if (!MnistTraining.ModelNames.Contains(s)) throw new ArgumentException($"Unknown model '{s}'. Known: {string.Join(", ", MnistTraining.ModelNames)}.");
        foreach (var s in SchemeList) ExperimentScheme.Parse(s);
        Dtypes.Parse(Dtype);
    }
}

/// <summary>
/// Trains an MLP and a small CNN on the real MNIST digits with several schemes: the probe at initialization on the first
/// batch, the loss of every step, and the test accuracy after every epoch.
/// </summary>
public static class MnistTraining
{
    /// <summary>The model names <see cref="Build"/> knows.</summary>
    public static IReadOnlyList<string> ModelNames { get; } = ["mlp", "cnn", "deep-cnn"];

    /// <summary>
    /// Builds a model by name: "mlp" (flatten, 784 → <paramref name="hidden"/> → 10), "cnn" (<see cref="Models.SmallCnn"/>) or
    /// "deep-cnn" (<see cref="Models.DeepCnn"/>, <paramref name="hidden"/> its 3×3 convolutions' channels).
    /// </summary>
    public static Sequential Build(string name, Activation activation, IReadOnlyList<int>? hidden = null) => name switch
    {
        "mlp" => Mlp(activation, hidden ?? [256, 128]),
        "cnn" => Models.SmallCnn(activation),
        "deep-cnn" => Models.DeepCnn(activation, hidden ?? [16, 16, 16, 16]),
        _ => throw new ArgumentException($"Unknown model '{name}'. Known: {string.Join(", ", ModelNames)}."),
    };

    private static Sequential Mlp(Activation activation, IReadOnlyList<int> hidden)
    {
        var mlp = Models.Mlp(784, hidden.Select(h => (long)h).ToList(), 10, activation);
        var layers = new List<(string, nn.Module<Tensor, Tensor>)> { ("flatten", nn.Flatten()) };
        layers.AddRange(mlp.named_children().Select(c => (c.name, (nn.Module<Tensor, Tensor>)c.module)));
        return nn.Sequential(layers);
    }

    /// <summary>
    /// Runs every model × scheme on the MNIST files under <paramref name="root"/> (<see cref="MnistFiles.Ensure"/>), read by
    /// TorchVision.NET's dataset; <paramref name="onStep"/> gets (run, steps done, steps).
    /// </summary>
    public static TwinDocument Run(MnistConfig config, string root, Device device, Action<string, int, int>? onStep = null) =>
        RunEach([config], root, device, _ => "", onStep.Labelled(""))[0];

    /// <summary>
    /// Runs each configuration in turn, one document each (a depth or learning-rate sweep), on MNIST's two datasets opened once;
    /// <paramref name="onStep"/> gets ("<paramref name="label"/>(config)/run", steps done, steps).
    /// </summary>
    public static List<TwinDocument> RunEach(IReadOnlyList<MnistConfig> configs, string root, Device device, Func<MnistConfig, string> label,
        Action<string, int, int>? onStep = null)
    {
        foreach (var c in configs) c.Validate();
        using var trainSet = Mnist.Dataset(root, train: true);
        using var testSet = Mnist.Dataset(root, train: false);
        return configs.Select(c => Run(c, trainSet, testSet, device, onStep.Labelled(label(c)))).ToList();
    }

    private static TwinDocument Run(MnistConfig config, torch.utils.data.Dataset trainSet, torch.utils.data.Dataset testSet, Device device, Action<string, int, int>? onStep)
    {
        var activation = Models.ParseActivation(config.Activation);
        using var scope = NewDisposeScope();
        var split = Mnist.Permutation(trainSet.Count, config.Seed + 1);
        var trainIdx = split[..config.Train];
        var dtype = Dtypes.Parse(config.Dtype);
        var (validationX, validationY) = Mnist.Read(trainSet, split[config.Train..(config.Train + config.Validation)]);
        var (testX, testY) = Mnist.Read(testSet, [.. Enumerable.Range(0, config.Test).Select(i => (long)i)]);
        var data = new Splits(trainSet, trainIdx, validationX.to(dtype).to(device), validationY.to(device), testX.to(dtype).to(device), testY.to(device));

        var runs = new List<TwinRun>();
        foreach (var modelName in config.ModelList)
        foreach (var schemeName in config.SchemeList)
        {
            var scheme = ExperimentScheme.Parse(schemeName);
            var name = $"{modelName}/{scheme.Name}";
            runs.Add(RunOne(name, config, modelName, activation, scheme, data, dtype, device, (i, n) => onStep?.Invoke(name, i, n)));
        }
        return new TwinDocument { Experiment = "mnist", Producer = Producer.TorchSharp, Config = TwinDocument.ConfigOf(config), Runs = runs };
    }

    /// <summary>(run, done, steps) progress with "<paramref name="label"/>/" before the run's name; as it is for an empty label.</summary>
    private static Action<string, int, int>? Labelled(this Action<string, int, int>? onStep, string label) =>
        onStep is null || label.Length == 0 ? onStep : (name, i, n) => onStep($"{label}/{name}", i, n);

    /// <summary>The training digits (the dataset and the indices of the training split) and the validation and test tensors.</summary>
    private sealed record Splits(torch.utils.data.Dataset TrainSet, long[] TrainIdx, Tensor ValidationX, Tensor ValidationY, Tensor TestX, Tensor TestY);

    /// <summary>Steps per run: ⌈train / batch⌉ × epochs, capped by <see cref="MnistConfig.MaxSteps"/>.</summary>
    public static int StepsPerRun(MnistConfig c)
    {
        int all = (c.Train + c.Batch - 1) / c.Batch * c.Epochs;
        return c.MaxSteps is int m ? Math.Min(m, all) : all;
    }

    private static TwinRun RunOne(string name, MnistConfig c, string modelName, Activation activation, ExperimentScheme scheme,
        Splits data, ScalarType dtype, Device device, Action<int, int> onStep)
    {
        using var scope = NewDisposeScope();
        var model = Build(modelName, activation, c.HiddenList);
        model.to(dtype);
        model.to(device);
        if (scheme.NeedsBatch)   // LSUV: the first Batch training digits
        {
            var (first, _) = Mnist.Read(data.TrainSet, data.TrainIdx[..Math.Min(c.Batch, c.Train)]);
            scheme.Apply(model, c.Seed, first.to(dtype).to(device));
        }
        else scheme.Apply(model, c.Seed, null);
        int total = StepsPerRun(c), step = 0;
        var losses = new List<double>(total);
        var accuracy = new List<double>();
        var validation = new List<double>();
        SignalReport? probe = null;
        using var orderGenerator = new Generator((ulong)(c.Seed + 2));
        using var sgd = optim.SGD(model.parameters(), c.Lr);
        for (int epoch = 0; epoch < c.Epochs && step < total; epoch++)
        {
            using var epochScope = NewDisposeScope();
            // The epoch's order: randperm over the training split, as the twin's DataLoader(train_set, batch, sampler=order).
            var order = randperm(c.Train, generator: orderGenerator).data<long>().Select(i => data.TrainIdx[i]).ToList();
            using var loader = torch.utils.data.DataLoader(data.TrainSet, c.Batch, order, device, disposeDataset: false);
            foreach (var batch in loader)
            {
                if (step >= total) break;
                using var stepScope = NewDisposeScope();
                var x = batch["data"].to(dtype);
                var y = batch["label"];
                probe ??= Training.Probe(model, x, y);
                losses.Add(Training.Step(model, sgd, x, y));
                onStep(++step, total);
            }
            accuracy.Add(Training.Accuracy(model, data.TestX, data.TestY));
            if (c.Validation > 0) validation.Add(Training.Accuracy(model, data.ValidationX, data.ValidationY));
        }
        return new TwinRun
        {
            Name = name, ProbeLoss = probe!.Loss, Layers = TwinLayer.From(probe), Losses = losses, Accuracy = accuracy,
            ValidationAccuracy = c.Validation > 0 ? validation : null,
        };
    }
}
