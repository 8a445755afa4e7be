// μP as a file-based app (.NET 10): `dotnet run examples/apps/05-mup.cs`.
// An MLP made μP by its base shapes (widths 64 and 128, built on the meta device), initialized with PyTorch's default scheme
// made μP, trained with μP's Adam, and the coordinate check that shows why: under μP the activations after a few Adam steps
// keep their size as the width grows from 64 to 512; under the standard parametrization (same init, plain Adam, same lr) they grow.
#:package TorchInit@0.2.0
#:package TorchSharp-cpu@0.107.0

using TorchInit;
using TorchSharp;
using static TorchSharp.torch;

TorchRuntime.EnsureLoaded();

static nn.Module<Tensor, Tensor> Mlp(long width) => nn.Sequential(
    ("fc1", nn.Linear(32, width)), ("relu1", nn.ReLU()),
    ("fc2", nn.Linear(width, width)), ("relu2", nn.ReLU()),
    ("head", new MuReadout(width, 10)));

static nn.Module<Tensor, Tensor> Plain(long width) => nn.Sequential(
    ("fc1", nn.Linear(32, width)), ("relu1", nn.ReLU()),
    ("fc2", nn.Linear(width, width)), ("relu2", nn.ReLU()),
    ("head", nn.Linear(width, 10)));

var shapes = MuBaseShapes.FromFactory(Mlp, baseWidth: 64, deltaWidth: 128);
var policy = InitPolicy.Of(InitScheme.TorchDefault).MuP(shapes);

using (var model = Mlp(512))
{
    var report = model.ApplyInit(policy, new InitOptions { Seed = 0 });
    Console.WriteLine(report);
    foreach (var p in MuP.Parameters(model, shapes))
        Console.WriteLine($"{p.Name,-12} {p.Class,-10} m = {p.WidthMultiplier,4}  Adam lr × {p.AdamLearningRate,-6:0.###}  SGD lr × {p.SgdLearningRate:0.###}");
}

// The coordinate check: 4 Adam steps at lr 0.02 on the same random batches, widths 64 to 512.
manual_seed(1);
var batches = Enumerable.Range(0, 4).Select(_ => (randn(64, 32), randint(0, 10, [64]))).ToList();
long[] widths = [64, 128, 256, 512];
Tensor Loss(Tensor y, Tensor t) => nn.functional.cross_entropy(y, t);
var mu = CoordinateCheck.Run(widths, w => { var m = Mlp(w); m.ApplyInit(policy, new InitOptions { Seed = 0 }); return m; },
    m => MuP.Adam(m, shapes, lr: 0.02), batches, Loss);
var sp = CoordinateCheck.Run(widths, w => { var m = Plain(w); m.ApplyInit(InitScheme.TorchDefault, new InitOptions { Seed = 0 }); return m; },
    m => optim.Adam(m.parameters(), lr: 0.02), batches, Loss);
Console.WriteLine("μP:");
foreach (var v in mu.Verdicts) Console.WriteLine($"  {v.Module,-9} l1 ∝ width^{v.Exponent:0.00} (step {v.Step}): {v.Verdict}");
Console.WriteLine("standard parametrization:");
foreach (var v in sp.Verdicts) Console.WriteLine($"  {v.Module,-9} l1 ∝ width^{v.Exponent:0.00} (step {v.Step}): {v.Verdict}");

// Its own checks: every μP layer flat, the SP hidden layers and output not.
bool ok = mu.Verdicts.All(v => v.Verdict == CoordinateVerdict.Flat)
    && sp["fc2"].Verdict == CoordinateVerdict.Growing && sp["(output)"].Verdict == CoordinateVerdict.Growing;
Console.WriteLine(ok ? "05-mup: ok" : "05-mup: FAILED");
return ok ? 0 : 1;
