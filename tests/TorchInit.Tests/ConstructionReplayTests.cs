using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>
/// <see cref="InitPolicy.ReplaysConstruction"/>: the constructors' draws replayed from the call's seed, in construction order,
/// against the reference that needs no fixture: TorchSharp's own constructors (libtorch's <c>reset_parameters</c>, PyTorch's
/// numbers) right after <c>manual_seed</c>.
/// </summary>
[Collection(SerialTorchCollection.Name)]
public class ConstructionReplayTests
{
    private sealed class Net : nn.Module<Tensor, Tensor>
    {
        private readonly Sequential body = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU());
        private readonly Linear head = nn.Linear(4, 5);
        private readonly LSTM rnn = nn.LSTM(5, 3);
        private readonly Embedding emb = nn.Embedding(7, 3);
        private readonly MultiheadAttention attn = nn.MultiheadAttention(6, 2);
        private readonly Bilinear bil = nn.Bilinear(2, 3, 4);
        public Net() : base(nameof(Net)) => RegisterComponents();
        public override Tensor forward(Tensor x) => x;
    }

    private static Dictionary<string, byte[]> Bytes(nn.Module m) => m.named_parameters().ToDictionary(p => p.name, p => p.parameter.bytes.ToArray());

    [Theory]
    [InlineData(0L)]
    [InlineData(31L)]
    public void AsConstructed_gives_the_constructors_numbers_for_every_layer_family(long seed)
    {
        using var scope = NewDisposeScope();
        torch.random.manual_seed(seed);
        var expected = Bytes(new Net());
        var m = new Net();   // other numbers: built later in the stream
        var report = m.ApplyInit(InitPolicy.AsConstructed, new InitOptions { Seed = seed });
        foreach (var (name, bytes) in Bytes(m))
            Assert.True(expected[name].SequenceEqual(bytes), $"seed {seed}: {name} differs from the constructor's");
        Assert.Empty(report.Unhandled);
        Assert.Contains("as constructed", report["head.weight"].Reason);
    }

    [Fact]
    public void MultiheadAttention_draws_out_proj_before_in_proj_and_zeroes_its_bias_after()
    {
        // libtorch's (and PyTorch's) MultiheadAttention builds out_proj first — its weight and bias are drawn — then
        // _reset_parameters draws in_proj_weight and sets both biases to 0. Replayed in parameter order instead (in_proj
        // first), every tensor would differ.
        using var scope = NewDisposeScope();
        torch.random.manual_seed(5);
        var expected = Bytes(nn.MultiheadAttention(8, 2));
        var m = nn.MultiheadAttention(8, 2);
        var report = m.ApplyInit(InitPolicy.AsConstructed, new InitOptions { Seed = 5 });
        foreach (var (name, bytes) in Bytes(m))
            Assert.True(expected[name].SequenceEqual(bytes), $"{name} differs from the constructor's");
        Assert.Equal("zeros", report["out_proj.bias"].Scheme);
        Assert.Contains("out_proj.bias to 0 after the Linear drew it", report["out_proj.bias"].Reason);
    }

    [Fact]
    public void Rules_after_the_replay_draw_from_where_construction_left_the_stream()
    {
        // torch.manual_seed(3); m = Net(); then an init loop: normal_(head.weight, 0, 0.01). The replay puts the stream where
        // the constructors left it, so the rule's draw is the loop's.
        using var scope = NewDisposeScope();
        torch.random.manual_seed(3);
        var reference = new Net();
        using (no_grad()) reference.get_parameter("head.weight")!.normal_(0, 0.01);
        var expected = Bytes(reference);
        var m = new Net();
        var report = m.ApplyInit(InitPolicy.AsConstructed.ForPath("head", InitScheme.Normal(0.01)).ForBiasPath("head", BiasInit.Keep), new InitOptions { Seed = 3 });
        foreach (var (name, bytes) in Bytes(m))
            Assert.True(expected[name].SequenceEqual(bytes), $"{name} differs from construction + the loop");
        Assert.Equal(InitAction.Kept, report["head.bias"].Action);
    }

    [Fact]
    public void A_bias_rule_draws_the_bias_from_its_own_scheme()
    {
        using var scope = NewDisposeScope();
        var m = nn.Sequential(nn.Linear(50, 400), nn.ReLU(), nn.Linear(400, 3));
        var report = m.ApplyInit(InitPolicy.Of(InitScheme.GlorotUniform).ForBiasPath("0", InitScheme.Normal(1e-6)), new InitOptions { Seed = 1 });
        var bias = m.get_parameter("0.bias")!;
        Assert.Equal("Normal(0, 1E-06)", report["0.bias"].Scheme);
        Assert.InRange(bias.std().item<float>(), 0.5e-6, 1.5e-6);
        Assert.Contains("ForBiasPath(\"0\"", report["0.bias"].Note);
        Assert.Equal("zeros", report["2.bias"].Scheme);
        Assert.True(m.get_parameter("2.bias")!.eq(0).all().item<bool>());
    }

    [Fact]
    public void VisitOrder_constructs_and_visits_children_in_the_named_order()
    {
        // Registered classifier first, built features first (TorchVision.NET's MobileNet against torchvision's).
        using var scope = NewDisposeScope();
        torch.random.manual_seed(8);
        var inPythonOrder = nn.Sequential(("features", nn.Linear(6, 6)), ("classifier", nn.Linear(6, 2)));
        var expected = Bytes(inPythonOrder);
        var m = nn.Sequential(("classifier", nn.Linear(6, 2)), ("features", nn.Linear(6, 6)));
        var report = m.ApplyInit(InitPolicy.AsConstructed.VisitOrder("", "features", "classifier"), new InitOptions { Seed = 8 });
        foreach (var (name, bytes) in Bytes(m))
            Assert.True(expected[name].SequenceEqual(bytes), $"{name} differs");
        Assert.Equal(["features.weight", "features.bias", "classifier.weight", "classifier.bias"], report.Rows.Select(r => r.QualifiedName));
    }

    [Fact]
    public void A_construction_loop_redraws_a_block_right_after_it_is_built_before_what_is_built_next()
    {
        // As torchvision's ViT MLPBlock: its __init__ builds two Linears (drawn), then loops over its modules (xavier_uniform_
        // weights, N(0, 1e-6²) biases); the head built after it draws after that loop.
        using var scope = NewDisposeScope();
        torch.random.manual_seed(21);
        var mlp = nn.Sequential(nn.Linear(8, 16), nn.GELU(), nn.Linear(16, 8));
        using (no_grad())
            foreach (var i in new[] { 0, 2 })
            {
                nn.init.xavier_uniform_(mlp.get_parameter($"{i}.weight")!);
                nn.init.normal_(mlp.get_parameter($"{i}.bias")!, 0, 1e-6);
            }
        var reference = nn.Sequential(("mlp", mlp), ("head", nn.Linear(8, 3)));
        var expected = Bytes(reference);
        var m = nn.Sequential(("mlp", nn.Sequential(nn.Linear(8, 16), nn.GELU(), nn.Linear(16, 8))), ("head", nn.Linear(8, 3)));
        var loop = InitPolicy.Auto.For<Linear>(InitScheme.GlorotUniform).ForBias<Linear>(InitScheme.Normal(1e-6));
        var report = m.ApplyInit(InitPolicy.AsConstructed.ConstructionLoop("mlp", loop), new InitOptions { Seed = 21 });
        foreach (var (name, bytes) in Bytes(m))
            Assert.True(expected[name].SequenceEqual(bytes), $"{name} differs from construction with the block's loop");
        Assert.Equal("GlorotUniform", report["mlp.0.weight"].Scheme);
        Assert.Contains("ConstructionLoop(\"mlp\")", report["mlp.0.weight"].Reason);
        Assert.Equal("TorchDefault", report["head.weight"].Scheme);
    }

    /// <summary>An embedding, a head tied to it (built with its own weight, then tied, as PyTorch does), and a layer built after both.</summary>
    private sealed class TiedLm : nn.Module<Tensor, Tensor>
    {
        public readonly Embedding emb = nn.Embedding(10, 4);
        public readonly Linear head = nn.Linear(4, 10, hasBias: false);
        public readonly Linear after = nn.Linear(4, 3);
        public TiedLm() : base(nameof(TiedLm))
        {
            head.weight = emb.weight!;
            RegisterComponents();
        }
        public override Tensor forward(Tensor x) => x;
    }

    [Theory]
    [InlineData(DrawEngine.Exact)]
    [InlineData(DrawEngine.Fast)]
    public void A_tied_holder_constructs_its_own_weight_whose_draws_are_discarded(DrawEngine engine)
    {
        // In PyTorch the head's constructor draws into its own weight before the tie replaces it: the stream moves on, and what is
        // built after it draws later in the stream. The replay makes those draws into a scratch tensor, not into the embedding's.
        using var scope = NewDisposeScope();
        torch.random.manual_seed(4);
        var expected = Bytes(new TiedLm());
        var m = new TiedLm();
        var report = m.ApplyInit(InitPolicy.AsConstructed, new InitOptions { Seed = 4, Engine = engine });
        if (engine == DrawEngine.Exact)
            foreach (var (name, bytes) in Bytes(m))
                Assert.True(expected[name].SequenceEqual(bytes), $"{name} differs from the constructors'");
        Assert.Equal(m.get_parameter("emb.weight")!.bytes.ToArray(), m.get_parameter("head.weight")!.bytes.ToArray());
        Assert.Equal(InitAction.Skipped, report["head.weight"].Action);
        Assert.Contains("made and discarded", report["head.weight"].Note);
        // Skipping the head's draws instead (as a tie outside the replay is skipped) gives 'after' the head's numbers.
        torch.random.manual_seed(4);
        var emb = nn.Embedding(10, 4);
        var shifted = Bytes(nn.Sequential(("emb", emb), ("after", nn.Linear(4, 3))));
        if (engine == DrawEngine.Exact) Assert.False(shifted["after.weight"].SequenceEqual(Bytes(m)["after.weight"]));
    }

    /// <summary>A model holding a model of its own (Hugging Face's LlamaForCausalLM holds a LlamaModel) and a head built after it.</summary>
    private sealed class Outer : nn.Module<Tensor, Tensor>
    {
        public readonly Sequential inner = nn.Sequential(("emb", nn.Embedding(12, 6, padding_idx: 2)), ("fc", nn.Linear(6, 6)));
        public readonly Linear head = nn.Linear(6, 12, hasBias: false);
        public Outer() : base(nameof(Outer)) => RegisterComponents();
        public override Tensor forward(Tensor x) => x;
    }

    [Fact]
    public void A_sub_model_is_initialized_right_after_it_is_built_and_only_once()
    {
        // Python: torch.manual_seed(9); inner = Inner() (its constructors, then its post_init: N(0, 0.1²) with the padding row 0, bias 0);
        // head = Linear(...) (its constructor); the outer post_init draws only the head. The reference is TorchSharp's constructors
        // and torch.nn.init in that order.
        using var scope = NewDisposeScope();
        torch.random.manual_seed(9);
        var emb = nn.Embedding(12, 6, padding_idx: 2);
        var fc = nn.Linear(6, 6);
        using (no_grad())
        {
            emb.weight!.normal_(0, 0.1);
            emb.weight![2].zero_();
            fc.weight!.normal_(0, 0.1);
            fc.bias!.zero_();
        }
        var head = nn.Linear(6, 12, hasBias: false);
        using (no_grad()) head.weight!.normal_(0, 0.1);
        var expected = Bytes(nn.Sequential(("inner", nn.Sequential(("emb", emb), ("fc", fc))), ("head", head)));
        var m = new Outer();
        var policy = InitPolicy.AsConstructed.SubModel("inner").KeepPaddingRows().For<Linear>(InitScheme.Normal(0.1)).For<Embedding>(InitScheme.Normal(0.1));
        var report = m.ApplyInit(policy, new InitOptions { Seed = 9 });
        foreach (var (name, bytes) in Bytes(m))
            Assert.True(expected[name].SequenceEqual(bytes), $"{name} differs from the sub-model's post_init, then the head's");
        Assert.Contains("SubModel(\"inner\")", report["inner.fc.weight"].Reason);
        Assert.DoesNotContain("SubModel", report["head.weight"].Reason);
        Assert.Contains(report.Decisions, d => d.Path == "inner.fc" && d.Reason.Contains("SubModel"));
        Assert.Contains(m.PlanInit(InitPolicy.AsConstructed.SubModel("nope")).PolicyWarnings, w => w.Contains("SubModel(\"nope\") matches no module"));
    }

    [Fact]
    public void KeepPaddingRows_keeps_an_embeddings_padding_row_under_a_rule_and_without_it_the_rule_writes_every_row()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(6);
        var reference = nn.Embedding(9, 4, padding_idx: 5);
        using (no_grad()) reference.weight!.normal_(0, 0.5, g);
        var drawn = reference.weight!.detach().clone();
        using (no_grad()) reference.weight![5].zero_();
        var kept = nn.Embedding(9, 4, padding_idx: 5);
        kept.ApplyInit(InitPolicy.Auto.KeepPaddingRows().For<Embedding>(InitScheme.Normal(0.5)), new InitOptions { Seed = 6 });
        Assert.Equal(reference.weight!.bytes.ToArray(), kept.weight!.bytes.ToArray());
        var whole = nn.Embedding(9, 4, padding_idx: 5);
        whole.ApplyInit(InitPolicy.Auto.For<Embedding>(InitScheme.Normal(0.5)), new InitOptions { Seed = 6 });
        Assert.Equal(drawn.bytes.ToArray(), whole.weight!.bytes.ToArray());
    }

    [Fact]
    public void A_custom_module_whose_constructor_is_unknown_is_kept_and_warned_about()
    {
        using var scope = NewDisposeScope();
        var m = nn.Sequential(("scale", new Scale()), ("fc", nn.Linear(3, 3)));
        var before = m.get_parameter("scale.gamma")!.bytes.ToArray();
        var report = m.ApplyInit(InitPolicy.AsConstructed, new InitOptions { Seed = 1 });
        Assert.Equal(before, m.get_parameter("scale.gamma")!.bytes.ToArray());
        Assert.Contains(report.PolicyWarnings, w => w.Contains("scale (Scale)") && w.Contains("not replayed"));
    }

    private sealed class Scale : nn.Module<Tensor, Tensor>
    {
        private readonly Parameter gamma = nn.Parameter(torch.rand(3));
        public Scale() : base(nameof(Scale)) => RegisterComponents();
        public override Tensor forward(Tensor x) => x * gamma;
    }
}
