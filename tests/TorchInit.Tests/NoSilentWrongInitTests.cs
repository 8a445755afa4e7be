using TorchInit.Fast;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>
/// Models built the documented ways that used to get wrong weights with no error: the shortcut's BatchNorm zeroed, a ResNet's
/// conv before the residual sum taken for linear, ties broken by <see cref="Build"/>, a tied head drawn N(0, 1), a fused q, k, v
/// projection drawn as one matrix, a child's declaration ignored.
/// </summary>
[Collection(SerialTorchCollection.Name)]
public class NoSilentWrongInitTests
{
    // ---------------------------------------------------------------- a torchvision-layout ResNet

    /// <summary>
    /// torchvision's BasicBlock: conv1, bn1, relu, conv2, bn2, downsample (Sequential(Conv2d 1×1, BatchNorm2d)); relu after the
    /// in-place sum. torchvision runs the shortcut after the branch; <c>shortcutFirst</c> runs it before, as many ports do.
    /// </summary>
    internal sealed class TvBasicBlock : nn.Module<Tensor, Tensor>
    {
        private readonly Conv2d conv1;
        private readonly BatchNorm2d bn1;
        private readonly ReLU relu = nn.ReLU(inplace: true);
        private readonly Conv2d conv2;
        private readonly BatchNorm2d bn2;
        private readonly Sequential? downsample;
        private readonly bool _shortcutFirst;

        public TvBasicBlock(long inplanes, long planes, long stride, Sequential? downsample, bool shortcutFirst = false) : base(nameof(TvBasicBlock))
        {
            _shortcutFirst = shortcutFirst;
            conv1 = nn.Conv2d(inplanes, planes, 3, stride: stride, padding: 1, bias: false);
            bn1 = nn.BatchNorm2d(planes);
            conv2 = nn.Conv2d(planes, planes, 3, padding: 1, bias: false);
            bn2 = nn.BatchNorm2d(planes);
            this.downsample = downsample;
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            var identity = downsample is not null && _shortcutFirst ? downsample.call(x) : x;
            var h = bn2.call(conv2.call(relu.call(bn1.call(conv1.call(x)))));
            if (downsample is not null && !_shortcutFirst) identity = downsample.call(x);
            return relu.call(h.add_(identity)).MoveToOuterDisposeScope();
        }
    }

    /// <summary>A two-stage torchvision-layout ResNet: stem, layer1 (no downsample), layer2 (stride 2, downsample), head.</summary>
    internal sealed class TvResNet : nn.Module<Tensor, Tensor>
    {
        private readonly Conv2d conv1 = nn.Conv2d(3, 8, 3, padding: 1, bias: false);
        private readonly BatchNorm2d bn1 = nn.BatchNorm2d(8);
        private readonly ReLU relu = nn.ReLU(inplace: true);
        private readonly Sequential layer1;
        private readonly Sequential layer2;
        private readonly AdaptiveAvgPool2d avgpool = nn.AdaptiveAvgPool2d(1);
        private readonly Flatten flatten = nn.Flatten();
        private readonly Linear fc = nn.Linear(16, 10);

        public TvResNet(bool shortcutFirst = false) : base(nameof(TvResNet))
        {
            layer1 = nn.Sequential(new TvBasicBlock(8, 8, 1, null), new TvBasicBlock(8, 8, 1, null));
            var ds = nn.Sequential(nn.Conv2d(8, 16, 1, stride: 2, bias: false), nn.BatchNorm2d(16));
            layer2 = nn.Sequential(new TvBasicBlock(8, 16, 2, ds, shortcutFirst), new TvBasicBlock(16, 16, 1, null));
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            var h = layer2.call(layer1.call(relu.call(bn1.call(conv1.call(x)))));
            return fc.call(flatten.call(avgpool.call(h))).MoveToOuterDisposeScope();
        }
    }

    [Fact]
    public void ZeroLastNormIn_zeroes_the_residual_branch_norm_and_never_the_shortcut_norm()
    {
        using var scope = NewDisposeScope();
        var model = new TvResNet();
        var report = model.ApplyInit(InitPolicy.Auto.ZeroLastNormIn<TvBasicBlock>(), new InitOptions { Seed = 1 });
        foreach (var block in new[] { "layer1.0", "layer1.1", "layer2.0", "layer2.1" })
        {
            Assert.Equal("zeros", report[$"{block}.bn2.weight"].Scheme);
            Assert.All(Stats.Values(model.get_parameter($"{block}.bn2.weight")!), x => Assert.Equal(0.0, x));
            Assert.Equal("ones", report[$"{block}.bn1.weight"].Scheme);
        }
        // The shortcut's BatchNorm keeps 1, so the downsampling block's shortcut output is not 0 at init.
        Assert.Equal("ones", report["layer2.0.downsample.1.weight"].Scheme);
        Assert.All(Stats.Values(model.get_parameter("layer2.0.downsample.1.weight")!), x => Assert.Equal(1.0, x));
        Assert.Contains("'layer2.0.downsample' is the shortcut", report["layer2.0.bn2.weight"].Reason);
    }

    [Fact]
    public void A_shortcut_is_found_by_shape_when_it_is_not_named()
    {
        // kuangliu-style: the shortcut is an unnamed-convention child ("proj") holding one conv and its norm.
        using var scope = NewDisposeScope();
        var block = nn.Sequential(
            ("conv1", nn.Conv2d(4, 8, 3, padding: 1)), ("bn1", nn.BatchNorm2d(8)),
            ("conv2", nn.Conv2d(8, 8, 3, padding: 1)), ("bn2", nn.BatchNorm2d(8)),
            ("proj", nn.Sequential(nn.Conv2d(4, 8, 1), nn.BatchNorm2d(8))));
        var report = block.PlanInit(InitPolicy.Auto.ZeroLastNormIn(c => c.Depth == 0, "root block"));
        Assert.Equal("zeros", report["bn2.weight"].Scheme);
        Assert.Equal("ones", report["proj.1.weight"].Scheme);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Under_the_trace_every_conv_of_a_torchvision_resnet_gets_He(bool shortcutFirst)
    {
        using var scope = NewDisposeScope();
        var model = new TvResNet(shortcutFirst);
        var report = model.PlanInit(InitPolicy.Auto, null, randn(1, 3, 8, 8));
        var convs = report.Rows.Where(r => r.LayerType == "Conv2d" && r.Parameter == "weight").ToList();
        Assert.Equal(10, convs.Count);
        foreach (var r in convs)
        {
            Assert.True(r.Scheme == "HeNormal" && r.ActivationSource == ActivationSource.Traced, $"{r.Path}: {r.Scheme} ({r.ActivationSource}): {r.Reason}");
            Assert.Equal("ReLU", r.Activation);
        }
        // What follows the branch (or the shortcut) is what follows the sum: the search passes over the other path.
        Assert.Contains(shortcutFirst ? "the residual branch of block 'layer2.0'" : "the shortcut Sequential 'layer2.0.downsample'",
            report[shortcutFirst ? "layer2.0.downsample.0.weight" : "layer2.0.conv2.weight"].Reason);
    }

    // ---------------------------------------------------------------- ties

    /// <summary>A GPT-shaped model: token embedding, one Linear "block", final LayerNorm, head tied to the token embedding.</summary>
    private sealed class TiedLm : nn.Module<Tensor, Tensor>
    {
        public readonly Embedding wte;
        public readonly Linear mix;
        public readonly LayerNorm ln_f;
        public readonly Linear lm_head;

        public TiedLm(long vocab, long d) : base(nameof(TiedLm))
        {
            wte = nn.Embedding(vocab, d);
            mix = nn.Linear(d, d);
            ln_f = nn.LayerNorm(d);
            lm_head = nn.Linear(d, vocab, hasBias: false);
            lm_head.weight = wte.weight!;
            RegisterComponents();
        }

        public override Tensor forward(Tensor tokens)
        {
            using var scope = NewDisposeScope();
            var x = wte.call(tokens);
            return lm_head.call(ln_f.call(x + mix.call(x))).MoveToOuterDisposeScope();
        }
    }

    private static IntPtr Data(Tensor t) => FastFill.AnyDataPointer(t);

    [Fact]
    public void Build_keeps_an_embedding_head_tie_one_storage_written_once_and_reported_tied()
    {
        using var scope = NewDisposeScope();
        var options = new InitOptions { Seed = 11 };
        var built = Build.WithoutDefaultInit(() => new TiedLm(97, 32), InitPolicy.Gpt2(1), out var report, options);
        Assert.Equal(Data(built.wte.weight!), Data(built.lm_head.weight!));
        Assert.Equal(InitAction.Initialized, report["wte.weight"].Action);
        Assert.Equal(InitAction.Skipped, report["lm_head.weight"].Action);
        Assert.Contains("tied", report["lm_head.weight"].Note);
        // Bit-identical to constructing normally, then ApplyInit with the same seed.
        var reference = new TiedLm(97, 32);
        reference.ApplyInit(InitPolicy.Gpt2(1), options);
        foreach (var (name, p) in reference.named_parameters())
            Assert.True(p.Equals(built.get_parameter(name)!), name);
        // A write through one is seen by the other.
        using (no_grad()) built.wte.weight!.fill_(0.5f);
        Assert.Equal(0.5, built.lm_head.weight![0, 0].item<float>());
    }

    [Fact]
    public void Build_keeps_embedding_linear_and_linear_linear_ties()
    {
        using var scope = NewDisposeScope();
        var seq = Build.WithoutDefaultInit(() =>
        {
            var e = nn.Embedding(20, 6);
            var l = nn.Linear(6, 20, hasBias: false);
            l.weight = e.weight!;
            return nn.Sequential(("e", e), ("l", l));
        }, InitScheme.GlorotUniform, out var report1);
        Assert.Equal(Data(seq.get_parameter("e.weight")!), Data(seq.get_parameter("l.weight")!));
        Assert.Contains("tied", report1["l.weight"].Note);

        var ae = Build.WithoutDefaultInit(() =>
        {
            var enc = nn.Linear(20, 20);
            var dec = nn.Linear(20, 20);
            dec.weight = enc.weight!;
            return nn.Sequential(("enc", enc), ("dec", dec));
        }, InitScheme.GlorotUniform, out var report2, new InitOptions { Seed = 2 });
        Assert.Same(((Linear)ae[0]).weight, ((Linear)ae[1]).weight);
        Assert.Equal(InitAction.Skipped, report2["dec.weight"].Action);
        Assert.DoesNotContain(ae.parameters(), p => p.is_meta);
    }

    [Fact]
    public void A_tied_language_model_under_Auto_starts_near_ln_vocab()
    {
        using var scope = NewDisposeScope();
        foreach (var (vocab, d) in new[] { (97L, 32L), (64L, 16L) })
        {
            var model = new TiedLm(vocab, d);
            var report = model.ApplyInit(InitPolicy.Auto, new InitOptions { Seed = 3 });
            Assert.Equal(Data(model.wte.weight!), Data(model.lm_head.weight!));
            Assert.Contains("tied with 'lm_head.weight'", report["wte.weight"].Reason);
            Assert.Contains("tied", report["lm_head.weight"].Note);
            manual_seed(4);
            var tokens = randint(0, vocab, [8, 16], dtype: ScalarType.Int64);
            var targets = randint(0, vocab, [8, 16], dtype: ScalarType.Int64);
            using var _ = no_grad();
            var logits = model.call(tokens);
            double loss = nn.functional.cross_entropy(logits.reshape(-1, vocab), targets.reshape(-1)).item<float>();
            double lnV = Math.Log(vocab);
            Assert.True(Math.Abs(loss - lnV) < 0.10 * lnV, $"vocab {vocab}: initial loss {loss:F3} against ln V = {lnV:F3}");
        }
        // The transformer zoo's tiny GPT too.
        var gpt = (TransformerZoo.TinyGpt)TransformerZoo.Model("tiny_gpt");
        gpt.ApplyInit(InitPolicy.Auto, new InitOptions { Seed = 3 });
        manual_seed(5);
        using (no_grad())
        {
            var logits = gpt.call(randint(0, 64, [4, 8], dtype: ScalarType.Int64));
            double loss = nn.functional.cross_entropy(logits.reshape(-1, 64), randint(0, 64, [32], dtype: ScalarType.Int64)).item<float>();
            Assert.True(Math.Abs(loss - Math.Log(64)) < 0.10 * Math.Log(64), $"tiny GPT: initial loss {loss:F3} against ln 64 = {Math.Log(64):F3}");
        }
    }

    // ---------------------------------------------------------------- Build's activation sources and memory

    [Fact]
    public void Build_under_Auto_takes_a_sample_input_and_traces_like_ApplyInit()
    {
        using var scope = NewDisposeScope();
        var options = new InitOptions { Seed = 8 };
        var built = Build.WithoutDefaultInit(() => new TvResNet(), InitPolicy.Auto, randn(1, 3, 8, 8), out var report, options);
        Assert.All(report.Rows.Where(r => r.LayerType == "Conv2d"), r => Assert.Equal(("HeNormal", ActivationSource.Traced), (r.Scheme, r.ActivationSource)));
        var reference = new TvResNet();
        reference.ApplyInit(InitPolicy.Auto, options, randn(1, 3, 8, 8));
        foreach (var (name, p) in reference.named_parameters())
            Assert.True(p.Equals(built.get_parameter(name)!), name);
        Assert.True(built.training);   // the trace's eval() is undone

        // The general form, for forwards with other arguments.
        var lm = Build.WithoutDefaultInit(() => new TiedLm(20, 8), InitPolicy.Auto, m => m.call(zeros(1, 4, dtype: ScalarType.Int64)), out var lmReport);
        Assert.Contains("nothing runs after it (traced)", lmReport["wte.weight"].Reason);   // the tied head, found by the trace
        Assert.Equal(Data(lm.wte.weight!), Data(lm.lm_head.weight!));
    }

    [Fact]
    public void Build_of_an_embedding_draws_nothing_from_the_global_generator_and_says_what_TorchSharp_keeps()
    {
        using var scope = NewDisposeScope();
        Build.WithoutDefaultInit(() => nn.Embedding(100, 8), InitPolicy.Auto, new InitOptions { Seed = 1 }).Dispose();   // warm-up
        manual_seed(9);
        using var expected = rand(4);
        manual_seed(9);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        long before = Stats.ProcStatus("VmRSS:");
        const long weight = 100_000L * 256 * 4;
        using (var e = Build.WithoutDefaultInit(() => nn.Embedding(100_000, 256), InitPolicy.Auto, out var report, new InitOptions { Seed = 1 }))
        {
            Assert.False(e.weight!.is_meta);
            // TorchSharp 0.107's Embedding, constructed on the meta device, keeps the CPU draw of its constructor until disposed
            // (measured: the resident size grows by two weights); the report says so and names the way out.
            long growth = Stats.ProcStatus("VmRSS:") - before;
            Assert.InRange(growth, weight * 3 / 2, weight * 5 / 2);
            var warning = Assert.Single(report.PolicyWarnings, w => w.Contains("keeps the CPU draw", StringComparison.Ordinal));
            Assert.Contains("'(root)'", warning);
            Assert.Contains("98 MiB", warning);
            Assert.Contains("device: torch.CPU", warning);
        }
        Assert.True(expected.Equals(rand(4)), "Build advanced the global generator");

        // Constructed on the CPU inside the factory: one copy, written by the policy, and no warning.
        GC.Collect();
        GC.WaitForPendingFinalizers();
        before = Stats.ProcStatus("VmRSS:");
        using (var e = Build.WithoutDefaultInit(() => nn.Embedding(100_000, 256, device: CPU), InitPolicy.Auto, out var report, new InitOptions { Seed = 1 }))
        {
            Assert.InRange(Stats.ProcStatus("VmRSS:") - before, weight / 2, weight * 3 / 2);
            Assert.Equal(InitAction.Initialized, report["weight"].Action);
            Assert.DoesNotContain(report.PolicyWarnings, w => w.Contains("keeps the CPU draw", StringComparison.Ordinal));
        }
    }

    // ---------------------------------------------------------------- fused q, k, v projections

    /// <summary>nanoGPT's attention: one Linear c_attn [3d, d] for q, k and v, and c_proj; optionally declared by the module itself.</summary>
    private sealed class NanoAttention : nn.Module<Tensor, Tensor>, IInitializable
    {
        private readonly bool _declare;
        public readonly Linear c_attn;
        public readonly Linear c_proj;

        public NanoAttention(long d, bool declare) : base(nameof(NanoAttention))
        {
            _declare = declare;
            c_attn = nn.Linear(d, 3 * d);
            c_proj = nn.Linear(d, d);
            RegisterComponents();
        }

        public void DeclareInit(ParameterDeclarations init)
        {
            Assert.Contains("c_attn.weight", init.SubmoduleParameterNames);
            if (_declare) init.UseBlocks("c_attn.weight", InitScheme.GlorotUniform, 3, "q, k and v stacked: each [d, d] block by its own fans");
        }

        public override Tensor forward(Tensor x) => c_proj.call(c_attn.call(x).chunk(3, -1)[2]);
    }

    [Fact]
    public void A_parent_declaration_naming_a_child_parameter_is_honoured()
    {
        using var scope = NewDisposeScope();
        var attn = new NanoAttention(8, declare: true);
        var report = attn.ApplyInit(InitPolicy.Auto, new InitOptions { Seed = 2 });
        var row = report["c_attn.weight"];
        Assert.Equal(1 / Math.Sqrt(8), row.TargetStd, 12);   // Glorot per [8, 8] block: √(2 / 16); the whole [24, 8] would be 0.25
        Assert.Contains("NanoAttention.DeclareInit", row.Reason);
        Assert.Contains("3 blocks", row.Note);
        Assert.Equal("zeros", report["c_attn.bias"].Scheme);   // undeclared: the policy's rule
        // A policy override naming the child still wins over the declaration.
        var overridden = new NanoAttention(8, declare: true).PlanInit(InitPolicy.Auto.ForPath("c_attn", InitScheme.HeNormal));
        Assert.Equal("HeNormal", overridden["c_attn.weight"].Scheme);
        // A declaration naming no parameter is an error, before anything is written.
        Assert.Throws<ArgumentException>(() => new BadDeclaration().PlanInit(InitPolicy.Auto));
    }

    private sealed class BadDeclaration : nn.Module<Tensor, Tensor>, IInitializable
    {
        public readonly Linear c_attn = nn.Linear(4, 12);
        public BadDeclaration() : base(nameof(BadDeclaration)) => RegisterComponents();
        public void DeclareInit(ParameterDeclarations init) => init.UseBlocks("c_attn.wieght", InitScheme.GlorotUniform, 3, "typo");
        public override Tensor forward(Tensor x) => c_attn.call(x);
    }

    [Fact]
    public void A_fused_projection_is_split_by_a_policy_rule_and_named_in_the_warnings_otherwise()
    {
        using var scope = NewDisposeScope();
        const long d = 32;
        var gpt = nn.Sequential(("h", nn.Sequential(("0", nn.Sequential(("attn", new NanoAttention(d, declare: false)))))));
        var plain = gpt.PlanInit(InitPolicy.Auto);
        Assert.Equal(Math.Sqrt(2.0 / (d + 3 * d)), plain["h.0.attn.c_attn.weight"].TargetStd, 12);   // 0.125: one matrix
        var warning = Assert.Single(plain.PolicyWarnings, w => w.Contains("fused q, k, v", StringComparison.Ordinal));
        Assert.Contains("'h.0.attn.c_attn.weight'", warning);
        Assert.Contains("StackedBlocks(\"h.0.attn.c_attn\", 3)", warning);

        var split = gpt.PlanInit(InitPolicy.Auto.StackedBlocks("*.c_attn", 3));
        var row = split["h.0.attn.c_attn.weight"];
        Assert.Equal(Math.Sqrt(1.0 / d), row.TargetStd, 12);   // 0.177 per [32, 32] block
        Assert.Equal(d, row.FanIn);
        Assert.Equal(d, row.FanOut);
        Assert.DoesNotContain(split.PolicyWarnings, w => w.Contains("fused", StringComparison.Ordinal));
        Assert.Contains("StackedBlocks", row.Reason);

        // Bit for bit PyTorch's recipe: xavier_uniform_ on each block in order.
        var model = new NanoAttention(d, declare: false);
        model.ApplyInit(InitPolicy.Auto.StackedBlocks("c_attn", 3), new InitOptions { Seed = 6 });
        var expected = empty(3 * d, d);
        manual_seed(6);
        using (no_grad())
            for (int k = 0; k < 3; k++)
                nn.init.xavier_uniform_(expected[TensorIndex.Slice(k * d, (k + 1) * d)]);
        Assert.True(expected.Equals(model.c_attn.weight!));
        Assert.Throws<ArgumentOutOfRangeException>(() => InitPolicy.Auto.StackedBlocks("c_attn", 1));
    }
    [Fact]
    public void Bad_input_to_the_new_rules_is_a_clear_error_and_nothing_is_written()
    {
        using var scope = NewDisposeScope();
        var model = nn.Sequential(("fc", nn.Linear(4, 10)), ("out", nn.Linear(10, 2)));
        var before = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        var e = Assert.Throws<ArgumentException>(() => model.ApplyInit(InitPolicy.Auto.StackedBlocks("fc", 3), new InitOptions { Seed = 1 }));
        Assert.Contains("'fc.weight'", e.Message);
        Assert.Contains("3 equal blocks", e.Message);
        foreach (var (name, p) in model.named_parameters()) Assert.True(before[name].Equals(p), $"{name} was written");
        // A rule that matches nothing is a policy warning, as every other rule's.
        Assert.Contains(model.PlanInit(InitPolicy.Auto.StackedBlocks("attn.c_attn", 3)).PolicyWarnings, w => w.Contains("StackedBlocks(\"attn.c_attn\", 3) matches no module"));

        // Build with a sample input the model cannot take: the trace's error, and the process-wide default device restored.
        var ex = Assert.Throws<InvalidOperationException>(() => Build.WithoutDefaultInit(() => new TvResNet(), InitPolicy.Auto, randn(1, 5, 8, 8), out _));
        Assert.Contains("sample forward pass", ex.Message);
        Assert.Equal(DeviceType.CPU, get_default_device().type);
    }
}
