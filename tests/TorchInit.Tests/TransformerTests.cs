using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using F = TorchInit.Tests.ReferenceFixtures;

namespace TorchInit.Tests;

/// <summary>
/// Attention and transformer layers (issue 11) against real PyTorch (scripts/gen_fixtures.py, kind "transformer"): TorchDefault,
/// Auto, HeNormal and the GPT-2 / BERT / ViT presets on the transformer zoo, every written parameter bit for bit (trunc_normal_ draws to
/// erfinv's 2 ulp), every other parameter unchanged, one report row per parameter.
/// </summary>
[Collection(SerialTorchCollection.Name)]
public class TransformerTests
{
    public static TheoryData<string> Cases => F.Ids("transformer");

    [Theory]
    [MemberData(nameof(Cases))]
    public void Policy_on_the_transformer_zoo_equals_pytorch_with_the_same_rules(string id)
    {
        var c = F.Case(id);
        string name = c.GetProperty("model").GetString()!;
        using var scope = NewDisposeScope();
        var model = TransformerZoo.Model(name);
        var before = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        var report = model.ApplyInit(TransformerZoo.Policy(c.GetProperty("policy").GetString()!), new InitOptions { Seed = c.GetProperty("seed").GetInt64() });

        var written = c.GetProperty("written").EnumerateArray().Select(e => e.GetString()!).ToList();
        var truncated = c.GetProperty("truncated").EnumerateArray().Select(e => e.GetString()!).ToHashSet();
        var actual = model.named_parameters().ToDictionary(p => p.name, p => (Tensor)p.parameter);
        foreach (var p in c.GetProperty("parameters").EnumerateArray())
        {
            string pname = p[0].GetString()!;
            if (truncated.Contains(pname))
                F.AssertMatchesTruncNormal(p[1], actual[pname], $"{id} {pname}", 0, pname == "patch.weight" ? 1 / Math.Sqrt(48) / 0.87962566103423978 : 0.02);
            else
                F.AssertMatches(p[1], actual[pname], $"{id} {pname}");
        }
        foreach (var (pname, t) in actual)
            if (!written.Contains(pname) && !(name == "tiny_gpt" && pname == "head.weight"))
                Assert.True(t.equal(before[pname]).all().item<bool>(), $"{id}: {pname} changed, but PyTorch's rules leave it");

        // One row per parameter TorchSharp lists; the written ones are exactly those PyTorch wrote.
        var rows = report.Rows.Select(r => r.Path.Length == 0 ? r.Parameter : $"{r.Path}.{r.Parameter}").ToList();
        var unhandled = report.Unhandled.SelectMany(u => u.Parameters.Select(p => u.Path.Length == 0 ? p : $"{u.Path}.{p}")).ToList();
        Assert.Equal(actual.Keys.OrderBy(k => k, StringComparer.Ordinal), rows.Concat(unhandled).OrderBy(k => k, StringComparer.Ordinal));
        Assert.Equal(written.OrderBy(k => k, StringComparer.Ordinal),
            report.Rows.Where(r => r.Action == InitAction.Initialized).Select(r => r.Path.Length == 0 ? r.Parameter : $"{r.Path}.{r.Parameter}").OrderBy(k => k, StringComparer.Ordinal));
        if (name == "tiny_gpt")
        {
            Assert.True(actual["head.weight"].equal(actual["tok.weight"]).all().item<bool>(), "the tied head is the token embedding");
            Assert.Contains("tied", report["head.weight"].Note);
        }
    }

    [Fact]
    public void Every_parameter_of_the_issue_model_gets_a_decision_under_Auto()
    {
        using var scope = NewDisposeScope();
        var model = new TransformerZoo.EncoderClassifier();
        var report = model.ApplyInit(InitPolicy.Auto, new InitOptions { Seed = 1 });
        Assert.Empty(report.Unhandled);
        Assert.Equal(model.named_parameters().Count(), report.Rows.Count(r => r.Action == InitAction.Initialized));
        foreach (var r in report.Rows) Assert.False(string.IsNullOrEmpty(r.Reason), $"{r.Path}.{r.Parameter} has no reason");

        var attn = report.Decision("encoder.layers.0.self_attn");
        Assert.Equal("MultiheadAttention", attn.LayerType);
        Assert.Equal("GlorotUniform", attn.Scheme);
        var inProj = report["encoder.layers.0.self_attn.in_proj_weight"];
        Assert.Equal(16, inProj.FanIn);  // per block [16, 16], not the stacked [48, 16]
        Assert.Equal(16, inProj.FanOut);
        Assert.Contains("3 blocks", inProj.Note);

        var ff1 = report.Decision("encoder.layers.1.linear1");
        Assert.Equal(("ReLU", ActivationSource.Assumed, "HeNormal"), (ff1.Activation, ff1.Source, ff1.Scheme));
        Assert.Contains("does not expose the activation", ff1.Reason);
        foreach (var path in new[] { "encoder.layers.0.self_attn.out_proj", "encoder.layers.0.linear2" })
        {
            var d = report.Decision(path);
            Assert.Equal(("Linear", "GlorotUniform", 1.0), (d.LayerType, d.Scheme, d.Gain));
            Assert.Contains("residual sum", d.Reason);
        }
        Assert.Equal("ones", report["encoder.layers.0.norm2.weight"].Scheme);
        Assert.Equal("LayerNorm", report.Decision("encoder.layers.0.norm2").LayerType);
    }

    [Fact]
    public void A_hint_names_the_feed_forward_activation_TorchSharp_hides()
    {
        using var scope = NewDisposeScope();
        var model = new TransformerZoo.TinyGpt();
        var report = model.PlanInit(InitPolicy.Auto.Hint("*linear1", Activation.Gelu));
        var d = report.Decision("blocks.layers.0.linear1");
        Assert.Equal(("GELU", ActivationSource.Hint, "HeNormal"), (d.Activation, d.Source, d.Scheme));
        Assert.Empty(report.PolicyWarnings);
    }

    [Fact]
    public void Overrides_and_types_reach_the_parts_of_native_modules()
    {
        using var scope = NewDisposeScope();
        var model = new TransformerZoo.EncoderClassifier();
        var report = model.PlanInit(InitPolicy.Auto.For<Linear>(InitScheme.LeCunNormal).ForPath("encoder.layers.1.self_attn", InitScheme.Orthogonal));
        Assert.Equal("LeCunNormal", report["encoder.layers.0.linear2.weight"].Scheme);
        Assert.Equal("LeCunNormal", report["head.weight"].Scheme);
        Assert.Equal("Orthogonal", report["encoder.layers.1.self_attn.in_proj_weight"].Scheme);
        Assert.Equal("GlorotUniform", report["encoder.layers.0.self_attn.in_proj_weight"].Scheme);
    }

    [Fact]
    public void Presets_name_constants_as_Auto_does_and_cite_their_rule()
    {
        using var scope = NewDisposeScope();
        var model = new TransformerZoo.TinyGpt();
        var auto = model.PlanInit(InitPolicy.Auto);
        foreach (var (preset, cite) in new[] { (InitPolicy.Gpt2(2), "GPT-2"), (InitPolicy.Bert(), "BERT"), (InitPolicy.Vit(), "ViT") })
        {
            var report = model.PlanInit(preset);
            foreach (var r in report.Rows.Where(r => r.Distribution == "constant"))
            {
                Assert.True(r.Scheme is "ones" or "zeros", $"{cite} {r.Path}.{r.Parameter}: constant named {r.Scheme}");
                Assert.Equal(auto[$"{r.Path}.{r.Parameter}"].Scheme, r.Scheme);   // one name for one fill, whichever policy wrote it
                Assert.Contains(cite, r.Reason);
            }
            Assert.Contains(report.Rows, r => r.Scheme == "ones");
        }
    }

    [Fact]
    public void Gpt2_scales_the_residual_projections_and_ties_the_head()
    {
        using var scope = NewDisposeScope();
        var model = new TransformerZoo.TinyGpt();
        var report = model.ApplyInit(InitPolicy.Gpt2(2), new InitOptions { Seed = 3 });
        Assert.Empty(report.Unhandled);
        foreach (var r in report.Rows.Where(r => r.Action == InitAction.Initialized && r.Distribution == "normal"))
        {
            bool residual = r.Path.EndsWith("out_proj", StringComparison.Ordinal) || r.Path.EndsWith("linear2", StringComparison.Ordinal);
            Assert.Equal(residual ? 0.01 : 0.02, r.TargetStd, 12);
            Assert.Contains("GPT-2", r.Reason);
            if (residual) Assert.Contains("√(2·n_layer)", r.Reason);
        }
        Assert.Equal(InitAction.Skipped, report["head.weight"].Action);
        Assert.Contains("tied", report["head.weight"].Note);
        Assert.True(model.head.weight!.equal(model.tok.weight!).all().item<bool>());
    }

    [Fact]
    public void Of_two_residual_rules_matching_one_layer_the_later_wins()
    {
        // A policy's rules follow one convention (InitPolicy: "a later override wins over an earlier one", "a later hint
        // wins"; ScaleResidual's rule list: the last rule that matches): one rule per layer, the later, never both.
        using var scope = NewDisposeScope();
        static nn.Module<Tensor, Tensor> Net() => nn.Sequential(("fc1", nn.Linear(32, 64)), ("act", nn.ReLU()), ("fc2", nn.Linear(64, 32)));
        double he1 = Math.Sqrt(2.0 / 32), he2 = Math.Sqrt(2.0 / 64);   // HeNormal's std for fan_in 32 and 64

        var byFactorLast = InitPolicy.Of(InitScheme.HeNormal).ScaleResidual("fc2", 8).ScaleResidualBy("fc*", 0.5);
        var plan = Net().PlanInit(byFactorLast);
        Assert.True(Math.Abs(plan["fc2.weight"].TargetStd - he2 * 0.5) < 1e-12 * he2, $"fc2: {plan["fc2.weight"].TargetStd:R}, expected {he2 * 0.5:R} (× 0.5, the later rule)");
        Assert.True(Math.Abs(plan["fc1.weight"].TargetStd - he1 * 0.5) < 1e-12 * he1, $"fc1: {plan["fc1.weight"].TargetStd:R}");
        Assert.Contains("ScaleResidualBy(\"fc*\", 0.5)", plan["fc2.weight"].Reason);
        Assert.DoesNotContain("ScaleResidual(\"fc2\", 8)", plan["fc2.weight"].Reason);

        var byDepthLast = InitPolicy.Of(InitScheme.HeNormal).ScaleResidualBy("fc*", 0.5).ScaleResidual("fc2", 8);
        var swapped = Net().PlanInit(byDepthLast);
        Assert.True(Math.Abs(swapped["fc2.weight"].TargetStd - he2 / 4) < 1e-12 * he2, $"fc2: {swapped["fc2.weight"].TargetStd:R}, expected {he2 / 4:R} (/ √(2·8), the later rule)");
        Assert.True(Math.Abs(swapped["fc1.weight"].TargetStd - he1 * 0.5) < 1e-12 * he1, $"fc1: {swapped["fc1.weight"].TargetStd:R}");
        Assert.Contains("ScaleResidual(\"fc2\", 8)", swapped["fc2.weight"].Reason);
        Assert.DoesNotContain("ScaleResidualBy", swapped["fc2.weight"].Reason);

        // What is written is that one rule's draw: libtorch's normal_ with the reported std, in pre-order from the seed.
        var model = Net();
        var report = model.ApplyInit(byDepthLast, new InitOptions { Seed = 7 });
        using var g = new Generator(7);
        var fc1 = empty(64, 32).normal_(0, report["fc1.weight"].TargetStd, g);
        var fc2 = empty(32, 64).normal_(0, report["fc2.weight"].TargetStd, g);
        Assert.Equal(fc1.bytes.ToArray(), model.get_parameter("fc1.weight")!.bytes.ToArray());
        Assert.Equal(fc2.bytes.ToArray(), model.get_parameter("fc2.weight")!.bytes.ToArray());
    }

    [Fact]
    public void A_tied_head_follows_its_embedding_also_when_the_policy_leaves_the_embedding()
    {
        using var scope = NewDisposeScope();
        var model = new TransformerZoo.TinyGpt();
        var before = model.tok.weight!.detach().clone();
        var report = model.ApplyInit(InitScheme.HeNormal, new InitOptions { Seed = 3 });
        Assert.Equal(InitAction.Skipped, report["head.weight"].Action);
        Assert.True(model.tok.weight!.equal(before).all().item<bool>(), "HeNormal leaves Embeddings, and the head is the embedding");
    }

    [Theory]
    [InlineData("gpt2")]
    [InlineData("bert")]
    [InlineData("bert_truncated")]
    [InlineData("vit")]
    public void Preset_distributions_pass_a_KS_test(string preset)
    {
        const double std = 0.02;
        using var scope = NewDisposeScope();
        var layer = nn.Linear(512, 512);
        layer.ApplyInit(TransformerZoo.Policy(preset), new InitOptions { Seed = 11 });
        var w = Stats.Values(layer.weight);
        Func<double, double> cdf = preset == "bert_truncated"
            ? x => Stats.TruncatedNormalCdf(x, 0, std, -2 * std, 2 * std)
            : x => Stats.NormalCdf(x / std); // GPT-2 and BERT N(0, 0.02²); ViT's ±2 cuts nothing at std 0.02
        var (d, p) = Stats.KolmogorovSmirnov(w, cdf);
        Assert.True(p > 1e-3, $"{preset}: KS D = {d:G4}, p = {p:G3}");
        Assert.True(layer.bias!.abs().max().item<float>() == 0);
    }
}

[Collection(SerialTorchCollection.Name)]
public class TransformerForwardTests
{
    [Fact]
    public void A_traced_apply_and_the_zoo_forwards_run_and_leave_no_hooks()
    {
        using var scope = NewDisposeScope();
        var gpt = new TransformerZoo.TinyGpt();
        var tokens = randint(0, 64, [2, 8], dtype: ScalarType.Int64);
        var report = gpt.ApplyInit(InitPolicy.Gpt2(2), new InitOptions { Seed = 5 }, tokens);
        Assert.Empty(report.Unhandled);
        Assert.Equal([2L, 8, 64], gpt.call(tokens).shape);
        var signal = SignalProbe.Run(gpt, tokens, logits => logits.square().mean());
        Assert.Contains(signal.Rows, r => r.Path == "ln_f");
        Assert.All(gpt.parameters(), p => Assert.Null(p.grad));

        var clf = new TransformerZoo.EncoderClassifier();
        clf.ApplyInit(InitPolicy.Auto, new InitOptions { Seed = 5 }, randint(0, 50, [3, 5], dtype: ScalarType.Int64));
        Assert.Equal([3L, 4], clf.call(randint(0, 50, [3, 5], dtype: ScalarType.Int64)).shape);

        var vit = new TransformerZoo.PatchVit();
        var vitReport = vit.ApplyInit(InitPolicy.Vit(), new InitOptions { Seed = 5 });
        Assert.Equal("TruncatedNormal(0.02)", vitReport["pos_embed"].Scheme);
        Assert.Contains("PatchVit.DeclareInit", vitReport["pos_embed"].Reason);
        Assert.Equal("LeCunTruncatedNormal", vitReport["patch.weight"].Scheme);
        Assert.Equal([2L, 10], vit.call(randn(2, 3, 8, 8)).shape);

        // A decoder layer with a causal mask.
        var dec = (TransformerDecoderLayer)TransformerZoo.Model("decoder_layer");
        dec.ApplyInit(InitPolicy.Auto.Hint<TransformerDecoderLayer>(Activation.Gelu), new InitOptions { Seed = 5 });
        var causal = triu(full(6, 6, float.NegativeInfinity), 1);
        Assert.Equal([6L, 2, 16], dec.call(randn(6, 2, 16), randn(4, 2, 16), causal).shape);
    }
}

[Collection(SerialTorchCollection.Name)]
public class TransformerDecisionTests
{
    public static TheoryData<string> Models => new(TransformerZoo.Names);

    [Theory]
    [MemberData(nameof(Models))]
    public void Under_Auto_every_parameter_of_every_transformer_zoo_model_is_decided_with_a_reason(string name)
    {
        using var scope = NewDisposeScope();
        var model = TransformerZoo.Model(name);
        var report = model.PlanInit(InitPolicy.Auto);
        Assert.Empty(report.Unhandled);
        int parameters = model.named_parameters().Count();
        Assert.Equal(parameters, report.Rows.Count);
        foreach (var r in report.Rows)
        {
            Assert.False(string.IsNullOrEmpty(r.Reason), $"{name} {r.Path}.{r.Parameter} has no reason");
            Assert.True(r.Action == InitAction.Planned || r.Note.Contains("tied", StringComparison.Ordinal), $"{name} {r.Path}.{r.Parameter}: {r.Action} {r.Note}");
        }
        foreach (var d in report.Decisions)
        {
            var expected = d.LayerType switch
            {
                "MultiheadAttention" => ("GlorotUniform", ActivationSource.Intrinsic),
                "LayerNorm" => ("ones", ActivationSource.Intrinsic),
                // Tied with the head: decided by its role as the output layer's weight (a tied language model's initial loss ≈ ln vocab).
                "Embedding" when name == "tiny_gpt" && d.Path == "tok" => ("GlorotUniform", ActivationSource.Assumed),
                "Embedding" => ("Normal(0, 1)", ActivationSource.Intrinsic),
                "Linear" when d.Path.EndsWith("linear1", StringComparison.Ordinal) => ("HeNormal", ActivationSource.Assumed),
                "Linear" when d.Path.EndsWith("out_proj", StringComparison.Ordinal) || d.Path.EndsWith("linear2", StringComparison.Ordinal) => ("GlorotUniform", ActivationSource.Intrinsic),
                "Linear" or "Conv2d" => ("GlorotUniform", ActivationSource.Assumed), // heads and patches of custom modules: no activation found
                "PatchVit" => ("TruncatedNormal(0.02)", ActivationSource.Intrinsic),
                _ => throw new Xunit.Sdk.XunitException($"{name}: unexpected decision {d}"),
            };
            Assert.True(expected == (d.Scheme, d.Source), $"{name} '{d.Path}' ({d.LayerType}): {d.Scheme} by {d.Source}, expected {expected}: {d.Reason}");
        }
    }

    /// <summary>A user's own attention block with a fused qkv parameter, declaring its init (issue 11, item 6).</summary>
    private sealed class MyAttention : nn.Module<Tensor, Tensor>, IInitializable
    {
        public readonly Parameter qkv = nn.Parameter(empty(48, 16));
        public readonly Parameter proj = nn.Parameter(empty(16, 16));
        public readonly Parameter scale = nn.Parameter(empty(1));

        public MyAttention() : base(nameof(MyAttention)) => RegisterComponents();

        public void DeclareInit(ParameterDeclarations init) => init
            .UseBlocks("qkv", InitScheme.GlorotUniform, 3, "q, k, v: Glorot per [16, 16] block")
            .Use("proj", InitScheme.Normal(0.02), "output projection N(0, 0.02²)")
            .Use("scale", InitScheme.Constant(0.25), "1/√d_head");

        public override Tensor forward(Tensor x) => x;
    }

    [Fact]
    public void A_custom_attention_block_declares_its_init_and_is_reported_like_a_built_in_layer()
    {
        using var scope = NewDisposeScope();
        var model = nn.Sequential(("attn", new MyAttention()), ("norm", nn.LayerNorm(16)));
        var report = model.ApplyInit(InitPolicy.Auto, new InitOptions { Seed = 1 });
        Assert.Empty(report.Unhandled);
        var qkv = report["attn.qkv"];
        Assert.Equal((16L, 16L), (qkv.FanIn!.Value, qkv.FanOut!.Value));
        Assert.Contains("3 blocks", qkv.Note);
        Assert.Contains("MyAttention.DeclareInit", qkv.Reason);
        Assert.Equal("Normal(0, 0.02)", report["attn.proj"].Scheme);
        Assert.Equal(0.25f, ((MyAttention)model[0]).scale.item<float>());
        Assert.Equal("MyAttention", report.Decision("attn").LayerType);
    }
}
