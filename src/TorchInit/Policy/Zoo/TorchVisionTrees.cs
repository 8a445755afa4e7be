using TorchSharp.Modules;

namespace TorchInit;

public sealed partial record InitPolicy
{
    public static partial class TorchVision
    {
        // Families TorchVision.NET 0.107 does not have: the presets are for a TorchSharp tree of your own with torchvision's module
        // names and construction order (docs/zoo-presets.md shows one; tests/TorchInit.Tests/TorchVisionTreeTests.cs holds three).

        /// <summary>torchvision's ViT patch embedding and pre-logits: <c>trunc_normal_(w, std=math.sqrt(1 / fan_in))</c>, absolute bounds ±2.</summary>
        private static readonly InitScheme TruncatedNormalOverFanIn = InitScheme.TruncatedNormal(FanScale.SqrtOf(1.0, FanMode.FanIn));

        /// <summary>
        /// vit_b_16/b_32/l_16/l_32/h_14 and <c>VisionTransformer(…)</c> as torchvision 0.21 builds it (not timm's rules, which are
        /// <see cref="Vit"/>). Construction, replayed in order: <c>conv_proj</c> (Conv2d default), <c>class_token</c> zeros,
        /// <c>encoder.pos_embedding</c> N(0, 0.02²) drawn in <c>Encoder.__init__</c> before its layers (declare both with
        /// <see cref="Modules.IInitializable"/>: declarations replay before the module's children), then per <c>EncoderBlock</c>
        /// <c>ln_1</c>, <c>self_attention</c> (a MultiheadAttention: its <c>out_proj</c> Linear drawn first, then <c>_reset_parameters</c>
        /// draws <c>in_proj_weight</c> xavier_uniform_ and zeroes both biases), <c>ln_2</c> and the <c>mlp</c> (Linear, GELU, Dropout, Linear,
        /// Dropout), whose <c>MLPBlock.__init__</c> ends with its own loop, replayed right after it (<see cref="ConstructionLoop"/> on
        /// <c>encoder.layers.*.mlp</c>): Linear weights <c>xavier_uniform_</c>, biases <c>normal_(std=1e-6)</c>; then <c>heads</c>. Then
        /// <c>VisionTransformer.__init__</c>'s own rules: a Conv2d <c>conv_proj</c> <c>trunc_normal_(std=√(1/fan_in))</c>
        /// (<see cref="FanScale.SqrtOf"/>, computed as <c>math.sqrt(1 / fan_in)</c>) with bias 0, or with a conv stem its
        /// <c>conv_proj.conv_last</c> <c>normal_(std=√(2/out_channels))</c> with bias 0; <c>heads.pre_logits</c> (with
        /// <c>representation_size</c>) <c>trunc_normal_(std=√(1/fan_in))</c> with bias 0; <c>heads.head</c> weight 0 and bias 0.
        /// </summary>
        public static InitPolicy VisionTransformer()
        {
            var mlpLoop = Rule(Auto, "vit", "MLPBlock.__init__'s loop, Linear xavier_uniform_, bias normal_(std=1e-6)", Is<Linear>, InitScheme.GlorotUniform)
                .ForBias<Linear>(InitScheme.Normal(1e-6));
            var p = AsConstructed.ConstructionLoop("encoder.layers.*.mlp", mlpLoop);
            p = Rule(p, "vit", "conv_proj trunc_normal_(std=math.sqrt(1 / fan_in)), bias 0", c => c.Path == "conv_proj" && Is<Conv2d>(c), TruncatedNormalOverFanIn);
            p = Rule(p, "vit", "conv stem conv_proj.conv_last normal_(std=math.sqrt(2.0 / out_channels)), bias 0",
                c => c.Path == "conv_proj.conv_last" && Is<Conv2d>(c), InitScheme.Normal(FanScale.SqrtOf(2.0, FanMode.FanOut)));
            p = Rule(p, "vit", "heads.pre_logits trunc_normal_(std=math.sqrt(1 / fan_in)), bias 0", c => c.Path == "heads.pre_logits" && Is<Linear>(c), TruncatedNormalOverFanIn);
            return Rule(p, "vit", "heads.head weight 0, bias 0", c => c.Path == "heads.head" && Is<Linear>(c), InitScheme.Zeros).AsPreset()
                .Expects("torchvision vit preset", "conv_proj", "encoder.layers");
        }

        /// <summary>
        /// convnext_tiny/small/base/large and <c>ConvNeXt(block_setting=[CNBlockConfig(…), …])</c>: every layer as constructed (a
        /// <c>CNBlock</c>'s <c>layer_scale</c> is <c>ones(dim, 1, 1) · layer_scale</c>, no draw: declare it with
        /// <see cref="Modules.IInitializable"/>, as a <c>LayerNorm2d</c> of your own declares weight 1 and bias 0), then every Conv2d
        /// and Linear <c>trunc_normal_(std=0.02)</c> (absolute bounds ±2) with bias 0.
        /// </summary>
        public static InitPolicy ConvNeXt() =>
            Rule(AsConstructed, "convnext", "Conv2d and Linear trunc_normal_(std=0.02), bias 0", c => Is<Conv2d>(c) || Is<Linear>(c),
                InitScheme.TruncatedNormal(0.02)).AsPreset()
                .Expects("torchvision convnext preset", c => c.OwnParameters().Any(p => p.Name == "layer_scale"), "a block with a 'layer_scale' parameter (a CNBlock)");

        /// <summary>
        /// efficientnet_b0…b7, efficientnet_v2_s/m/l and <c>EfficientNet(inverted_residual_setting=[MBConvConfig/FusedMBConvConfig…], dropout=…)</c>:
        /// every layer as constructed, then every Conv2d (the squeeze-excitation's <c>fc1</c>/<c>fc2</c> included)
        /// <c>kaiming_normal_(mode="fan_out")</c> (leaky_relu with a = 0: gain √2) with bias 0, BatchNorm2d/GroupNorm weight 1 and
        /// bias 0, every Linear <c>uniform_(−1/√out_features, 1/√out_features)</c> with bias 0 — the bound computed as torchvision's
        /// <c>1.0 / math.sqrt(m.out_features)</c> (<see cref="FanScale.OverSqrt"/>).
        /// </summary>
        public static InitPolicy EfficientNet()
        {
            var p = Rule(AsConstructed, "efficientnet", "Conv2d kaiming_normal_(mode='fan_out'), bias 0", Is<Conv2d>, KaimingNormalFanOut);
            p = Norms(p, "efficientnet", groupNorm: true);
            return Rule(p, "efficientnet", "Linear uniform_(-1.0 / math.sqrt(out_features), 1.0 / math.sqrt(out_features)), bias 0", Is<Linear>,
                InitScheme.Uniform(FanScale.OverSqrt(1.0, FanMode.FanOut))).AsPreset()
                .Expects("torchvision efficientnet preset", "features", "classifier", "features.*.*.block");
        }
    }
}
