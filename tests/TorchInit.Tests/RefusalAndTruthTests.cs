using System.Globalization;
using System.Reflection;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>
/// No silent wrong initialization: arguments in one order, dead generators and tensors, undefined enum values,
/// overlapping views, true messages, and the small truths of the report, the probe and the README.
/// </summary>
[Collection(SerialTorchCollection.Name)]
public class RefusalAndTruthTests
{
    private static List<byte[]> Bytes(nn.Module m) =>
        m.named_parameters().Select(p => p.parameter.detach().cpu().contiguous().bytes.ToArray()).ToList();

    private static byte[] Bytes(Tensor t) => t.detach().cpu().contiguous().bytes.ToArray();

    private static byte[] GlobalRngState()
    {
        using var s = torch.random.get_rng_state();
        return s.bytes.ToArray();
    }

    private static Sequential Mlp() => nn.Sequential(("fc1", nn.Linear(6, 5)), ("act", nn.ReLU()), ("fc2", nn.Linear(5, 3)));

    // ------------------------------------------------------------------ 3. (mean, std), as PyTorch

    [Fact]
    public void Two_argument_normal_is_mean_then_std_as_PyTorchs_normal_()
    {
        using var scope = NewDisposeScope();
        var scheme = Assert.IsType<NormalScheme>(InitScheme.Normal(0.5, 0.02));
        Assert.Equal(0.5, scheme.Mean);
        Assert.Equal(0.02, scheme.Std);
        Assert.Equal("Normal(0.5, 0.02)", scheme.ToString());
        Assert.Equal(scheme, InitScheme.Parse(scheme.ToString()));
        // The same numbers as Init.Normal(t, mean, std) and as PyTorch's normal_(w, mean, std).
        var viaScheme = empty(64, 32);
        viaScheme.ApplyInit(scheme, new InitOptions { Seed = 9 });
        var viaInit = empty(64, 32);
        using (var g = new Generator(9)) Init.Normal(viaInit, 0.5, 0.02, g);
        Assert.Equal(Bytes(viaInit), Bytes(viaScheme));
        Assert.InRange(viaScheme.mean().item<float>(), 0.49, 0.51);
        Assert.InRange(viaScheme.std().item<float>(), 0.018, 0.022);
    }

    [Fact]
    public void One_argument_normal_and_truncated_normal_are_the_std()
    {
        var normal = Assert.IsType<NormalScheme>(InitScheme.Normal(0.01));
        Assert.Equal((0.0, 0.01), (normal.Mean, normal.Std));
        Assert.Equal(normal, InitScheme.Parse("Normal(0.01)"));
        var truncated = Assert.IsType<TruncatedNormalScheme>(InitScheme.TruncatedNormal(0.02));
        Assert.Equal((0.0, 0.02, -2.0, 2.0), (truncated.Mean, truncated.Std, truncated.A, truncated.B));
        Assert.Equal(truncated, InitScheme.Parse("TruncatedNormal(0.02)"));
        Assert.Equal(truncated, InitScheme.Parse("trunc_normal(std=0.02)"));
    }

    [Fact]
    public void Truncated_normal_takes_mean_std_a_b_as_Init_TruncNormal_and_trunc_normal_()
    {
        using var scope = NewDisposeScope();
        var scheme = Assert.IsType<TruncatedNormalScheme>(InitScheme.TruncatedNormal(0.5, 0.3, 0, 1));
        Assert.Equal((0.5, 0.3, 0.0, 1.0), (scheme.Mean, scheme.Std, scheme.A, scheme.B));
        var viaScheme = empty(40, 25);
        viaScheme.ApplyInit(scheme, new InitOptions { Seed = 4 });
        var viaInit = empty(40, 25);
        using (var g = new Generator(4)) Init.TruncNormal(viaInit, 0.5, 0.3, 0, 1, g);
        Assert.Equal(Bytes(viaInit), Bytes(viaScheme));
        // Every text form reads back to the same scheme, and the text keeps PyTorch's order.
        foreach (var text in new[] { scheme.ToString(), "TruncatedNormal(0.5, 0.3, 0, 1)", "TruncatedNormal(0.5, 0.3, a=0, b=1)",
                     "trunc_normal(mean=0.5, std=0.3, a=0, b=1)", "TruncatedNormal(std=0.3, mean=0.5, a=0, b=1)" })
            Assert.Equal(scheme, InitScheme.Parse(text));
        Assert.StartsWith("TruncatedNormal(0.5, 0.3", scheme.ToString());
    }

    [Fact]
    public void A_normal_with_std_0_is_an_ArgumentException_that_names_InitScheme_Constant()
    {
        using var scope = NewDisposeScope();
        var t = ones(4, 4);
        var before = Bytes(t);
        foreach (var make in new Func<object>[]
                 {
                     () => InitScheme.Normal(0), () => InitScheme.Normal(0.02, 0), () => InitScheme.TruncatedNormal(0),
                     () => InitScheme.TruncatedNormal(0.02, 0), () => InitScheme.Parse("Normal(0.02, 0)"), () => InitScheme.Parse("normal(std=0)"),
                     () => InitScheme.Parse("TruncatedNormal(0.02, 0)"), () => Init.Normal(t, 0.02, 0), () => Init.TruncNormal(t, 0.02, 0),
                 })
        {
            var e = Assert.ThrowsAny<ArgumentException>(make);
            Assert.Contains("InitScheme.Constant", e.Message);
        }
        Assert.Equal(before, Bytes(t));
    }

    // ------------------------------------------------------------------ 4. disposed generators and tensors

    public static TheoryData<string> Engines => new() { "exact", "fast" };

    [Theory]
    [MemberData(nameof(Engines))]
    public void A_disposed_generator_is_ObjectDisposedException_before_anything_is_written(string engine)
    {
        using var scope = NewDisposeScope();
        var model = Mlp();
        var g = new Generator(3);
        g.Dispose();
        torch.manual_seed(11);
        var weights = Bytes(model);
        var rng = GlobalRngState();
        var options = new InitOptions { Generator = g, Engine = engine == "fast" ? DrawEngine.Fast : DrawEngine.Exact };
        Assert.Throws<ObjectDisposedException>(() => model.ApplyInit(InitScheme.HeNormal, options));
        Assert.Throws<ObjectDisposedException>(() => model.PlanInit(InitScheme.HeNormal, options));
        var t = zeros(8, 4);
        foreach (var call in new Action[]
                 {
                     () => Init.Normal(t, generator: g), () => Init.Uniform(t, generator: g), () => Init.XavierUniform(t, generator: g),
                     () => Init.KaimingNormal(t, generator: g), () => Init.TruncNormal(t, generator: g), () => Init.Orthogonal(t, generator: g),
                     () => Init.Sparse(t, 0.5, generator: g), () => t.ApplyInit(InitScheme.GlorotNormal, options),
                 })
            Assert.Throws<ObjectDisposedException>(call);
        Assert.Equal(weights, Bytes(model));
        Assert.All(Stats.Values(t), v => Assert.Equal(0.0, v));
        Assert.Equal(rng, GlobalRngState());
    }

    [Fact]
    public void Init_functions_on_a_disposed_tensor_throw_ObjectDisposedException()
    {
        using var g = new Generator(1);
        var rng = GlobalRngState();
        var calls = new Func<Tensor, object>[]
        {
            t => Init.Normal(t), t => Init.Uniform(t), t => Init.TruncNormal(t), t => Init.XavierUniform(t), t => Init.XavierNormal(t),
            t => Init.KaimingUniform(t), t => Init.KaimingNormal(t, generator: g), t => Init.Constant(t, 2), t => Init.Zeros(t), t => Init.Ones(t),
            t => Init.Orthogonal(t), t => Init.Eye(t), t => Init.Sparse(t, 0.5), t => Init.CalculateFans(t),
            t => t.ApplyInit(InitScheme.HeNormal), t => t.ApplyInit(InitScheme.HeNormal, new Fans(3, 3)),
        };
        foreach (var call in calls)
        {
            var t = zeros(3, 3);
            t.Dispose();
            Assert.Throws<ObjectDisposedException>(() => call(t));
        }
        var conv = zeros(2, 2, 3);
        conv.Dispose();
        Assert.Throws<ObjectDisposedException>(() => Init.Dirac(conv));
        Assert.Throws<ObjectDisposedException>(() => Init.DeltaOrthogonal(conv));
        Assert.Equal(rng, GlobalRngState());
    }

    // ------------------------------------------------------------------ 9. undefined enum values

    public static TheoryData<string, string> BadOptions => new()
    {
        { "Engine", "99" }, { "FanConvention", "42" }, { "Bias", "42" }, { "SeededDraws", "9" },
    };

    private static InitOptions With(string option) => option switch
    {
        "Engine" => new InitOptions { Seed = 1, Engine = (DrawEngine)99 },
        "FanConvention" => new InitOptions { Seed = 1, FanConvention = (FanConvention)42 },
        "Bias" => new InitOptions { Seed = 1, Bias = (BiasInit)42 },
        "SeededDraws" => new InitOptions { Seed = 1, SeededDraws = (SeededDraws)9 },
        _ => throw new ArgumentException(option),
    };

    [Theory]
    [MemberData(nameof(BadOptions))]
    public void An_undefined_option_value_is_an_ArgumentException_naming_option_and_value(string option, string value)
    {
        using var scope = NewDisposeScope();
        var model = Mlp();
        var before = Bytes(model);
        var rng = GlobalRngState();
        foreach (var call in new Func<object>[]
                 {
                     () => model.ApplyInit(InitScheme.HeNormal, With(option)), () => model.PlanInit(InitPolicy.Auto, With(option)),
                     () => model.ApplyInit(InitScheme.TorchDefault, With(option)), () => zeros(3, 3).ApplyInit(InitScheme.HeNormal, With(option)),
                 })
        {
            var e = Assert.ThrowsAny<ArgumentException>(call);
            Assert.Equal(option, e.ParamName);
            Assert.Contains(option, e.Message);
            Assert.Contains(value, e.Message);
        }
        Assert.Equal(before, Bytes(model));
        Assert.Equal(rng, GlobalRngState());
    }

    [Fact]
    public void Undefined_enum_arguments_of_Init_functions_and_policies_are_ArgumentExceptions_naming_them()
    {
        using var scope = NewDisposeScope();
        var t = zeros(6, 4);
        void Rejects(Func<object> call, string name, string value)
        {
            var e = Assert.ThrowsAny<ArgumentException>(call);
            Assert.Equal(name, e.ParamName);
            Assert.Contains(value, e.Message);
        }
        Rejects(() => Init.KaimingNormal(t, mode: (FanMode)7), "mode", "7");
        Rejects(() => Init.KaimingUniform(t, mode: (FanMode)7), "mode", "7");
        Rejects(() => Init.KaimingNormal(t, nonlinearity: (Nonlinearity)9), "nonlinearity", "9");
        Rejects(() => Init.KaimingUniform(t, nonlinearity: (Nonlinearity)9), "nonlinearity", "9");
        Rejects(() => new Fans(3, 4).Select((FanMode)5), "mode", "5");
        Rejects(() => Fans.ForLayer(nn.Conv1d(2, 4, 3), new long[] { 4, 2, 3 }, (FanConvention)42), "convention", "42");
        Rejects(() => new Activation((ActivationKind)77), "Kind", "77");
        Rejects(() => Activation.Relu with { Kind = (ActivationKind)77 }, "Kind", "77");
        Assert.All(Stats.Values(t), v => Assert.Equal(0.0, v));

        var model = nn.Sequential(("emb", nn.Embedding(10, 4)), ("fc", nn.Linear(4, 2)));
        var before = Bytes(model);
        Rejects(() => model.ApplyInit(InitPolicy.Auto.Embedding((EmbeddingInit)5), new InitOptions { Seed = 1 }), "Embeddings", "5");
        Rejects(() => model.ApplyInit(InitPolicy.Auto.Map((ActivationKind)66, InitScheme.HeNormal)), "kind", "66");
        Assert.Equal(before, Bytes(model));
    }

    // ------------------------------------------------------------------ 10. overlapping views

    [Theory]
    [MemberData(nameof(Engines))]
    public void An_expanded_parameter_is_an_ArgumentException_naming_it_before_anything_is_written(string engine)
    {
        using var scope = NewDisposeScope();
        var model = Mlp();
        var fc2 = (Linear)model[2];
        fc2.weight = new Parameter(zeros(5).expand(3, 5));
        Assert.Equal(0, fc2.weight!.stride(0));
        var before = Bytes(model);
        var options = new InitOptions { Seed = 2, Engine = engine == "fast" ? DrawEngine.Fast : DrawEngine.Exact };
        foreach (var policy in new InitPolicy[] { InitScheme.HeNormal, InitScheme.Zeros, InitPolicy.Auto, InitScheme.Orthogonal })
        {
            var e = Assert.Throws<ArgumentException>(() => model.ApplyInit(policy, options));
            Assert.Contains("fc2.weight", e.Message);
            Assert.Contains("overlap", e.Message);
            Assert.Equal(before, Bytes(model));
        }
        Assert.Throws<ArgumentException>(() => model.PlanInit(InitScheme.HeNormal, options));
    }

    [Fact]
    public void Init_functions_reject_overlapping_views_and_keep_writing_non_overlapping_ones()
    {
        using var scope = NewDisposeScope();
        var baseTensor = zeros(16);
        var overlapping = new Func<Tensor>[]
        {
            () => zeros(4).expand(3, 4), () => zeros(1, 4).expand(5, 4), () => baseTensor.as_strided([3, 3], [1, 1]),
            () => baseTensor.unfold(0, 4, 2), () => baseTensor.as_strided([2, 3, 2], [4, 1, 3]),
        };
        foreach (var make in overlapping)
        {
            var view = make();
            foreach (var call in new Action[] { () => Init.Normal(view), () => Init.Zeros(view), () => Init.XavierUniform(view), () => view.ApplyInit(InitScheme.HeNormal) })
            {
                var e = Assert.Throws<ArgumentException>(call);
                Assert.Contains("overlap", e.Message);
            }
        }
        Assert.All(Stats.Values(baseTensor), v => Assert.Equal(0.0, v));

        // Views whose elements are distinct memory keep working: a transpose, a strided slice, a permutation, a narrow,
        // non-overlapping as_strided layouts, a broadcast dimension of size 1.
        var storage = zeros(64);
        var fine = new Func<Tensor>[]
        {
            () => zeros(6, 4).t(), () => zeros(8, 4)[TensorIndex.Slice(null, null, 2)], () => zeros(2, 3, 4).permute(2, 0, 1),
            () => zeros(6, 6).narrow(1, 1, 4), () => storage.as_strided([3, 2], [2, 5]), () => storage.as_strided([3, 2], [2, 7]), () => storage.as_strided([3, 2], [2, 3], 20),
            () => zeros(1, 5).expand(1, 5), () => zeros(4, 1).expand(4, 1).t(),
        };
        foreach (var make in fine)
        {
            var view = make();
            Init.Normal(view, 1, 0.1);
            Assert.All(Stats.Values(view), v => Assert.NotEqual(0.0, v));
            if (view.dim() >= 2 && view.shape.All(s => s > 1))
            {
                view.ApplyInit(InitScheme.Zeros);
                Assert.All(Stats.Values(view), v => Assert.Equal(0.0, v));
                view.ApplyInit(InitScheme.HeNormal, new InitOptions { Seed = 1, Engine = DrawEngine.Fast });
                Assert.All(Stats.Values(view), v => Assert.NotEqual(0.0, v));
            }
        }
    }

    // ------------------------------------------------------------------ 11. true messages, no overflow

    [Fact]
    public void The_meta_device_message_names_only_APIs_that_exist()
    {
        using var scope = NewDisposeScope();
        var model = nn.Sequential(("fc", nn.Linear(4, 4, device: new Device(DeviceType.META))));
        var e = Assert.Throws<InvalidOperationException>(() => model.ApplyInit(InitScheme.HeNormal));
        Assert.Contains("'fc.weight'", e.Message);
        // It names TorchInit's Build.WithoutDefaultInit and a device: argument, which exist, and no to_empty, which TorchSharp 0.107 lacks.
        Assert.DoesNotContain("to_empty", e.Message);
        Assert.Null(typeof(nn.Module).GetMethod("to_empty"));
        Assert.Contains("Build.WithoutDefaultInit", e.Message);
        Assert.Contains(typeof(Build).GetMethods(), m => m.Name == "WithoutDefaultInit");
        Assert.Contains("device:", e.Message);
        Assert.Contains(typeof(nn).GetMethods(), m => m.Name == "Linear" && m.GetParameters().Any(p => p.Name == "device"));
    }

    [Fact]
    public void Fan_arithmetic_does_not_overflow_and_unrepresentable_fans_are_ArgumentExceptions()
    {
        var huge = new Fans(long.MaxValue, long.MaxValue);
        Assert.Equal((double)long.MaxValue, huge.Select(FanMode.FanAvg));
        Assert.Equal(1.5e18, new Fans(1_000_000_000_000_000_000, 2_000_000_000_000_000_000).Select(FanMode.FanAvg));
        // σ = gain·√(2/(fan_in + fan_out)) from those fans: positive and tiny, not an error about a fan of −1.
        using var scope = NewDisposeScope();
        var row = zeros(3, 3).ApplyInit(InitScheme.GlorotNormal, huge, new InitOptions { Seed = 1 }).Rows.Single();
        Assert.True(Stats.Close(Math.Sqrt(2.0 / (2.0 * long.MaxValue)), row.TargetStd, 1e-12), $"target std {row.TargetStd}");
        Assert.Equal(long.MaxValue, row.FanIn);

        foreach (var shape in new[] { new long[] { 2, long.MaxValue / 2, 4 }, new long[] { 3, 1L << 40, 1L << 30 }, new long[] { 1L << 62, 4, 2 } })
        {
            var e = Assert.Throws<ArgumentException>(() => Fans.FromShape(shape, "w"));
            Assert.Contains("w", e.Message);
            Assert.Contains("overflow", e.Message);
        }
        Assert.Equal(new Fans((1L << 40) * 3, 2 * 3), Fans.FromShape(new long[] { 2, 1L << 40, 3 }));
    }

    // ------------------------------------------------------------------ 13a. one spelling for a fill

    [Fact]
    public void The_report_spells_zeros_and_ones_one_way_built_in_or_override()
    {
        using var scope = NewDisposeScope();
        var model = Mlp();
        var fixedZeros = model.ApplyInit(InitScheme.Zeros);
        Assert.Equal("zeros", fixedZeros["fc1.weight"].Scheme);
        Assert.Equal("zeros", fixedZeros["fc1.bias"].Scheme);                 // the bias rule's name
        var overridden = model.ApplyInit(InitPolicy.Auto.For<Linear>(InitScheme.Zeros).ForPath("fc2", InitScheme.Ones));
        Assert.Equal("zeros", overridden["fc1.weight"].Scheme);
        Assert.Equal("ones", overridden["fc2.weight"].Scheme);
        Assert.Equal("zeros", overridden.Decision("fc1").Scheme);
        var auto = nn.Sequential(("fc", nn.Linear(4, 4)), ("norm", nn.LayerNorm(4))).ApplyInit(InitPolicy.Auto);
        Assert.Equal("ones", auto["norm.weight"].Scheme);                     // the built-in rule's spelling
        Assert.Equal("zeros", auto["norm.bias"].Scheme);
        // The text of the scheme stays TorchInit's name, which reads back.
        Assert.Equal(InitScheme.Zeros, InitScheme.Parse(InitScheme.Zeros.ToString()));
        Assert.Equal(InitScheme.Zeros, InitScheme.Parse(InitScheme.Zeros.Name));
        Assert.Equal(InitScheme.Ones, InitScheme.Parse(InitScheme.Ones.Name));
    }

    // ------------------------------------------------------------------ 13b. every text reads back

    private static string N(double v) => v.ToString("R", CultureInfo.InvariantCulture);

    private static readonly string[] Nonlinearities = ["linear", "sigmoid", "tanh", "relu", "leaky_relu", "selu"];

    /// <summary>A random scheme from a factory, with random arguments.</summary>
    private static InitScheme RandomScheme(Random r)
    {
        double Num() => Math.Round(r.NextDouble() * 6 - 3, r.Next(0, 16));
        double Pos() => Math.Abs(Num()) + Math.Pow(10, -r.Next(1, 8));
        var nl = (Nonlinearity)r.Next(0, 6);
        double? slope = r.Next(3) == 0 ? Num() : null;
        switch (r.Next(0, 14))
        {
            case 0: return InitScheme.VarianceScaling(Pos(), (FanMode)r.Next(0, 3), (Distribution)r.Next(0, 3), nl, slope);
            case 1: return InitScheme.Named[r.Next(InitScheme.Named.Count)] is var n && !double.IsNaN(n.Gain) ? n.WithNonlinearity(nl, slope) : n;
            case 2: return InitScheme.Normal(Pos());
            case 3: return InitScheme.Normal(Num(), Pos());
            case 4: return InitScheme.TruncatedNormal(Pos());
            case 5:
            {
                double a = Num(), b = Num();
                if (a == b) b = a + 1;
                return InitScheme.TruncatedNormal(Num(), Pos(), Math.Min(a, b), Math.Max(a, b));
            }
            case 6: { double a = Num(), b = Num(); return InitScheme.Uniform(Math.Min(a, b), Math.Max(a, b)); }
            case 7: return r.Next(3) switch { 0 => InitScheme.Zeros, 1 => InitScheme.Ones, _ => InitScheme.Constant(Num()) };
            case 8: return InitScheme.Orthogonal.WithNonlinearity(nl, slope);
            case 9: return InitScheme.DeltaOrthogonal.WithNonlinearity(nl, slope);
            case 10: return InitScheme.Eye;
            case 11: return InitScheme.Dirac(r.Next(1, 9));
            case 12: return InitScheme.Sparse(Math.Round(r.NextDouble(), r.Next(0, 16)), Pos());
            default: return InitScheme.Named[r.Next(InitScheme.Named.Count)];
        }
    }

    /// <summary>A random text of PyTorch's, Keras's or TorchInit's names, with a random subset of their arguments.</summary>
    private static string RandomText(Random r)
    {
        double Num() => Math.Round(r.NextDouble() * 6 - 3, r.Next(0, 16));
        double Pos() => Math.Abs(Num()) + Math.Pow(10, -r.Next(1, 8));
        string Args(params (string Key, string Value)[] candidates)
        {
            var chosen = candidates.Where(_ => r.Next(2) == 0).OrderBy(_ => r.Next()).Select(c => $"{c.Key}={c.Value}").ToList();
            return chosen.Count == 0 && r.Next(2) == 0 ? "" : $"({string.Join(", ", chosen)})";
        }
        string Nl() => Nonlinearities[r.Next(Nonlinearities.Length)];
        string Mode(bool avg) => r.Next(avg ? 3 : 2) switch { 0 => "fan_in", 1 => "fan_out", _ => "fan_avg" };
        switch (r.Next(0, 16))
        {
            case 0: return "kaiming_normal" + Args(("a", N(Num())), ("mode", Mode(false)), ("nonlinearity", Nl()));
            case 1: return "kaiming_uniform" + Args(("a", N(Num())), ("mode", Mode(false)), ("nonlinearity", Nl()));
            case 2: return new[] { "xavier_normal", "xavier_uniform", "he_normal", "he_uniform", "glorot_normal", "glorot_uniform", "lecun_normal", "lecun_uniform", "identity", "eye", "zeros", "ones", "orthogonal" }[r.Next(13)];
            case 3: return "normal" + Args(("mean", N(Num())), ("std", N(Pos())));
            case 4: return $"normal({N(Pos())})";
            case 5: return "random_normal" + Args(("mean", N(Num())), ("stddev", N(Pos())));
            case 6: { double a = Num(); return "trunc_normal" + Args(("mean", N(Num())), ("std", N(Pos())), ("a", N(a - 4)), ("b", N(a + 4))); }
            case 7: return "truncated_normal" + Args(("mean", N(Num())), ("stddev", N(Pos())));
            case 8: return "variance_scaling" + Args(("scale", N(Pos())), ("mode", Mode(true)), ("distribution", new[] { "normal", "uniform", "truncated_normal" }[r.Next(3)]));
            case 9: return "HeNormal" + Args(("nonlinearity", Nl()), ("slope", N(Num())));
            case 10: return "orthogonal" + Args(("nonlinearity", Nl()), ("slope", N(Num())));
            case 11: { double a = Num(); return "uniform" + Args(("low", N(a)), ("high", N(a + Pos()))); }
            case 12: { double a = Num(); return "random_uniform" + Args(("minval", N(a)), ("maxval", N(a + Pos()))); }
            case 13: return $"constant({N(Num())})";
            case 14: return $"dirac(groups={r.Next(1, 5)})";
            default: return $"sparse({N(Math.Round(r.NextDouble(), 3))}, std={N(Pos())})";
        }
    }

    private static void AssertReadsBack(InitScheme scheme, string origin)
    {
        var text = scheme.ToString();
        InitScheme back;
        try { back = InitScheme.Parse(text); }
        catch (ArgumentException e) { throw new Xunit.Sdk.XunitException($"{origin}: its text '{text}' does not parse: {e.Message}"); }
        Assert.True(scheme == back, $"{origin}: '{text}' reads back as {back}, which is not equal");
        Assert.Equal(text, back.ToString());
        Assert.Equal(scheme.Gain, back.Gain);
        // The report's shorter name parses too (to the same scheme up to its gain, which the report shows in its own column).
        try { Assert.Equal(scheme.Name, InitScheme.Parse(scheme.Name).Name); }
        catch (ArgumentException e) { throw new Xunit.Sdk.XunitException($"{origin}: its report name '{scheme.Name}' does not parse: {e.Message}"); }
    }

    [Fact]
    public void Every_scheme_from_a_factory_reads_back_from_its_text()
    {
        var r = new Random(16_2026);
        for (int i = 0; i < 5000; i++)
        {
            var scheme = RandomScheme(r);
            AssertReadsBack(scheme, $"scheme {i} ({scheme.GetType().Name})");
        }
    }

    [Fact]
    public void Every_scheme_parsed_from_PyTorch_Keras_or_TorchInit_text_reads_back_from_its_own_text()
    {
        var r = new Random(16_2027);
        int parsed = 0;
        for (int i = 0; i < 5000; i++)
        {
            var text = RandomText(r);
            InitScheme scheme;
            try { scheme = InitScheme.Parse(text); }
            catch (ArgumentException) { continue; }   // e.g. a slope with a nonlinearity that has none: rejected, not misread
            parsed++;
            AssertReadsBack(scheme, $"'{text}'");
        }
        Assert.True(parsed > 4000, $"only {parsed} texts parsed");
        Assert.Equal("VarianceScaling(scale=1, mode=fan_out, distribution=normal, nonlinearity=relu)",
            InitScheme.Parse("kaiming_normal(mode=fan_out, nonlinearity=relu)").ToString());
    }

    [Fact]
    public void Keras_names_take_Keras_defaults_and_arguments()
    {
        // Keras's RandomNormal and TruncatedNormal default to stddev 0.05; its TruncatedNormal cuts at two stddevs about the mean.
        Assert.Equal(InitScheme.Normal(0, 0.05), InitScheme.Parse("random_normal"));
        Assert.Equal(InitScheme.TruncatedNormal(0, 0.05, -0.1, 0.1), InitScheme.Parse("truncated_normal"));
        Assert.Equal(InitScheme.TruncatedNormal(1, 0.5, 0, 2), InitScheme.Parse("truncated_normal(mean=1, stddev=0.5)"));
    }

    // ------------------------------------------------------------------ 13c. every layer the probe can see

    private sealed class RecurrentClassifier : nn.Module<Tensor, Tensor>
    {
        private readonly Embedding emb = nn.Embedding(50, 8);
        private readonly nn.Module rnn;
        private readonly Linear head = nn.Linear(16, 3);

        public RecurrentClassifier(string kind) : base(nameof(RecurrentClassifier))
        {
            rnn = kind switch
            {
                "LSTM" => nn.LSTM(8, 16, batchFirst: true),
                "GRU" => nn.GRU(8, 16, batchFirst: true),
                _ => nn.RNN(8, 16, batchFirst: true),
            };
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            var e = emb.call(x);
            var output = rnn is LSTM lstm ? lstm.call(e, null).Item1 : ((nn.Module<Tensor, Tensor, (Tensor, Tensor)>)rnn).call(e, null!).Item1;
            return head.call(output.select(1, -1));
        }
    }

    [Theory]
    [InlineData("LSTM")]
    [InlineData("GRU")]
    [InlineData("RNN")]
    public void The_probe_gives_a_recurrent_layer_a_row(string kind)
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(5);
        var model = new RecurrentClassifier(kind);
        var x = randint(0, 50, [4, 7], generator: new Generator(2));
        var report = SignalProbe.Run(model, x, y => y.pow(2).mean());
        Assert.Equal(["emb", "rnn", "head"], report.Rows.Select(r => r.Path));
        var row = report.Rows[1];
        Assert.Equal(kind, row.LayerType);
        Assert.Equal(new long[] { 4, 7, 16 }, row.Shape);   // the output sequence
        Assert.True(row.ActivationStd > 0);
        Assert.True(row.OutputGradStd > 0);
        Assert.True(row.WeightGradStd > 0);                 // weight_ih_l0's gradient
    }

    [Fact]
    public void The_probe_gives_two_input_and_attention_layers_a_row()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(6);
        var bilinear = nn.Bilinear(4, 4, 3);
        var attention = nn.MultiheadAttention(4, 2);
        var model = new TwoInputs(bilinear, attention);
        var report = SignalProbe.Run(model, randn(5, 2, 4, generator: new Generator(1)), y => y.pow(2).mean());
        Assert.Equal(["attention", "bilinear"], report.Rows.Select(r => r.Path));
        Assert.All(report.Rows, r => Assert.True(r.ActivationStd > 0 && r.OutputGradStd > 0, r.Path));
        Assert.True(report.Rows[1].WeightGradStd > 0);
        Assert.Equal(new long[] { 5, 2, 4 }, report.Rows[0].Shape);   // the attention output, not its weights
    }

    private sealed class TwoInputs : nn.Module<Tensor, Tensor>
    {
        private readonly Bilinear bilinear;
        private readonly MultiheadAttention attention;

        public TwoInputs(Bilinear b, MultiheadAttention a) : base(nameof(TwoInputs))
        {
            bilinear = b;
            attention = a;
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            var (attended, _) = attention.call(x, x, x, null!, false, null!);
            return bilinear.call(attended, x);
        }
    }

    // ------------------------------------------------------------------ 13d. options that write nothing or zeros

    [Fact]
    public void Gain_zero_and_empty_LayerTypes_are_policy_warnings()
    {
        using var scope = NewDisposeScope();
        var model = Mlp();
        var zeroGain = model.ApplyInit(InitScheme.HeNormal, new InitOptions { Seed = 1, Gain = 0 });
        Assert.Contains(zeroGain.PolicyWarnings, w => w.Contains("Gain = 0") && w.Contains("InitScheme.Zeros"));
        Assert.Contains(zeroGain.PolicyWarnings, w => w.Contains("fc1.weight"));
        Assert.All(Stats.Values(((Linear)model[0]).weight!), v => Assert.Equal(0.0, v));   // still PyTorch's gain=0: zeros
        Assert.Contains("policy: InitOptions.Gain = 0", zeroGain.ToString());
        Assert.DoesNotContain(model.ApplyInit(InitScheme.HeNormal, new InitOptions { Seed = 1, Gain = 0.5 }).PolicyWarnings, w => w.Contains("Gain"));
        // A gain of 0 on a scheme without a gain changes nothing: no warning.
        Assert.DoesNotContain(model.ApplyInit(InitScheme.Normal(0.1), new InitOptions { Seed = 1, Gain = 0 }).PolicyWarnings, w => w.Contains("Gain"));

        var before = Bytes(model);
        var nothing = model.ApplyInit(InitScheme.HeNormal, new InitOptions { Seed = 1, LayerTypes = [] });
        Assert.Equal(before, Bytes(model));
        Assert.Contains(nothing.PolicyWarnings, w => w.Contains("LayerTypes") && w.Contains("empty"));
        Assert.Contains(model.PlanInit(InitScheme.HeNormal, new InitOptions { LayerTypes = [] }).PolicyWarnings, w => w.Contains("LayerTypes"));
        Assert.DoesNotContain(model.ApplyInit(InitScheme.HeNormal, new InitOptions { Seed = 1 }).PolicyWarnings, w => w.Contains("LayerTypes"));
    }

    // ------------------------------------------------------------------ 13e/f. what the README says of TorchSharp and libtorch

    private static string Readme()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "TorchInit.sln")))
                return File.ReadAllText(Path.Combine(dir.FullName, "README.md"));
        throw new FileNotFoundException("README.md above the test binaries");
    }

    [Fact]
    public void TorchSharps_trunc_normal_is_described_as_it_behaves()
    {
        using var scope = NewDisposeScope();
        // TorchSharp 0.107's nn.init.trunc_normal_ computes clamp(erfinv(u)·mean + std, a, b): with mean 0 every element is the std.
        foreach (var std in new[] { 0.02, 0.5, 1.0 })
        {
            var w = zeros(50);
            nn.init.trunc_normal_(w, 0, std, -2, 2);
            Assert.All(Stats.Values(w), v => Assert.Equal((float)std, (float)v));
        }
        double mean = 0.3, sd = 0.1, a = -2, b = 2;
        torch.manual_seed(3);
        var ts = nn.init.trunc_normal_(zeros(200), mean, sd, a, b);
        torch.manual_seed(3);
        double NormCdf(double x) => (1 + erf(tensor(x / Math.Sqrt(2), ScalarType.Float64)).item<double>()) / 2;
        var expected = zeros(200).uniform_(2 * NormCdf((a - mean) / sd) - 1, 2 * NormCdf((b - mean) / sd) - 1).erfinv_().mul_(mean).add_(sd).clamp_(a, b);
        Assert.Equal(Bytes(expected), Bytes(ts));

        var readme = Readme();
        Assert.DoesNotContain("`trunc_normal_` with 1.0", readme.Replace("\n", " ").Replace("  ", " "));
        Assert.Contains("every element is the std", readme.Replace("\n", " ").Replace("  ", " "));
    }

    [Fact]
    public void The_half_precision_trunc_normal_difference_is_described_as_it_arises()
    {
        using var scope = NewDisposeScope();
        // libtorch 2.10 (TorchSharp's) multiplies a float16/bfloat16 tensor by a scalar rounded to the tensor's type first;
        // PyTorch 2.6 multiplies in float32 by the float32 scalar. That is the 1-ulp difference of a half-precision trunc_normal_.
        foreach (var dtype in new[] { ScalarType.Float16, ScalarType.BFloat16 })
        {
            var x = randn(4096, generator: new Generator(8)).to_type(dtype);
            double s = 0.02 * Math.Sqrt(2);
            var libtorch = x.clone().mul_(s);
            var roundedScalar = (x.to_type(ScalarType.Float32) * tensor(s, dtype).to_type(ScalarType.Float32)).to_type(dtype);
            var float32Scalar = (x.to_type(ScalarType.Float32) * s).to_type(dtype);
            Assert.Equal(Bytes(roundedScalar), Bytes(libtorch));
            long differ = (libtorch != float32Scalar).sum().item<long>();
            Assert.InRange(differ, 400, 2000);   // about a quarter of the elements, each by 1 ulp
        }
        var readme = Readme().Replace("\n", " ").Replace("  ", " ");
        Assert.DoesNotContain("23 of 27", readme);
        Assert.Contains("of 4,096 float16", readme);
        Assert.Contains("of 4,096 bfloat16", readme);
    }
}
