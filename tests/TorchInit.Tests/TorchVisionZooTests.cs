using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>
/// The torchvision presets (<see cref="InitPolicy.TorchVision"/>) on TorchVision.NET 0.107's own models, against real
/// torchvision 0.21: tests/TorchInit.Tests/Fixtures/zoo/*.json hold, per parameter and buffer of
/// <c>torch.manual_seed(s); torchvision.models.&lt;model&gt;(weights=None, …)</c>, the SHA-256 of its bytes, and for the models
/// that draw truncated normals the bits of each weight's first 64 elements (scripts/gen_zoo_fixtures.py; scripts/test.sh
/// checks them against real torchvision when it is installed). Each model is built after another seed (its constructors
/// drew other numbers); the preset with <c>Seed = s</c> must give torchvision's tensors.
/// </summary>
[Collection(SerialTorchCollection.Name)]
public sealed class TorchVisionZooTests
{
    public static readonly TheoryData<string, long> Models = new()
    {
        { "wide_resnet50_2", 0 }, { "resnext_32x8d_3_4_6_3", 0 }, { "vgg11", 0 }, { "vgg11_bn", 0 }, { "alexnet", 0 }, { "mobilenet_v2", 0 }, { "mobilenet_v2", 12345 },
        { "mobilenet_v3_small", 0 }, { "mobilenet_v3_small", 12345 }, { "mobilenet_v3_large", 0 }, { "googlenet", 0 }, { "googlenet", 12345 }, { "inception_v3", 0 },
    };

    /// <summary>The preset a torchvision user names for the model.</summary>
    private static InitPolicy Preset(string model) => model switch
    {
        "wide_resnet50_2" or "resnext_32x8d_3_4_6_3" => InitPolicy.TorchVision.ResNet(),
        "vgg11" or "vgg11_bn" => InitPolicy.TorchVision.Vgg(),
        "alexnet" => InitPolicy.TorchVision.AlexNet(),
        "mobilenet_v2" or "mobilenet_v3_small" or "mobilenet_v3_large" => InitPolicy.TorchVision.MobileNet(),
        "googlenet" => InitPolicy.TorchVision.GoogLeNet(),
        "inception_v3" => InitPolicy.TorchVision.InceptionV3(),
        _ => throw new ArgumentException(model),
    };

    private static nn.Module TorchVisionNet(string model) => model switch
    {
        "wide_resnet50_2" => torchvision.models.wide_resnet50_2(),
        "resnext_32x8d_3_4_6_3" => torchvision.models.resnext101_32x8d(),   // TorchVision.NET 0.107 builds [3, 4, 6, 3] blocks under this name
        "vgg11" => torchvision.models.vgg11(),
        "vgg11_bn" => torchvision.models.vgg11_bn(),
        "alexnet" => torchvision.models.alexnet(),
        "mobilenet_v2" => torchvision.models.mobilenet_v2(),
        "mobilenet_v3_small" => torchvision.models.mobilenet_v3_small(),
        "mobilenet_v3_large" => torchvision.models.mobilenet_v3_large(),
        "googlenet" => torchvision.models.googlenet(),
        "inception_v3" => torchvision.models.inception_v3(),
        _ => throw new ArgumentException(model),
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void The_preset_on_TorchVisionNets_model_gives_torchvisions_tensors(string model, long seed)
    {
        using var scope = NewDisposeScope();
        torch.random.manual_seed(seed + 1);
        var m = TorchVisionNet(model);
        var report = m.ApplyInit(Preset(model), new InitOptions { Seed = seed });
        Assert.Empty(report.Unhandled);
        Assert.Empty(report.PolicyWarnings);
        var (exact, truncated) = Compare(m, model, seed);
        var fixture = Fixture(model, seed);
        Assert.True(exact + truncated.Count == fixture.Count, $"{model}: {fixture.Count - exact - truncated.Count} tensors differ beyond erfinv's last bits");
        if (!fixture.Any(e => e.Head is not null)) Assert.Empty(truncated);
        // Every row cites its rule: the preset's (torchvision's loop) or the replayed constructor.
        Assert.All(report.Rows, r => Assert.True(r.Reason.Contains("torchvision ") || r.Reason.Contains("as constructed"), $"{r.QualifiedName}: '{r.Reason}'"));
    }

    [Theory]
    [InlineData("mobilenet_v2", true)]
    [InlineData("googlenet", true)]
    [InlineData("inception_v3", true)]
    [InlineData("vgg11_bn", false)]
    [InlineData("alexnet", false)]
    public void TorchVisionNets_own_constructor_is_torchvisions_only_where_documented(string model, bool differs)
    {
        // What the preset fixes: TorchVision.NET's constructors get mobilenet (registration order), googlenet and inception_v3
        // (their init loops) wrong, and vgg/alexnet right (docs/zoo-presets.md).
        using var scope = NewDisposeScope();
        torch.random.manual_seed(0);
        var m = TorchVisionNet(model);
        var (exact, truncated) = Compare(m, model, 0);
        int wrong = Fixture(model, 0).Count - exact - truncated.Count;
        Assert.True(differs == (wrong > 0), $"{model}: TorchVision.NET's own constructor has {wrong} tensors unlike torchvision's");
    }

    // ---- fixtures (ZooFixtures: Fixtures/zoo) ----

    private static List<ZooFixtures.Entry> Fixture(string model, long seed) => ZooFixtures.Of("zoo", model, seed);

    private static (int Exact, List<ZooFixtures.Truncated> Truncated) Compare(nn.Module m, string model, long seed)
    {
        var (exact, truncated, _) = ZooFixtures.Compare(m, Fixture(model, seed));
        return (exact, truncated);
    }
}
