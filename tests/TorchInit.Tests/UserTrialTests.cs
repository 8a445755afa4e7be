using System.Runtime.CompilerServices;
using TorchInit.Modules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>
/// A newcomer porting PyTorch models reads the README and docs/*.md and checks what they promise: containers of every
/// kind, dtypes, Auto's gains, policy rules that match nothing, shared modules, Build.WithoutDefaultInit, refusals that
/// write nothing, no leaks, and the report's columns.
/// </summary>
[Collection(SerialTorchCollection.Name)]
public class UserTrialTests
{
    private static Dictionary<string, byte[]> Bytes(nn.Module m) =>
        m.named_parameters().ToDictionary(p => p.name, p => p.parameter.contiguous().bytes.ToArray());

    private static Dictionary<string, byte[]> BytesWithBuffers(nn.Module m)
    {
        var d = Bytes(m);
        foreach (var (name, b) in m.named_buffers()) d["buffer:" + name] = b.contiguous().bytes.ToArray();
        return d;
    }

    private static void AssertSame(Dictionary<string, byte[]> before, nn.Module m)
    {
        var now = Bytes(m);
        foreach (var (k, v) in before)
            Assert.True(v.AsSpan().SequenceEqual(now[k]), $"{k} was written by a refused call");
    }

    /// <summary>A container of the user's own holding any modules, registered in order (as a PyTorch module's __init__ assigns them).</summary>
    private sealed class Bag : nn.Module<Tensor, Tensor>
    {
        public Bag(params (string name, nn.Module module)[] items) : base(nameof(Bag))
        {
            foreach (var (n, m) in items) register_module(n, m);
        }
        public override Tensor forward(Tensor x) => x;
    }

    private static Tensor P(nn.Module m, string name) =>
        m.named_parameters().Single(p => p.name == name).parameter;

    private static void AssertRefusedAndUnchanged<TEx>(nn.Module m, Action act, string? mustMention = null) where TEx : Exception
    {
        var before = Bytes(m);
        var ex = Assert.ThrowsAny<TEx>(act);
        if (mustMention is not null) Assert.Contains(mustMention, ex.Message, StringComparison.OrdinalIgnoreCase);
        AssertSame(before, m);
    }

    private static void AssertBitEqual(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.dtype, actual.dtype);
        Assert.True(expected.contiguous().bytes.ToArray().AsSpan().SequenceEqual(actual.contiguous().bytes.ToArray()),
            $"{what}: not bit-identical to torch.nn.init in pre-order");
    }

    // ---------------------------------------------------------------- containers: ModuleList and ModuleDict

    /// <summary>
    /// PyTorch: named_modules() of Sequential(a, ModuleList([l0, l1]), ModuleDict({'b': db, 'a': da})) is
    /// a, list, list.0, list.1, dict, dict.b, dict.a (a ModuleDict keeps insertion order), so
    /// torch.manual_seed(7); for m in those Linears: kaiming_normal_(m.weight, nonlinearity='relu'); zeros_(m.bias).
    /// </summary>
    [Fact]
    public void A_Sequential_holding_a_ModuleList_and_a_ModuleDict_is_drawn_in_PyTorchs_pre_order()
    {
        using var scope = NewDisposeScope();
        var a = nn.Linear(4, 5); var l0 = nn.Linear(5, 6); var l1 = nn.Linear(6, 7); var db = nn.Linear(7, 3); var da = nn.Linear(3, 2);
        var list = nn.ModuleList<nn.Module>(l0, l1);
        var dict = nn.ModuleDict<nn.Module>(("b", db), ("a", da));
        var model = new Bag(("a", a), ("list", list), ("dict", dict));
        var report = model.ApplyInit(InitScheme.HeNormal, new InitOptions { Seed = 7 });

        using var g = new Generator(7);
        foreach (var (lin, path) in new[] { (a, "a"), (l0, "list.0"), (l1, "list.1"), (db, "dict.b"), (da, "dict.a") })
        {
            var w = torch.empty_like(lin.weight);
            Init.KaimingNormal(w, nonlinearity: Nonlinearity.Relu, generator: g);
            AssertBitEqual(w, lin.weight, path + ".weight");
            Assert.Equal(0, lin.bias!.abs().max().item<float>());
            Assert.Equal(InitAction.Initialized, report[path + ".weight"].Action);
        }
    }

    /// <summary>
    /// One Linear registered twice (Sequential(a=lin, b=lin, c=other)): PyTorch's named_modules() removes the duplicate,
    /// so lin gets the first draw and other the second; the shared occurrence is Skipped, not drawn again.
    /// </summary>
    [Fact]
    public void A_module_registered_twice_is_drawn_once_and_the_next_layer_gets_the_next_draw()
    {
        using var scope = NewDisposeScope();
        var lin = nn.Linear(8, 8); var other = nn.Linear(8, 3);
        var model = nn.Sequential(("a", lin), ("b", lin), ("c", other));
        var report = model.ApplyInit(InitScheme.GlorotUniform, new InitOptions { Seed = 11 });
        using var g = new Generator(11);
        var w1 = torch.empty_like(lin.weight); Init.XavierUniform(w1, generator: g);
        var w2 = torch.empty_like(other.weight); Init.XavierUniform(w2, generator: g);
        AssertBitEqual(w1, lin.weight, "a.weight");
        AssertBitEqual(w2, other.weight, "c.weight");
        Assert.Contains(report.Rows, r => r.Path == "b" && r.Action == InitAction.Skipped);
    }

    // ---------------------------------------------------------------- dtypes

    /// <summary>
    /// README: bit-identical to torch.nn.init for the same seed; docs/schemes.md: float16/bfloat16 supported by every scheme.
    /// The expectation is the definitions on a tensor of the model's dtype: TorchDefault = kaiming_uniform_(a=√5) then
    /// uniform_(bias, ±1/√fan_in); HeNormal = kaiming_normal_(relu), bias 0; GlorotNormal = xavier_normal_.
    /// </summary>
    [Theory]
    [InlineData("float16", "TorchDefault")]
    [InlineData("bfloat16", "TorchDefault")]
    [InlineData("float64", "TorchDefault")]
    [InlineData("float16", "HeNormal")]
    [InlineData("bfloat16", "GlorotNormal")]
    [InlineData("float64", "HeNormal")]
    public void A_seeded_scheme_on_a_half_or_double_model_equals_torch_nn_init_on_that_dtype(string dt, string schemeName)
    {
        using var scope = NewDisposeScope();
        var dtype = dt switch { "float16" => ScalarType.Float16, "bfloat16" => ScalarType.BFloat16, _ => ScalarType.Float64 };
        var fc1 = nn.Linear(20, 30); var fc2 = nn.Linear(30, 5);
        var model = nn.Sequential(("fc1", fc1), ("relu", nn.ReLU()), ("fc2", fc2));
        model.to(dtype);
        var scheme = InitScheme.Parse(schemeName);
        model.ApplyInit(scheme, new InitOptions { Seed = 3 });

        using var g = new Generator(3);
        foreach (var (name, lin) in new[] { ("fc1", fc1), ("fc2", fc2) })
        {
            var w = torch.empty_like(lin.weight); var b = torch.empty_like(lin.bias!);
            switch (schemeName)
            {
                case "TorchDefault":
                    Init.KaimingUniform(w, a: Math.Sqrt(5), generator: g);
                    double bound = 1 / Math.Sqrt(w.shape[1]);
                    Init.Uniform(b, -bound, bound, g);
                    break;
                case "HeNormal":
                    Init.KaimingNormal(w, nonlinearity: Nonlinearity.Relu, generator: g); Init.Zeros(b); break;
                default:
                    Init.XavierNormal(w, generator: g); Init.Zeros(b); break;
            }
            AssertBitEqual(w, lin.weight, $"{dt} {name}.weight");
            AssertBitEqual(b, lin.bias!, $"{dt} {name}.bias");
        }
    }

    /// <summary>Auto on a float16 model with an Embedding, an LSTM and a LayerNorm: orthogonal recurrent blocks, norms 1/0, no NaN.</summary>
    [Theory]
    [InlineData("float16")]
    [InlineData("bfloat16")]
    [InlineData("float64")]
    public void Auto_on_a_reduced_or_double_precision_recurrent_model_gives_orthogonal_blocks_and_unit_norms(string dt)
    {
        using var scope = NewDisposeScope();
        var dtype = dt switch { "float16" => ScalarType.Float16, "bfloat16" => ScalarType.BFloat16, _ => ScalarType.Float64 };
        const int h = 16;
        var model = new Bag(("emb", nn.Embedding(50, 8)), ("lstm", nn.LSTM(8, h)), ("ln", nn.LayerNorm(h)));
        model.to(dtype);
        var report = model.ApplyInit(InitPolicy.Auto, new InitOptions { Seed = 1 });
        foreach (var (name, p) in model.named_parameters())
        {
            Assert.Equal(dtype, p.dtype);
            Assert.False(p.isnan().any().item<bool>(), name + " has NaN");
        }
        var whh = P(model, "lstm.weight_hh_l0").to(ScalarType.Float64);
        double tol = dt == "float64" ? 1e-10 : dt == "float16" ? 5e-3 : 4e-2;
        for (int k = 0; k < 4; k++)
        {
            var blk = whh[TensorIndex.Slice(k * h, (k + 1) * h)];
            var err = (blk.matmul(blk.t()) - torch.eye(h, dtype: ScalarType.Float64)).abs().max().item<double>();
            Assert.True(err < tol, $"{dt} gate block {k}: |W Wᵀ − I| = {err}");
        }
        Assert.Equal(1.0, P(model, "ln.weight").to(ScalarType.Float64).min().item<double>());
        Assert.Equal(0.0, P(model, "ln.bias").to(ScalarType.Float64).abs().max().item<double>());
        var embStd = P(model, "emb.weight").to(ScalarType.Float64).std().item<double>();
        Assert.InRange(embStd, 0.85, 1.15);
        Assert.All(report.Rows.Where(r => r.Path.StartsWith("lstm")), r => Assert.Equal(InitAction.Initialized, r.Action));
    }

    // ---------------------------------------------------------------- Auto's gains

    /// <summary>
    /// docs/auto-policy.md: LeakyReLU(a), PReLU(a): He, gain √(2/(1+a²)); PReLU "its constructor slope".
    /// Python: torch.nn.init.calculate_gain('leaky_relu', 0.1) = 1.4071950894605838; ('leaky_relu', 0.2) = 1.3867504905630728.
    /// </summary>
    [Fact]
    public void Auto_takes_the_leaky_gain_from_the_slope_the_user_constructed()
    {
        using var scope = NewDisposeScope();
        var model = nn.Sequential(
            ("fc1", nn.Linear(8, 8)), ("p", nn.PReLU(1, 0.1)),
            ("fc2", nn.Linear(8, 8)), ("l", nn.LeakyReLU(0.2)),
            ("fc3", nn.Linear(8, 8)), ("p8", nn.PReLU(8)),
            ("fc4", nn.Linear(8, 2)));
        var report = model.PlanInit(InitPolicy.Auto);
        Assert.Equal(Math.Sqrt(2 / (1 + 0.01)), report.Decision("fc1").Gain, 9);
        Assert.Equal(Math.Sqrt(2 / (1 + 0.04)), report.Decision("fc2").Gain, 9);
        Assert.Equal(Math.Sqrt(2 / (1 + 0.0625)), report.Decision("fc3").Gain, 9);
        Assert.Equal(Gain.CalculateGain("leaky_relu", 0.2), report.Decision("fc2").Gain, 12);
    }

    /// <summary>docs/auto-policy.md "How the activation after a layer is found", container order, step 1.</summary>
    [Fact]
    public void Container_order_descends_into_and_climbs_out_of_nested_Sequentials_and_skips_neutral_modules()
    {
        using var scope = NewDisposeScope();
        var model = nn.Sequential(
            ("a", nn.Linear(8, 8)), ("act_block", nn.Sequential(("relu", nn.ReLU()))),
            ("inner", nn.Sequential(("b", nn.Linear(8, 8)))), ("tanh", nn.Tanh()),
            ("c", nn.Linear(8, 8)), ("drop", nn.Dropout(0.1)), ("bn", nn.BatchNorm1d(8)), ("gelu", nn.GELU()),
            ("d", nn.Linear(8, 8)), ("sp", nn.Softplus()),
            ("e", nn.Linear(8, 8)), ("selu", nn.SELU()),
            ("f", nn.Linear(8, 8)), ("g", nn.Linear(8, 2)));
        var r = model.PlanInit(InitPolicy.Auto);
        Assert.Equal("HeNormal", r.Decision("a").Scheme);
        Assert.Equal(Math.Sqrt(2), r.Decision("a").Gain, 9);
        Assert.Equal("GlorotUniform", r.Decision("inner.b").Scheme);
        Assert.Equal(5.0 / 3, r.Decision("inner.b").Gain, 9);
        Assert.Equal("HeNormal", r.Decision("c").Scheme);
        Assert.Equal(ActivationSource.Assumed, r.Decision("d").Source); // Softplus: unknown, flagged assumed
        Assert.Equal("LeCunNormal", r.Decision("e").Scheme);
        Assert.Equal("GlorotUniform", r.Decision("f").Scheme);  // followed by a layer: linear
        Assert.Equal(1.0, r.Decision("f").Gain, 9);
        Assert.Equal(ActivationSource.Sequential, r.Decision("f").Source);
    }

    // ---------------------------------------------------------------- rules that match nothing

    private static nn.Module SmallNet() => nn.Sequential(
        ("fc1", nn.Linear(8, 16)), ("relu", nn.ReLU()),
        ("classifier", nn.Sequential(("0", nn.Linear(16, 4)))));

    /// <summary>README / auto-policy.md: a hint, override or block rule that matches no module is listed in report.PolicyWarnings.</summary>
    [Theory]
    [InlineData("ForPath")]
    [InlineData("ForType")]
    [InlineData("ForPredicate")]
    [InlineData("Hint")]
    [InlineData("HintType")]
    [InlineData("ScaleResidual")]
    [InlineData("ScaleResidualBy")]
    [InlineData("ForBiasPath")]
    [InlineData("StackedBlocks")]
    [InlineData("ZeroLastNormInPath")]
    [InlineData("AutoForPath")]
    [InlineData("HintOnNonLayer")]
    public void A_rule_that_matches_nothing_is_a_policy_warning(string rule)
    {
        using var scope = NewDisposeScope();
        var model = SmallNet();
        InitPolicy policy = rule switch
        {
            "ForPath" => InitPolicy.Auto.ForPath("FC1", InitScheme.Zeros),
            "ForType" => InitPolicy.Auto.For<Conv2d>(InitScheme.Zeros),
            "ForPredicate" => InitPolicy.Auto.For(c => c.Path == "nope", InitScheme.Zeros, "nope"),
            "Hint" => InitPolicy.Auto.Hint("encoder.fc*", Activation.Relu),
            "HintType" => InitPolicy.Auto.Hint<LSTM>(Activation.Relu),
            "ScaleResidual" => InitPolicy.Auto.ScaleResidual("*.c_proj", 4),
            "ScaleResidualBy" => InitPolicy.Auto.ScaleResidualBy("*.c_proj", 0.5),
            "ForBiasPath" => InitPolicy.Auto.ForBiasPath("head*", InitScheme.Normal(1e-6)),
            "StackedBlocks" => InitPolicy.Auto.StackedBlocks("*.c_attn", 3),
            "ZeroLastNormInPath" => InitPolicy.Auto.ZeroLastNormIn("layer*.block"),
            "AutoForPath" => InitPolicy.Of(InitScheme.GlorotNormal).AutoForPath("head"),
            "HintOnNonLayer" => InitPolicy.Auto.Hint("relu", Activation.Gelu),
            _ => throw new ArgumentException(rule),
        };
        var report = model.PlanInit(policy);
        Assert.True(report.PolicyWarnings.Count > 0, $"{rule}: matched nothing, no policy warning");
    }

    /// <summary>
    /// An override by the path of a container (ForPath("classifier", Zeros), the container a PyTorch user would name) writes
    /// nothing (a rule names layers): the report says so, naming the container; "classifier.*" reaches the layer inside.
    /// </summary>
    [Fact]
    public void An_override_naming_a_container_is_a_policy_warning_and_a_glob_reaches_its_layers()
    {
        using var scope = NewDisposeScope();
        var model = SmallNet();
        var before = P(model, "classifier.0.weight").clone();
        var report = model.PlanInit(InitPolicy.Auto.ForPath("classifier", InitScheme.Zeros).ForBiasPath("classifier", InitScheme.Ones));
        Assert.Equal(2, report.PolicyWarnings.Count(w => w.Contains("classifier (Sequential)") && w.Contains("without parameters of their own")));
        Assert.True(P(model, "classifier.0.weight").eq(before).all().item<bool>());
        var glob = model.ApplyInit(InitPolicy.Auto.ForPath("classifier.*", InitScheme.Zeros), new InitOptions { Seed = 0 });
        Assert.Empty(glob.PolicyWarnings);
        Assert.Equal(0f, P(model, "classifier.0.weight").abs().max().item<float>());
    }

    /// <summary>GPT-2's residual rule names three globs (*out_proj, *linear2, *c_proj): a model that has none of them is warned about, naming them; one that has one is not.</summary>
    [Fact]
    public void The_GPT2_preset_warns_when_no_residual_projection_glob_matches_and_not_when_one_does()
    {
        using var scope = NewDisposeScope();
        var own = nn.Sequential(("attn_proj", nn.Linear(8, 8)), ("mlp_fc2", nn.Linear(8, 8)));
        var warnings = own.PlanInit(InitPolicy.Gpt2(layers: 2)).PolicyWarnings;
        Assert.Contains(warnings, w => w.Contains("residual output projection") && w.Contains("*c_proj") && w.Contains("matches no module"));
        var hf = nn.Sequential(("c_attn", nn.Linear(8, 24)), ("c_proj", nn.Linear(8, 8)));
        var report = hf.PlanInit(InitPolicy.Gpt2(layers: 2));
        Assert.DoesNotContain(report.PolicyWarnings, w => w.Contains("residual output projection"));   // (its Embedding and LayerNorm rules are warned: none here)
        Assert.Equal(0.02 / 2, report["c_proj.weight"].TargetStd, 12);
        Assert.Equal(0.02, report["c_attn.weight"].TargetStd, 12);
    }

    // ---------------------------------------------------------------- what a fixed scheme leaves

    /// <summary>README §1: modules a fixed scheme does not handle are left unchanged and listed in report.Unhandled.</summary>
    [Fact]
    public void A_fixed_scheme_leaves_other_layers_byte_for_byte_and_lists_each_in_Unhandled()
    {
        using var scope = NewDisposeScope();
        var model = new Bag(
            ("emb", nn.Embedding(10, 8)), ("bil", nn.Bilinear(8, 8, 8)), ("gru", nn.GRU(8, 8)),
            ("bn", nn.BatchNorm1d(8)), ("ln", nn.LayerNorm(8)), ("fc", nn.Linear(8, 2)));
        var before = Bytes(model);
        var report = model.ApplyInit(InitScheme.HeNormal, new InitOptions { Seed = 0 });
        foreach (var path in new[] { "emb", "bil", "gru", "bn", "ln" })
        {
            Assert.Contains(report.Unhandled, u => u.Path == path);
            foreach (var (k, v) in before.Where(kv => kv.Key.StartsWith(path + ".")))
                Assert.True(v.AsSpan().SequenceEqual(Bytes(model)[k]), k + " changed under a fixed scheme");
        }
        Assert.Equal(InitAction.Initialized, report["fc.weight"].Action);
    }

    /// <summary>InitOptions.Bias = Keep leaves every bias byte for byte; IncludeFrozen = false leaves a frozen weight.</summary>
    [Fact]
    public void Bias_Keep_and_frozen_parameters_are_left_byte_for_byte()
    {
        using var scope = NewDisposeScope();
        var model = nn.Sequential(("c", nn.Conv2d(3, 4, 3)), ("fc", nn.Linear(4, 2)));
        P(model, "fc.weight").requires_grad = false;
        var before = Bytes(model);
        var report = model.ApplyInit(InitScheme.HeUniform, new InitOptions { Seed = 1, Bias = BiasInit.Keep });
        var now = Bytes(model);
        Assert.True(before["c.bias"].AsSpan().SequenceEqual(now["c.bias"]));
        Assert.True(before["fc.bias"].AsSpan().SequenceEqual(now["fc.bias"]));
        Assert.True(before["fc.weight"].AsSpan().SequenceEqual(now["fc.weight"]));
        Assert.False(before["c.weight"].AsSpan().SequenceEqual(now["c.weight"]));
        Assert.NotEqual(InitAction.Initialized, report["fc.weight"].Action);
    }

    /// <summary>
    /// docs/schemes.md FanConvention.Layer: the layer's true fans (in/groups, out/groups)·receptive field; Torch: size(1)·rf, size(0)·rf.
    /// ConvTranspose2d(4, 6, 3, groups: 2) has weight [4, 3, 3, 3]: Torch fans (27, 36), Layer fans (18, 27).
    /// </summary>
    [Fact]
    public void FanConvention_Layer_gives_a_grouped_transposed_convolution_its_true_fans()
    {
        using var scope = NewDisposeScope();
        var model = nn.Sequential(("up", nn.ConvTranspose2d(4, 6, 3, groups: 2)));
        var torchRow = model.PlanInit(InitScheme.HeNormal)["up.weight"];
        var layerRow = model.PlanInit(InitScheme.HeNormal, new InitOptions { FanConvention = FanConvention.Layer })["up.weight"];
        Assert.Equal((27L, 36L), (torchRow.FanIn!.Value, torchRow.FanOut!.Value));
        Assert.Equal((18L, 27L), (layerRow.FanIn!.Value, layerRow.FanOut!.Value));
        Assert.Equal(Math.Sqrt(2.0 / 18), layerRow.TargetStd, 9);
    }

    // ---------------------------------------------------------------- Build.WithoutDefaultInit

    /// <summary>
    /// docs/performance.md: "Layers the scheme does not cover get their own default": BatchNorm weight 1, bias 0,
    /// running_mean 0, running_var 1; LayerNorm/GroupNorm 1/0; Linear bias 0 under HeNormal. Never uninitialized memory.
    /// </summary>
    [Fact]
    public void Build_gives_norm_layers_and_their_buffers_PyTorchs_defaults()
    {
        using var scope = NewDisposeScope();
        for (int round = 0; round < 3; round++)
        {
            var model = Build.WithoutDefaultInit(() => nn.Sequential(
                    ("fc", nn.Linear(64, 256)), ("bn", nn.BatchNorm1d(256)), ("ln", nn.LayerNorm(256)),
                    ("gn", nn.GroupNorm(8, 256)), ("out", nn.Linear(256, 10))),
                InitScheme.HeNormal, out var report, new InitOptions { Seed = 1 });
            foreach (var n in new[] { "bn.weight", "ln.weight", "gn.weight" })
                Assert.True(P(model, n).eq(1).all().item<bool>(), $"{n} is not 1 after Build");
            foreach (var n in new[] { "bn.bias", "ln.bias", "gn.bias", "fc.bias", "out.bias" })
                Assert.True(P(model, n).eq(0).all().item<bool>(), $"{n} is not 0 after Build");
            var buffers = model.named_buffers().ToDictionary(b => b.name, b => b.buffer);
            Assert.True(buffers["bn.running_mean"].eq(0).all().item<bool>(), "running_mean is not 0");
            Assert.True(buffers["bn.running_var"].eq(1).all().item<bool>(), "running_var is not 1");
            Assert.Equal(0L, buffers["bn.num_batches_tracked"].item<long>());
            Assert.Equal(Math.Sqrt(2.0 / 64), P(model, "fc.weight").std().item<float>(), 2);
        }
    }

    private sealed class Scale : nn.Module<Tensor, Tensor>
    {
        public readonly Parameter gamma;
        public Scale(long n) : base(nameof(Scale))
        {
            gamma = new Parameter(torch.ones(n));
            RegisterComponents();
        }
        public override Tensor forward(Tensor x) => x * gamma;
    }

    /// <summary>
    /// docs/performance.md: modules with parameters of their own "must be created with device: torch.CPU inside the
    /// factory". A user who forgets: gamma = ones(n) made on the meta device. It must be ones, or refused, or warned —
    /// never memory that nobody wrote.
    /// </summary>
    [Fact]
    public void Build_with_a_module_of_the_users_own_keeps_its_values_or_says_it_cannot()
    {
        using var scope = NewDisposeScope();
        Sequential? model = null; InitReport? report = null;
        Exception? ex = Record.Exception(() =>
            model = Build.WithoutDefaultInit(() => nn.Sequential(("fc", nn.Linear(8, 4096)), ("scale", new Scale(4096))),
                InitScheme.HeNormal, out report, new InitOptions { Seed = 0 }));
        if (ex is not null) { Assert.Contains("scale", ex.Message); return; }
        var gamma = P(model!, "scale.gamma");
        bool ones = gamma.device_type == DeviceType.CPU && gamma.eq(1).all().item<bool>();
        Assert.True(ones || report!.PolicyWarnings.Any(w => w.Contains("scale")),
            $"scale.gamma is not ones (device {gamma.device_type}) and no warning names it");
    }

    private sealed class Declared : nn.Module<Tensor, Tensor>, IInitializable
    {
        public readonly Parameter gamma;
        public readonly Linear fc;
        private readonly string _name;
        public Declared(string name) : base(nameof(Declared))
        {
            _name = name;
            gamma = new Parameter(torch.ones(4));
            fc = nn.Linear(4, 4);
            RegisterComponents();
        }
        public void DeclareInit(ParameterDeclarations init) => init.Use(_name, InitScheme.HeNormal, "user's rule");
        public override Tensor forward(Tensor x) => fc.call(x) * gamma;
    }

    /// <summary>auto-policy.md: IInitializable declarations are planned and checked: a typo, or a fan-based scheme on a 1-D parameter, throws before anything is written.</summary>
    [Theory]
    [InlineData("gama")]
    [InlineData("gamma")]
    public void A_bad_declaration_is_refused_before_anything_is_written(string name)
    {
        using var scope = NewDisposeScope();
        var model = nn.Sequential(("first", nn.Linear(4, 4)), ("blk", new Declared(name)));
        AssertRefusedAndUnchanged<ArgumentException>(model, () => model.ApplyInit(InitScheme.HeNormal, new InitOptions { Seed = 0 }), name);
        AssertRefusedAndUnchanged<ArgumentException>(model, () => model.ApplyInit(InitPolicy.Auto, new InitOptions { Seed = 0 }), name);
    }

    // ---------------------------------------------------------------- refusals write nothing

    private static nn.Module Mixed() => nn.Sequential(
        ("fc", nn.Linear(8, 8)), ("relu", nn.ReLU()), ("conv", nn.Conv2d(2, 4, 3)), ("up", nn.ConvTranspose2d(4, 6, 3)));

    [Theory]
    [InlineData("Fans0")]
    [InlineData("FansNegative")]
    [InlineData("UniformLowAboveHigh")]
    [InlineData("TruncBoundsReversed")]
    [InlineData("SparseAbove1")]
    [InlineData("SparseNegative")]
    [InlineData("Parallelism0")]
    [InlineData("ParallelismNegative")]
    [InlineData("DiracGroups")]
    [InlineData("EyeOnConv")]
    [InlineData("ScaleResidualDepth0")]
    [InlineData("Gpt2Layers0")]
    [InlineData("ForgetGateNaN")]
    [InlineData("NormalMeanNaN")]
    [InlineData("UniformInfinite")]
    [InlineData("ConstantNaN")]
    [InlineData("SeedAndGenerator")]
    public void Bad_input_is_refused_clearly_and_writes_nothing(string what)
    {
        using var scope = NewDisposeScope();
        var model = Mixed();
        var w = torch.randn(10, 20);
        var wBefore = w.clone();
        using var gen = new Generator(3);
        Action act = what switch
        {
            "Fans0" => () => w.ApplyInit(InitScheme.HeNormal, new Fans(FanIn: 0, FanOut: 10)),
            "FansNegative" => () => w.ApplyInit(InitScheme.HeNormal, new Fans(FanIn: -3, FanOut: 10)),
            "UniformLowAboveHigh" => () => model.ApplyInit(InitScheme.Uniform(1, 0), new InitOptions { Seed = 0 }),
            "TruncBoundsReversed" => () => model.ApplyInit(InitScheme.TruncatedNormal(0, 1, 2, -2), new InitOptions { Seed = 0 }),
            "SparseAbove1" => () => model.ApplyInit(InitPolicy.Of(InitScheme.GlorotUniform).For<Linear>(InitScheme.Sparse(1.5, 0.01)), new InitOptions { Seed = 0 }),
            "SparseNegative" => () => model.ApplyInit(InitPolicy.Of(InitScheme.GlorotUniform).For<Linear>(InitScheme.Sparse(-0.1, 0.01)), new InitOptions { Seed = 0 }),
            "Parallelism0" => () => model.ApplyInit(InitScheme.HeNormal, new InitOptions { Seed = 0, MaxDegreeOfParallelism = 0 }),
            "ParallelismNegative" => () => model.ApplyInit(InitScheme.HeNormal, new InitOptions { Seed = 0, MaxDegreeOfParallelism = -2 }),
            "DiracGroups" => () => model.ApplyInit(InitPolicy.Of(InitScheme.HeNormal).For<Conv2d>(InitScheme.Dirac(3)), new InitOptions { Seed = 0 }),
            "EyeOnConv" => () => model.ApplyInit(InitPolicy.Of(InitScheme.HeNormal).For<Conv2d>(InitScheme.Eye), new InitOptions { Seed = 0 }),
            "ScaleResidualDepth0" => () => model.ApplyInit(InitPolicy.Auto.ScaleResidual("up", 0), new InitOptions { Seed = 0 }),
            "Gpt2Layers0" => () => model.ApplyInit(InitPolicy.Gpt2(layers: 0), new InitOptions { Seed = 0 }),
            "ForgetGateNaN" => () => model.ApplyInit(InitPolicy.Auto.ForgetGateBias(double.NaN), new InitOptions { Seed = 0 }),
            "NormalMeanNaN" => () => model.ApplyInit(InitScheme.Normal(double.NaN, 0.1), new InitOptions { Seed = 0 }),
            "UniformInfinite" => () => model.ApplyInit(InitScheme.Uniform(double.NegativeInfinity, 1), new InitOptions { Seed = 0 }),
            "ConstantNaN" => () => model.ApplyInit(InitScheme.Constant(double.NaN), new InitOptions { Seed = 0 }),
            "SeedAndGenerator" => () => model.ApplyInit(InitScheme.HeNormal, new InitOptions { Seed = 1, Generator = gen }),
            _ => throw new ArgumentException(what),
        };
        AssertRefusedAndUnchanged<ArgumentException>(model, act);
        Assert.True(w.eq(wBefore).all().item<bool>(), "tensor written by a refused call");
    }

    // ---------------------------------------------------------------- leaks

    private sealed class Custom : nn.Module<Tensor, Tensor>
    {
        private readonly Linear fc1 = nn.Linear(8, 16);
        private readonly ReLU relu = nn.ReLU();
        private readonly LSTM lstm = nn.LSTM(16, 8);
        private readonly Linear head = nn.Linear(8, 3);
        public Custom() : base(nameof(Custom)) => RegisterComponents();
        public override Tensor forward(Tensor x)
        {
            var h = relu.call(fc1.call(x));
            var (o, _, _) = lstm.call(h.unsqueeze(0));
            return head.call(o.squeeze(0));
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Flush()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    /// <summary>README: "leave no hooks, gradients or tensors behind"; Auto with a trace, PlanInit, Build, presets, refused calls.</summary>
    [Theory]
    [InlineData("AutoTraced")]
    [InlineData("AutoForgetGate")]
    [InlineData("PlanTraced")]
    [InlineData("Gpt2OnTransformerLayer")]
    [InlineData("TorchDefaultOnTransformerLayer")]
    [InlineData("AutoOnTransformerLayer")]
    [InlineData("AutoTied")]
    [InlineData("VitTied")]
    [InlineData("RefusedGain")]
    [InlineData("RefusedTrace")]
    public void Traced_auto_presets_build_and_refused_calls_leak_no_tensors(string what)
    {
        var model = new Custom();
        var x = torch.randn(4, 8);
        var bad = torch.randn(4, 5);
        var tf = nn.TransformerEncoderLayer(16, 2, 32);
        var tok = nn.Embedding(20, 8); var head = nn.Linear(8, 20, hasBias: false);
        head.weight = tok.weight!;
        var tied = nn.Sequential(("tok", tok), ("head", head));
        Action run = what switch
        {
            "AutoTraced" => () => model.ApplyInit(InitPolicy.Auto, new InitOptions { Seed = 1 }, x),
            "AutoForgetGate" => () => model.ApplyInit(InitPolicy.Auto.ForgetGateBias(1), new InitOptions { Seed = 1, MeasureRealized = true }),
            "PlanTraced" => () => model.PlanInit(InitPolicy.Auto, new InitOptions(), x),
            "Gpt2OnTransformerLayer" => () => tf.ApplyInit(InitPolicy.Gpt2(layers: 1), new InitOptions { Seed = 2 }),
            "TorchDefaultOnTransformerLayer" => () => tf.ApplyInit(InitScheme.TorchDefault, new InitOptions { Seed = 2 }),
            "AutoOnTransformerLayer" => () => tf.ApplyInit(InitPolicy.Auto.Hint<TransformerEncoderLayer>(Activation.Gelu), new InitOptions { Seed = 2 }),
            "AutoTied" => () => tied.ApplyInit(InitPolicy.Auto, new InitOptions { Seed = 3 }),
            "VitTied" => () => tied.ApplyInit(InitPolicy.Vit(), new InitOptions { Seed = 3 }),
            "RefusedGain" => () => { try { model.ApplyInit(InitScheme.HeNormal, new InitOptions { Gain = -1 }); } catch (ArgumentException) { } },
            "RefusedTrace" => () => { try { model.ApplyInit(InitPolicy.Auto, new InitOptions { Seed = 1 }, bad); } catch (InvalidOperationException) { } },
            _ => throw new ArgumentException(what),
        };
        run(); run();
        Flush();
        long before = Tensor.TotalCount;
        for (int i = 0; i < 3; i++) run();
        Flush();
        long after = Tensor.TotalCount;
        Assert.Equal(before, after);
    }

    private static long Growth(Action run)
    {
        run(); run();
        Flush();
        long before = Tensor.TotalCount;
        for (int i = 0; i < 4; i++) run();
        Flush();
        return (Tensor.TotalCount - before) / 4;
    }

    /// <summary>
    /// Constructing and disposing a TorchSharp module leaves some wrappers counted (TorchSharp's own), so Build is compared with
    /// the same tree constructed, ApplyInit'ed and disposed. Build's documented allowance (its remarks): one more counted wrapper per
    /// replaced parameter, with no native memory behind it — TorchSharp's Parameter(Tensor) moves the handle out of the tensor it
    /// takes, and a wrapper without a handle is never uncounted, even when disposed. Nothing more.
    /// </summary>
    [Theory]
    [InlineData("linear", 2)]
    [InlineData("batchnorm", 2)]
    [InlineData("both", 4)]
    public void Build_leaves_no_more_live_tensors_than_construction_plus_ApplyInit_and_its_documented_wrappers(string tree, int parameters)
    {
        Func<Sequential> factory = tree switch
        {
            "linear" => () => nn.Sequential(("fc", nn.Linear(8, 8))),
            "batchnorm" => () => nn.Sequential(("bn", nn.BatchNorm1d(8))),
            _ => () => nn.Sequential(("fc", nn.Linear(8, 8)), ("bn", nn.BatchNorm1d(8))),
        };
        long control = Growth(() => { using var m = factory(); m.ApplyInit(InitScheme.HeNormal, new InitOptions { Seed = 4 }); });
        long build = Growth(() => { using var m = Build.WithoutDefaultInit(factory, InitScheme.HeNormal, new InitOptions { Seed = 4 }); });
        Assert.True(build <= control + parameters, $"{tree}: Build leaves {build} live tensors per call, construction + ApplyInit {control}, allowance {parameters}");
    }

    // ---------------------------------------------------------------- the report's columns and texts

    /// <summary>README's demo table header: parameter, layer, shape, fan_in, fan_out, fans, scheme, distribution, gain, target std, bound, mean, std, action.</summary>
    [Fact]
    public void The_printed_table_has_the_READMEs_columns_in_order_and_the_data_view_has_NaN_fans()
    {
        using var scope = NewDisposeScope();
        var model = nn.Sequential(("fc1", nn.Linear(4, 3)), ("bn", nn.BatchNorm1d(3)));
        var report = model.ApplyInit(InitPolicy.Auto, new InitOptions { Seed = 42, MeasureRealized = true });
        var header = report.ToString().Split('\n').First(l => l.TrimStart().StartsWith("parameter"));
        string[] cols = ["parameter", "layer", "shape", "fan_in", "fan_out", "fans", "scheme", "distribution", "gain", "target std", "bound", "mean", "std", "action"];
        int at = -1;
        foreach (var c in cols)
        {
            int i = header.IndexOf(c, at + 1, StringComparison.Ordinal);
            Assert.True(i > at, $"column '{c}' missing or out of order in: {header}");
            at = i + c.Length - 1;
        }
        var schema = report.Schema;
        var fanIn = schema.Single(c => c.Name.Replace("_", "").Equals("fanin", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(typeof(double), fanIn.Type.RawType);
        Assert.Contains("FanIn", report.ToCsv().Split('\n')[0]); // the CSV names its columns as the IDataView does
    }

    /// <summary>docs/schemes.md gains and Parse of PyTorch's and Keras's names.</summary>
    [Fact]
    public void Gains_and_names_are_as_documented()
    {
        Assert.Equal(Math.Sqrt(2 / (1 + 0.2 * 0.2)), Gain.CalculateGain("leaky_relu", 0.2), 12);
        Assert.Equal(Math.Sqrt(2 / (1 + 0.01 * 0.01)), Gain.CalculateGain("leaky_relu"), 12);
        Assert.Equal(0.75, Gain.Calculate(Nonlinearity.Selu), 12);
        Assert.Equal(5.0 / 3, Gain.Calculate(Nonlinearity.Tanh), 12);
        var ks = InitScheme.Parse("kaiming_normal(mode=fan_out, nonlinearity=relu)");
        Assert.Equal(ks, InitScheme.Parse(ks.ToString()));
        var w = torch.empty(64, 32);
        var row = w.ApplyInit(ks, new InitOptions { Seed = 0 }).Rows[0];
        Assert.Equal(Math.Sqrt(2.0 / 64), row.TargetStd, 9);    // fan_out = 64
        Assert.Equal("truncated normal", InitScheme.Parse("he_normal").ToString() switch { var s when s.Contains("Truncated") => "truncated normal", var s => s });
        var vs = InitScheme.VarianceScaling(2, FanMode.FanOut, Distribution.TruncatedNormal);
        Assert.Equal(vs, InitScheme.Parse(vs.ToString()));
        Assert.Equal(InitScheme.HeNormal.WithNonlinearity(Nonlinearity.LeakyRelu, 0.2), InitScheme.Parse("HeNormal(nonlinearity=leaky_relu, slope=0.2)"));
    }

    // ---------------------------------------------------------------- presets

    /// <summary>
    /// transformers-and-presets.md: GPT-2 "Linear, Conv, attention projections and Embeddings N(0, 0.02²)". Each Conv kind
    /// (1d, 2d, transposed) is either drawn N(0, 0.02²) or listed as unhandled — not given some other scheme.
    /// </summary>
    [Fact]
    public void The_GPT2_preset_draws_every_conv_kind_at_002_or_lists_it_unhandled()
    {
        using var scope = NewDisposeScope();
        var model = new Bag(("c1", nn.Conv1d(4, 8, 3)), ("c2", nn.Conv2d(8, 8, 3)), ("ct", nn.ConvTranspose1d(8, 4, 3)),
            ("bil", nn.Bilinear(4, 4, 4)), ("fc", nn.Linear(4, 4)));
        var report = model.ApplyInit(InitPolicy.Gpt2(layers: 1), new InitOptions { Seed = 0 });
        foreach (var path in new[] { "c1", "c2", "ct", "bil", "fc" })
        {
            var row = report[path + ".weight"];
            bool unhandled = report.Unhandled.Any(u => u.Path == path);
            Assert.True(unhandled || (row.Action == InitAction.Initialized && Math.Abs(row.TargetStd - 0.02) < 1e-12),
                $"{path}: {row.Scheme} std {row.TargetStd} ({row.Reason})");
        }
    }
}
