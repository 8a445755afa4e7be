// Training on a GPU with TorchInit, as a file-based app (.NET 10), the way a user writes it:
//   dotnet run examples/apps/train-gpu.cs -- --device cuda --steps 200 --seed 42
// It references TorchSharp-cuda-linux (libtorch with CUDA; needs an NVIDIA GPU and driver), checks that the device
// loads (one clear line on stderr when it does not), builds a model, moves it to the device, initializes it (He normal
// for ReLU layers, seeded), and trains it on a synthetic regression task, printing the loss.
// Seeded init on CUDA: TorchInit draws the values on the CPU with libtorch's CPU generator and copies each parameter to
// the device, so a seed gives the same weights on the CPU and on any GPU (PyTorch's CUDA generator gives other numbers;
// see docs/gpu.md). `--draws device` draws on the GPU's own generator instead (PyTorch-on-CUDA's numbers, no copy).
// CI cannot run CUDA (no GPU, and TorchSharp-cuda-linux is not on its package feed): scripts/apps.sh runs a copy of this
// file with TorchSharp-cpu and --device cpu, which checks everything but the CUDA kernels.
#:package TorchInit@0.2.0
#:package TorchSharp-cuda-linux@0.107.0

using TorchInit;
using TorchSharp;
using static TorchSharp.torch;

string deviceName = "cuda";
int steps = 200;
long seed = 42;
var draws = SeededDraws.OnCpu;
for (int i = 0; i + 1 < args.Length; i += 2)
{
    switch (args[i])
    {
        case "--device": deviceName = args[i + 1]; break;
        case "--steps": steps = int.Parse(args[i + 1]); break;
        case "--seed": seed = long.Parse(args[i + 1]); break;
        case "--draws": draws = args[i + 1] == "device" ? SeededDraws.OnParameterDevice : SeededDraws.OnCpu; break;
        default: Console.Error.WriteLine($"unknown option {args[i]} (use --device cpu|cuda|cuda:N, --steps N, --seed S, --draws cpu|device)"); return 2;
    }
}

try
{
    TorchRuntime.EnsureLoaded(deviceName);
}
catch (Exception e) when (e is TorchNativeLoadException or ArgumentException)
{
    Console.Error.WriteLine(e.Message);   // one line: the device as asked, the cause, the fix
    return 3;
}
var device = new Device(deviceName);

var model = nn.Sequential(
    ("fc1", nn.Linear(64, 256)), ("relu1", nn.ReLU()),
    ("fc2", nn.Linear(256, 256)), ("relu2", nn.ReLU()),
    ("head", nn.Linear(256, 1)));
model.to(device);
var report = model.ApplyInit(InitPolicy.Auto, new InitOptions { Seed = seed, SeededDraws = draws });
Console.WriteLine(report);

// A synthetic task: y = sin(x · w) with a fixed random w, the data drawn on the CPU (same numbers for any device).
var data = new Generator(7);
var w = randn(new long[] { 64, 1 }, generator: data);
var x = randn(new long[] { 4096, 64 }, generator: data);
var y = (x.matmul(w) / 8).sin();
x = x.to(device); y = y.to(device);

var optimizer = optim.Adam(model.parameters(), lr: 1e-3);
double first = double.NaN, last = double.NaN;
for (int step = 0; step < steps; step++)
{
    using var scope = NewDisposeScope();
    optimizer.zero_grad();
    var loss = nn.functional.mse_loss(model.call(x), y);
    loss.backward();
    optimizer.step();
    last = loss.item<float>();
    if (step == 0) first = last;
    if (step % Math.Max(1, steps / 10) == 0 || step == steps - 1) Console.WriteLine($"step {step,4}  loss {last:F6}");
}
bool ok = last < first && report.Rows.Count == 6 && model.parameters().All(p => p.device.type == device.type);
Console.WriteLine(ok ? $"train-gpu on {device}: ok (loss {first:F4} -> {last:F4})" : $"train-gpu on {device}: FAILED");
return ok ? 0 : 1;
