using Microsoft.ML;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit.Experiments;

/// <summary>Sizes and settings of the MNIST trainer; the JSON "config" of its twin documents.</summary>
/// <param name="Epochs">Passes over the training split.</param>
/// <param name="Batch">Rows per SGD step.</param>
/// <param name="Lr">SGD learning rate.</param>
/// <param name="Seed">Weight seed; the train/test split uses seed + 1 and the epoch order seed + 2.</param>
/// <param name="Train">Training digits (from the 10,000).</param>
/// <param name="Test">Test digits (disjoint from the training ones).</param>
/// <param name="MaxSteps">Stop each run after this many steps (null: all epochs); the twins use it.</param>
/// <param name="Activation">Hidden nonlinearity of both models.</param>
/// <param name="Models">"mlp" (784-256-128-10) and/or "cnn" (<see cref="Models.SmallCnn"/>).</param>
/// <param name="Schemes">Schemes to train with.</param>
/// <param name="Dtype">"float32" (default) or "float64".</param>
/// <param name="Hidden">Hidden widths of the "mlp" model (default 256, 128; Glorot &amp; Bengio 2010: five of 1000).</param>
public sealed record MnistConfig(
    int Epochs = 3, int Batch = 64, double Lr = 0.05, long Seed = 0, int Train = 8000, int Test = 2000, int? MaxSteps = null,
    string Activation = "relu", string[]? Models = null, string[]? Schemes = null, string Dtype = "float32", int[]? Hidden = null)
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
        foreach (var h in HiddenList) Check.Positive(h, "--hidden");
        if (MaxSteps is int m) Check.Positive(m, "--max-steps");
        if (Train + Test > MnistCache.Count) throw new ArgumentException($"--train ({Train}) + --test ({Test}) exceed the {MnistCache.Count} digits.");
        Experiments.Models.ParseActivation(Activation);
        foreach (var s in ModelList) if (s is not ("mlp" or "cnn")) throw new ArgumentException($"Unknown model '{s}'. Known: mlp, cnn.");
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
    /// <summary>Builds a model by name: "mlp" (flatten, 784-256-128-10) or "cnn".</summary>
    public static Sequential Build(string name, Activation activation, IReadOnlyList<int>? hidden = null) => name switch
    {
        "mlp" => Mlp(activation, hidden ?? [256, 128]),
        "cnn" => Models.SmallCnn(activation),
        _ => throw new ArgumentException($"Unknown model '{name}'. Known: mlp, cnn."),
    };

    private static Sequential Mlp(Activation activation, IReadOnlyList<int> hidden)
    {
        var mlp = Models.Mlp(784, hidden.Select(h => (long)h).ToList(), 10, activation);
        var layers = new List<(string, nn.Module<Tensor, Tensor>)> { ("flatten", nn.Flatten()) };
        layers.AddRange(mlp.named_children().Select(c => (c.name, (nn.Module<Tensor, Tensor>)c.module)));
        return nn.Sequential(layers);
    }

    /// <summary>Runs every model × scheme on <paramref name="data"/>; <paramref name="onStep"/> gets (run, steps done, steps).</summary>
    public static TwinDocument Run(MnistConfig config, IDataView data, Device device, Action<string, int, int>? onStep = null)
    {
        config.Validate();
        if (config.Train + config.Test > (data.GetRowCount() ?? 0))
            throw new ArgumentException($"train ({config.Train}) + test ({config.Test}) exceed the {data.GetRowCount()} digits.");
        var activation = Models.ParseActivation(config.Activation);
        using var scope = NewDisposeScope();
        var (images, labels) = DataViewTensors.Read(data);
        using var splitGenerator = new Generator((ulong)(config.Seed + 1));
        var perm = randperm(images.shape[0], generator: splitGenerator);
        var trainIdx = perm.narrow(0, 0, config.Train);
        var testIdx = perm.narrow(0, config.Train, config.Test);
        var dtype = Dtypes.Parse(config.Dtype);
        var trainX = images.index_select(0, trainIdx).to(dtype).to(device);
        var trainY = labels.index_select(0, trainIdx).to(device);
        var testX = images.index_select(0, testIdx).to(dtype).to(device);
        var testY = labels.index_select(0, testIdx).to(device);

        var runs = new List<TwinRun>();
        foreach (var modelName in config.ModelList)
        foreach (var schemeName in config.SchemeList)
        {
            var scheme = ExperimentScheme.Parse(schemeName);
            var name = $"{modelName}/{scheme.Name}";
            runs.Add(RunOne(name, config, modelName, activation, scheme, trainX, trainY, testX, testY, device, (i, n) => onStep?.Invoke(name, i, n)));
        }
        return new TwinDocument { Experiment = "mnist", Producer = Producer.TorchSharp, Config = TwinDocument.ConfigOf(config), Runs = runs };
    }

    /// <summary>Steps per run: ⌈train / batch⌉ × epochs, capped by <see cref="MnistConfig.MaxSteps"/>.</summary>
    public static int StepsPerRun(MnistConfig c)
    {
        int all = (c.Train + c.Batch - 1) / c.Batch * c.Epochs;
        return c.MaxSteps is int m ? Math.Min(m, all) : all;
    }

    private static TwinRun RunOne(string name, MnistConfig c, string modelName, Activation activation, ExperimentScheme scheme,
        Tensor trainX, Tensor trainY, Tensor testX, Tensor testY, Device device, Action<int, int> onStep)
    {
        using var scope = NewDisposeScope();
        var model = Build(modelName, activation, c.HiddenList);
        model.to(trainX.dtype);
        model.to(device);
        scheme.Apply(model, c.Seed, scheme.NeedsBatch ? trainX.narrow(0, 0, Math.Min(c.Batch, c.Train)) : null); // LSUV: the first Batch training digits
        int total = StepsPerRun(c), step = 0;
        var losses = new List<double>(total);
        var accuracy = new List<double>();
        SignalReport? probe = null;
        using var orderGenerator = new Generator((ulong)(c.Seed + 2));
        using var sgd = optim.SGD(model.parameters(), c.Lr);
        for (int epoch = 0; epoch < c.Epochs && step < total; epoch++)
        {
            using var epochScope = NewDisposeScope();
            var order = randperm(c.Train, generator: orderGenerator).to(device);
            for (int start = 0; start < c.Train && step < total; start += c.Batch)
            {
                using var stepScope = NewDisposeScope();
                var idx = order.narrow(0, start, Math.Min(c.Batch, c.Train - start));
                var x = trainX.index_select(0, idx);
                var y = trainY.index_select(0, idx);
                probe ??= Training.Probe(model, x, y);
                losses.Add(Training.Step(model, sgd, x, y));
                onStep(++step, total);
            }
            accuracy.Add(Training.Accuracy(model, testX, testY));
        }
        return new TwinRun { Name = name, ProbeLoss = probe!.Loss, Layers = TwinLayer.From(probe), Losses = losses, Accuracy = accuracy };
    }
}
