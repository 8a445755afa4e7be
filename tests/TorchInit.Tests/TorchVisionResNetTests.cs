using System.Reflection;
using System.Security.Cryptography;
using System.Text.Json;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>
/// Real torchvision ResNets as the reference: tests/TorchInit.Tests/Fixtures/torchvision/*.json hold the SHA-256 of every
/// parameter and buffer of <c>torch.manual_seed(s); torchvision.models.resnet18/resnet50(weights=None,
/// zero_init_residual=Z)</c> (scripts/gen_torchvision_fixtures.py; scripts/test.sh checks them against real torchvision
/// when it is installed). Three things are held against them bit for bit:
/// TorchVision.NET's own constructors (a); those models with <see cref="InitPolicy.ZeroLastNormIn(Func{ModuleContext, bool}, string)"/>
/// on their residual blocks standing for <c>zero_init_residual=True</c> (b); and a user's own TorchSharp ResNet with
/// torchvision's module names and construction order, initialised by TorchInit with torchvision's rules (c).
/// </summary>
public sealed class TorchVisionResNetTests
{
    public static readonly TheoryData<string, long> ModelsAndSeeds = new()
    {
        { "resnet18", 0 }, { "resnet18", 12345 }, { "resnet50", 0 }, { "resnet50", 12345 },
    };

    public static readonly TheoryData<string, long, bool> ModelsSeedsAndZero = new()
    {
        { "resnet18", 0, false }, { "resnet18", 0, true }, { "resnet18", 12345, false }, { "resnet18", 12345, true },
        { "resnet50", 0, false }, { "resnet50", 0, true }, { "resnet50", 12345, false }, { "resnet50", 12345, true },
    };

    // ---- (a) TorchVision.NET's constructors ----

    [Theory]
    [MemberData(nameof(ModelsAndSeeds))]
    public void TorchVisionNet_constructor_equals_torchvision(string model, long seed)
    {
        using var m = TorchVisionNet(model, seed);
        AssertEqualsFixture(m, model, seed, zeroInitResidual: false, "TorchVision.NET's constructor");
    }

    [Theory]
    [MemberData(nameof(ModelsAndSeeds))]
    public void TorchVisionNet_own_zero_init_residual_equals_torchvision(string model, long seed)
    {
        using var m = TorchVisionNet(model, seed, zeroInitResidual: true);
        AssertEqualsFixture(m, model, seed, zeroInitResidual: true, "TorchVision.NET's constructor with zero_init_residual: true");
    }

    // ---- (b) ZeroLastNormIn on TorchVision.NET's blocks = zero_init_residual ----

    [Theory]
    [MemberData(nameof(ModelsAndSeeds))]
    public void ZeroLastNormIn_on_TorchVisionNet_blocks_equals_zero_init_residual(string model, long seed)
    {
        using var m = TorchVisionNet(model, seed);
        // BasicBlock and Bottleneck are private classes nested in TorchSharp.Modules.ResNet: a predicate on the type.
        var block = TorchVisionBlockType(model);
        m.ApplyInit(InitPolicy.Auto.ZeroLastNormIn(c => c.Is(block), $"ZeroLastNormIn<{block.Name}>"),
            new InitOptions { LayerTypes = [typeof(BatchNorm2d)] });
        AssertEqualsFixture(m, model, seed, zeroInitResidual: true, $"TorchVision.NET's {model} + ZeroLastNormIn<{block.Name}>");
    }

    // ---- (c) a user's own ResNet with torchvision's rules written as a TorchInit policy ----

    [Theory]
    [MemberData(nameof(ModelsSeedsAndZero))]
    public void Own_resnet_with_torchvision_policy_equals_torchvision(string model, long seed, bool zeroInitResidual)
    {
        torch.random.manual_seed(seed);
        using var m = model == "resnet18" ? OwnResNet.ResNet18() : OwnResNet.ResNet50();
        // torchvision's ResNet.__init__ loop: every Conv2d kaiming_normal_(mode=fan_out, nonlinearity=relu), every
        // BatchNorm2d weight 1 and bias 0 (Auto's normalization rule), fc left as constructed; zero_init_residual then
        // zeroes the weight of the block's last BatchNorm of its residual branch.
        var policy = InitPolicy.Auto.For<Conv2d>(InitScheme.Parse("kaiming_normal(mode=fan_out, nonlinearity=relu)"));
        if (zeroInitResidual) policy = policy.ZeroLastNormIn<OwnResNet.BasicBlock>().ZeroLastNormIn<OwnResNet.Bottleneck>();
        m.ApplyInit(policy, new InitOptions { LayerTypes = [typeof(Conv2d), typeof(BatchNorm2d)] });
        string described = "Auto.For<Conv2d>(kaiming_normal(mode=fan_out, nonlinearity=relu))" + (zeroInitResidual ? ".ZeroLastNormIn<BasicBlock/Bottleneck>" : "");
        AssertEqualsFixture(m, model, seed, zeroInitResidual, $"own {model} + {described}");
    }

    // ---- Auto under a trace, on TorchVision.NET's trees ----

    [Theory]
    [InlineData("resnet18")]
    [InlineData("resnet50")]
    public void Under_the_trace_Auto_gives_every_conv_of_TorchVisionNets_resnet_He_or_asks_for_a_hint(string model)
    {
        using var scope = torch.NewDisposeScope();
        using var m = (nn.Module<Tensor, Tensor>)TorchVisionNet(model, 0);
        var sample = torch.randn(1, 3, 64, 64);
        var report = m.PlanInit(InitPolicy.Auto, null, sample);
        var convs = report.Rows.Where(r => r.LayerType == "Conv2d" && r.Parameter == "weight").ToList();
        Assert.Equal(model == "resnet18" ? 20 : 53, convs.Count);
        // TorchVision.NET's blocks apply the ReLU after the residual sum without a call() that hooks see, so the layers that
        // feed the sum (conv2 / conv3 and the downsample convs) are assumed, with a reason that says to add a hint; the
        // shortcut is passed over (the reason of a downsampling block's last conv names it), never taken for what follows.
        string last = model == "resnet18" ? "conv2" : "conv3";
        foreach (var r in convs)
        {
            bool feedsSum = r.Path.EndsWith(last, StringComparison.Ordinal) || r.Path.EndsWith("downsample.0", StringComparison.Ordinal);
            if (feedsSum) Assert.True(r.ActivationSource == ActivationSource.Assumed && r.Reason.Contains("add a hint"), $"{r.Path}: {r.Reason}");
            else Assert.True(r.Scheme == "HeNormal" && r.ActivationSource == ActivationSource.Traced, $"{r.Path}: {r.Scheme} ({r.ActivationSource}): {r.Reason}");
        }
        Assert.Contains("the shortcut Sequential 'layer2.0.downsample'", report[$"layer2.0.{last}.weight"].Reason);
        // With the hint the reason asks for, every conv gets He.
        var hinted = m.PlanInit(InitPolicy.Auto.Hint($"layer*.{last}", Activation.Relu).Hint("layer*.downsample.0", Activation.Relu), null, sample);
        Assert.All(hinted.Rows.Where(r => r.LayerType == "Conv2d" && r.Parameter == "weight"), r => Assert.Equal("HeNormal", r.Scheme));
    }

    // ---- (d) the one-line preset, on TorchVision.NET's trees built from another seed ----

    [Theory]
    [MemberData(nameof(ModelsSeedsAndZero))]
    public void TorchVision_ResNet_preset_on_any_TorchVisionNet_tree_equals_torchvision(string model, long seed, bool zeroInitResidual)
    {
        // Built after another seed (its constructors drew other numbers): the preset replays the construction draws from the
        // call's Seed, then torchvision's init loop, so the result does not depend on how or when the tree was built.
        using var m = TorchVisionNet(model, seed + 1);
        var report = m.ApplyInit(InitPolicy.TorchVision.ResNet(zeroInitResidual), new InitOptions { Seed = seed });
        AssertEqualsFixture(m, model, seed, zeroInitResidual, $"TorchVision.NET's {model} + InitPolicy.TorchVision.ResNet({zeroInitResidual})");
        Assert.Empty(report.Unhandled);
        Assert.Contains("torchvision resnet: Conv2d kaiming_normal_", report["conv1.weight"].Reason);
        Assert.Contains("as constructed", report["fc.weight"].Reason);
    }

    // ---- TorchVision.NET ----

    private static nn.Module TorchVisionNet(string model, long seed, bool zeroInitResidual = false)
    {
        torch.random.manual_seed(seed);
        return model switch
        {
            "resnet18" => torchvision.models.resnet18(zero_init_residual: zeroInitResidual),
            "resnet50" => torchvision.models.resnet50(zero_init_residual: zeroInitResidual),
            _ => throw new ArgumentException(model),
        };
    }

    private static Type TorchVisionBlockType(string model)
    {
        var name = model == "resnet18" ? "BasicBlock" : "Bottleneck";
        return typeof(TorchSharp.Modules.ResNet).GetNestedType(name, BindingFlags.Public | BindingFlags.NonPublic)
               ?? throw new InvalidOperationException($"TorchVision.NET has no TorchSharp.Modules.ResNet.{name}");
    }

    // ---- fixtures and hashing ----

    private sealed record Entry(string Kind, string Name, string DType, long[] Shape, string Sha256)
    {
        /// <summary>dtype, shape and hash, and "all 0" / "all 1" where the hash is that of a constant tensor (the values zero_init_residual is about).</summary>
        public string Describe()
        {
            string text = $"{DType}[{string.Join(", ", Shape)}] {Sha256[..16]}";
            if (DType != "float32") return text;
            foreach (var v in new[] { 0f, 1f })
            {
                using var c = torch.full(Shape, v, ScalarType.Float32);
                if (Hash("", "", c).Sha256 == Sha256) return $"{text} (all {v})";
            }
            return text;
        }
    }

    private static readonly Dictionary<string, JsonDocument> Docs = new();

    private static List<Entry> Fixture(string model, long seed, bool zeroInitResidual)
    {
        lock (Docs)
        {
            if (!Docs.TryGetValue(model, out var doc))
                Docs[model] = doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "torchvision", $"{model}.json")));
            var variant = doc.RootElement.GetProperty("variants").EnumerateArray()
                .Single(v => v.GetProperty("seed").GetInt64() == seed && v.GetProperty("zero_init_residual").GetBoolean() == zeroInitResidual);
            return variant.GetProperty("tensors").EnumerateArray().Select(t => new Entry(
                t.GetProperty("kind").GetString()!, t.GetProperty("name").GetString()!, t.GetProperty("dtype").GetString()!,
                t.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray(), t.GetProperty("sha256").GetString()!)).ToList();
        }
    }

    /// <summary>As the generator: parameters in named_parameters() order, then buffers in named_buffers() order; SHA-256 of the contiguous bytes.</summary>
    private static List<Entry> Hashes(nn.Module m) =>
        m.named_parameters().Select(p => Hash("parameter", p.name, p.parameter))
         .Concat(m.named_buffers().Select(b => Hash("buffer", b.name, b.buffer))).ToList();

    private static Entry Hash(string kind, string name, Tensor t)
    {
        using var c = t.detach().cpu().contiguous();
        return new Entry(kind, name, DTypeName(c.dtype), c.shape, Convert.ToHexString(SHA256.HashData(c.bytes)).ToLowerInvariant());
    }

    private static string DTypeName(ScalarType t) => t switch
    {
        ScalarType.Float32 => "float32", ScalarType.Float64 => "float64", ScalarType.Int64 => "int64",
        ScalarType.Float16 => "float16", ScalarType.BFloat16 => "bfloat16", _ => t.ToString(),
    };

    /// <summary>Every tensor is checked (one failure per differing tensor, naming it), then the order.</summary>
    private static void AssertEqualsFixture(nn.Module m, string model, long seed, bool zeroInitResidual, string what)
    {
        var expected = Fixture(model, seed, zeroInitResidual);
        var actual = Hashes(m);
        var byName = actual.ToDictionary(e => e.Kind + " " + e.Name);
        string against = $"torchvision.models.{model}(zero_init_residual={(zeroInitResidual ? "True" : "False")}) seed {seed}";
        var checks = new List<Action>();
        foreach (var e in expected)
        {
            checks.Add(() =>
            {
                Assert.True(byName.TryGetValue(e.Kind + " " + e.Name, out var a), $"{what}: {e.Kind} {e.Name} is missing (in {against})");
                Assert.True(a!.DType == e.DType && a.Shape.SequenceEqual(e.Shape) && a.Sha256 == e.Sha256,
                    $"{what}: {e.Kind} {e.Name} differs from {against}: {a.Describe()} against {e.Describe()}");
            });
        }
        var expectedNames = expected.Select(e => e.Kind + " " + e.Name).ToList();
        var extra = actual.Select(e => e.Kind + " " + e.Name).Except(expectedNames).ToList();
        checks.Add(() => Assert.True(extra.Count == 0, $"{what}: tensors torchvision does not have: {string.Join(", ", extra)}"));
        checks.Add(() => Assert.True(extra.Count > 0 || actual.Select(e => e.Kind + " " + e.Name).SequenceEqual(expectedNames),
            $"{what}: the same tensors as {against} but in another order"));
        Assert.Multiple(checks.ToArray());
    }

    // ---- a user's own ResNet: torchvision's names, construction and registration order ----

    /// <summary>
    /// torchvision.models.resnet's ResNet, BasicBlock and Bottleneck written in TorchSharp: the same module names, built in
    /// the same order (a layer's downsample before its first block, as _make_layer does) and registered in torchvision's
    /// order (fields in declaration order), so the constructors' draws, pre-order and named_parameters() line up.
    /// </summary>
    public static class OwnResNet
    {
        public static Net ResNet18() => new(expansion: 1, [2, 2, 2, 2]);
        public static Net ResNet50() => new(expansion: 4, [3, 4, 6, 3]);

        private static Conv2d Conv3x3(long cin, long cout, long stride = 1) => nn.Conv2d(cin, cout, 3, stride: stride, padding: 1, bias: false);
        private static Conv2d Conv1x1(long cin, long cout, long stride = 1) => nn.Conv2d(cin, cout, 1, stride: stride, bias: false);

        public sealed class BasicBlock : nn.Module<Tensor, Tensor>
        {
            private readonly Conv2d conv1;
            private readonly BatchNorm2d bn1;
            private readonly ReLU relu;
            private readonly Conv2d conv2;
            private readonly BatchNorm2d bn2;
            private readonly Sequential? downsample;

            public BasicBlock(long inplanes, long planes, long stride, Sequential? downsample) : base(nameof(BasicBlock))
            {
                conv1 = Conv3x3(inplanes, planes, stride);
                bn1 = nn.BatchNorm2d(planes);
                relu = nn.ReLU(inplace: true);
                conv2 = Conv3x3(planes, planes);
                bn2 = nn.BatchNorm2d(planes);
                this.downsample = downsample;
                RegisterComponents();
            }

            public override Tensor forward(Tensor x)
            {
                using var scope = NewDisposeScope();
                var h = bn2.call(conv2.call(relu.call(bn1.call(conv1.call(x)))));
                return relu.call(h.add(downsample is null ? x : downsample.call(x))).MoveToOuterDisposeScope();
            }
        }

        public sealed class Bottleneck : nn.Module<Tensor, Tensor>
        {
            private readonly Conv2d conv1;
            private readonly BatchNorm2d bn1;
            private readonly Conv2d conv2;
            private readonly BatchNorm2d bn2;
            private readonly Conv2d conv3;
            private readonly BatchNorm2d bn3;
            private readonly ReLU relu;
            private readonly Sequential? downsample;

            public Bottleneck(long inplanes, long planes, long stride, Sequential? downsample) : base(nameof(Bottleneck))
            {
                conv1 = Conv1x1(inplanes, planes);
                bn1 = nn.BatchNorm2d(planes);
                conv2 = Conv3x3(planes, planes, stride);
                bn2 = nn.BatchNorm2d(planes);
                conv3 = Conv1x1(planes, planes * 4);
                bn3 = nn.BatchNorm2d(planes * 4);
                relu = nn.ReLU(inplace: true);
                this.downsample = downsample;
                RegisterComponents();
            }

            public override Tensor forward(Tensor x)
            {
                using var scope = NewDisposeScope();
                var h = relu.call(bn1.call(conv1.call(x)));
                h = relu.call(bn2.call(conv2.call(h)));
                h = bn3.call(conv3.call(h));
                return relu.call(h.add(downsample is null ? x : downsample.call(x))).MoveToOuterDisposeScope();
            }
        }

        public sealed class Net : nn.Module<Tensor, Tensor>
        {
            private readonly Conv2d conv1;
            private readonly BatchNorm2d bn1;
            private readonly ReLU relu;
            private readonly MaxPool2d maxpool;
            private readonly Sequential layer1, layer2, layer3, layer4;
            private readonly AdaptiveAvgPool2d avgpool;
            private readonly Linear fc;
            private long inplanes = 64;

            public Net(long expansion, int[] layers) : base("ResNet")
            {
                conv1 = nn.Conv2d(3, 64, 7, stride: 2, padding: 3, bias: false);
                bn1 = nn.BatchNorm2d(64);
                relu = nn.ReLU(inplace: true);
                maxpool = nn.MaxPool2d(3, stride: 2, padding: 1);
                layer1 = MakeLayer(expansion, 64, layers[0], 1);
                layer2 = MakeLayer(expansion, 128, layers[1], 2);
                layer3 = MakeLayer(expansion, 256, layers[2], 2);
                layer4 = MakeLayer(expansion, 512, layers[3], 2);
                avgpool = nn.AdaptiveAvgPool2d(1);
                fc = nn.Linear(512 * expansion, 1000);
                RegisterComponents();
            }

            private Sequential MakeLayer(long expansion, long planes, int blocks, long stride)
            {
                Sequential? downsample = null;
                if (stride != 1 || inplanes != planes * expansion)
                    downsample = nn.Sequential(Conv1x1(inplanes, planes * expansion, stride), nn.BatchNorm2d(planes * expansion));
                nn.Module<Tensor, Tensor> Block(long cin, long s, Sequential? d) =>
                    expansion == 1 ? new BasicBlock(cin, planes, s, d) : new Bottleneck(cin, planes, s, d);
                var list = new List<nn.Module<Tensor, Tensor>> { Block(inplanes, stride, downsample) };
                inplanes = planes * expansion;
                for (int i = 1; i < blocks; i++) list.Add(Block(inplanes, 1, null));
                return nn.Sequential(list);
            }

            public override Tensor forward(Tensor x)
            {
                using var scope = NewDisposeScope();
                var h = maxpool.call(relu.call(bn1.call(conv1.call(x))));
                h = layer4.call(layer3.call(layer2.call(layer1.call(h))));
                return fc.call(avgpool.call(h).flatten(1)).MoveToOuterDisposeScope();
            }
        }
    }
}
