// TorchInit quick start as a file-based app (.NET 10): `dotnet run examples/apps/01-quick-start.cs`.
// The same steps as notebooks/01-quick-start.ipynb. Build a model, initialize it with a named scheme, read the report.
#:package TorchInit@0.2.0
#:package TorchSharp-cpu@0.107.0

using TorchInit;
using static TorchSharp.torch;

TorchRuntime.EnsureLoaded(); // a clear message instead of a TypeInitializationException if the native runtime can't load

var model = nn.Sequential(
    ("fc1", nn.Linear(784, 256)), ("act1", nn.ReLU()),
    ("fc2", nn.Linear(256, 64)), ("act2", nn.ReLU()),
    ("head", nn.Linear(64, 10)));

// He initialization for a ReLU network: PyTorch's kaiming_normal_(w, nonlinearity='relu'), same bits for the same seed.
var report = model.ApplyInit(InitScheme.HeNormal, new InitOptions { Seed = 42, MeasureRealized = true });
Console.WriteLine(report);
var row = report["fc1.weight"];
Console.WriteLine($"fc1: fan_in {row.FanIn}, target std {row.TargetStd:F5} = sqrt(2/{row.FanIn}), realized {row.RealizedStd:F5}");

// Glorot for tanh (gain 5/3) on transposed convolutions: PyTorch's fan rule against the layers' true fans.
var decoder = nn.Sequential(nn.ConvTranspose2d(16, 8, 4, stride: 2), nn.Tanh(), nn.ConvTranspose2d(8, 3, 4, stride: 2));
var scheme = InitScheme.GlorotUniform.WithNonlinearity(Nonlinearity.Tanh);
Console.WriteLine(decoder.ApplyInit(scheme, new InitOptions { Seed = 1 }));
Console.WriteLine(decoder.ApplyInit(scheme, new InitOptions { Seed = 1, FanConvention = FanConvention.Layer }));

// The report is an ML.NET IDataView.
Console.WriteLine(string.Join(", ", report.Schema.Select(c => $"{c.Name}:{c.Type}")));

bool ok = row.FanIn == 784 && Math.Abs(row.TargetStd - Math.Sqrt(2.0 / 784)) < 1e-12 && Math.Abs(row.RealizedStd - row.TargetStd) < 0.05 * row.TargetStd;
Console.WriteLine(ok ? "01-quick-start: ok" : "01-quick-start: FAILED");
return ok ? 0 : 1;
