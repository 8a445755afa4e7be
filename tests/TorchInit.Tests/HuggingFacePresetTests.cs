using System.Security.Cryptography;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>
/// The Hugging Face presets (<see cref="InitPolicy.HuggingFace"/>) on TorchSharp trees with Hugging Face's names and construction
/// order (<see cref="HuggingFaceZoo"/>), against PyTorch twins of Hugging Face's modeling files: tests/TorchInit.Tests/Fixtures/hf/*.json
/// hold, per parameter and buffer of <c>torch.manual_seed(s); &lt;twin&gt;(config)</c>, the SHA-256 of its bytes
/// (scripts/gen_hf_fixtures.py; scripts/test.sh checks them against PyTorch when it is installed). Each tree is built after another
/// seed (its constructors drew other numbers); the preset with <c>Seed = s</c> must give the twin's tensors, bit for bit.
/// </summary>
[Collection(SerialTorchCollection.Name)]
public sealed class HuggingFacePresetTests
{
    // ---- fixtures ----

    private sealed record Entry(string Kind, string Name, long[] Shape, string Sha256);

    private static readonly Dictionary<string, JsonDocument> Docs = new();

    private static JsonElement Doc(string model)
    {
        lock (Docs)
        {
            if (!Docs.TryGetValue(model, out var doc))
                Docs[model] = doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Fixtures", "hf", $"{model}.json")));
            return doc.RootElement;
        }
    }

    private static JsonElement Config(string model) => Doc(model).GetProperty("config");

    private static IEnumerable<JsonElement> Variants(string model) => Doc(model).GetProperty("variants").EnumerateArray();

    /// <summary>The variant whose keys have these values ("seed" = 0, "tie_word_embeddings" = true…).</summary>
    private static List<Entry> Fixture(string model, params (string Key, object Value)[] keys)
    {
        var variant = Variants(model).Single(v => keys.All(k => Equals(Value(v.GetProperty(k.Key)), k.Value)));
        return variant.GetProperty("tensors").EnumerateArray().Select(t => new Entry(t.GetProperty("kind").GetString()!, t.GetProperty("name").GetString()!,
            t.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray(), t.GetProperty("sha256").GetString()!)).ToList();
    }

    private static object Value(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Number => e.GetInt64(),
        _ => e.GetString()!,
    };

    private static TheoryData<long, bool> SeedsAndTies(string model)
    {
        var data = new TheoryData<long, bool>();
        foreach (var v in Variants(model)) data.Add(v.GetProperty("seed").GetInt64(), v.GetProperty("tie_word_embeddings").GetBoolean());
        return data;
    }

    public static TheoryData<long, bool> LlamaVariants => SeedsAndTies("llama");
    public static TheoryData<long, bool> Qwen2Variants => SeedsAndTies("qwen2");

    public static TheoryData<long, string, bool> T5Variants
    {
        get
        {
            var data = new TheoryData<long, string, bool>();
            foreach (var v in Variants("t5"))
                data.Add(v.GetProperty("seed").GetInt64(), v.GetProperty("feed_forward_proj").GetString()!, v.GetProperty("tie_word_embeddings").GetBoolean());
            return data;
        }
    }

    public static TheoryData<long, string, bool> GptNeoXVariants
    {
        get
        {
            var data = new TheoryData<long, string, bool>();
            foreach (var v in Variants("gpt_neox"))
                data.Add(v.GetProperty("seed").GetInt64(), v.GetProperty("init").GetString()!, v.GetProperty("tie_word_embeddings").GetBoolean());
            return data;
        }
    }

    /// <summary>The fixture's tensors the model does not have bit for bit: missing, of another shape, or other bytes.</summary>
    private static List<string> Differing(nn.Module m, List<Entry> fixture)
    {
        var actual = new Dictionary<string, Tensor>();
        foreach (var (name, p) in m.named_parameters()) actual.TryAdd("parameter " + name, p);
        foreach (var (name, b) in m.named_buffers(include_nonpersistent: true)) actual.TryAdd("buffer " + name, b);
        var differing = new List<string>();
        foreach (var e in fixture)
        {
            if (!actual.TryGetValue(e.Kind + " " + e.Name, out var t) || !t.shape.SequenceEqual(e.Shape)) { differing.Add(e.Name + " (missing)"); continue; }
            using var c = t.detach().cpu().contiguous();
            if (!Convert.ToHexString(SHA256.HashData(c.bytes)).Equals(e.Sha256, StringComparison.OrdinalIgnoreCase)) differing.Add(e.Name);
        }
        return differing;
    }

    private static InitPolicy T5Preset() =>
        Config("t5") is var c ? InitPolicy.HuggingFace.T5((int)c.GetProperty("d_model").GetInt64(), (int)c.GetProperty("d_kv").GetInt64(),
            (int)c.GetProperty("num_heads").GetInt64(), (int)c.GetProperty("d_ff").GetInt64(), c.GetProperty("initializer_factor").GetDouble()) : null!;

    private static InitPolicy GptNeoXPreset(string init) =>
        init == "hf" ? InitPolicy.HuggingFace.GptNeoX(Config("gpt_neox").GetProperty("initializer_range").GetDouble())
            : InitPolicy.HuggingFace.Pythia((int)Config("gpt_neox").GetProperty("num_hidden_layers").GetInt64(), (int)Config("gpt_neox").GetProperty("hidden_size").GetInt64());

    /// <summary>Applies <paramref name="preset"/> to <paramref name="m"/> and checks it against the fixture, and that every row cites the preset's rule.</summary>
    private static InitReport AssertGivesTheTwins(nn.Module m, InitPolicy preset, long seed, List<Entry> fixture, string cite)
    {
        var report = m.ApplyInit(preset, new InitOptions { Seed = seed });
        Assert.Empty(report.Unhandled);
        Assert.Empty(report.PolicyWarnings);   // a fused query_key_value under a fixed std gets no fan warning, no rule matches nothing
        var differing = Differing(m, fixture);
        Assert.True(differing.Count == 0, $"{differing.Count} of {fixture.Count} tensors differ from the twin's: {string.Join(", ", differing.Take(8))}");
        Assert.All(report.Rows, r => Assert.True(r.Reason.Contains(cite, StringComparison.Ordinal), $"{r.QualifiedName}: '{r.Reason}' does not cite {cite}"));
        return report;
    }

    // ---- bit for bit against the twins ----

    [Theory]
    [MemberData(nameof(LlamaVariants))]
    public void Llama_gives_the_twins_tensors(long seed, bool tied)
    {
        using var scope = NewDisposeScope();
        torch.random.manual_seed(seed + 1);
        var m = HuggingFaceZoo.Llama(Config("llama"), qkvBias: false, tied);
        var report = AssertGivesTheTwins(m, InitPolicy.HuggingFace.Llama(Config("llama").GetProperty("initializer_range").GetDouble()), seed,
            Fixture("llama", ("seed", seed), ("tie_word_embeddings", tied)), "HF llama: ");
        long pad = Config("llama").GetProperty("pad_token_id").GetInt64();
        Assert.True(m.get_parameter("model.embed_tokens.weight")![pad].eq(0).all().item<bool>(), "the padding row is 0");
        Assert.Contains($"row {pad} kept at 0", report["model.embed_tokens.weight"].Reason);
        if (tied) Assert.Equal(InitAction.Skipped, report["lm_head.weight"].Action);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(12345L)]
    public void Llama_on_a_bare_LlamaModel_is_its_single_post_init(long seed)
    {
        // No "model" sub-model to match: the root is the model, all its constructors draw, then its one loop (no warning for the
        // preset's SubModel rule, which a variant without a head does not need).
        using var scope = NewDisposeScope();
        torch.random.manual_seed(seed + 1);
        AssertGivesTheTwins(HuggingFaceZoo.LlamaModelAlone(Config("llama_model")), InitPolicy.HuggingFace.Llama(), seed, Fixture("llama_model", ("seed", seed)), "HF llama: ");
    }

    [Theory]
    [MemberData(nameof(Qwen2Variants))]
    public void Qwen2_q_k_v_biases_are_drawn_by_their_constructors_then_zeroed(long seed, bool tied)
    {
        // Qwen2's q/k/v biases: U(±1/√hidden) at construction (they move the stream), 0 after _init_weights.
        using var scope = NewDisposeScope();
        torch.random.manual_seed(seed + 1);
        var m = HuggingFaceZoo.Llama(Config("qwen2"), qkvBias: true, tied);
        var report = AssertGivesTheTwins(m, InitPolicy.HuggingFace.Llama(), seed, Fixture("qwen2", ("seed", seed), ("tie_word_embeddings", tied)), "HF llama: ");
        Assert.Equal("zeros", report["model.layers.0.self_attn.q_proj.bias"].Scheme);
    }

    [Theory]
    [MemberData(nameof(T5Variants))]
    public void T5_gives_the_twins_tensors(long seed, string feedForward, bool tied)
    {
        using var scope = NewDisposeScope();
        torch.random.manual_seed(seed + 1);
        var m = HuggingFaceZoo.T5(Config("t5"), gated: feedForward.StartsWith("gated-", StringComparison.Ordinal), tied);
        var report = AssertGivesTheTwins(m, T5Preset(), seed,
            Fixture("t5", ("seed", seed), ("feed_forward_proj", feedForward), ("tie_word_embeddings", tied)), "HF t5: ");
        // shared is constructed first and drawn last, by the root, after both stacks' post_init.
        Assert.Contains("drawn by the root after both stacks", report["shared.weight"].Reason);
        Assert.Equal(tied ? InitAction.Skipped : InitAction.Initialized, report["lm_head.weight"].Action);
    }

    [Theory]
    [MemberData(nameof(GptNeoXVariants))]
    public void GptNeoX_gives_the_twins_tensors_by_HFs_rule_and_by_the_GPT_NeoX_librarys(long seed, string init, bool tied)
    {
        using var scope = NewDisposeScope();
        torch.random.manual_seed(seed + 1);
        var m = HuggingFaceZoo.GptNeoX(Config("gpt_neox"), tied);
        var report = AssertGivesTheTwins(m, GptNeoXPreset(init), seed, Fixture("gpt_neox", ("seed", seed), ("init", init), ("tie_word_embeddings", tied)), "HF gpt_neox");
        if (init == "neox_library") Assert.Contains("wang_init", report["gpt_neox.layers.1.mlp.dense_4h_to_h.weight"].Reason);
    }

    // ---- what the presets are made of ----

    [Fact]
    public void The_nested_post_init_is_what_makes_the_numbers_Pythons()
    {
        // Constructors first and one loop over everything (AsConstructed and the same rules, no SubModel) is not what Hugging Face
        // does: LlamaModel's post_init runs right after it is built, before lm_head's constructor. Every tensor of the model is then
        // drawn elsewhere in the stream; the head, drawn last both ways after the same number of draws, is the same.
        using var scope = NewDisposeScope();
        const double r = 0.02;
        var flat = InitPolicy.AsConstructed.KeepPaddingRows().For<TorchSharp.Modules.Linear>(InitScheme.Normal(r)).For<TorchSharp.Modules.Embedding>(InitScheme.Normal(r))
            .For(c => c.Name.EndsWith("norm", StringComparison.Ordinal), InitScheme.Ones);
        var m = HuggingFaceZoo.Llama(Config("llama"), qkvBias: false, tied: false);
        m.ApplyInit(flat, new InitOptions { Seed = 0 });
        var differing = Differing(m, Fixture("llama", ("seed", 0L), ("tie_word_embeddings", false)));
        var drawn = m.named_parameters().Select(p => p.name).Where(n => n.StartsWith("model.", StringComparison.Ordinal) && !n.EndsWith("norm.weight", StringComparison.Ordinal)).ToList();
        Assert.Equal(drawn, differing);
        Assert.DoesNotContain("lm_head.weight", differing);
    }

    [Fact]
    public void A_plain_norm_module_is_not_replayed_and_warned_about_and_still_gives_the_twins_tensors()
    {
        // A custom RMSNorm that does not say what its constructor draws: kept as constructed (ones, no draw) and named in the
        // warnings; the rule sets weight 1 all the same.
        using var scope = NewDisposeScope();
        var m = HuggingFaceZoo.Llama(Config("llama"), qkvBias: false, tied: false, declaredNorms: false);
        var report = m.ApplyInit(InitPolicy.HuggingFace.Llama(), new InitOptions { Seed = 12345 });
        Assert.Contains(report.PolicyWarnings, w => w.Contains("model.norm (") && w.Contains("not replayed"));
        Assert.Empty(Differing(m, Fixture("llama", ("seed", 12345L), ("tie_word_embeddings", false))));
        Assert.Equal("ones", report["model.layers.0.input_layernorm.weight"].Scheme);
    }

    [Fact]
    public void The_rotary_buffer_is_left_as_it_is()
    {
        using var scope = NewDisposeScope();
        var m = HuggingFaceZoo.Llama(Config("llama"), qkvBias: false, tied: false);
        var before = m.get_buffer("model.rotary_emb.inv_freq")!.bytes.ToArray();
        var report = m.ApplyInit(InitPolicy.HuggingFace.Llama(), new InitOptions { Seed = 0 });
        Assert.Equal(before, m.get_buffer("model.rotary_emb.inv_freq")!.bytes.ToArray());
        Assert.DoesNotContain(report.Rows, r => r.Parameter == "inv_freq");
    }

    [Fact]
    public void A_tied_head_keeps_the_embeddings_values_and_an_untied_one_is_drawn_last()
    {
        using var scope = NewDisposeScope();
        var tied = HuggingFaceZoo.Llama(Config("llama"), qkvBias: false, tied: true);
        var report = tied.ApplyInit(InitPolicy.HuggingFace.Llama(), new InitOptions { Seed = 0 });
        Assert.Equal(tied.get_parameter("model.embed_tokens.weight")!.bytes.ToArray(), tied.get_parameter("lm_head.weight")!.bytes.ToArray());
        Assert.Contains("model.embed_tokens.weight", report["lm_head.weight"].Note);
        var untied = HuggingFaceZoo.Llama(Config("llama"), qkvBias: false, tied: false);
        untied.ApplyInit(InitPolicy.HuggingFace.Llama(), new InitOptions { Seed = 0 });
        // The model's tensors are the same whether the head is tied or not (the head is built and drawn after them)…
        Assert.Equal(tied.get_parameter("model.norm.weight")!.bytes.ToArray(), untied.get_parameter("model.norm.weight")!.bytes.ToArray());
        Assert.Equal(tied.get_parameter("model.embed_tokens.weight")!.bytes.ToArray(), untied.get_parameter("model.embed_tokens.weight")!.bytes.ToArray());
        // …and an untied head is its own N(0, 0.02²) draw.
        Assert.NotEqual(untied.get_parameter("model.embed_tokens.weight")!.bytes.ToArray(), untied.get_parameter("lm_head.weight")!.bytes.ToArray());
        Assert.InRange(untied.get_parameter("lm_head.weight")!.std().item<float>(), 0.018, 0.022);
    }

    [Fact]
    public void The_report_cites_the_preset_and_rule_for_every_row_and_decision()
    {
        using var scope = NewDisposeScope();
        var m = HuggingFaceZoo.T5(Config("t5"), gated: true, tied: false);
        var plan = m.PlanInit(T5Preset());
        Assert.All(plan.Rows, r => Assert.Contains("HF t5: ", r.Reason));
        Assert.All(plan.Decisions.Where(d => d.Path.Length > 0), d => Assert.Contains("HF t5: ", d.Reason));
        Assert.Contains("SubModel(\"encoder\")", plan["encoder.block.0.layer.0.SelfAttention.q.weight"].Reason);
        Assert.Contains("HF t5: attention q normal_(0, (1·(32·8)^-0.5)²)", plan["encoder.block.0.layer.0.SelfAttention.q.weight"].Reason);
        Assert.Equal(1 / Math.Sqrt(32 * 8), plan["decoder.block.0.layer.1.EncDecAttention.q.weight"].TargetStd, 12);
        Assert.Equal(1 / Math.Sqrt(48), plan["decoder.block.1.layer.2.DenseReluDense.wo.weight"].TargetStd, 12);
    }

    // ---- bad input ----

    [Theory]
    [InlineData(0.0)]
    [InlineData(-0.02)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void A_non_positive_range_or_factor_is_refused(double bad)
    {
        Assert.Contains("initializerRange", Assert.Throws<ArgumentException>(() => InitPolicy.HuggingFace.Llama(bad)).Message);
        Assert.Contains("initializerRange", Assert.Throws<ArgumentException>(() => InitPolicy.HuggingFace.GptNeoX(bad)).Message);
        Assert.Contains("factor", Assert.Throws<ArgumentException>(() => InitPolicy.HuggingFace.T5(32, 8, 4, 48, bad)).Message);
    }

    [Theory]
    [InlineData(0, 8, 4, 48, "dModel")]
    [InlineData(32, 0, 4, 48, "dKv")]
    [InlineData(32, 8, -1, 48, "numHeads")]
    [InlineData(32, 8, 4, 0, "dFf")]
    public void A_T5_dimension_below_one_is_refused(int dModel, int dKv, int numHeads, int dFf, string name) =>
        Assert.Equal(name, Assert.Throws<ArgumentException>(() => InitPolicy.HuggingFace.T5(dModel, dKv, numHeads, dFf)).ParamName);

    [Theory]
    [InlineData(0, 32, "numLayers")]
    [InlineData(2, 0, "hiddenSize")]
    public void A_Pythia_dimension_below_one_is_refused(int layers, int hidden, string name) =>
        Assert.Equal(name, Assert.Throws<ArgumentException>(() => InitPolicy.HuggingFace.Pythia(layers, hidden)).ParamName);

    [Fact]
    public void A_tensor_that_cannot_be_written_throws_before_anything_is_written()
    {
        // The replay, the sub-model's post_init and the head's rule are planned and checked as one: a head on the meta device
        // (no storage) refuses the call before a single draw.
        using var scope = NewDisposeScope();
        var m = HuggingFaceZoo.Llama(Config("llama"), qkvBias: false, tied: false);
        ((TorchSharp.Modules.Linear)m.named_children().Single(c => c.name == "lm_head").module).weight = new TorchSharp.Modules.Parameter(empty(64, 32, device: META));
        var before = m.named_parameters().Where(p => p.name != "lm_head.weight").ToDictionary(p => p.name, p => p.parameter.bytes.ToArray());
        var e = Assert.Throws<InvalidOperationException>(() => m.ApplyInit(InitPolicy.HuggingFace.Llama(), new InitOptions { Seed = 0 }));
        Assert.Contains("lm_head.weight", e.Message);
        foreach (var (name, bytes) in before) Assert.Equal(bytes, m.get_parameter(name)!.bytes.ToArray());
    }
}
