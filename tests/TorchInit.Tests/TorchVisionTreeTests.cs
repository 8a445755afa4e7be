using TorchSharp;
using TorchSharp.Modules;
using TorchInit.Modules;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>
/// The torchvision presets for families TorchVision.NET 0.107 lacks — <see cref="InitPolicy.TorchVision.VisionTransformer"/>,
/// <see cref="InitPolicy.TorchVision.ConvNeXt"/>, <see cref="InitPolicy.TorchVision.EfficientNet"/> — on TorchSharp trees with
/// torchvision 0.21's module names and construction order (<see cref="TorchVisionTrees"/>, ported as a user would), against real
/// torchvision: Fixtures/torchvision-trees/*.json from scripts/gen_torchvision_tree_fixtures.py (small configurations of
/// torchvision's own classes; scripts/test.sh checks them against real torchvision when it is installed). Each tree is built after
/// another seed; the preset with <c>Seed = s</c> must give <c>torch.manual_seed(s); torchvision.models.…(…)</c>'s tensors,
/// bit for bit, truncated normals counted in ulp (libtorch 2.10's erfinv against PyTorch 2.6's).
/// </summary>
[Collection(SerialTorchCollection.Name)]
public sealed class TorchVisionTreeTests(ITestOutputHelper output)
{
    /// <summary>A fixture's tree, its preset and the family name its rules cite ("torchvision vit: …").</summary>
    private sealed record Case(Func<nn.Module> Build, Func<InitPolicy> Preset, string Family, ScalarType DType = ScalarType.Float32);

    private static readonly Dictionary<string, Case> Cases = new()
    {
        ["vit_tiny"] = new(() => TorchVisionTrees.Vit(), InitPolicy.TorchVision.VisionTransformer, "vit"),
        ["vit_tiny_pre_logits"] = new(() => TorchVisionTrees.Vit(representationSize: 32), InitPolicy.TorchVision.VisionTransformer, "vit"),
        ["vit_tiny_conv_stem"] = new(() => TorchVisionTrees.Vit(convStem: [new(8, 3, 2), new(16, 3, 2), new(16, 3, 2)]), InitPolicy.TorchVision.VisionTransformer, "vit"),
        ["convnext_tiny_tree"] = new(TorchVisionTrees.ConvNeXtTiny, InitPolicy.TorchVision.ConvNeXt, "convnext"),
        ["efficientnet_v1_tree"] = new(TorchVisionTrees.EfficientNetV1, InitPolicy.TorchVision.EfficientNet, "efficientnet"),
        ["efficientnet_v1_tree_float64"] = new(TorchVisionTrees.EfficientNetV1, InitPolicy.TorchVision.EfficientNet, "efficientnet", ScalarType.Float64),
        ["efficientnet_v2_tree"] = new(TorchVisionTrees.EfficientNetV2, InitPolicy.TorchVision.EfficientNet, "efficientnet"),
    };

    public static readonly TheoryData<string, long> Models = new()
    {
        { "vit_tiny", 0 }, { "vit_tiny", 12345 }, { "vit_tiny_pre_logits", 0 }, { "vit_tiny_conv_stem", 0 },
        { "convnext_tiny_tree", 0 }, { "convnext_tiny_tree", 12345 },
        { "efficientnet_v1_tree", 0 }, { "efficientnet_v1_tree", 12345 }, { "efficientnet_v1_tree_float64", 0 }, { "efficientnet_v2_tree", 0 },
    };

    private static List<ZooFixtures.Entry> Fixture(string model, long seed) => ZooFixtures.Of("torchvision-trees", model, seed);

    /// <summary>The tree of <paramref name="model"/>, built after another seed (its constructors drew other numbers), in the fixture's dtype.</summary>
    private static nn.Module Tree(string model, long seed)
    {
        torch.random.manual_seed(seed + 1);
        var m = Cases[model].Build();
        if (Cases[model].DType != ScalarType.Float32) m.to(Cases[model].DType);
        return m;
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void The_preset_on_a_tree_with_torchvisions_names_gives_torchvisions_tensors(string model, long seed)
    {
        using var scope = NewDisposeScope();
        var m = Tree(model, seed);
        var report = m.ApplyInit(Cases[model].Preset(), new InitOptions { Seed = seed });
        Assert.Empty(report.Unhandled);
        Assert.Empty(report.PolicyWarnings);
        var fixture = Fixture(model, seed);
        var (exact, truncated, different) = ZooFixtures.Compare(m, fixture);
        Assert.True(different.Count == 0, $"{model} seed {seed}: {different.Count} tensors differ beyond erfinv's last bits: {string.Join(", ", different.Take(8))}");
        Assert.Equal(fixture.Count, exact + truncated.Count);
        if (!fixture.Any(e => e.Head is not null)) Assert.Empty(truncated);
        output.WriteLine($"{model} seed {seed}: {exact} of {fixture.Count} tensors bit for bit; {truncated.Count} truncated-normal tensors differ in " +
                         $"{truncated.Sum(t => t.Differing)} of {truncated.Sum(t => t.Compared)} compared elements, by at most {(truncated.Count == 0 ? 0 : truncated.Max(t => t.MaxUlp))} ulp");
        // One row per parameter, each citing the preset's rule or the replayed constructor.
        Assert.Equal(m.named_parameters().Count(), report.Rows.Count);
        Assert.All(report.Rows, r => Assert.True(r.Reason.Contains($"torchvision {Cases[model].Family}: ") || r.Reason.StartsWith("as constructed", StringComparison.Ordinal),
            $"{r.QualifiedName}: '{r.Reason}'"));
    }

    /// <summary>Rows and the rule each must cite (a fragment of its reason), and its scheme where the rule names one.</summary>
    public static readonly TheoryData<string, string, string, string?> Citations = new()
    {
        { "vit_tiny_pre_logits", "conv_proj.weight", "torchvision vit: conv_proj trunc_normal_(std=math.sqrt(1 / fan_in))", "TruncatedNormal(std=sqrt(1/fan_in))" },
        { "vit_tiny_pre_logits", "conv_proj.bias", "torchvision vit: conv_proj trunc_normal_", "zeros" },
        { "vit_tiny_pre_logits", "class_token", "as constructed: VisionTransformer.DeclareInit: nn.Parameter(torch.zeros(1, 1, hidden_dim))", "zeros" },
        { "vit_tiny_pre_logits", "encoder.pos_embedding", "as constructed: Encoder.DeclareInit: ", "Normal(0, 0.02)" },
        { "vit_tiny_pre_logits", "encoder.layers.encoder_layer_0.ln_1.weight", "as constructed: PyTorch's LayerNorm constructor", null },
        { "vit_tiny_pre_logits", "encoder.layers.encoder_layer_0.self_attention.in_proj_weight", "as constructed", null },
        { "vit_tiny_pre_logits", "encoder.layers.encoder_layer_1.mlp.3.weight", "torchvision vit: MLPBlock.__init__'s loop, Linear xavier_uniform_", "GlorotUniform" },
        { "vit_tiny_pre_logits", "encoder.layers.encoder_layer_1.mlp.3.bias", "ForBias<Linear>(Normal(0, 1E-06))", "Normal(0, 1E-06)" },
        { "vit_tiny_pre_logits", "heads.pre_logits.weight", "torchvision vit: heads.pre_logits trunc_normal_(std=math.sqrt(1 / fan_in))", "TruncatedNormal(std=sqrt(1/fan_in))" },
        { "vit_tiny_pre_logits", "heads.head.weight", "torchvision vit: heads.head weight 0, bias 0", "zeros" },
        { "vit_tiny_pre_logits", "heads.head.bias", "torchvision vit: heads.head weight 0, bias 0", "zeros" },
        { "vit_tiny_conv_stem", "conv_proj.conv_last.weight", "torchvision vit: conv stem conv_proj.conv_last normal_(std=math.sqrt(2.0 / out_channels))", "Normal(std=sqrt(2/fan_out))" },
        { "vit_tiny_conv_stem", "conv_proj.conv_bn_relu_0.0.weight", "as constructed: PyTorch's Conv2d constructor", null },
        { "convnext_tiny_tree", "features.1.0.block.0.weight", "torchvision convnext: Conv2d and Linear trunc_normal_(std=0.02), bias 0", "TruncatedNormal(0.02)" },
        { "convnext_tiny_tree", "features.1.0.block.3.bias", "torchvision convnext: Conv2d and Linear trunc_normal_(std=0.02), bias 0", "zeros" },
        { "convnext_tiny_tree", "features.1.0.block.2.weight", "as constructed: PyTorch's LayerNorm constructor", null },
        { "convnext_tiny_tree", "features.1.0.layer_scale", "as constructed: CNBlock.DeclareInit: nn.Parameter(torch.ones(dim, 1, 1) * layer_scale)", "Constant(1E-06)" },
        { "convnext_tiny_tree", "features.0.1.weight", "as constructed: LayerNorm2d.DeclareInit", "ones" },
        { "convnext_tiny_tree", "classifier.2.weight", "torchvision convnext: Conv2d and Linear trunc_normal_(std=0.02)", "TruncatedNormal(0.02)" },
        { "efficientnet_v1_tree", "features.1.0.block.1.fc1.weight", "torchvision efficientnet: Conv2d kaiming_normal_(mode='fan_out'), bias 0", "kaiming_normal(mode=fan_out)" },
        { "efficientnet_v1_tree", "features.1.0.block.1.fc2.bias", "torchvision efficientnet: Conv2d kaiming_normal_(mode='fan_out'), bias 0", "zeros" },
        { "efficientnet_v1_tree", "features.0.1.weight", "torchvision efficientnet: BatchNorm2d/GroupNorm weight 1, bias 0", null },
        { "efficientnet_v1_tree", "classifier.1.weight", "torchvision efficientnet: Linear uniform_(-1.0 / math.sqrt(out_features), 1.0 / math.sqrt(out_features)), bias 0", "Uniform(bound=1/sqrt(fan_out))" },
        { "efficientnet_v2_tree", "features.2.0.block.0.0.weight", "torchvision efficientnet: Conv2d kaiming_normal_(mode='fan_out')", "kaiming_normal(mode=fan_out)" },
    };

    [Theory]
    [MemberData(nameof(Citations))]
    public void Each_row_cites_the_preset_rule_that_gave_it_its_numbers(string model, string parameter, string rule, string? scheme)
    {
        using var scope = NewDisposeScope();
        var report = Tree(model, 0).PlanInit(Cases[model].Preset());
        Assert.Contains(rule, report[parameter].Reason);
        if (scheme is not null) Assert.Equal(scheme, report[parameter].Scheme);
    }

    [Fact]
    public void The_attention_draws_out_proj_before_in_proj_inside_the_vit_preset()
    {
        // PyTorch's (and TorchSharp's) MultiheadAttention builds out_proj first — its weight and bias are drawn — then
        // _reset_parameters draws in_proj_weight (xavier_uniform_) and zeroes in_proj_bias and out_proj.bias. The replay does the
        // same in the preset: the attention's tensors, and every tensor drawn after it (the MLP, the next block), are torchvision's;
        // replayed in parameter order, in_proj_weight would take out_proj's numbers and everything after would shift.
        using var scope = NewDisposeScope();
        var m = Tree("vit_tiny", 0);
        var report = m.ApplyInit(InitPolicy.TorchVision.VisionTransformer(), new InitOptions { Seed = 0 });
        var fixture = Fixture("vit_tiny", 0).ToDictionary(e => e.Name);
        foreach (var layer in new[] { "encoder_layer_0", "encoder_layer_1" })
        {
            string attention = $"encoder.layers.{layer}.self_attention";
            foreach (var name in new[] { "in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias" })
                Assert.True(ZooFixtures.Same(m.get_parameter($"{attention}.{name}")!, fixture[$"{attention}.{name}"]), $"{attention}.{name} differs from torchvision's");
            Assert.True(ZooFixtures.Same(m.get_parameter($"encoder.layers.{layer}.mlp.0.weight")!, fixture[$"encoder.layers.{layer}.mlp.0.weight"]));
            // The report lists the attention in construction order: out_proj, then in_proj; out_proj.bias drawn, then zeroed.
            var rows = report.Rows.Select(r => r.QualifiedName).ToList();
            Assert.True(rows.IndexOf($"{attention}.out_proj.weight") < rows.IndexOf($"{attention}.in_proj_weight"), string.Join(", ", rows.Where(r => r.StartsWith(attention))));
            Assert.Equal("zeros", report[$"{attention}.out_proj.bias"].Scheme);
            Assert.Contains("out_proj.bias to 0 after the Linear drew it", report[$"{attention}.out_proj.bias"].Reason);
        }
        Assert.True(ZooFixtures.Same(m.get_parameter("encoder.ln.weight")!, fixture["encoder.ln.weight"]));
    }

    [Fact]
    public void The_vit_mlp_bias_is_drawn_from_a_normal_by_a_policy_rule()
    {
        // MLPBlock.__init__'s loop: nn.init.normal_(m.bias, std=1e-6) — a bias by its own scheme (ForBias<Linear>(Normal(1e-6)) in
        // the block's ConstructionLoop), not zeros or the Linear's default.
        using var scope = NewDisposeScope();
        var m = Tree("vit_tiny", 12345);
        var report = m.ApplyInit(InitPolicy.TorchVision.VisionTransformer(), new InitOptions { Seed = 12345, MeasureRealized = true });
        var fixture = Fixture("vit_tiny", 12345).ToDictionary(e => e.Name);
        foreach (var name in new[] { "encoder.layers.encoder_layer_0.mlp.0.bias", "encoder.layers.encoder_layer_0.mlp.3.bias", "encoder.layers.encoder_layer_1.mlp.0.bias" })
        {
            var row = report[name];
            Assert.Equal("Normal(0, 1E-06)", row.Scheme);
            Assert.Equal("normal", row.Distribution);
            Assert.InRange(row.RealizedStd, 0.7e-6, 1.3e-6);
            Assert.True(ZooFixtures.Same(m.get_parameter(name)!, fixture[name]), $"{name} differs from torchvision's");
        }
    }

    [Fact]
    public void EfficientNets_linear_bound_is_computed_as_torchvision_writes_it()
    {
        // init_range = 1.0 / math.sqrt(m.out_features): FanScale.OverSqrt(1, fan_out). The variance-scaling form of the same bound,
        // √3 · 1/√(fan_out / (1/3)), is another double for out_features = 10; float64 weights then differ (float32 ones round to the
        // same bound: measured for every fan up to 2,000,000).
        Assert.NotEqual(1.0 / Math.Sqrt(10), Math.Sqrt(3.0) * (1.0 / Math.Sqrt(10 / (1.0 / 3))));
        var varianceScaling = InitScheme.VarianceScaling(1.0 / 3, FanMode.FanOut, Distribution.Uniform);
        foreach (var (model, differs) in new[] { ("efficientnet_v1_tree_float64", true), ("efficientnet_v1_tree", false) })
        {
            using var scope = NewDisposeScope();
            var fixture = Fixture(model, 0);
            var m = Tree(model, 0);
            var report = m.ApplyInit(InitPolicy.TorchVision.EfficientNet(), new InitOptions { Seed = 0 });
            Assert.Empty(ZooFixtures.Compare(m, fixture).Different);
            Assert.Equal(1.0 / Math.Sqrt(10), report["classifier.1.weight"].Bound);
            var other = Tree(model, 0);
            other.ApplyInit(InitPolicy.TorchVision.EfficientNet().For<Linear>(varianceScaling), new InitOptions { Seed = 0 });
            Assert.Equal(differs ? ["classifier.1.weight"] : [], ZooFixtures.Compare(other, fixture).Different);
        }
    }

    [Fact]
    public void Every_tree_module_that_is_not_a_layer_draws_nothing_and_the_layers_inside_are_recognized()
    {
        // Permute, StochasticDepth, SqueezeExcitation, EncoderBlock, MBConv… are custom modules without parameters: no warning;
        // the standard layers inside them are planned by their families; LayerNorm2d (TorchSharp's LayerNorm is sealed) and
        // CNBlock declare theirs (IInitializable), replayed as construction.
        Assert.True(typeof(LayerNorm).IsSealed);
        using var scope = NewDisposeScope();
        foreach (var model in new[] { "vit_tiny_conv_stem", "convnext_tiny_tree", "efficientnet_v2_tree" })
        {
            var report = Tree(model, 0).PlanInit(Cases[model].Preset());
            Assert.Empty(report.PolicyWarnings);
            Assert.Empty(report.Unhandled);
            Assert.All(report.Rows, r => Assert.Equal(InitAction.Planned, r.Action));
        }
    }

    [Fact]
    public void The_trees_are_working_models()
    {
        using var scope = NewDisposeScope();
        foreach (var (model, input) in new[] { ("vit_tiny", 32L), ("vit_tiny_pre_logits", 32L), ("vit_tiny_conv_stem", 32L), ("convnext_tiny_tree", 32L), ("efficientnet_v2_tree", 32L) })
        {
            var m = (nn.Module<Tensor, Tensor>)Tree(model, 0);
            m.ApplyInit(Cases[model].Preset(), new InitOptions { Seed = 0 });
            m.eval();
            using var _ = no_grad();
            Assert.Equal([2L, 10L], m.call(randn(2, 3, input, input)).shape);
        }
    }

    // ---- FanScale: a std or bound from the fan, as Python writes it ----

    [Fact]
    public void A_fan_scale_is_the_double_pythons_expression_gives_and_its_text_parses_back()
    {
        using var scope = NewDisposeScope();
        using var w = empty(48, 3, 8, 8);   // fan_in 192, fan_out 3072
        var sqrtOf = InitScheme.TruncatedNormal(FanScale.SqrtOf(1, FanMode.FanIn));
        var overSqrt = InitScheme.Uniform(FanScale.OverSqrt(1, FanMode.FanOut));
        var normal = InitScheme.Normal(FanScale.SqrtOf(2, FanMode.FanAvg));
        Assert.Equal(Math.Sqrt(1.0 / 192), w.ApplyInit(sqrtOf).Rows.Single().TargetStd);   // math.sqrt(1 / fan_in)
        Assert.NotEqual(Math.Sqrt(1.0 / 192), 1.0 / Math.Sqrt(192));                       // the other form is another double
        Assert.Equal(1.0 / Math.Sqrt(3072), w.ApplyInit(overSqrt).Rows.Single().Bound);      // 1.0 / math.sqrt(fan_out)
        Assert.Equal(Math.Sqrt(2.0 / ((192 + 3072) / 2.0)), w.ApplyInit(normal).Rows.Single().TargetStd);
        foreach (var (scheme, text) in new[] { (sqrtOf, "TruncatedNormal(std=sqrt(1/fan_in))"), (overSqrt, "Uniform(bound=1/sqrt(fan_out))"),
                     (normal, "Normal(std=sqrt(2/fan_avg))"), (InitScheme.TruncatedNormal(FanScale.SqrtOf(0.5, FanMode.FanOut), -1, 1), "TruncatedNormal(std=sqrt(0.5/fan_out), a=-1, b=1)") })
        {
            Assert.Equal(text, scheme.ToString());
            Assert.Equal(scheme, InitScheme.Parse(text));
        }
        Assert.Equal(InitScheme.Uniform(-0.1, 0.1), InitScheme.Parse("Uniform(-0.1, 0.1)"));   // the fixed-number schemes read as before
        Assert.Equal(InitScheme.TruncatedNormal(FanScale.SqrtOf(1, FanMode.FanIn)), InitScheme.Parse("trunc_normal(std=sqrt(1/fan_in))"));
        // Drawn as torch.nn.init draws: the same bits as Init.TruncNormal with that std.
        using var a = empty(48, 3, 8, 8);
        using var b = empty(48, 3, 8, 8);
        a.ApplyInit(sqrtOf, new InitOptions { Seed = 3 });
        using (var g = new Generator(3)) Init.TruncNormal(b, 0, Math.Sqrt(1.0 / 192), -2, 2, g);
        Assert.True(a.bytes.SequenceEqual(b.bytes));
    }

    [Fact]
    public void Bad_fan_scales_are_refused_with_a_clear_message_and_nothing_is_written()
    {
        Assert.Throws<ArgumentException>(() => FanScale.SqrtOf(0, FanMode.FanIn));
        Assert.Throws<ArgumentException>(() => FanScale.OverSqrt(double.NaN, FanMode.FanOut));
        Assert.Throws<ArgumentOutOfRangeException>(() => FanScale.SqrtOf(1, (FanMode)7));
        Assert.Throws<ArgumentException>(() => InitScheme.TruncatedNormal(FanScale.SqrtOf(1, FanMode.FanIn), 2, -2));
        Assert.Throws<ArgumentNullException>(() => InitScheme.Uniform((FanScale)null!));
        Assert.Contains("positive finite", Assert.Throws<ArgumentException>(() => InitScheme.Parse("Uniform(bound=-1/sqrt(fan_out))")).Message);
        Assert.Contains("fan_up", Assert.Throws<ArgumentException>(() => InitScheme.Parse("Normal(std=sqrt(1/fan_up))")).Message);

        // A zero fan (Python: ZeroDivisionError) is refused while planning: the model is left as it was.
        using var scope = NewDisposeScope();
        var m = nn.Sequential(("fc", nn.Linear(3, 4)), ("bad", new ZeroFan()));
        var before = m.named_parameters().ToDictionary(p => p.name, p => p.parameter.bytes.ToArray());
        var ex = Assert.Throws<ArgumentException>(() => m.ApplyInit(InitPolicy.TorchVision.VisionTransformer(), new InitOptions { Seed = 0 }));
        Assert.Contains("divides by fan_in, which is 0", ex.Message);
        Assert.All(m.named_parameters(), p => Assert.True(before[p.name].SequenceEqual(p.parameter.bytes.ToArray()), $"{p.name} was written"));
    }

    private sealed class ZeroFan : nn.Module<Tensor, Tensor>, IInitializable
    {
        private readonly Parameter w = nn.Parameter(zeros(4, 4));
        public ZeroFan() : base(nameof(ZeroFan)) => RegisterComponents();
        public void DeclareInit(ParameterDeclarations init) =>
            init.Use("w", InitScheme.TruncatedNormal(FanScale.SqrtOf(1, FanMode.FanIn)), "declared with a zero fan", new Fans(0, 4));
        public override Tensor forward(Tensor x) => x.matmul(w);
    }
}

/// <summary>
/// torchvision 0.21's ViT, ConvNeXt and EfficientNet as a TorchSharp user ports them: torchvision's module names, registration and
/// construction order (fields in the order torchvision assigns them), small configurations (the fixtures' calls in
/// scripts/gen_torchvision_tree_fixtures.py). The modules that are not layers (Permute, StochasticDepth, SqueezeExcitation,
/// the blocks) have no parameters of their own; those that have (VisionTransformer's class token, Encoder's position embedding,
/// CNBlock's layer scale, LayerNorm2d — TorchSharp's LayerNorm is sealed) declare them (<see cref="IInitializable"/>) as their
/// Python constructors make them.
/// </summary>
internal static class TorchVisionTrees
{
    // ---- shared: torchvision.ops ----

    /// <summary>torchvision.ops.Conv2dNormActivation: Conv2d (bias only without a norm), the norm, the activation, children 0, 1, 2.</summary>
    public static Sequential Conv2dNormActivation(long input, long output, long kernel, long stride = 1, long? padding = null, long groups = 1,
        Func<long, nn.Module<Tensor, Tensor>>? norm = null, nn.Module<Tensor, Tensor>? activation = null, bool? bias = null)
    {
        var layers = new List<nn.Module<Tensor, Tensor>>
        {
            nn.Conv2d(input, output, kernel, stride: stride, padding: padding ?? (kernel - 1) / 2, groups: groups, bias: bias ?? norm is null),
        };
        if (norm is not null) layers.Add(norm(output));
        if (activation is not null) layers.Add(activation);
        return nn.Sequential(layers);
    }

    /// <summary>torchvision.ops.StochasticDepth: drops a residual branch per row while training; no parameters, no draws when built.</summary>
    public sealed class StochasticDepth(double p) : nn.Module<Tensor, Tensor>(nameof(StochasticDepth))
    {
        public override Tensor forward(Tensor x)
        {
            if (!training || p == 0) return x.alias();
            using var keep = bernoulli(full([x.shape[0], .. Enumerable.Repeat(1L, (int)x.dim() - 1)], 1 - p, dtype: x.dtype, device: x.device));
            return x * keep / (1 - p);
        }
    }

    /// <summary>torchvision.ops.Permute.</summary>
    public sealed class Permute(long[] dims) : nn.Module<Tensor, Tensor>(nameof(Permute))
    {
        public override Tensor forward(Tensor x) => x.permute(dims);
    }

    // ---- ViT: torchvision.models.vision_transformer ----

    public sealed record ConvStemConfig(long OutChannels, long KernelSize, long Stride);

    /// <summary>VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=2, hidden_dim=48, mlp_dim=96, num_classes=10, …).</summary>
    public static VisionTransformer Vit(long? representationSize = null, ConvStemConfig[]? convStem = null) =>
        new(32, 8, 2, 2, 48, 96, 10, representationSize, convStem);

    public sealed class VisionTransformer : nn.Module<Tensor, Tensor>, IInitializable
    {
        private readonly long hidden;
        private readonly nn.Module<Tensor, Tensor> conv_proj;
        private readonly Parameter class_token;
        private readonly Encoder encoder;
        private readonly Sequential heads;

        public VisionTransformer(long imageSize, long patchSize, int layers, long numHeads, long hidden, long mlp, long classes,
            long? representationSize, ConvStemConfig[]? convStem) : base(nameof(VisionTransformer))
        {
            this.hidden = hidden;
            if (convStem is null) conv_proj = nn.Conv2d(3, hidden, patchSize, stride: patchSize);
            else
            {
                var stem = new List<(string, nn.Module<Tensor, Tensor>)>();
                long previous = 3;
                for (int i = 0; i < convStem.Length; i++)
                {
                    var c = convStem[i];
                    stem.Add(($"conv_bn_relu_{i}", Conv2dNormActivation(previous, c.OutChannels, c.KernelSize, c.Stride, norm: n => nn.BatchNorm2d(n), activation: nn.ReLU())));
                    previous = c.OutChannels;
                }
                stem.Add(("conv_last", nn.Conv2d(previous, hidden, 1)));
                conv_proj = nn.Sequential(stem);
            }
            class_token = nn.Parameter(zeros(1, 1, hidden));
            encoder = new Encoder((imageSize / patchSize) * (imageSize / patchSize) + 1, layers, numHeads, hidden, mlp);
            heads = representationSize is long r
                ? nn.Sequential(("pre_logits", nn.Linear(hidden, r)), ("act", nn.Tanh()), ("head", nn.Linear(r, classes)))
                : nn.Sequential(("head", nn.Linear(hidden, classes)));
            RegisterComponents();
        }

        public void DeclareInit(ParameterDeclarations init) =>
            init.Use("class_token", InitScheme.Zeros, "nn.Parameter(torch.zeros(1, 1, hidden_dim))");

        public override Tensor forward(Tensor images)
        {
            using var scope = NewDisposeScope();
            var x = conv_proj.call(images);
            x = x.reshape(x.shape[0], hidden, -1).permute(0, 2, 1);
            x = cat([class_token.expand(x.shape[0], -1, -1), x], 1);
            return heads.call(encoder.call(x)[.., 0]).MoveToOuterDisposeScope();
        }
    }

    public sealed class Encoder : nn.Module<Tensor, Tensor>, IInitializable
    {
        private readonly Parameter pos_embedding;
        private readonly Dropout dropout = nn.Dropout(0.0);
        private readonly Sequential layers;
        private readonly LayerNorm ln;

        public Encoder(long sequence, int layers, long numHeads, long hidden, long mlp) : base(nameof(Encoder))
        {
            pos_embedding = nn.Parameter(empty(1, sequence, hidden));
            this.layers = nn.Sequential(Enumerable.Range(0, layers).Select(i => ($"encoder_layer_{i}", (nn.Module<Tensor, Tensor>)new EncoderBlock(numHeads, hidden, mlp))).ToList());
            ln = nn.LayerNorm(hidden, 1e-6);
            RegisterComponents();
        }

        public void DeclareInit(ParameterDeclarations init) =>
            init.Use("pos_embedding", InitScheme.Normal(0.02), "nn.Parameter(torch.empty(1, seq_length, hidden_dim).normal_(std=0.02)), before the layers");

        public override Tensor forward(Tensor x) => ln.call(layers.call(dropout.call(x + pos_embedding)));
    }

    public sealed class EncoderBlock : nn.Module<Tensor, Tensor>
    {
        private readonly LayerNorm ln_1;
        private readonly MultiheadAttention self_attention;
        private readonly Dropout dropout = nn.Dropout(0.0);
        private readonly LayerNorm ln_2;
        private readonly Sequential mlp;

        public EncoderBlock(long numHeads, long hidden, long mlpDim) : base(nameof(EncoderBlock))
        {
            ln_1 = nn.LayerNorm(hidden, 1e-6);
            self_attention = nn.MultiheadAttention(hidden, numHeads, 0.0);
            ln_2 = nn.LayerNorm(hidden, 1e-6);
            // MLPBlock (torchvision.ops.MLP): Linear, GELU, Dropout, Linear, Dropout; its __init__'s loop is the preset's ConstructionLoop.
            mlp = nn.Sequential(nn.Linear(hidden, mlpDim), nn.GELU(), nn.Dropout(0.0), nn.Linear(mlpDim, hidden), nn.Dropout(0.0));
            RegisterComponents();
        }

        /// <summary>[batch, sequence, hidden] (batch first, as torchvision's attention); TorchSharp's attention is sequence-first.</summary>
        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            var x = ln_1.call(input).transpose(0, 1);
            x = dropout.call(self_attention.call(x, x, x, null, false, null).Item1.transpose(0, 1)) + input;
            return (x + mlp.call(ln_2.call(x))).MoveToOuterDisposeScope();
        }
    }

    // ---- ConvNeXt: torchvision.models.convnext ----

    /// <summary>torchvision's LayerNorm2d (a subclass of nn.LayerNorm in Python; TorchSharp's LayerNorm is sealed): weight 1, bias 0 over channels.</summary>
    public sealed class LayerNorm2d : nn.Module<Tensor, Tensor>, IInitializable
    {
        private readonly Parameter weight;
        private readonly Parameter bias;
        private readonly long[] shape;

        public LayerNorm2d(long channels) : base(nameof(LayerNorm2d))
        {
            shape = [channels];
            weight = nn.Parameter(ones(channels));
            bias = nn.Parameter(zeros(channels));
            RegisterComponents();
        }

        public void DeclareInit(ParameterDeclarations init) =>
            init.Use("weight", InitScheme.Ones, "nn.LayerNorm.reset_parameters: ones_").Use("bias", InitScheme.Zeros, "nn.LayerNorm.reset_parameters: zeros_");

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            return nn.functional.layer_norm(x.permute(0, 2, 3, 1), shape, weight, bias, 1e-6).permute(0, 3, 1, 2).MoveToOuterDisposeScope();
        }
    }

    public sealed class CNBlock : nn.Module<Tensor, Tensor>, IInitializable
    {
        private readonly Sequential block;
        private readonly Parameter layer_scale;
        private readonly StochasticDepth stochastic_depth;
        private readonly double layerScale;

        public CNBlock(long dim, double layerScale, double stochasticDepthProb) : base(nameof(CNBlock))
        {
            this.layerScale = layerScale;
            block = nn.Sequential(
                nn.Conv2d(dim, dim, 7, padding: 3, groups: dim), new Permute([0, 2, 3, 1]), nn.LayerNorm(dim, 1e-6),
                nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim), new Permute([0, 3, 1, 2]));
            layer_scale = nn.Parameter(ones(dim, 1, 1) * layerScale);
            stochastic_depth = new StochasticDepth(stochasticDepthProb);
            RegisterComponents();
        }

        public void DeclareInit(ParameterDeclarations init) =>
            init.Use("layer_scale", InitScheme.Constant(layerScale), "nn.Parameter(torch.ones(dim, 1, 1) * layer_scale), no draw");

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            return (stochastic_depth.call(layer_scale * block.call(input)) + input).MoveToOuterDisposeScope();
        }
    }

    public sealed record CNBlockConfig(long InputChannels, long? OutChannels, int Layers);

    /// <summary>ConvNeXt(block_setting=[CNBlockConfig(8, 16, 2), CNBlockConfig(16, None, 1)], stochastic_depth_prob=0.1, num_classes=10).</summary>
    public static nn.Module ConvNeXtTiny() => new ConvNeXt([new(8, 16, 2), new(16, null, 1)], 0.1, 1e-6, 10);

    public sealed class ConvNeXt : nn.Module<Tensor, Tensor>
    {
        private readonly Sequential features;
        private readonly AdaptiveAvgPool2d avgpool = nn.AdaptiveAvgPool2d(1);
        private readonly Sequential classifier;

        public ConvNeXt(CNBlockConfig[] setting, double stochasticDepthProb, double layerScale, long classes) : base(nameof(ConvNeXt))
        {
            var layers = new List<nn.Module<Tensor, Tensor>>
            {
                Conv2dNormActivation(3, setting[0].InputChannels, 4, 4, padding: 0, norm: c => new LayerNorm2d(c), bias: true),
            };
            int total = setting.Sum(s => s.Layers), id = 0;
            foreach (var s in setting)
            {
                layers.Add(nn.Sequential(Enumerable.Range(0, s.Layers)
                    .Select(_ => (nn.Module<Tensor, Tensor>)new CNBlock(s.InputChannels, layerScale, stochasticDepthProb * id++ / (total - 1.0))).ToList()));
                if (s.OutChannels is long output)
                    layers.Add(nn.Sequential(new LayerNorm2d(s.InputChannels), nn.Conv2d(s.InputChannels, output, 2, stride: 2)));
            }
            features = nn.Sequential(layers);
            long last = setting[^1].OutChannels ?? setting[^1].InputChannels;
            classifier = nn.Sequential(new LayerNorm2d(last), nn.Flatten(1), nn.Linear(last, classes));
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            return classifier.call(avgpool.call(features.call(x))).MoveToOuterDisposeScope();
        }
    }

    // ---- EfficientNet: torchvision.models.efficientnet ----

    /// <summary>torchvision.ops.SqueezeExcitation: avgpool, fc1, fc2 (1×1 Conv2d with bias), activation, scale_activation.</summary>
    public sealed class SqueezeExcitation : nn.Module<Tensor, Tensor>
    {
        private readonly AdaptiveAvgPool2d avgpool = nn.AdaptiveAvgPool2d(1);
        private readonly Conv2d fc1;
        private readonly Conv2d fc2;
        private readonly SiLU activation = nn.SiLU();
        private readonly Sigmoid scale_activation = nn.Sigmoid();

        public SqueezeExcitation(long input, long squeeze) : base(nameof(SqueezeExcitation))
        {
            fc1 = nn.Conv2d(input, squeeze, 1);
            fc2 = nn.Conv2d(squeeze, input, 1);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            return (scale_activation.call(fc2.call(activation.call(fc1.call(avgpool.call(x))))) * x).MoveToOuterDisposeScope();
        }
    }

    /// <summary>MBConvConfig / FusedMBConvConfig (channels already multiples of 8, so _make_divisible keeps them).</summary>
    public sealed record BlockConfig(bool Fused, long ExpandRatio, long Kernel, long Stride, long InputChannels, long OutChannels, int Layers);

    /// <summary>MBConv, or FusedMBConv (<see cref="BlockConfig.Fused"/>): block (Conv2dNormActivations, squeeze-excitation), stochastic_depth.</summary>
    public sealed class MBConv : nn.Module<Tensor, Tensor>
    {
        private readonly Sequential block;
        private readonly StochasticDepth stochastic_depth;
        private readonly bool residual;

        public MBConv(BlockConfig c, double stochasticDepthProb) : base(c.Fused ? "FusedMBConv" : nameof(MBConv))
        {
            residual = c.Stride == 1 && c.InputChannels == c.OutChannels;
            long expanded = c.InputChannels * c.ExpandRatio;
            Func<long, nn.Module<Tensor, Tensor>> bn = n => nn.BatchNorm2d(n);
            var layers = new List<nn.Module<Tensor, Tensor>>();
            if (c.Fused)
            {
                if (expanded != c.InputChannels)
                {
                    layers.Add(Conv2dNormActivation(c.InputChannels, expanded, c.Kernel, c.Stride, norm: bn, activation: nn.SiLU()));
                    layers.Add(Conv2dNormActivation(expanded, c.OutChannels, 1, norm: bn));
                }
                else layers.Add(Conv2dNormActivation(c.InputChannels, c.OutChannels, c.Kernel, c.Stride, norm: bn, activation: nn.SiLU()));
            }
            else
            {
                if (expanded != c.InputChannels) layers.Add(Conv2dNormActivation(c.InputChannels, expanded, 1, norm: bn, activation: nn.SiLU()));
                layers.Add(Conv2dNormActivation(expanded, expanded, c.Kernel, c.Stride, groups: expanded, norm: bn, activation: nn.SiLU()));
                layers.Add(new SqueezeExcitation(expanded, Math.Max(1, c.InputChannels / 4)));
                layers.Add(Conv2dNormActivation(expanded, c.OutChannels, 1, norm: bn));
            }
            block = nn.Sequential(layers);
            stochastic_depth = new StochasticDepth(stochasticDepthProb);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input)
        {
            using var scope = NewDisposeScope();
            var result = block.call(input);
            return (residual ? stochastic_depth.call(result) + input : result).MoveToOuterDisposeScope();
        }
    }

    /// <summary>EfficientNet([MBConvConfig(1, 3, 1, 8, 8, 1), MBConvConfig(6, 5, 2, 8, 16, 2)], dropout=0.2, num_classes=10).</summary>
    public static nn.Module EfficientNetV1() => new EfficientNet([new(false, 1, 3, 1, 8, 8, 1), new(false, 6, 5, 2, 8, 16, 2)], 0.2, 10, null);

    /// <summary>EfficientNet([FusedMBConvConfig(1, 3, 1, 8, 8, 1), FusedMBConvConfig(4, 3, 2, 8, 16, 1), MBConvConfig(4, 3, 2, 16, 24, 1)], dropout=0.2, num_classes=10, last_channel=64).</summary>
    public static nn.Module EfficientNetV2() =>
        new EfficientNet([new(true, 1, 3, 1, 8, 8, 1), new(true, 4, 3, 2, 8, 16, 1), new(false, 4, 3, 2, 16, 24, 1)], 0.2, 10, 64);

    public sealed class EfficientNet : nn.Module<Tensor, Tensor>
    {
        private readonly Sequential features;
        private readonly AdaptiveAvgPool2d avgpool = nn.AdaptiveAvgPool2d(1);
        private readonly Sequential classifier;

        public EfficientNet(BlockConfig[] setting, double dropout, long classes, long? lastChannel, double stochasticDepthProb = 0.2) : base(nameof(EfficientNet))
        {
            Func<long, nn.Module<Tensor, Tensor>> bn = n => nn.BatchNorm2d(n);
            var layers = new List<nn.Module<Tensor, Tensor>> { Conv2dNormActivation(3, setting[0].InputChannels, 3, 2, norm: bn, activation: nn.SiLU()) };
            int total = setting.Sum(s => s.Layers), id = 0;
            foreach (var s in setting)
                layers.Add(nn.Sequential(Enumerable.Range(0, s.Layers)
                    .Select(i => (nn.Module<Tensor, Tensor>)new MBConv(i == 0 ? s : s with { InputChannels = s.OutChannels, Stride = 1 }, stochasticDepthProb * id++ / total)).ToList()));
            long last = lastChannel ?? 4 * setting[^1].OutChannels;
            layers.Add(Conv2dNormActivation(setting[^1].OutChannels, last, 1, norm: bn, activation: nn.SiLU()));
            features = nn.Sequential(layers);
            classifier = nn.Sequential(nn.Dropout(dropout), nn.Linear(last, classes));
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            return classifier.call(avgpool.call(features.call(x)).flatten(1)).MoveToOuterDisposeScope();
        }
    }
}
