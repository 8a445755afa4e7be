// InitPolicy.Auto as a file-based app (.NET 10): `dotnet run examples/apps/03-auto-policy.cs`.
// The steps of notebooks/03-auto-policy.ipynb: the scheme each layer's activation needs, found by container order or by
// tracing one forward pass, and a policy with overrides.
#:package TorchInit@0.2.0
#:package TorchSharp-cpu@0.107.0

using TorchInit;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

TorchRuntime.EnsureLoaded();

var cnn = nn.Sequential(
    ("features", nn.Sequential(
        ("conv1", nn.Conv2d(3, 16, 3, padding: 1)), ("bn1", nn.BatchNorm2d(16)), ("relu1", nn.ReLU()), ("pool", nn.MaxPool2d(2)),
        ("conv2", nn.Conv2d(16, 32, 3, padding: 1)), ("act2", nn.LeakyReLU(0.2)), ("gap", nn.AdaptiveAvgPool2d(1)))),
    ("flat", nn.Flatten()),
    ("classifier", nn.Sequential(("fc", nn.Linear(32, 64)), ("tanh", nn.Tanh()), ("head", nn.Linear(64, 10)))));

Console.WriteLine(cnn.PlanInit(InitPolicy.Auto));   // dry run: nothing is drawn
var report = cnn.ApplyInit(InitPolicy.Auto, new InitOptions { Seed = 7 });

// A custom module: container order cannot see what forward does; one traced forward pass can.
var block = new Block();
var untraced = block.PlanInit(InitPolicy.Auto);
var traced = block.PlanInit(InitPolicy.Auto, new InitOptions(), randn(4, 32));
Console.WriteLine("without a trace: " + string.Join(", ", untraced.Decisions.Select(d => $"{d.Path}={d.Source}")));
Console.WriteLine(traced);

var policy = InitPolicy.Auto
    .For<Conv2d>(InitScheme.HeUniform)
    .ForPath("classifier.head", InitScheme.LeCunNormal);
var custom = cnn.ApplyInit(policy, new InitOptions { Seed = 7 });
Console.WriteLine(string.Join("\n", custom.Decisions.Select(d => $"{d.Path}: {d.Scheme} ({d.Source}) - {d.Reason}")));

bool ok = report.Decision("features.conv1").Scheme == "HeNormal" && report.Decision("classifier.fc").Activation == "Tanh"
          && traced.Decision("fc1").Activation == "GELU" && traced.Decision("fc2").Scheme == "LeCunNormal"
          && custom.Decision("features.conv1").Scheme == "HeUniform" && custom.Decision("classifier.head").Scheme == "LeCunNormal";
Console.WriteLine(ok ? "03-auto-policy: ok" : "03-auto-policy: FAILED");
return ok ? 0 : 1;

class Block : nn.Module<Tensor, Tensor>
{
    private readonly Linear fc1, fc2, fc3;
    private readonly nn.Module<Tensor, Tensor> act1, act2;
    public Block() : base(nameof(Block))
    {
        fc1 = nn.Linear(32, 64); act1 = nn.GELU(); fc2 = nn.Linear(64, 64); act2 = nn.SELU(); fc3 = nn.Linear(64, 8);
        RegisterComponents();
    }
    public override Tensor forward(Tensor x) => fc3.call(act2.call(fc2.call(act1.call(fc1.call(x)))));
}
