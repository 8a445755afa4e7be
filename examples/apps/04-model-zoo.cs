// Model-zoo presets as a file-based app (.NET 10): `dotnet run examples/apps/04-model-zoo.cs`.
// A TorchVision.NET ResNet-50 initialized exactly as `torch.manual_seed(0); torchvision.models.resnet50(weights=None,
// zero_init_residual=True)` initializes it in Python, in one line, whatever its constructors drew before.
#:package TorchInit@0.2.0
#:package TorchSharp-cpu@0.107.0
#:package TorchVision@0.107.0

using TorchInit;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

TorchRuntime.EnsureLoaded();

using var resnet = torchvision.models.resnet50();
var report = resnet.ApplyInit(InitPolicy.TorchVision.ResNet(zeroInitResidual: true), new InitOptions { Seed = 0 });

// The first rows of the report, then how many tensors each scheme decided and one reason for it.
Console.WriteLine(string.Join('\n', report.ToString().Split('\n').Take(8)));
foreach (var group in report.Rows.GroupBy(r => r.Scheme).OrderByDescending(g => g.Count()))
    Console.WriteLine($"{group.Count(),4} × {group.Key}: {group.First().Reason}");

// Its own checks: torchvision's rules hold (kaiming_normal_(fan_out, relu) on the convs, the residual branch's last
// BatchNorm zeroed, never the shortcut's), and the plan had nothing it could not handle.
var conv1 = report.Rows.First(r => r.QualifiedName == "conv1.weight");
bool ok = report.Unhandled.Count == 0 && report.PolicyWarnings.Count == 0
    && Math.Abs(conv1.TargetStd - Math.Sqrt(2.0 / (64 * 7 * 7))) < 1e-12
    && resnet.get_parameter("layer1.0.bn3.weight")!.eq(0).all().item<bool>()
    && resnet.get_parameter("layer1.0.downsample.1.weight")!.eq(1).all().item<bool>();
Console.WriteLine(ok ? "04-model-zoo: ok" : "04-model-zoo: FAILED");
return ok ? 0 : 1;
