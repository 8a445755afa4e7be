using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>
/// A zoo preset applied to a model of another family would give neither model's init: each torchvision preset names modules its
/// family always has (torchvision's names) and warns when the model has none of one (found by a user trial: ResNet's preset on a
/// VGG, MobileNet's on a ResNet, EfficientNet's on a MobileNet… all wrote a different init without a word). The models are built
/// on the meta device and planned, not written.
/// </summary>
[Collection(SerialTorchCollection.Name)]
public sealed class ZooPresetFamilyTests
{
    public static readonly TheoryData<string, string> WrongFamily = new()
    {
        { "resnet", "vgg11" }, { "resnet", "mobilenet_v2" }, { "vgg", "resnet18" }, { "mobilenet", "resnet18" }, { "alexnet", "resnet18" },
        { "efficientnet", "mobilenet_v2" }, { "googlenet", "inception_v3" }, { "inception_v3", "googlenet" },
        { "vit", "resnet18" }, { "convnext", "mobilenet_v2" },
    };

    private static InitPolicy Preset(string preset) => preset switch
    {
        "resnet" => InitPolicy.TorchVision.ResNet(),
        "vgg" => InitPolicy.TorchVision.Vgg(),
        "alexnet" => InitPolicy.TorchVision.AlexNet(),
        "mobilenet" => InitPolicy.TorchVision.MobileNet(),
        "efficientnet" => InitPolicy.TorchVision.EfficientNet(),
        "googlenet" => InitPolicy.TorchVision.GoogLeNet(),
        "inception_v3" => InitPolicy.TorchVision.InceptionV3(),
        "vit" => InitPolicy.TorchVision.VisionTransformer(),
        "convnext" => InitPolicy.TorchVision.ConvNeXt(),
        _ => throw new ArgumentException(preset),
    };

    private static nn.Module OnMeta(string model)
    {
        var previous = get_default_device();
        set_default_device(META);
        try
        {
            return model switch
            {
                "vgg11" => torchvision.models.vgg11(),
                "resnet18" => torchvision.models.resnet18(),
                "mobilenet_v2" => torchvision.models.mobilenet_v2(),
                "googlenet" => torchvision.models.googlenet(),
                "inception_v3" => torchvision.models.inception_v3(),
                _ => throw new ArgumentException(model),
            };
        }
        finally { set_default_device(previous); }
    }

    [Theory]
    [MemberData(nameof(WrongFamily))]
    public void A_preset_on_a_model_of_another_family_is_a_policy_warning(string preset, string model)
    {
        using var m = OnMeta(model);
        var warnings = m.PlanInit(Preset(preset)).PolicyWarnings;
        Assert.Contains(warnings, w => w.Contains($"torchvision {preset} preset expects", StringComparison.Ordinal) && w.Contains("not of the preset's family", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("resnet", "resnet18")]
    [InlineData("vgg", "vgg11")]
    [InlineData("mobilenet", "mobilenet_v2")]
    [InlineData("googlenet", "googlenet")]
    [InlineData("inception_v3", "inception_v3")]
    public void The_preset_on_its_own_family_warns_nothing(string preset, string model)
    {
        using var m = OnMeta(model);
        Assert.Empty(m.PlanInit(Preset(preset)).PolicyWarnings);
    }
}
