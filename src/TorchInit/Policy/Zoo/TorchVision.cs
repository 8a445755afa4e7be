using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit;

public sealed partial record InitPolicy
{
    /// <summary>
    /// torchvision's models as <c>torch.manual_seed(s); torchvision.models.&lt;model&gt;(weights=None)</c> initializes them in
    /// Python (torchvision 0.21): each preset replays the constructors' draws in torchvision's construction order
    /// (<see cref="AsConstructed"/>), then applies the model's own init loop over <c>self.modules()</c>, rule by rule, on
    /// TorchVision.NET's trees (whatever order they register children in) and on a tree of your own with torchvision's module
    /// names. With <see cref="InitOptions.Seed"/> = s the weights are bit-identical to Python's, except truncated-normal
    /// elements, which libtorch 2.10's erfinv and PyTorch 2.6's round differently in the last bits (docs/zoo-presets.md counts them).
    /// </summary>
    public static partial class TorchVision
    {
        /// <summary>torchvision's <c>kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")</c>: N(0, 2/fan_out).</summary>
        private static readonly InitScheme KaimingNormalFanOutRelu =
            VarianceScaling(Nonlinearity.Relu, null, "kaiming_normal(mode=fan_out, nonlinearity=relu)");

        /// <summary>MobileNet's <c>kaiming_normal_(m.weight, mode="fan_out")</c>: leaky_relu with a = 0, so gain √2.</summary>
        private static readonly InitScheme KaimingNormalFanOut = VarianceScaling(Nonlinearity.LeakyRelu, 0.0, "kaiming_normal(mode=fan_out)");

        private static InitScheme VarianceScaling(Nonlinearity nonlinearity, double? slope, string name) =>
            InitScheme.VarianceScaling(1.0, FanMode.FanOut, Distribution.Normal, nonlinearity, slope, name);

        private static bool Is<T>(ModuleContext c) => c.Is(typeof(T));

        /// <summary>A policy rule: the module types, the scheme, and how the report cites it ("torchvision resnet: Conv2d …").</summary>
        private static InitPolicy Rule(InitPolicy p, string model, string what, Func<ModuleContext, bool> match, InitScheme? scheme) =>
            scheme is null ? p.AutoFor(match, $"torchvision {model}: {what}") : p.For(match, scheme, $"torchvision {model}: {what}");

        /// <summary>BatchNorm2d (and GroupNorm): <c>constant_(weight, 1)</c>, <c>constant_(bias, 0)</c>.</summary>
        private static InitPolicy Norms(InitPolicy p, string model, bool groupNorm) =>
            Rule(p, model, groupNorm ? "BatchNorm2d/GroupNorm weight 1, bias 0" : "BatchNorm2d weight 1, bias 0",
                c => Is<BatchNorm2d>(c) || (groupNorm && Is<GroupNorm>(c)), null);

        /// <summary>
        /// resnet18/34/50/101/152, resnext50_32x4d/101_32x8d/101_64x4d, wide_resnet50_2/101_2: every Conv2d
        /// <c>kaiming_normal_(mode="fan_out", nonlinearity="relu")</c>, BatchNorm2d/GroupNorm weight 1 and bias 0, the <c>fc</c> Linear as
        /// constructed (PyTorch's default); with <paramref name="zeroInitResidual"/>, the last BatchNorm of each block's residual
        /// branch (bn2 of a BasicBlock, bn3 of a Bottleneck; never <c>downsample.1</c>) gets weight 0. A block is a child of
        /// <c>layer1</c>…<c>layer4</c>, torchvision's names.
        /// </summary>
        public static InitPolicy ResNet(bool zeroInitResidual = false)
        {
            var p = Rule(AsConstructed, "resnet", "Conv2d kaiming_normal_(mode='fan_out', nonlinearity='relu')", Is<Conv2d>, KaimingNormalFanOutRelu)
                .ForBias<Conv2d>(BiasInit.Keep);
            p = Norms(p, "resnet", groupNorm: true);
            return (zeroInitResidual
                ? p.ZeroLastNormIn(c => c.Parent is { } stage && stage.Parent is { Path: "" } && stage.Name.StartsWith("layer", StringComparison.Ordinal),
                    "torchvision resnet: zero_init_residual (layer1…layer4 blocks)")
                : p).AsPreset().Expects("torchvision resnet preset", "layer1", "fc");
        }

        /// <summary>
        /// vgg11/13/16/19 with and without BatchNorm: Conv2d <c>kaiming_normal_(mode="fan_out", nonlinearity="relu")</c> with bias 0,
        /// BatchNorm2d weight 1 and bias 0, Linear N(0, 0.01) with bias 0.
        /// </summary>
        public static InitPolicy Vgg()
        {
            var p = Rule(AsConstructed, "vgg", "Conv2d kaiming_normal_(mode='fan_out', nonlinearity='relu'), bias 0", Is<Conv2d>, KaimingNormalFanOutRelu);
            p = Norms(p, "vgg", groupNorm: false);
            return Rule(p, "vgg", "Linear normal_(0, 0.01), bias 0", Is<Linear>, InitScheme.Normal(0.01)).AsPreset()
                .Expects("torchvision vgg preset", "features", "classifier");
        }

        /// <summary>alexnet: no init loop of its own; every layer as PyTorch constructs it.</summary>
        public static InitPolicy AlexNet() => AsConstructed.Expects("torchvision alexnet preset", "features", "classifier");

        /// <summary>
        /// mobilenet_v2, mobilenet_v3_small/large: the children <c>features</c>, <c>avgpool</c>, <c>classifier</c> constructed and
        /// visited in that order (TorchVision.NET registers <c>classifier</c> first), Conv2d <c>kaiming_normal_(mode="fan_out")</c>
        /// with bias 0, BatchNorm2d/GroupNorm weight 1 and bias 0, Linear N(0, 0.01) with bias 0.
        /// </summary>
        public static InitPolicy MobileNet()
        {
            var p = Rule(AsConstructed.VisitOrder("", "features", "avgpool", "classifier"), "mobilenet", "Conv2d kaiming_normal_(mode='fan_out'), bias 0",
                Is<Conv2d>, KaimingNormalFanOut);
            p = Norms(p, "mobilenet", groupNorm: true);
            return Rule(p, "mobilenet", "Linear normal_(0, 0.01), bias 0", Is<Linear>, InitScheme.Normal(0.01)).AsPreset()
                .Expects("torchvision mobilenet preset", "features", "classifier");
        }

        /// <summary>
        /// googlenet (with <c>init_weights=True</c>, torchvision's default when no weights are loaded): Conv2d and Linear
        /// <c>trunc_normal_(std=0.01, a=-2, b=2)</c>, their biases as constructed, BatchNorm2d weight 1 and bias 0.
        /// </summary>
        public static InitPolicy GoogLeNet()
        {
            var p = Rule(AsConstructed, "googlenet", "Conv2d and Linear trunc_normal_(std=0.01, a=-2, b=2), bias as constructed",
                c => Is<Conv2d>(c) || Is<Linear>(c), InitScheme.TruncatedNormal(0.0, 0.01, -2, 2));
            p = p.ForBias<Conv2d>(BiasInit.Keep).ForBias<Linear>(BiasInit.Keep);
            return Norms(p, "googlenet", groupNorm: false).AsPreset().Expects("torchvision googlenet preset", "inception3a");
        }

        /// <summary>
        /// inception_v3 (with <c>init_weights=True</c>): Conv2d and Linear <c>trunc_normal_(std=m.stddev or 0.1, a=-2, b=2)</c> —
        /// only <c>AuxLogits.fc</c> carries a <c>stddev</c> (0.001; the 0.01 torchvision sets on <c>AuxLogits.conv1</c> sits on its
        /// BasicConv2d, not on the Conv2d the loop draws) — their biases as constructed, BatchNorm2d weight 1 and bias 0.
        /// </summary>
        public static InitPolicy InceptionV3()
        {
            var p = Rule(AsConstructed, "inception_v3", "Conv2d and Linear trunc_normal_(std=0.1, a=-2, b=2), bias as constructed",
                c => Is<Conv2d>(c) || Is<Linear>(c), InitScheme.TruncatedNormal(0.0, 0.1, -2, 2));
            p = Rule(p, "inception_v3", "AuxLogits.fc trunc_normal_(std=0.001, a=-2, b=2) (its stddev attribute)",
                c => c.Path == "AuxLogits.fc", InitScheme.TruncatedNormal(0.0, 0.001, -2, 2));
            p = p.ForBias<Conv2d>(BiasInit.Keep).ForBias<Linear>(BiasInit.Keep);
            return Norms(p, "inception_v3", groupNorm: false).AsPreset().Expects("torchvision inception_v3 preset", "Mixed_5b");
        }
    }
}
