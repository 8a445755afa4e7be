// Why initialization matters, as a file-based app (.NET 10): `dotnet run examples/apps/02-why-initialization-matters.cs`.
// The experiment of notebooks/02-why-initialization-matters.ipynb (without its plots): a batch of standardized inputs
// through a 10-layer MLP; the std of the activations and weight gradients per layer, measured by SignalProbe.
#:package TorchInit@0.2.0
#:package TorchSharp-cpu@0.107.0

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
Console.WriteLine(ok ? "02-why-initialization-matters: ok" : "02-why-initialization-matters: FAILED (the depth statistics no longer show the expected behaviour)");
return ok ? 0 : 1;
