using TorchInit.Fast;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>
/// A demanding user's trial of μP (docs/mup.md, README section 6): bad input of every kind (each refusal a clear
/// ArgumentException/InvalidOperationException that writes nothing), dtypes and the meta device, tied and frozen parameters,
/// leaks, threads, the report against the docs' printed table, files, the coordinate check's options, and the docs' API claims.
/// </summary>
[Collection(SerialTorchCollection.Name)]
public class MuPRobustnessTests
{
    // ---------------------------------------------------------------- models and helpers

    private static Sequential Mlp(long w, bool hidBias = true) => nn.Sequential(
        ("in", nn.Linear(8, w)), ("act1", nn.ReLU()), ("hid", nn.Linear(w, w, hasBias: hidBias)), ("act2", nn.ReLU()),
        ("out", nn.Linear(w, 6)));

    private static Sequential ReadoutMlp(long w, double alpha = 1) => nn.Sequential(
        ("in", nn.Linear(8, w)), ("act1", nn.ReLU()), ("hid", nn.Linear(w, w)), ("act2", nn.ReLU()),
        ("out", new MuReadout(w, 6, outputMultiplier: alpha)));

    /// <summary>docs/mup.md's example: MLP 32 → w → w → 10 with a MuReadout (examples/apps/05-mup.cs).</summary>
    private static Sequential DocMlp(long w) => nn.Sequential(
        ("fc1", nn.Linear(32, w)), ("relu1", nn.ReLU()), ("fc2", nn.Linear(w, w)), ("relu2", nn.ReLU()), ("head", new MuReadout(w, 10)));

    private static MuBaseShapes MlpShapes() => MuBaseShapes.FromFactory(w => Mlp(w), 16, 32);

    private sealed class TiedLm : nn.Module<Tensor, Tensor>
    {
        public readonly Embedding emb;
        public readonly Linear mix;
        public readonly MuSharedReadout head;

        public TiedLm(long w, double alpha = 1, ScalarType? dtype = null) : base(nameof(TiedLm))
        {
            emb = nn.Embedding(40, w, dtype: dtype);
            mix = nn.Linear(w, w, dtype: dtype);
            head = new MuSharedReadout(emb.weight!, outputMultiplier: alpha);
            RegisterComponents();
        }

        public override Tensor forward(Tensor tokens)
        {
            using var scope = NewDisposeScope();
            return head.call(mix.call(emb.call(tokens))).MoveToOuterDisposeScope();
        }
    }

    /// <summary>An embedding read out by a plain Linear whose weight is the embedding's (tied without MuSharedReadout).</summary>
    private sealed class PlainTiedLm : nn.Module<Tensor, Tensor>
    {
        public readonly Embedding emb;
        public readonly Linear mix, head;

        public PlainTiedLm(long w) : base(nameof(PlainTiedLm))
        {
            emb = nn.Embedding(40, w);
            mix = nn.Linear(w, w);
            head = nn.Linear(w, 40, hasBias: false);
            head.weight = emb.weight!;
            RegisterComponents();
        }

        public override Tensor forward(Tensor tokens) => head.call(mix.call(emb.call(tokens)));
    }

    /// <summary>A Linear [w, w] used twice in one Sequential ("a" and "b" are the same module).</summary>
    private static Sequential SharedTwice(long w)
    {
        var lin = nn.Linear(w, w);
        return nn.Sequential(("in", nn.Linear(8, w)), ("a", lin), ("act", nn.ReLU()), ("b", lin), ("out", nn.Linear(w, 6)));
    }

    private sealed class Families : nn.Module<Tensor, Tensor>
    {
        public readonly EmbeddingBag bag;
        public readonly GRU gru;
        public readonly BatchNorm1d bn;
        public readonly Conv2d patch;
        public readonly MultiheadAttention attn;

        public Families(long w) : base(nameof(Families))
        {
            bag = nn.EmbeddingBag(100, w);
            gru = nn.GRU(8, w);
            bn = nn.BatchNorm1d(w);
            patch = nn.Conv2d(3, w, 4, stride: 4);
            attn = nn.MultiheadAttention(w, 2, add_bias_kv: true);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => throw new NotSupportedException();
    }

    private static Tensor P(nn.Module m, string name) => m.get_parameter(name) ?? throw new KeyNotFoundException(name);

    private static Dictionary<string, byte[]> Bytes(nn.Module m) => m.named_parameters().ToDictionary(p => p.name, p => p.parameter.bytes.ToArray());

    private static void AssertUnchanged(Dictionary<string, byte[]> before, nn.Module m, string what)
    {
        var now = m.named_parameters().ToList();
        Assert.Equal(before.Count, now.Count);
        foreach (var (name, p) in now)
            Assert.True(before[name].SequenceEqual(p.bytes.ToArray()), $"{what}: {name} was written although the call was refused");
    }

    private static void AssertClose(double expected, double actual, double rel, string what) =>
        Assert.True(Math.Abs(expected - actual) <= rel * Math.Abs(expected) + 1e-300, $"{what}: expected {expected:R}, got {actual:R}");

    private static IntPtr Ptr(Tensor t) => FastFill.AnyDataPointer(t);

    private static ParamGroup GroupOf(torch.optim.Optimizer opt, Tensor p) =>
        opt.ParamGroups.Cast<ParamGroup>().Single(g => g.Parameters.Any(q => Ptr(q) == Ptr(p)));

    private static List<IntPtr> Listed(torch.optim.Optimizer opt) => opt.ParamGroups.Cast<ParamGroup>().SelectMany(g => g.Parameters).Select(Ptr).ToList();

    private static T OnMeta<T>(Func<T> build)
    {
        var previous = get_default_device();
        set_default_device(META);
        try { return build(); }
        finally { set_default_device(previous); }
    }

    private static void Flush()
    {
        for (int i = 0; i < 3; i++) { GC.Collect(); GC.WaitForPendingFinalizers(); }
    }

    /// <summary>The clear message a refusal should carry: not empty, not a bare framework message.</summary>
    private static void Clear(Exception e, params string[] mentions)
    {
        Assert.False(string.IsNullOrWhiteSpace(e.Message));
        foreach (var m in mentions) Assert.True(e.Message.Contains(m, StringComparison.Ordinal), $"message does not mention '{m}': {e.Message}");
    }

    // ---------------------------------------------------------------- FromFactory: widths and factories

    [Theory]
    [InlineData(0L, 16L)]
    [InlineData(-4L, 16L)]
    [InlineData(16L, 16L)]
    [InlineData(32L, 16L)]
    [InlineData(16L, -1L)]
    [InlineData(-32L, -16L)]
    public void FromFactory_refuses_bad_widths_without_calling_the_factory(long baseWidth, long deltaWidth)
    {
        int calls = 0;
        var e = Assert.Throws<ArgumentException>(() => MuBaseShapes.FromFactory(w => { calls++; return Mlp(w); }, baseWidth, deltaWidth));
        Clear(e, baseWidth.ToString(), deltaWidth.ToString());
        Assert.Equal(0, calls);
        Assert.Equal(DeviceType.CPU, get_default_device().type);
    }

    [Fact]
    public void FromFactory_a_factory_that_throws_propagates_and_puts_the_device_and_generator_back()
    {
        torch.manual_seed(123);
        using var expected = randn(5);
        torch.manual_seed(123);
        var e = Assert.ThrowsAny<Exception>(() => MuBaseShapes.FromFactory<nn.Module>(w => w == 32 ? throw new InvalidOperationException("user factory failed") : Mlp(w), 16, 32));
        Assert.Contains("user factory failed", e.ToString());
        Assert.Equal(DeviceType.CPU, get_default_device().type);
        using var after = randn(5);
        Assert.True(expected.eq(after).all().item<bool>(), "the global generator was not put back after the factory threw");
        using var cpu = nn.Linear(2, 2);
        Assert.Equal(DeviceType.CPU, cpu.weight!.device.type);
    }

    [Fact]
    public void FromFactory_a_factory_that_returns_null_or_ignores_the_width_is_refused_clearly()
    {
        var nul = Assert.Throws<ArgumentException>(() => MuBaseShapes.FromFactory<nn.Module>(_ => null!, 16, 32));
        Clear(nul, "null");
        var same = Assert.Throws<ArgumentException>(() => MuBaseShapes.FromFactory(_ => Mlp(16), 16, 32));
        Clear(same, "grows with width");
        // Another architecture at the delta width (one more layer) names the layer.
        var deeper = Assert.Throws<ArgumentException>(() => MuBaseShapes.FromFactory<nn.Module>(w => w == 32
            ? nn.Sequential(("in", nn.Linear(8, w)), ("hid", nn.Linear(w, w)), ("out", nn.Linear(w, 6)), ("extra", nn.Linear(6, 6)))
            : nn.Sequential(("in", nn.Linear(8, w)), ("hid", nn.Linear(w, w)), ("out", nn.Linear(w, 6))), 16, 32));
        Clear(deeper, "extra.weight");
        Assert.Equal(DeviceType.CPU, get_default_device().type);
    }

    [Fact]
    public void FromModels_of_the_same_model_twice_is_refused()
    {
        using var scope = NewDisposeScope();
        var m = Mlp(16);
        Clear(Assert.Throws<ArgumentException>(() => MuBaseShapes.FromModels(m, m)), "grows with width");
    }

    // ---------------------------------------------------------------- applying mismatched shapes

    public static TheoryData<string> Mismatches => new() { "model has an extra bias", "model lacks a bias", "another architecture (tied LM)", "narrower than base", "shapes from a file missing a key" };

    private static (nn.Module Model, MuBaseShapes Shapes, string Named) Mismatch(string kind) => kind switch
    {
        "model has an extra bias" => (Mlp(64), MuBaseShapes.FromFactory(w => Mlp(w, hidBias: false), 16, 32), "hid.bias"),
        "model lacks a bias" => (Mlp(64, hidBias: false), MlpShapes(), "hid.bias"),
        "another architecture (tied LM)" => (Mlp(64), MuBaseShapes.FromFactory(w => new TiedLm(w), 16, 32), "emb.weight"),
        "narrower than base" => (Mlp(8), MlpShapes(), "hid.weight"),
        "shapes from a file missing a key" => (Mlp(64), MuBaseShapes.FromJson(
            """{ "parameters": [ { "name": "in.weight", "baseShape": [16, 8], "infinite": [true, false] }, { "name": "in.bias", "baseShape": [16], "infinite": [true] } ] }"""), "hid.weight"),
        _ => throw new ArgumentException(kind),
    };

    [Theory]
    [MemberData(nameof(Mismatches))]
    public void Mismatched_shapes_are_refused_everywhere_with_the_parameter_named_and_nothing_written(string kind)
    {
        using var scope = NewDisposeScope();
        var (model, shapes, named) = Mismatch(kind);
        var before = Bytes(model);
        var policy = InitPolicy.Of(InitScheme.TorchDefault).MuP(shapes);
        Clear(Assert.Throws<ArgumentException>(() => model.ApplyInit(policy, new InitOptions { Seed = 1 })), named);
        AssertUnchanged(before, model, kind);
        Clear(Assert.Throws<ArgumentException>(() => model.PlanInit(policy)), named);
        Clear(Assert.Throws<ArgumentException>(() => MuP.Parameters(model, shapes)), named);
        Clear(Assert.Throws<ArgumentException>(() => MuP.Adam(model, shapes)), named);
        Clear(Assert.Throws<ArgumentException>(() => MuP.AdamW(model, shapes)), named);
        Clear(Assert.Throws<ArgumentException>(() => MuP.SGD(model, shapes, 0.1)), named);
        AssertUnchanged(before, model, kind);
    }

    [Fact]
    public void A_refused_apply_leaves_the_readout_multiplier_unset()
    {
        using var scope = NewDisposeScope();
        var shapes = MuBaseShapes.FromFactory(w => ReadoutMlp(w), 16, 32);
        var model = ReadoutMlp(64);
        var before = Bytes(model);
        // The input weight orthogonal: μP needs s = 2, which an orthogonal fill cannot take, so refused; the readout must not be half-configured.
        var policy = InitPolicy.Of(InitScheme.TorchDefault).ForPath("in", InitScheme.Orthogonal).MuP(shapes);
        var e = Assert.Throws<ArgumentException>(() => model.ApplyInit(policy, new InitOptions { Seed = 1 }));
        Clear(e, "in.weight");
        AssertUnchanged(before, model, "orthogonal under μP");
        var head = (MuReadout)model.named_children().Single(c => c.name == "out").module;
        Assert.True(double.IsNaN(head.WidthMultiplier), $"refused ApplyInit set the readout's m_in to {head.WidthMultiplier}");
        Assert.Throws<InvalidOperationException>(() => head.call(ones(2, 64)));
    }

    private static Sequential ConvNet(long w) => nn.Sequential(
        ("in", nn.Conv1d(3, w, 3, padding: 1)), ("hid", nn.Conv1d(w, w, 3, padding: 1)), ("out", nn.Conv1d(w, 2, 3, padding: 1)));

    /// <summary>docs/mup.md, "Limits": "A scheme without a std (eye, dirac) cannot be made μP: ApplyInit throws naming the parameter,
    /// before anything is written. Orthogonal ... fills have a std but cannot be scaled."</summary>
    [Theory]
    [InlineData("eye on the hidden Linear")]
    [InlineData("eye on the output Linear")]
    [InlineData("dirac on the hidden Conv1d")]
    [InlineData("orthogonal on the output Linear (s = 1/2)")]
    [InlineData("orthogonal on the input Linear (s = 2)")]
    public void Schemes_that_cannot_be_made_muP_are_refused_naming_the_parameter_before_writing(string what)
    {
        using var scope = NewDisposeScope();
        var (model, shapes, path, scheme) = what switch
        {
            "eye on the hidden Linear" => ((nn.Module)Mlp(64), MlpShapes(), "hid", InitScheme.Eye),
            "eye on the output Linear" => (Mlp(64), MlpShapes(), "out", InitScheme.Eye),
            "dirac on the hidden Conv1d" => (ConvNet(64), MuBaseShapes.FromFactory(ConvNet, 16, 32), "hid", InitScheme.Dirac()),
            "orthogonal on the output Linear (s = 1/2)" => (Mlp(64), MlpShapes(), "out", InitScheme.Orthogonal),
            "orthogonal on the input Linear (s = 2)" => (Mlp(64), MlpShapes(), "in", InitScheme.Orthogonal),
            _ => throw new ArgumentException(what),
        };
        var before = Bytes(model);
        var e = Record.Exception(() => model.ApplyInit(InitPolicy.Of(InitScheme.TorchDefault).ForPath(path, scheme).MuP(shapes), new InitOptions { Seed = 2 }));
        Assert.True(e is ArgumentException, $"{what}: not refused under μP ({e?.GetType().Name ?? "no exception"}); docs/mup.md says ApplyInit throws naming the parameter");
        Clear(e!, path + ".weight");
        AssertUnchanged(before, model, what);
    }

    [Fact]
    public void The_no_base_std_message_does_not_recommend_orthogonal_which_the_docs_say_cannot_be_scaled()
    {
        string text = MuText.NoBaseStd("hid.weight", "Eye", "eye");
        Assert.True(!text.Contains("orthogonal", StringComparison.OrdinalIgnoreCase),
            $"docs/mup.md: orthogonal fills 'cannot be scaled', but this refusal recommends it: {text}");
    }

    // ---------------------------------------------------------------- JSON and files

    public static TheoryData<string, string> BadJson => new()
    {
        { "empty", "" },
        { "whitespace", "   \n" },
        { "null literal", "null" },
        { "empty object", "{}" },
        { "parameters null", """{ "parameters": null }""" },
        { "parameters an object", """{ "parameters": { "name": "a" } }""" },
        { "parameters a string", """{ "parameters": "in.weight" }""" },
        { "a null entry", """{ "parameters": [ null ] }""" },
        { "an entry a number", """{ "parameters": [ 5 ] }""" },
        { "baseShape a string", """{ "parameters": [ { "name": "a", "baseShape": "16,8", "infinite": [true, false] } ] }""" },
        { "baseShape fractional", """{ "parameters": [ { "name": "a", "baseShape": [16.5], "infinite": [true] } ] }""" },
        { "baseShape strings", """{ "parameters": [ { "name": "a", "baseShape": ["16"], "infinite": [true] } ] }""" },
        { "baseShape overflow", """{ "parameters": [ { "name": "a", "baseShape": [1e30], "infinite": [true] } ] }""" },
        { "baseShape negative", """{ "parameters": [ { "name": "a", "baseShape": [-16], "infinite": [true] } ] }""" },
        { "infinite as numbers", """{ "parameters": [ { "name": "a", "baseShape": [16], "infinite": [1] } ] }""" },
        { "infinite as strings", """{ "parameters": [ { "name": "a", "baseShape": [16], "infinite": ["yes"] } ] }""" },
        { "infinite missing", """{ "parameters": [ { "name": "a", "baseShape": [16] } ] }""" },
        { "baseShape missing", """{ "parameters": [ { "name": "a", "infinite": [true] } ] }""" },
        { "name a number", """{ "parameters": [ { "name": 5, "baseShape": [16], "infinite": [true] } ] }""" },
        { "name empty", """{ "parameters": [ { "name": "", "baseShape": [16], "infinite": [true] } ] }""" },
        { "empty list", """{ "parameters": [] }""" },
        { "trailing comma", """{ "parameters": [ { "name": "a", "baseShape": [16], "infinite": [true] }, ] }""" },
        { "truncated", """{ "parameters": [ { "name": "a", "baseShape": [16], "infin""" },
        { "not json", "name,baseShape\na,16" },
    };

    [Theory]
    [MemberData(nameof(BadJson))]
    public void FromJson_refuses_every_bad_document_with_an_ArgumentException(string what, string json)
    {
        var e = Record.Exception(() => MuBaseShapes.FromJson(json));
        Assert.True(e is ArgumentException && e is not ArgumentNullException,
            $"{what}: expected ArgumentException, got {(e is null ? "no exception" : e.GetType().Name + ": " + e.Message)}");
        Clear(e!, "μP base shapes");
    }

    [Fact]
    public void A_zero_base_size_in_a_growing_dimension_is_refused_not_read_as_multiplier_one()
    {
        // n/n₀ with n₀ = 0 has no value; the code reads it as 1 (MuRules.Describe: b.BaseShape[i] == 0 ? 1), which silently
        // makes a hidden weight of width 64 initialized and trained as the base's.
        var e = Record.Exception(() =>
        {
            var shapes = MuBaseShapes.FromJson("""
                { "parameters": [
                  { "name": "in.weight", "baseShape": [0, 8], "infinite": [true, false] },
                  { "name": "in.bias", "baseShape": [0], "infinite": [true] },
                  { "name": "hid.weight", "baseShape": [0, 0], "infinite": [true, true] },
                  { "name": "hid.bias", "baseShape": [0], "infinite": [true] },
                  { "name": "out.weight", "baseShape": [6, 0], "infinite": [false, true] },
                  { "name": "out.bias", "baseShape": [6], "infinite": [false] } ] }
                """);
            using var model = Mlp(64);
            MuP.Parameters(model, shapes);
        });
        Assert.True(e is ArgumentException, $"a base size 0 in an infinite dimension was accepted ({e?.GetType().Name ?? "no exception"})");
    }

    [Fact]
    public void Truncating_a_saved_file_anywhere_is_refused_as_ArgumentException()
    {
        string json = MlpShapes().ToJson();
        foreach (int cut in new[] { 1, 10, json.Length / 3, json.Length / 2, json.Length - 2 })
        {
            var e = Record.Exception(() => MuBaseShapes.FromJson(json[..cut]));
            Assert.True(e is ArgumentException, $"cut at {cut}/{json.Length}: {e?.GetType().Name ?? "accepted"}");
        }
    }

    [Fact]
    public void Load_of_a_bad_file_names_the_file()
    {
        string path = Path.Combine(Path.GetTempPath(), $"trial-mup-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(path, """{ "parameters": [ { "name": "a", "baseShape": "oops", "infinite": [true] } ] }""");
            var e = Assert.Throws<ArgumentException>(() => MuBaseShapes.Load(path));
            Assert.True(e.Message.Contains(Path.GetFileName(path)), $"Load's refusal does not say which file: {e.Message}");
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void PascalCase_keys_as_a_hand_written_file_might_have_are_read_or_refused_naming_the_keys()
    {
        string json = """{ "Parameters": [ { "Name": "in.weight", "BaseShape": [16, 8], "Infinite": [true, false] } ] }""";
        var e = Record.Exception(() => MuBaseShapes.FromJson(json));
        if (e is null) return;   // read case-insensitively: fine
        Assert.IsType<ArgumentException>(e);
        Assert.Contains("parameters", e.Message);
    }

    [Fact]
    public void Save_into_a_missing_directory_either_creates_it_or_refuses_naming_the_path()
    {
        var shapes = MlpShapes();
        string dir = Path.Combine(Path.GetTempPath(), $"trial-mup-{Guid.NewGuid():N}", "nested");
        string path = Path.Combine(dir, "shapes.json");
        try
        {
            var e = Record.Exception(() => shapes.Save(path));
            if (e is null)
            {
                var back = MuBaseShapes.Load(path);
                Assert.Equal(shapes.ToJson(), back.ToJson());
            }
            else
            {
                Assert.True(e is IOException or ArgumentException, $"{e.GetType().Name}: {e.Message}");
                Assert.Contains(dir, e.Message);
                Assert.False(File.Exists(path));
            }
            var missing = Assert.Throws<FileNotFoundException>(() => MuBaseShapes.Load(Path.Combine(dir, "other.json")));
            Assert.Contains("other.json", missing.Message);
        }
        finally { if (Directory.Exists(Path.GetDirectoryName(dir)!)) Directory.Delete(Path.GetDirectoryName(dir)!, recursive: true); }
    }

    [Fact]
    public void Save_Load_round_trip_gives_the_same_init_and_Save_overwrites()
    {
        using var scope = NewDisposeScope();
        var shapes = MuBaseShapes.FromFactory(w => ReadoutMlp(w), 16, 32);
        string path = Path.Combine(Path.GetTempPath(), $"trial-mup-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(path, "old content that is not json, longer than nothing at all");
            shapes.Save(path);
            var loaded = MuBaseShapes.Load(path);
            Assert.Equal(shapes.ToJson(), loaded.ToJson());
            Assert.Equal(shapes.Parameters.Count, loaded.Parameters.Count);
            var a = ReadoutMlp(64);
            var b = ReadoutMlp(64);
            a.ApplyInit(InitPolicy.Of(InitScheme.TorchDefault).MuP(shapes), new InitOptions { Seed = 4 });
            b.ApplyInit(InitPolicy.Of(InitScheme.TorchDefault).MuP(loaded), new InitOptions { Seed = 4 });
            var ab = Bytes(a);
            AssertUnchanged(ab, b, "same init from loaded shapes");
        }
        finally { File.Delete(path); }
    }

    // ---------------------------------------------------------------- optimizer hyperparameters

    public static TheoryData<string> BadHyper => new()
    {
        "Adam lr -1", "Adam lr NaN", "Adam lr inf", "Adam wd -1", "Adam beta1 1.5", "Adam beta2 -0.1", "Adam eps -1",
        "AdamW lr NaN", "AdamW wd -0.1", "AdamW beta1 -0.5", "SGD lr -0.1", "SGD momentum -1", "SGD nesterov without momentum",
    };

    [Theory]
    [MemberData(nameof(BadHyper))]
    public void Optimizer_hyperparameters_out_of_range_are_refused(string what)
    {
        using var scope = NewDisposeScope();
        var shapes = MlpShapes();
        var model = Mlp(64);
        Func<object> make = what switch
        {
            "Adam lr -1" => () => MuP.Adam(model, shapes, lr: -1),
            "Adam lr NaN" => () => MuP.Adam(model, shapes, lr: double.NaN),
            "Adam lr inf" => () => MuP.Adam(model, shapes, lr: double.PositiveInfinity),
            "Adam wd -1" => () => MuP.Adam(model, shapes, weightDecay: -1),
            "Adam beta1 1.5" => () => MuP.Adam(model, shapes, beta1: 1.5),
            "Adam beta2 -0.1" => () => MuP.Adam(model, shapes, beta2: -0.1),
            "Adam eps -1" => () => MuP.Adam(model, shapes, eps: -1),
            "AdamW lr NaN" => () => MuP.AdamW(model, shapes, lr: double.NaN),
            "AdamW wd -0.1" => () => MuP.AdamW(model, shapes, weightDecay: -0.1),
            "AdamW beta1 -0.5" => () => MuP.AdamW(model, shapes, beta1: -0.5),
            "SGD lr -0.1" => () => MuP.SGD(model, shapes, -0.1),
            "SGD momentum -1" => () => MuP.SGD(model, shapes, 0.1, momentum: -1),
            "SGD nesterov without momentum" => () => MuP.SGD(model, shapes, 0.1, nesterov: true),
            _ => throw new ArgumentException(what),
        };
        var e = Record.Exception(() => { var o = make(); (o as IDisposable)?.Dispose(); });
        Assert.True(e is ArgumentException, $"{what}: expected ArgumentException (docs: 'a hyperparameter is out of range'), got {(e is null ? "none" : e.GetType().Name + ": " + e.Message)}");
    }

    // ---------------------------------------------------------------- dtypes and devices

    [Theory]
    [InlineData(ScalarType.Float64)]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    public void MuP_init_in_other_dtypes_gives_the_float32_target_stds_and_keeps_the_dtype(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var shapes = MuBaseShapes.FromFactory(w => ReadoutMlp(w), 16, 32);
        var reference = ReadoutMlp(256);
        var want = reference.ApplyInit(InitPolicy.Of(InitScheme.HeNormal).MuP(shapes), new InitOptions { Seed = 5 });
        var model = ReadoutMlp(256);
        model.to(dtype);
        var got = model.ApplyInit(InitPolicy.Of(InitScheme.HeNormal).MuP(shapes), new InitOptions { Seed = 5, MeasureRealized = true });
        foreach (var row in want.Rows)
        {
            var r = got[row.QualifiedName];
            Assert.Equal(row.MuClass, r.MuClass);
            AssertClose(row.TargetStd, r.TargetStd, 1e-12, $"{dtype} {row.QualifiedName} target std");
            AssertClose(row.MuScale, r.MuScale, 1e-12, $"{dtype} {row.QualifiedName} μP scale");
            Assert.Equal(dtype, P(model, row.QualifiedName).dtype);
            var t = P(model, row.QualifiedName);
            Assert.True(t.isfinite().all().item<bool>(), $"{dtype} {row.QualifiedName}: non-finite values");
            if (t.numel() > 1000)
                AssertClose(r.TargetStd, r.RealizedStd, 0.05, $"{dtype} {row.QualifiedName} realized std");
        }
        var head = (MuReadout)model.named_children().Single(c => c.name == "out").module;
        AssertClose(16.0, head.WidthMultiplier, 1e-15, $"{dtype} readout m_in");
        // The optimizer builds and steps in this dtype.
        using var opt = MuP.Adam(model, shapes, lr: 1e-3);
        if (dtype == ScalarType.Float64)
        {
            opt.zero_grad();
            model.call(randn(4, 8, dtype: dtype)).sum().backward();
            opt.step();
            Assert.All(model.parameters(), p => Assert.Equal(dtype, p.dtype));
        }
    }

    [Fact]
    public void MuReadout_in_float64_is_float64_and_its_forward_is_linear_of_x_alpha_over_m()
    {
        using var scope = NewDisposeScope();
        var r = new MuReadout(64, 5, outputMultiplier: 3, dtype: ScalarType.Float64);
        Assert.Equal(ScalarType.Float64, r.weight.dtype);
        Assert.Equal(ScalarType.Float64, r.bias!.dtype);
        Assert.Throws<InvalidOperationException>(() => r.call(ones(2, 64, dtype: ScalarType.Float64)));
        var model = nn.Sequential(("in", nn.Linear(8, 64, dtype: ScalarType.Float64)), ("head", r));
        var shapes = MuBaseShapes.FromFactory(w => nn.Sequential(("in", nn.Linear(8, w)), ("head", new MuReadout(w, 5))), 16, 32);
        model.ApplyInit(InitPolicy.Of(InitScheme.TorchDefault).MuP(shapes), new InitOptions { Seed = 6 });
        Assert.Equal(4.0, r.WidthMultiplier);
        var x = randn(3, 64, dtype: ScalarType.Float64, generator: new Generator(1));
        var y = r.call(x);
        Assert.Equal(ScalarType.Float64, y.dtype);
        var expected = nn.functional.linear(x * (3.0 / 4.0), r.weight, r.bias);
        Assert.True(y.allclose(expected, rtol: 1e-14, atol: 1e-15), "MuReadout float64 forward differs from linear(x·α/m, W, b)");
        // The shared readout on a float64 embedding: its own bias takes the weight's dtype.
        var emb = nn.Embedding(40, 64, dtype: ScalarType.Float64);
        var shared = new MuSharedReadout(emb.weight!);
        Assert.Equal(ScalarType.Float64, shared.bias!.dtype);
    }

    [Fact]
    public void A_meta_device_model_can_be_planned_and_read_but_ApplyInit_refuses_clearly()
    {
        var shapes = MuBaseShapes.FromFactory(w => ReadoutMlp(w), 16, 32);
        using var model = OnMeta(() => ReadoutMlp(64));
        Assert.Equal(DeviceType.META, P(model, "hid.weight").device.type);
        var plan = model.PlanInit(InitPolicy.Of(InitScheme.TorchDefault).MuP(shapes));
        Assert.Equal(MuClass.Hidden, plan["hid.weight"].MuClass);
        AssertClose(4.0, plan["hid.weight"].WidthMultiplier, 1e-15, "meta plan m");
        var info = MuP.Parameters(model, shapes).ToDictionary(p => p.Name);
        Assert.Equal(MuClass.Output, info["out.weight"].Class);
        Assert.True(info["out.weight"].IsReadout);
        var e = Record.Exception(() => model.ApplyInit(InitPolicy.Of(InitScheme.TorchDefault).MuP(shapes), new InitOptions { Seed = 0 }));
        Assert.True(e is InvalidOperationException or ArgumentException, $"meta ApplyInit: {e?.GetType().Name ?? "no exception"}");
        Assert.Contains("meta", e!.Message, StringComparison.OrdinalIgnoreCase);
        var head = (MuReadout)model.named_children().Single(c => c.name == "out").module;
        Assert.True(double.IsNaN(head.WidthMultiplier));
    }

    // ---------------------------------------------------------------- tied and shared

    [Fact]
    public void A_Linear_used_twice_is_listed_initialized_and_trained_once()
    {
        using var scope = NewDisposeScope();
        var shapes = MuBaseShapes.FromFactory(SharedTwice, 16, 32);
        var model = SharedTwice(64);
        var info = MuP.Parameters(model, shapes);
        Assert.Equal(info.Count, info.Select(p => p.Name).Distinct().Count());
        Assert.Equal(6, info.Count);   // in.w, in.b, a.w, a.b, out.w, out.b
        var hid = info.Single(p => p.Name == "a.weight");
        Assert.Equal(MuClass.Hidden, hid.Class);
        var report = model.ApplyInit(InitPolicy.Of(InitScheme.Normal(0.1)).MuP(shapes), new InitOptions { Seed = 7, MeasureRealized = true });
        AssertClose(0.1 / 2, report["a.weight"].TargetStd, 1e-12, "shared hidden μP std σ₀/√m_in");
        AssertClose(0.05, Stats.Std(Stats.Values(P(model, "a.weight"))), 0.05, "written std");
        foreach (var make in new Func<torch.optim.Optimizer>[] { () => MuP.Adam(model, shapes, lr: 0.01), () => MuP.AdamW(model, shapes, lr: 0.01), () => MuP.SGD(model, shapes, 0.01) })
        {
            using var opt = make();
            var listed = Listed(opt);
            Assert.Equal(listed.Count, listed.Distinct().Count());
            Assert.Equal(6, listed.Count);
        }
        // One Adam step moves the shared weight by lr/m_in once, not twice.
        var before = P(model, "a.weight").detach().clone();
        using var adam = MuP.Adam(model, shapes, lr: 0.01);
        adam.zero_grad();
        ((nn.Module<Tensor, Tensor>)model).call(randn(16, 8, generator: new Generator(2))).square().sum().backward();
        var g = P(model, "a.weight").grad!.clone();
        adam.step();
        var delta = (P(model, "a.weight") - before).abs();
        var big = g.abs() > g.abs().max() * 1e-2;
        var moved = delta.masked_select(big);
        Assert.True(moved.numel() > 100);
        AssertClose(0.01 / 4, moved.mean().item<float>(), 5e-3, "shared hidden weight Adam step");
    }

    [Fact]
    public void An_embedding_tied_to_a_MuSharedReadout_trains_once_and_reads_out_with_alpha_over_m()
    {
        using var scope = NewDisposeScope();
        var shapes = MuBaseShapes.FromFactory(w => new TiedLm(w, 2), 16, 32);
        var model = new TiedLm(128, 2);
        var report = model.ApplyInit(InitPolicy.Of(InitScheme.Normal(0.02)).MuP(shapes), new InitOptions { Seed = 8 });
        Assert.Equal(Ptr(model.emb.weight!), Ptr(model.head.weight));
        Assert.Equal(8.0, model.head.WidthMultiplier);
        Assert.DoesNotContain(report.PolicyWarnings, w => w.Contains("MuSharedReadout"));
        var info = MuP.Parameters(model, shapes);
        Assert.Equal(MuClass.Input, info.Single(p => p.Name == "emb.weight").Class);
        Assert.DoesNotContain(info, p => p.Name == "head.weight");
        foreach (var make in new Func<torch.optim.Optimizer>[] { () => MuP.Adam(model, shapes), () => MuP.SGD(model, shapes, 0.1) })
        {
            using var opt = make();
            var listed = Listed(opt);
            Assert.Equal(4, listed.Count);    // emb.weight, mix.weight, mix.bias, head.bias
            Assert.Equal(listed.Count, listed.Distinct().Count());
        }
        var tokens = tensor(new long[] { 1, 5, 7 });
        using var _ = no_grad();
        var h = model.mix.call(model.emb.call(tokens));
        var expected = nn.functional.linear(h * (2.0 / 8.0), model.emb.weight!, model.head.bias);
        Assert.True(model.call(tokens).allclose(expected, rtol: 1e-6, atol: 1e-7));
    }

    [Fact]
    public void A_plain_Linear_tied_to_an_embedding_is_warned_about()
    {
        using var scope = NewDisposeScope();
        var shapes = MuBaseShapes.FromFactory(w => new PlainTiedLm(w), 16, 32);
        var model = new PlainTiedLm(64);
        Assert.Equal(Ptr(model.emb.weight!), Ptr(model.head.weight!));
        var report = model.ApplyInit(InitPolicy.Of(InitScheme.Normal(0.02)).MuP(shapes), new InitOptions { Seed = 9 });
        Assert.Contains(report.PolicyWarnings, w => w.Contains("MuSharedReadout") && w.Contains("head.weight"));
    }

    // ---------------------------------------------------------------- frozen

    [Fact]
    public void Frozen_parameters_are_skipped_by_init_and_optimizers_and_all_frozen_is_refused()
    {
        using var scope = NewDisposeScope();
        var shapes = MlpShapes();
        var model = Mlp(64);
        P(model, "hid.weight").requires_grad = false;
        var frozenBefore = P(model, "hid.weight").bytes.ToArray();
        var report = model.ApplyInit(InitPolicy.Of(InitScheme.HeNormal).MuP(shapes), new InitOptions { Seed = 10 });
        Assert.Equal(InitAction.Skipped, report["hid.weight"].Action);
        Assert.True(frozenBefore.SequenceEqual(P(model, "hid.weight").bytes.ToArray()), "a frozen weight was written");
        Assert.Equal(MuClass.Hidden, report["hid.weight"].MuClass);
        foreach (var make in new Func<torch.optim.Optimizer>[] { () => MuP.Adam(model, shapes), () => MuP.AdamW(model, shapes), () => MuP.SGD(model, shapes, 0.1) })
        {
            using var opt = make();
            var listed = Listed(opt);
            Assert.Equal(5, listed.Count);   // 6 parameters, 1 frozen
            Assert.DoesNotContain(Ptr(P(model, "hid.weight")), listed);
        }
        // IncludeFrozen: written with its μP std.
        var inc = model.ApplyInit(InitPolicy.Of(InitScheme.HeNormal).MuP(shapes), new InitOptions { Seed = 10, IncludeFrozen = true });
        Assert.Equal(InitAction.Initialized, inc["hid.weight"].Action);
        AssertClose(Math.Sqrt(2.0 / 64), inc["hid.weight"].TargetStd, 1e-12, "frozen hidden μP std (He: σ)");
        // Every parameter frozen: the optimizers refuse clearly.
        foreach (var p in model.parameters()) p.requires_grad = false;
        Clear(Assert.Throws<ArgumentException>(() => MuP.Adam(model, shapes)), "trainable");
        Clear(Assert.Throws<ArgumentException>(() => MuP.AdamW(model, shapes)), "trainable");
        Clear(Assert.Throws<ArgumentException>(() => MuP.SGD(model, shapes, 0.1)), "trainable");
        Assert.Equal(6, MuP.Parameters(model, shapes).Count);   // still listed
    }

    // ---------------------------------------------------------------- leaks

    [Fact]
    public void MuP_calls_leave_no_tensors_behind()
    {
        var shapes = MuBaseShapes.FromFactory(w => new TiedLm(w), 16, 32);
        using var model = new TiedLm(64);
        using var mlp = Mlp(64);
        var mlpShapes = MlpShapes();
        var tokens = tensor(new long[] { 1, 2, 3 });
        void Work()
        {
            model.ApplyInit(InitPolicy.Of(InitScheme.TorchDefault).MuP(shapes, new MuOptions { ZeroReadout = true }), new InitOptions { Seed = 11, MeasureRealized = true });
            model.PlanInit(InitPolicy.Of(InitScheme.TorchDefault).MuP(shapes));
            MuP.Parameters(model, shapes);
            using (var o = MuP.Adam(model, shapes)) { }
            using (var o = MuP.AdamW(model, shapes)) { }
            using (var o = MuP.SGD(model, shapes, 0.1)) { }
            using (no_grad()) using (var y = model.call(tokens)) { }
            using (var q = randn(2, 3, 8)) using (var a = MuP.ScaledDotProductAttention(q, q, q, isCausal: true, multiplier: 2)) { }
            Assert.Throws<ArgumentException>(() => mlp.ApplyInit(InitPolicy.Of(InitScheme.TorchDefault).MuP(shapes), new InitOptions { Seed = 1 }));
            Assert.Throws<ArgumentException>(() => mlp.ApplyInit(InitPolicy.Of(InitScheme.TorchDefault).ForPath("in", InitScheme.Orthogonal).MuP(mlpShapes), new InitOptions { Seed = 1 }));
            using (var small = new TiedLm(32)) MuBaseShapes.FromModels(small, model).ToJson();
        }
        Work();
        Work();
        Flush();
        // TorchSharp 0.107 keeps a disposed module's parameter wrappers counted: the TiedLm(32) built in Work is the allowance.
        long start = Tensor.TotalCount;
        using (var extra = new TiedLm(32)) { }
        Flush();
        long allowance = Tensor.TotalCount - start;
        long before = Tensor.TotalCount;
        for (int i = 0; i < 3; i++) Work();
        Flush();
        long leaked = Tensor.TotalCount - before - 3 * allowance;
        Assert.True(leaked <= 0, $"{leaked} tensors left behind by 3 rounds of μP calls (allowance {allowance} per round)");
    }

    [Fact]
    public void FromFactory_leaves_no_tensors_behind()
    {
        MuBaseShapes.FromFactory(w => ReadoutMlp(w), 16, 32);
        Flush();
        long start = Tensor.TotalCount;
        using (var a = OnMeta(() => ReadoutMlp(16))) { }
        using (var b = OnMeta(() => ReadoutMlp(32))) { }
        Flush();
        long allowance = Tensor.TotalCount - start;
        long before = Tensor.TotalCount;
        for (int i = 0; i < 3; i++) MuBaseShapes.FromFactory(w => ReadoutMlp(w), 16, 32);
        Flush();
        long leaked = Tensor.TotalCount - before - 3 * allowance;
        Assert.True(leaked <= 0, $"{leaked} tensors left behind by 3 FromFactory calls (allowance {allowance} per call)");
    }

    // ---------------------------------------------------------------- threads

    [Fact]
    public void Two_threads_applying_muP_with_the_same_seed_to_their_own_models_agree_with_a_sequential_run()
    {
        var shapes = MuBaseShapes.FromFactory(w => ReadoutMlp(w), 16, 32);
        var policy = InitPolicy.Of(InitScheme.TorchDefault).MuP(shapes, new MuOptions { ZeroReadout = false });
        using var reference = ReadoutMlp(256);
        reference.ApplyInit(policy, new InitOptions { Seed = 12 });
        var want = Bytes(reference);
        var models = new[] { ReadoutMlp(256), ReadoutMlp(256) };
        var errors = new Exception?[2];
        var threads = Enumerable.Range(0, 2).Select(i => new Thread(() =>
        {
            try { for (int k = 0; k < 5; k++) models[i].ApplyInit(policy, new InitOptions { Seed = 12 }); }
            catch (Exception e) { errors[i] = e; }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.Null(errors[0]);
        Assert.Null(errors[1]);
        foreach (var m in models)
        {
            AssertUnchanged(want, m, "thread result vs sequential");
            var head = (MuReadout)m.named_children().Single(c => c.name == "out").module;
            Assert.Equal(16.0, head.WidthMultiplier);
            m.Dispose();
        }
    }

    /// <summary>
    /// TorchSharp's default device is process-wide, so FromFactory's meta construction is serialized with TorchInit's other
    /// (Build.WithoutDefaultInit): two threads doing both at once each get the right result, and the default device is CPU after.
    /// (Models other threads build without TorchInit meanwhile may land on meta: documented in docs/mup.md's Limits.)
    /// </summary>
    [Fact]
    public void FromFactory_and_Build_on_two_threads_at_once_agree_with_a_sequential_run_and_leave_the_default_device_as_it_was()
    {
        string want = MlpShapes().ToJson();
        var errors = new Exception?[2];
        var results = new List<string>[] { [], [] };
        var threads = Enumerable.Range(0, 2).Select(i => new Thread(() =>
        {
            try
            {
                for (int k = 0; k < 20; k++)
                {
                    results[i].Add(MuBaseShapes.FromFactory(w => Mlp(w), 16, 32).ToJson());
                    using var built = Build.WithoutDefaultInit(() => Mlp(24), InitPolicy.Of(InitScheme.HeNormal), new InitOptions { Seed = 3 });
                    if (built.parameters().Any(p => p.device.type != DeviceType.CPU)) throw new InvalidOperationException("a built parameter is not on the CPU");
                }
            }
            catch (Exception e) { errors[i] = e; }
        })).ToList();
        try
        {
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());
            Assert.Null(errors[0]);
            Assert.Null(errors[1]);
            Assert.All(results.SelectMany(r => r), json => Assert.Equal(want, json));
            Assert.Equal(DeviceType.CPU, get_default_device().type);
        }
        finally { set_default_device(CPU); }
    }

    // ---------------------------------------------------------------- the report against the docs

    [Fact]
    public void The_report_reproduces_the_table_printed_in_docs_mup_md()
    {
        using var scope = NewDisposeScope();
        var shapes = MuBaseShapes.FromFactory(DocMlp, 64, 128);
        var model = DocMlp(512);
        var report = model.ApplyInit(InitPolicy.Of(InitScheme.TorchDefault).MuP(shapes), new InitOptions { Seed = 0 });
        // parameter, fan_in, fan_out, target std, class, width mult, μP scale, bound (docs/mup.md "What it looks like").
        var table = new (string Name, long FanIn, long FanOut, double Std, MuClass Class, double M, double S, double Bound)[]
        {
            ("fc1.weight", 32, 512, 0.102062, MuClass.Input, 8, 1, 0.176777),
            ("fc1.bias", 32, 512, 0.102062, MuClass.VectorLike, 8, 1, 0.176777),
            ("fc2.weight", 512, 512, 0.025516, MuClass.Hidden, 8, 1, 0.044194),
            ("fc2.bias", 512, 512, 0.072169, MuClass.VectorLike, 8, 2.828427, 0.125),
            ("head.weight", 512, 10, 0.072169, MuClass.Output, 8, 2.828427, 0.125),
            ("head.bias", 512, 10, 0.072169, MuClass.Finite, 1, 2.828427, 0.125),
        };
        Assert.Equal(table.Select(t => t.Name), report.Rows.Select(r => r.QualifiedName));
        foreach (var t in table)
        {
            var r = report[t.Name];
            Assert.Equal(t.FanIn, r.FanIn);
            Assert.Equal(t.FanOut, r.FanOut);
            Assert.Equal(t.Class, r.MuClass);
            Assert.Equal(t.Std, r.TargetStd, 6);
            Assert.Equal(t.M, r.WidthMultiplier, 3);
            Assert.Equal(t.S, r.MuScale, 6);
            Assert.Equal(t.Bound, r.Bound, 6);
            Assert.Equal(InitAction.Initialized, r.Action);
            Assert.Contains("μP", r.Reason);
        }
        string text = report.ToString();
        foreach (var header in new[] { "μP class", "width mult", "μP scale", "vector-like", "hidden", "output", "finite", "input" })
            Assert.Contains(header, text);
        string csv = report.ToCsv();
        Assert.Contains("MuClass", csv.Split('\n')[0].Replace("μP class", "MuClass"));
        // The values written follow the bounds.
        Assert.True(P(model, "fc2.bias").abs().max().item<float>() <= 0.125f);
        Assert.True(P(model, "fc2.bias").abs().max().item<float>() > 0.1f);
        Assert.Equal(8.0, ((MuReadout)model.named_children().Single(c => c.name == "head").module).WidthMultiplier);
    }

    [Fact]
    public void Zero_readout_rows_say_zero_scale_and_the_readout_still_gets_its_multiplier()
    {
        using var scope = NewDisposeScope();
        var shapes = MuBaseShapes.FromFactory(DocMlp, 64, 128);
        var model = DocMlp(256);
        var report = model.ApplyInit(InitPolicy.Of(InitScheme.TorchDefault).MuP(shapes, new MuOptions { ZeroReadout = true }), new InitOptions { Seed = 0 });
        Assert.Equal(0.0, report["head.weight"].MuScale);
        Assert.Equal(MuClass.Output, report["head.weight"].MuClass);
        Assert.Equal(0.0, P(model, "head.weight").abs().max().item<float>());
        Assert.NotEqual(0.0, P(model, "head.bias").abs().max().item<float>());   // only the weight
        Assert.Equal(4.0, ((MuReadout)model.named_children().Single(c => c.name == "head").module).WidthMultiplier);
    }

    // ---------------------------------------------------------------- the docs' layout claims

    [Fact]
    public void Docs_layout_claims_for_EmbeddingBag_GRU_BatchNorm_patch_conv_and_bias_k()
    {
        using var scope = NewDisposeScope();
        var shapes = MuBaseShapes.FromFactory(w => new Families(w), 16, 32);
        var info = MuP.Parameters(new Families(64), shapes).ToDictionary(p => p.Name);
        void Is(string name, MuClass cls, double mIn, double mOut, double adam, double sgd)
        {
            Assert.True(info.ContainsKey(name), $"no {name} in [{string.Join(", ", info.Keys)}]");
            var p = info[name];
            Assert.True(p.Class == cls, $"{name}: class {p.Class}, expected {cls}");
            AssertClose(mIn, p.FanInMultiplier, 1e-12, $"{name} m_in");
            AssertClose(mOut, p.FanOutMultiplier, 1e-12, $"{name} m_out");
            AssertClose(adam, p.AdamLearningRate, 1e-12, $"{name} Adam");
            AssertClose(sgd, p.SgdLearningRate, 1e-12, $"{name} SGD");
            AssertClose(1 / adam, p.AdamWWeightDecay, 1e-12, $"{name} AdamW wd");
        }
        Is("bag.weight", MuClass.Input, 1, 4, 1, 4);
        Is("gru.weight_ih_l0", MuClass.Input, 1, 4, 1, 4);
        Is("gru.weight_hh_l0", MuClass.Hidden, 4, 4, 0.25, 1);
        Is("gru.bias_hh_l0", MuClass.VectorLike, 1, 4, 1, 4);
        Is("bn.weight", MuClass.VectorLike, 1, 4, 1, 4);
        Is("bn.bias", MuClass.VectorLike, 1, 4, 1, 4);
        Is("patch.weight", MuClass.Input, 1, 4, 1, 4);
        Is("patch.bias", MuClass.VectorLike, 1, 4, 1, 4);
        Is("attn.in_proj_weight", MuClass.Hidden, 4, 4, 0.25, 1);
        Is("attn.bias_k", MuClass.VectorLike, 1, 4, 1, 4);
        Is("attn.bias_v", MuClass.VectorLike, 1, 4, 1, 4);
        Is("attn.out_proj.weight", MuClass.Hidden, 4, 4, 0.25, 1);
        // BatchNorm's running stats are buffers, not parameters: not in the shapes.
        Assert.DoesNotContain(shapes.Parameters, p => p.Name.Contains("running"));
        Assert.Throws<KeyNotFoundException>(() => shapes["bn.running_mean"]);
    }

    [Fact]
    public void Optimizer_groups_one_per_distinct_multiplier_with_the_documented_rates()
    {
        using var scope = NewDisposeScope();
        var shapes = MuBaseShapes.FromFactory(w => ReadoutMlp(w), 16, 32);
        var model = ReadoutMlp(128);   // m = 8
        var info = MuP.Parameters(model, shapes).ToDictionary(p => p.Name);
        var adamMult = new Dictionary<string, double> { ["in.weight"] = 1, ["in.bias"] = 1, ["hid.weight"] = 1 / 8.0, ["hid.bias"] = 1, ["out.weight"] = 1, ["out.bias"] = 1 };
        var sgdMult = new Dictionary<string, double> { ["in.weight"] = 8, ["in.bias"] = 8, ["hid.weight"] = 1, ["hid.bias"] = 8, ["out.weight"] = 8, ["out.bias"] = 1 };
        foreach (var (n, m) in adamMult) AssertClose(m, info[n].AdamLearningRate, 1e-12, $"{n} Adam mult");
        foreach (var (n, m) in sgdMult) AssertClose(m, info[n].SgdLearningRate, 1e-12, $"{n} SGD mult");
        using var adam = MuP.Adam(model, shapes, lr: 0.01, weightDecay: 0.05);
        Assert.Equal(adamMult.Values.Distinct().Count(), adam.ParamGroups.Count());
        using var adamw = MuP.AdamW(model, shapes, lr: 0.01, weightDecay: 0.05);
        Assert.Equal(adamMult.Values.Distinct().Count(), adamw.ParamGroups.Count());
        using var sgd = MuP.SGD(model, shapes, 0.1, momentum: 0.9, weightDecay: 0.05);
        Assert.Equal(sgdMult.Values.Distinct().Count(), sgd.ParamGroups.Count());
        foreach (var (n, p) in model.named_parameters())
        {
            AssertClose(0.01 * adamMult[n], GroupOf(adam, p).LearningRate, 1e-12, $"Adam lr {n}");
            AssertClose(0.05, ((TorchSharp.Modules.Adam.Options)GroupOf(adam, p).Options).weight_decay!.Value, 1e-12, $"Adam wd {n}");
            AssertClose(0.05 / adamMult[n], ((TorchSharp.Modules.AdamW.Options)GroupOf(adamw, p).Options).weight_decay!.Value, 1e-12, $"AdamW wd {n}");
            AssertClose(0.1 * sgdMult[n], GroupOf(sgd, p).LearningRate, 1e-12, $"SGD lr {n}");
            AssertClose(0.05, ((TorchSharp.Modules.SGD.Options)GroupOf(sgd, p).Options).weight_decay!.Value, 1e-12, $"SGD wd {n}");
        }
    }

    [Fact]
    public void MuReadout_constructor_refusals_and_baseInFeatures()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new MuReadout(0, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MuReadout(8, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MuReadout(-8, 5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MuReadout(8, 5, baseInFeatures: 16));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MuReadout(8, 5, baseInFeatures: 0));
        foreach (double alpha in new[] { 0.0, -1.0, double.NaN, double.PositiveInfinity })
            Assert.ThrowsAny<ArgumentException>(() => new MuReadout(8, 5, outputMultiplier: alpha));
        using var vec = new Parameter(zeros(5));
        Assert.Throws<ArgumentException>(() => new MuSharedReadout(vec));
        using var r = new MuReadout(64, 5, outputMultiplier: 2, baseInFeatures: 16);
        Assert.Equal(4.0, r.WidthMultiplier);
        using var x = ones(1, 64);
        using var y = r.call(x);
        using var expected = nn.functional.linear(x * 0.5, r.weight, r.bias);
        Assert.True(y.allclose(expected));
        var e = Assert.Throws<InvalidOperationException>(() => new MuReadout(64, 5).call(x));
        Assert.Contains("ApplyInit", e.Message);
    }

    [Fact]
    public void Attention_refusals()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentOutOfRangeException>(() => MuP.AttentionScale(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => MuP.AttentionScale(-8));
        Assert.ThrowsAny<ArgumentException>(() => MuP.AttentionScale(8, double.NaN));
        Assert.ThrowsAny<ArgumentException>(() => MuP.ScaledDotProductAttention(tensor(1f), tensor(1f), tensor(1f)));
        var q = randn(1, 3, 4);
        Assert.Throws<ArgumentNullException>(() => MuP.ScaledDotProductAttention(q, null!, q));
        Assert.Throws<ArgumentNullException>(() => MuP.ScaledDotProductAttention(q, q, null!));
        Assert.ThrowsAny<ArgumentException>(() => MuP.ScaledDotProductAttention(q, q, q, multiplier: double.PositiveInfinity));
        // float64 in, float64 out, the same as the formula.
        var q64 = randn(2, 5, 8, dtype: ScalarType.Float64);
        var a = MuP.ScaledDotProductAttention(q64, q64, q64, multiplier: 3);
        Assert.Equal(ScalarType.Float64, a.dtype);
        var expected = nn.functional.softmax(q64.matmul(q64.transpose(-2, -1)) * (3.0 / 8), -1).matmul(q64);
        Assert.True(a.allclose(expected, rtol: 1e-10, atol: 1e-12));
    }

    // ---------------------------------------------------------------- coordinate check options

    private static Sequential CcModel(long w, MuBaseShapes shapes)
    {
        var m = ReadoutMlp(w);
        m.ApplyInit(InitPolicy.Of(InitScheme.TorchDefault).MuP(shapes), new InitOptions { Seed = 0 });
        return m;
    }

    [Fact]
    public void CoordinateCheck_bad_options_are_refused_with_clear_messages()
    {
        using var scope = NewDisposeScope();
        var shapes = MuBaseShapes.FromFactory(w => ReadoutMlp(w), 16, 32);
        using var g = new Generator(1);
        var batches = new List<(Tensor, Tensor)> { (randn(8, 8, generator: g), randint(0, 6, [8], generator: g)) };
        Func<long, nn.Module<Tensor, Tensor>> model = w => CcModel(w, shapes);
        Func<nn.Module, optim.Optimizer> opt = m => MuP.Adam(m, shapes);
        Func<Tensor, Tensor, Tensor> loss = (y, t) => nn.functional.cross_entropy(y, t);
        Clear(Assert.Throws<ArgumentException>(() => CoordinateCheck.Run([], model, opt, batches, loss)), "two distinct");
        Clear(Assert.Throws<ArgumentException>(() => CoordinateCheck.Run([32], model, opt, batches, loss)), "two distinct");
        Clear(Assert.Throws<ArgumentException>(() => CoordinateCheck.Run([-32, 64], model, opt, batches, loss)), "-32");
        Clear(Assert.Throws<ArgumentException>(() => CoordinateCheck.Run([32, 64], model, opt, [], loss)), "batch");
        Assert.ThrowsAny<ArgumentException>(() => CoordinateCheck.Run([32, 64], model, opt, batches, loss, new CoordinateCheckOptions { FromStep = -1 }));
        Assert.ThrowsAny<ArgumentException>(() => CoordinateCheck.Run([32, 64], model, opt, batches, loss, new CoordinateCheckOptions { FlatExponent = double.NaN }));
        Assert.ThrowsAny<ArgumentException>(() => CoordinateCheck.Run([32, 64], model, opt, batches, loss, new CoordinateCheckOptions { FlatExponent = double.PositiveInfinity }));
        Assert.ThrowsAny<ArgumentException>(() => CoordinateCheck.Run([32, 64], model, opt, [(null!, batches[0].Item2)], loss));
        Clear(Assert.Throws<ArgumentException>(() => CoordinateCheck.Run([32, 64], _ => null!, opt, batches, loss)), "null");
        Clear(Assert.Throws<ArgumentException>(() => CoordinateCheck.Run([32, 64], model, _ => null!, batches, loss)), "null");
    }

    [Fact]
    public void CoordinateCheck_a_factory_that_throws_at_the_second_width_propagates_and_the_first_model_is_disposed()
    {
        using var scope = NewDisposeScope();
        var shapes = MuBaseShapes.FromFactory(w => ReadoutMlp(w), 16, 32);
        using var g = new Generator(1);
        var batches = new List<(Tensor, Tensor)> { (randn(8, 8, generator: g), randint(0, 6, [8], generator: g)) };
        var built = new List<nn.Module>();
        var e = Record.Exception(() => CoordinateCheck.Run([32, 64], w =>
        {
            if (w == 64) throw new InvalidOperationException("width 64 failed");
            var m = CcModel(w, shapes);
            built.Add(m);
            return m;
        }, m => MuP.Adam(m, shapes), batches, (y, t) => nn.functional.cross_entropy(y, t)));
        Assert.NotNull(e);
        Assert.Contains("width 64 failed", e!.ToString());
        Assert.Single(built);
        Assert.Throws<InvalidOperationException>(() => built[0].parameters().First().numel());   // disposed
    }

    [Fact]
    public void CoordinateCheck_FromStep_beyond_the_last_step_and_unsorted_widths()
    {
        using var scope = NewDisposeScope();
        var shapes = MuBaseShapes.FromFactory(w => ReadoutMlp(w), 16, 32);
        using var g = new Generator(1);
        var batches = Enumerable.Range(0, 2).Select(_ => (randn(16, 8, generator: g), randint(0, 6, [16], generator: g))).ToList();
        Func<Tensor, Tensor, Tensor> loss = (y, t) => nn.functional.cross_entropy(y, t);
        var sorted = CoordinateCheck.Run([32, 64, 128], w => CcModel(w, shapes), m => MuP.Adam(m, shapes, lr: 0.01), batches, loss);
        var unsorted = CoordinateCheck.Run([128, 32, 64], w => CcModel(w, shapes), m => MuP.Adam(m, shapes, lr: 0.01), batches, loss);
        foreach (var v in sorted.Verdicts)
            AssertClose(v.Exponent, unsorted[v.Module].Exponent, 1e-9, $"{v.Module} exponent, unsorted widths");
        Assert.Equal([32L, 64, 128], unsorted.Series("(output)", 1).Select(s => s.Width));
        var far = CoordinateCheck.Run([32, 64], w => CcModel(w, shapes), m => MuP.Adam(m, shapes, lr: 0.01), batches, loss, new CoordinateCheckOptions { FromStep = 10 });
        Assert.All(far.Verdicts, v => Assert.True(v.Step <= 1, $"{v.Module}: verdict at step {v.Step}, only steps 0–1 ran"));
        var onlyOutput = CoordinateCheck.Run([32, 64], w => CcModel(w, shapes), m => MuP.Adam(m, shapes, lr: 0.01), batches, loss, new CoordinateCheckOptions { Include = (_, _) => false });
        Assert.All(onlyOutput.Rows, r => Assert.Equal("(output)", r.Module));
        Assert.Equal(2 * 2, onlyOutput.Rows.Count);
        Assert.Throws<KeyNotFoundException>(() => onlyOutput["hid"]);
    }
}
