// TorchInit demo: build a small MLP and a CNN, initialize them, print the reports.
// Run: bash scripts/demo.sh   (or: dotnet run --project examples/TorchInit.Demo -- [scheme] [seed])
using TorchInit;
using TorchSharp;
using static TorchSharp.torch;

try
{
    TorchRuntime.EnsureLoaded();
}
catch (TorchNativeLoadException e)
{
    Console.Error.WriteLine(e.Message);
    return 1;
}

var scheme = args.Length > 0 ? InitScheme.Parse(args[0]) : InitScheme.HeNormal;
long seed = args.Length > 1 ? long.Parse(args[1]) : 42;

var mlp = nn.Sequential(
    ("fc1", nn.Linear(784, 256)), ("relu1", nn.ReLU()),
    ("fc2", nn.Linear(256, 128)), ("relu2", nn.ReLU()),
    ("drop", nn.Dropout(0.1)),
    ("head", nn.Linear(128, 10)));

Console.WriteLine($"MLP, {scheme} (seed {seed}):");
var report = mlp.ApplyInit(scheme, new InitOptions { Seed = seed, MeasureRealized = true });
Console.WriteLine(report);

var cnn = nn.Sequential(
    ("conv", nn.Conv2d(3, 16, 3, padding: 1)), ("bn", nn.BatchNorm2d(16)), ("relu", nn.ReLU()),
    ("grouped", nn.Conv2d(16, 32, 3, groups: 4)), ("relu2", nn.ReLU()),
    ("up", nn.ConvTranspose2d(32, 8, 2, stride: 2)),
    ("flat", nn.Flatten()), ("head", nn.Linear(8 * 28 * 28, 10)));

Console.WriteLine("CNN, GlorotUniform with the layers' true fans (grouped and transposed convolutions differ from PyTorch's rule), biases kept:");
var cnnReport = cnn.ApplyInit(InitScheme.GlorotUniform,
    new InitOptions { Seed = seed, FanConvention = FanConvention.Layer, Bias = BiasInit.Keep, MeasureRealized = true });
Console.WriteLine(cnnReport);

// Under He, fc1's pre-activation std on standardized inputs is about √2 (so that after ReLU the second moment stays 1).
using (NewDisposeScope())
using (no_grad())
{
    // The input gets its own generator: drawn from the weights' seed it would correlate with them.
    using var inputGenerator = new Generator(12345);
    var x = randn(512, 784, generator: inputGenerator);
    var h = ((nn.Module<Tensor, Tensor>)mlp[0]).call(x);
    Console.WriteLine($"input std {x.std().item<float>():F3}, first pre-activation std {h.std().item<float>():F3}");
}

// InitPolicy.Auto: each layer gets the scheme its activation needs, and the report says why.
var classifier = nn.Sequential(
    ("features", nn.Sequential(
        ("conv1", nn.Conv2d(3, 32, 3, padding: 1)), ("bn1", nn.BatchNorm2d(32)), ("relu1", nn.ReLU()), ("pool1", nn.MaxPool2d(2)),
        ("conv2", nn.Conv2d(32, 64, 3, padding: 1)), ("bn2", nn.BatchNorm2d(64)), ("relu2", nn.ReLU()), ("pool2", nn.AdaptiveAvgPool2d(1)))),
    ("flat", nn.Flatten()),
    ("classifier", nn.Sequential(
        ("fc1", nn.Linear(64, 128)), ("act", nn.LeakyReLU(0.1)), ("drop", nn.Dropout(0.5)),
        ("fc2", nn.Linear(128, 64)), ("tanh", nn.Tanh()),
        ("head", nn.Linear(64, 10)))));
Console.WriteLine($"CNN classifier, InitPolicy.Auto (seed {seed}):");
Console.WriteLine(classifier.ApplyInit(InitPolicy.Auto, new InitOptions { Seed = seed, MeasureRealized = true }));
return 0;
