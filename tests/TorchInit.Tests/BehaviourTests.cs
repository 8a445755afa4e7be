using System.Runtime.CompilerServices;
using Microsoft.ML;
using Microsoft.ML.Data;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>Bad input, documented guarantees (no leaks, RNG isolation, tied weights, order) and the report.</summary>
[Collection(SerialTorchCollection.Name)]
public class BehaviourTests
{
    private static Parameter P(nn.Module m, string name) => StatisticalTests.P(m, name);

    private static Tensor Snapshot(Tensor t)
    {
        using var _ = no_grad();
        return t.detach().clone();
    }

    // ---------------------------------------------------------------- shapes

    [Fact]
    public void Fans_of_a_1d_shape_throw_naming_the_shape()
    {
        var ex = Assert.Throws<ArgumentException>(() => Fans.FromShape(new long[] { 5 }));
        Assert.Contains("[5]", ex.Message);
        ex = Assert.Throws<ArgumentException>(() => Fans.FromShape(Array.Empty<long>(), "scalar"));
        Assert.Contains("[]", ex.Message);
        Assert.Contains("scalar", ex.Message);
        Assert.Equal(new Fans(54, 108), Fans.FromShape(new long[] { 12, 6, 3, 3 }));
        Assert.Equal(new Fans(7, 3), Fans.FromShape(new long[] { 3, 7 }));
    }

    [Fact]
    public void Tensor_initializers_reject_1d_tensors_and_leave_them_unchanged()
    {
        using var scope = NewDisposeScope();
        var t = torch.ones(5);
        var ex = Assert.Throws<ArgumentException>(() => Init.XavierUniform(t));
        Assert.Contains("[5]", ex.Message);
        Assert.Contains("[5]", Assert.Throws<ArgumentException>(() => Init.KaimingNormal(t)).Message);
        Assert.Contains("[5]", Assert.Throws<ArgumentException>(() => Init.CalculateFans(t)).Message);
        ex = Assert.Throws<ArgumentException>(() => torch.ones(5).ApplyInit(InitScheme.HeNormal));
        Assert.Contains("[5]", ex.Message);
        Assert.True(t.Equals(torch.ones(5)));
        // Fixed-std schemes need no fans and work on any tensor.
        var v = torch.ones(1000);
        var row = v.ApplyInit(InitScheme.Normal(0.5), new InitOptions { Seed = 1 }).Rows.Single();
        Assert.Equal(InitAction.Initialized, row.Action);
        Assert.InRange(Stats.Std(Stats.Values(v)), 0.45, 0.55);
    }

    [Fact]
    public void Zero_element_weights_give_a_warning_and_are_left_alone()
    {
        using var scope = NewDisposeScope();
        // nn.Linear(0, 4): TorchSharp's own constructor refuses fan_in 0, so build it from parameters.
        var layer = nn.Linear(new Parameter(torch.empty(4, 0)), new Parameter(torch.full(4, 7f)));
        var report = layer.ApplyInit(InitScheme.HeNormal, new InitOptions { Bias = BiasInit.Keep });
        Assert.Equal(InitAction.Warning, report["weight"].Action);
        Assert.Contains("zero-element", report["weight"].Note);
        Assert.Single(report.Warnings);
        Assert.Equal(new long[] { 4, 0 }, P(layer, "weight").shape);
        Assert.True(P(layer, "bias").Equals(torch.full(4, 7f)));

        // PyTorch's bias rule for fan_in 0: bound 0.
        var td = layer.ApplyInit(InitScheme.TorchDefault);
        Assert.Equal(InitAction.Warning, td["weight"].Action);
        Assert.Equal(0.0, td["bias"].Bound);
        Assert.All(Stats.Values(P(layer, "bias")), x => Assert.Equal(0.0, x));

        // nn.Linear(4, 0): weight [0, 4], bias [0].
        var empty = nn.Linear(4, 0);
        var r2 = empty.ApplyInit(InitScheme.GlorotUniform, new InitOptions { Seed = 3 });
        Assert.Equal(2, r2.Warnings.Count());

        // Tensor level.
        var t = torch.empty(0, 5);
        Assert.Same(t, Init.XavierUniform(t));
        Assert.Equal(InitAction.Warning, t.ApplyInit(InitScheme.HeNormal).Rows.Single().Action);
    }

    // ---------------------------------------------------------------- invalid arguments

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    [InlineData(-1.0)]
    public void Invalid_gain_override_throws_before_writing(double gain)
    {
        using var scope = NewDisposeScope();
        var layer = nn.Linear(10, 10);
        var before = Snapshot(P(layer, "weight"));
        Assert.Throws<ArgumentException>(() => layer.ApplyInit(InitScheme.HeNormal, new InitOptions { Gain = gain }));
        Assert.Throws<ArgumentException>(() => torch.empty(3, 3).ApplyInit(InitScheme.HeNormal, new InitOptions { Gain = gain }));
        Assert.True(before.Equals(P(layer, "weight")));
    }

    [Fact]
    public void Gain_override_is_used_and_zero_is_allowed()
    {
        using var scope = NewDisposeScope();
        var layer = nn.Linear(400, 100);
        var row = layer.ApplyInit(InitScheme.HeNormal, new InitOptions { Gain = 3, Seed = 1 })["weight"];
        Assert.Equal(3.0, row.Gain);
        Assert.Equal(3 / Math.Sqrt(400), row.TargetStd, 14);
        layer.ApplyInit(InitScheme.HeUniform, new InitOptions { Gain = 0, Seed = 1 });
        Assert.All(Stats.Values(P(layer, "weight")), x => Assert.Equal(0.0, x));
    }

    [Fact]
    public void Invalid_scheme_parameters_throw()
    {
        Assert.Throws<ArgumentException>(() => InitScheme.Normal(-1));
        Assert.Throws<ArgumentException>(() => InitScheme.Normal(double.NaN));
        Assert.Throws<ArgumentException>(() => InitScheme.Normal(double.PositiveInfinity));
        Assert.Throws<ArgumentException>(() => InitScheme.Normal(double.NaN, 0.1));
        Assert.Throws<ArgumentException>(() => InitScheme.Uniform(1, 0));
        Assert.Throws<ArgumentException>(() => InitScheme.Uniform(double.NegativeInfinity, 0));
        Assert.Throws<ArgumentException>(() => InitScheme.Constant(double.NaN));
        Assert.Throws<ArgumentException>(() => InitScheme.VarianceScaling(0, FanMode.FanIn, Distribution.Normal));
        Assert.Throws<ArgumentException>(() => InitScheme.VarianceScaling(double.NaN, FanMode.FanIn, Distribution.Normal));
        Assert.Throws<ArgumentException>(() => Gain.Calculate(Nonlinearity.LeakyRelu, double.NaN));
        Assert.Throws<ArgumentException>(() => Gain.Calculate(Nonlinearity.LeakyRelu, double.PositiveInfinity));
        Assert.Throws<ArgumentException>(() => Gain.Calculate(Nonlinearity.LeakyRelu, double.NegativeInfinity));
        Assert.Throws<ArgumentException>(() => InitScheme.HeNormal.WithNonlinearity(Nonlinearity.LeakyRelu, double.NaN));
        // The slope is ignored (and not validated) for other nonlinearities, as in PyTorch.
        Assert.Equal(Math.Sqrt(2.0), Gain.Calculate(Nonlinearity.Relu, double.NaN));
        Assert.Equal(Math.Sqrt(2.0 / (1 + 0.01 * 0.01)), Gain.Calculate(Nonlinearity.LeakyRelu));
    }

    [Fact]
    public void Invalid_tensor_initializer_arguments_throw()
    {
        using var scope = NewDisposeScope();
        var t = torch.empty(4, 4);
        Assert.Throws<ArgumentException>(() => Init.KaimingNormal(t, mode: FanMode.FanAvg));
        Assert.Throws<ArgumentException>(() => Init.KaimingUniform(t, mode: FanMode.FanAvg));
        Assert.Throws<ArgumentException>(() => Init.TruncNormal(t, std: 0));
        Assert.Throws<ArgumentException>(() => Init.TruncNormal(t, a: 1, b: 1));
        Assert.Throws<ArgumentException>(() => Init.Normal(t, std: -0.1));
        Assert.Throws<ArgumentException>(() => Init.Uniform(t, 2, 1));
        Assert.Throws<ArgumentException>(() => Init.XavierUniform(t, gain: double.NaN));
        Assert.Throws<ArgumentException>(() => t.ApplyInit(InitScheme.HeNormal, new Fans(-1, 4)));
    }

    [Fact]
    public void Seed_and_generator_together_throw()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(1);
        var layer = nn.Linear(3, 3);
        var before = Snapshot(P(layer, "weight"));
        var ex = Assert.Throws<ArgumentException>(() => layer.ApplyInit(InitScheme.HeNormal, new InitOptions { Seed = 1, Generator = g }));
        Assert.Contains("Seed", ex.Message);
        Assert.Throws<ArgumentException>(() => layer.ApplyInit(InitScheme.HeNormal, new InitOptions { Seed = -1 }));
        Assert.True(before.Equals(P(layer, "weight")));
    }

    // ---------------------------------------------------------------- meta device

    [Fact]
    public void Meta_device_parameters_throw_invalid_operation()
    {
        using var scope = NewDisposeScope();
        var layer = nn.Linear(3, 4, device: torch.META);
        Assert.Equal(DeviceType.META, P(layer, "weight").device_type);
        var ex = Assert.Throws<InvalidOperationException>(() => layer.ApplyInit(InitScheme.HeNormal));
        Assert.Contains("meta", ex.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("weight", ex.Message);

        var model = nn.Sequential(("enc", nn.Linear(3, 4)), ("act", nn.ReLU()), ("head", nn.Linear(4, 2)));
        model.to(torch.META);
        ex = Assert.Throws<InvalidOperationException>(() => model.ApplyInit(InitScheme.GlorotUniform, new InitOptions { Seed = 1 }));
        Assert.Contains("meta", ex.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("enc.weight", ex.Message);

        var t = torch.empty(new long[] { 3, 4 }, device: torch.META);
        Assert.Throws<InvalidOperationException>(() => t.ApplyInit(InitScheme.HeNormal));
    }

    // ---------------------------------------------------------------- what is and is not touched

    [Fact]
    public void Unknown_module_types_are_left_unchanged_and_listed()
    {
        using var scope = NewDisposeScope();
        var bn = nn.BatchNorm1d(16);
        var emb = nn.Embedding(10, 16);
        using (no_grad())
        {
            bn.weight!.uniform_(0.5, 1.5);
            bn.bias!.uniform_(-1, 1);
        }
        var model = nn.Sequential(("0", nn.Linear(8, 16)), ("1", bn), ("2", nn.Linear(16, 16)), ("3", emb), ("4", nn.Linear(16, 4)));
        var bnW = Snapshot(P(bn, "weight"));
        var bnB = Snapshot(P(bn, "bias"));
        var embW = Snapshot(P(emb, "weight"));

        var report = model.ApplyInit(InitScheme.HeNormal, new InitOptions { Seed = 4 });

        Assert.True(bnW.Equals(P(bn, "weight")));
        Assert.True(bnB.Equals(P(bn, "bias")));
        Assert.True(embW.Equals(P(emb, "weight")));
        Assert.Equal(["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"], report.Rows.Select(r => r.QualifiedName));
        Assert.All(report.Rows, r => Assert.Equal(InitAction.Initialized, r.Action));
        Assert.Equal(2, report.Unhandled.Count);
        Assert.Equal("1", report.Unhandled[0].Path);
        Assert.Equal("BatchNorm1d", report.Unhandled[0].ModuleType);
        Assert.Equal(["weight", "bias"], report.Unhandled[0].Parameters);
        Assert.Equal("3", report.Unhandled[1].Path);
        Assert.Equal("Embedding", report.Unhandled[1].ModuleType);
        Assert.Equal(["weight"], report.Unhandled[1].Parameters);
        Assert.Contains("not handled: 1 (BatchNorm1d) owns weight, bias", report.ToString());
    }

    [Fact]
    public void Layer_types_option_restricts_what_is_initialized()
    {
        using var scope = NewDisposeScope();
        var conv = nn.Conv2d(3, 4, 3);
        var lin = nn.Linear(4, 2);
        var model = nn.Sequential(("conv", conv), ("flat", nn.Flatten()), ("fc", lin));
        var convW = Snapshot(P(conv, "weight"));
        var convB = Snapshot(P(conv, "bias"));
        var report = model.ApplyInit(InitScheme.Zeros, new InitOptions { LayerTypes = [typeof(Linear)] });
        Assert.True(convW.Equals(P(conv, "weight")));
        Assert.True(convB.Equals(P(conv, "bias")));
        Assert.All(Stats.Values(P(lin, "weight")), x => Assert.Equal(0.0, x));
        var u = Assert.Single(report.Unhandled);
        Assert.Equal(("conv", "Conv2d"), (u.Path, u.ModuleType));
        Assert.Equal(["fc.weight", "fc.bias"], report.Rows.Select(r => r.QualifiedName));
    }

    [Fact]
    public void Frozen_parameters_are_skipped_unless_included()
    {
        using var scope = NewDisposeScope();
        var layer = nn.Linear(20, 30);
        P(layer, "weight").requires_grad = false;
        var before = Snapshot(P(layer, "weight"));

        var report = layer.ApplyInit(InitScheme.HeNormal, new InitOptions { Seed = 1 });
        Assert.Equal(InitAction.Skipped, report["weight"].Action);
        Assert.Contains("frozen", report["weight"].Note);
        Assert.True(before.Equals(P(layer, "weight")));
        Assert.Equal(InitAction.Initialized, report["bias"].Action);
        Assert.All(Stats.Values(P(layer, "bias")), x => Assert.Equal(0.0, x));

        report = layer.ApplyInit(InitScheme.HeNormal, new InitOptions { Seed = 1, IncludeFrozen = true });
        Assert.Equal(InitAction.Initialized, report["weight"].Action);
        Assert.False(before.Equals(P(layer, "weight")));
        Assert.False(P(layer, "weight").requires_grad);

        // A frozen bias is skipped too.
        P(layer, "bias").requires_grad = false;
        using (no_grad()) P(layer, "bias").fill_(5);
        report = layer.ApplyInit(InitScheme.HeNormal);
        Assert.Equal(InitAction.Skipped, report["bias"].Action);
        Assert.All(Stats.Values(P(layer, "bias")), x => Assert.Equal(5.0, x));
    }

    [Fact]
    public void Bias_policies()
    {
        using var scope = NewDisposeScope();
        var layer = nn.Linear(50, 40);
        using (no_grad()) P(layer, "bias").fill_(3);

        var keep = layer.ApplyInit(InitScheme.HeNormal, new InitOptions { Bias = BiasInit.Keep, Seed = 1 });
        Assert.Equal(InitAction.Kept, keep["bias"].Action);
        Assert.All(Stats.Values(P(layer, "bias")), x => Assert.Equal(3.0, x));

        var zeros = layer.ApplyInit(InitScheme.TorchDefault, new InitOptions { Bias = BiasInit.Zeros, Seed = 1 });
        Assert.Equal(InitAction.Initialized, zeros["bias"].Action);
        Assert.All(Stats.Values(P(layer, "bias")), x => Assert.Equal(0.0, x));

        var td = layer.ApplyInit(InitScheme.HeNormal, new InitOptions { Bias = BiasInit.TorchDefault, Seed = 1 });
        double bound = 1 / Math.Sqrt(50);
        Assert.Equal(bound, td["bias"].Bound, 15);
        var b = Stats.Values(P(layer, "bias"));
        Assert.All(b, x => Assert.InRange(Math.Abs(x), 0, bound * (1 + 1e-6)));
        Assert.True(b.Distinct().Count() == b.Length, "bias not drawn");
        Assert.True(b.Max(Math.Abs) > bound / 2);

        // Default: zeros for every scheme but TorchDefault.
        layer.ApplyInit(InitScheme.GlorotUniform);
        Assert.All(Stats.Values(P(layer, "bias")), x => Assert.Equal(0.0, x));
    }

    // ---------------------------------------------------------------- no leaked tensors

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Flush()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    private static nn.Module MidSizeModel()
    {
        var model = nn.Sequential(
            ("c1", nn.Conv2d(3, 16, 3)), ("r1", nn.ReLU()), ("bn", nn.BatchNorm2d(16)),
            ("c2", nn.Conv2d(16, 32, 3, groups: 4)), ("up", nn.ConvTranspose2d(32, 16, 2, groups: 2)),
            ("flat", nn.Flatten()), ("fc1", nn.Linear(16 * 24 * 24, 64)), ("fc2", nn.Linear(64, 10)));
        P(model, "fc2.bias").requires_grad = false;
        return model;
    }

    /// <summary>
    /// torch.Tensor.TotalCount (TorchSharp 0.107) is a static, process-wide count of live Tensor wrappers: +1 when one is
    /// created, −1 when it is disposed (or, for a forgotten one, finalized by the GC). Counting before and after without a
    /// GC in between therefore catches temporaries that are not disposed deterministically.
    /// </summary>
    [Fact]
    public void TotalCount_counts_live_tensors()
    {
        Flush(); // finalize what earlier tests left to the GC
        long before = torch.Tensor.TotalCount;
        var t = torch.zeros(3);
        Assert.Equal(before + 1, torch.Tensor.TotalCount);
        t.Dispose();
        Assert.Equal(before, torch.Tensor.TotalCount);
        bool noGc = GC.TryStartNoGCRegion(16 << 20);
        try
        {
            LeakOne();
            Assert.Equal(before + 1, torch.Tensor.TotalCount); // still counted until the GC finalizes it
        }
        finally
        {
            if (noGc && System.Runtime.GCSettings.LatencyMode == System.Runtime.GCLatencyMode.NoGCRegion) GC.EndNoGCRegion();
        }
        Flush();
        Assert.Equal(before, torch.Tensor.TotalCount);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void LeakOne() => _ = torch.zeros(3);

    [Fact]
    public void ApplyInit_does_not_leak_tensors()
    {
        var model = MidSizeModel();
        var tensor = torch.empty(64, 32, 3, 3);
        using var gen = new Generator(9);
        InitScheme[] schemes =
        [
            InitScheme.HeNormal, InitScheme.GlorotUniform, InitScheme.LeCunTruncatedNormal, InitScheme.TorchDefault,
            InitScheme.Normal(0.01), InitScheme.Uniform(-0.1, 0.1), InitScheme.Zeros,
        ];
        InitOptions[] options =
        [
            new(), new() { Seed = 5 }, new() { MeasureRealized = false }, new() { Seed = 5, MeasureRealized = false },
            new() { Generator = gen, FanConvention = FanConvention.Layer, Bias = BiasInit.TorchDefault, IncludeFrozen = true },
        ];
        void RunAll()
        {
            foreach (var s in schemes)
                foreach (var o in options)
                {
                    model.ApplyInit(s, o);
                    tensor.ApplyInit(s, o);
                    tensor.ApplyInit(s, new Fans(10, 20), o);
                }
            Init.XavierUniform(tensor);
            Init.XavierNormal(tensor, generator: gen);
            Init.KaimingUniform(tensor, a: Math.Sqrt(5));
            Init.KaimingNormal(tensor, generator: gen);
            Init.TruncNormal(tensor, 0, 0.1, -0.2, 0.2, gen);
            Init.Uniform(tensor);
            Init.Normal(tensor);
            Init.Constant(tensor, 1);
        }
        RunAll(); // warm-up: any one-time allocations happen here
        Flush();
        long before = torch.Tensor.TotalCount;
        RunAll();
        long after = torch.Tensor.TotalCount;
        Assert.Equal(before, after);
        tensor.Dispose();
    }

    // ---------------------------------------------------------------- RNG

    [Fact]
    public void Seeded_ApplyInit_does_not_disturb_the_global_rng()
    {
        using var scope = NewDisposeScope();
        var model = MidSizeModel();
        torch.manual_seed(7);
        var a = torch.randn(100);
        torch.manual_seed(7);
        model.ApplyInit(InitScheme.HeNormal, new InitOptions { Seed = 3 });
        model.ApplyInit(InitScheme.TorchDefault, new InitOptions { Seed = 3 });
        using (var g = new Generator(4)) model.ApplyInit(InitScheme.GlorotTruncatedNormal, new InitOptions { Generator = g });
        var b = torch.randn(100);
        Assert.True(a.Equals(b));

        // Control: without a seed the global RNG is used, so the next draw differs.
        torch.manual_seed(7);
        model.ApplyInit(InitScheme.HeNormal);
        var c = torch.randn(100);
        Assert.False(a.Equals(c));
    }

    private static nn.Module Nested() => nn.Sequential(
        ("a", nn.Sequential(("x", nn.Linear(6, 12)), ("r", nn.ReLU()), ("y", nn.Linear(12, 12)))),
        ("b", nn.Linear(12, 3)));

    private static void AssertSameParameters(nn.Module expected, nn.Module actual)
    {
        var e = expected.named_parameters().ToList();
        var a = actual.named_parameters().ToList();
        Assert.Equal(e.Select(p => p.name), a.Select(p => p.name));
        for (int i = 0; i < e.Count; i++)
            Assert.True(e[i].parameter.Equals(a[i].parameter), $"{e[i].name} differs");
    }

    [Fact]
    public void Equal_seeds_give_equal_weights_on_equal_architectures()
    {
        using var scope = NewDisposeScope();
        var m1 = MidSizeModel();
        var m2 = MidSizeModel();
        foreach (var s in new[] { InitScheme.HeNormal, InitScheme.TorchDefault, InitScheme.GlorotTruncatedNormal })
        {
            m1.ApplyInit(s, new InitOptions { Seed = 21, IncludeFrozen = true });
            m2.ApplyInit(s, new InitOptions { Seed = 21, IncludeFrozen = true });
            AssertSameParameters(m1, m2);
        }
        m2.ApplyInit(InitScheme.GlorotTruncatedNormal, new InitOptions { Seed = 22, IncludeFrozen = true });
        Assert.False(P(m1, "fc2.weight").Equals(P(m2, "fc2.weight")));
    }

    public static TheoryData<string> ReferenceSchemes() => ["HeNormal", "GlorotUniform", "TorchDefault", "LeCunTruncatedNormal", "HeUniform+Tanh"];

    /// <summary>The tensor-level calls PyTorch would make for one weight/bias, in the same RNG order.</summary>
    private static void Reference(string scheme, Tensor w, Tensor b)
    {
        long fanIn = w.shape[1];
        switch (scheme)
        {
            case "HeNormal":
                Init.KaimingNormal(w, nonlinearity: Nonlinearity.Relu);
                Init.Constant(b, 0);
                break;
            case "GlorotUniform":
                Init.XavierUniform(w);
                Init.Constant(b, 0);
                break;
            case "TorchDefault":
                Init.KaimingUniform(w, a: Math.Sqrt(5));
                Init.Uniform(b, -1 / Math.Sqrt(fanIn), 1 / Math.Sqrt(fanIn));
                break;
            case "LeCunTruncatedNormal":
                double s = 1.0 / Math.Sqrt(fanIn / 1.0) / 0.87962566103423978;
                Init.TruncNormal(w, 0, s, -2 * s, 2 * s);
                Init.Constant(b, 0);
                break;
            case "HeUniform+Tanh":
                Init.KaimingUniform(w, nonlinearity: Nonlinearity.Tanh);
                Init.Constant(b, 0);
                break;
        }
    }

    private static InitScheme SchemeOf(string name) =>
        name == "HeUniform+Tanh" ? InitScheme.HeUniform.WithNonlinearity(Nonlinearity.Tanh) : InitScheme.Parse(name);

    [Theory]
    [MemberData(nameof(ReferenceSchemes))]
    public void Seeded_ApplyInit_equals_manual_seed_and_tensor_calls_in_preorder(string scheme)
    {
        using var scope = NewDisposeScope();
        const long seed = 1234;
        var model = Nested();
        var report = model.ApplyInit(SchemeOf(scheme), new InitOptions { Seed = seed });
        Assert.Equal(["a.x.weight", "a.x.bias", "a.y.weight", "a.y.bias", "b.weight", "b.bias"], report.Rows.Select(r => r.QualifiedName));

        var fresh = Nested();
        torch.manual_seed(seed);
        foreach (var path in new[] { "a.x", "a.y", "b" }) // pre-order; TorchSharp's named_modules() would give b before a.x
            Reference(scheme, P(fresh, path + ".weight"), P(fresh, path + ".bias"));
        AssertSameParameters(fresh, model);
    }

    // ---------------------------------------------------------------- shared modules, tied parameters, order

    [Fact]
    public void A_module_used_twice_is_initialized_once()
    {
        using var scope = NewDisposeScope();
        var shared = nn.Linear(16, 16);
        var model = nn.Sequential(("first", shared), ("act", nn.ReLU()), ("second", shared));
        var report = model.ApplyInit(InitScheme.HeNormal, new InitOptions { Seed = 11 });

        var initialized = report.Rows.Where(r => r.Action == InitAction.Initialized).ToList();
        Assert.Equal(["first.weight", "first.bias"], initialized.Select(r => r.QualifiedName));
        Assert.All(report.Rows.Where(r => r.Path == "second"), r =>
        {
            Assert.Equal(InitAction.Skipped, r.Action);
            Assert.Contains("shared", r.Note);
        });

        // Written by exactly one draw.
        var expected = torch.empty(16, 16);
        using (var g = new Generator(11)) Init.KaimingNormal(expected, nonlinearity: Nonlinearity.Relu, generator: g);
        Assert.True(expected.Equals(P(shared, "weight")));
    }

    [Fact]
    public void Tied_parameters_are_written_once_and_reported_as_shared()
    {
        using var scope = NewDisposeScope();
        var l1 = nn.Linear(8, 8);
        var l2 = nn.Linear(8, 8);
        l2.weight = l1.weight;
        var model = nn.Sequential(("enc", l1), ("dec", l2));
        var report = model.ApplyInit(InitScheme.TorchDefault, new InitOptions { Seed = 12 });

        var tied = report["dec.weight"];
        Assert.Equal(InitAction.Skipped, tied.Action);
        Assert.Contains("shared", tied.Note);
        Assert.Contains("enc.weight", tied.Note);
        Assert.Equal(InitAction.Initialized, report["enc.weight"].Action);
        Assert.Equal(InitAction.Initialized, report["dec.bias"].Action);
        Assert.Same(P(l1, "weight"), P(l2, "weight"));

        // RNG order: enc.weight, enc.bias, (dec.weight skipped: no draw), dec.bias.
        var w = torch.empty(8, 8);
        var b1 = torch.empty(8);
        var b2 = torch.empty(8);
        using (var g = new Generator(12))
        {
            Init.KaimingUniform(w, a: Math.Sqrt(5), generator: g);
            Init.Uniform(b1, -1 / Math.Sqrt(8), 1 / Math.Sqrt(8), g);
            Init.Uniform(b2, -1 / Math.Sqrt(8), 1 / Math.Sqrt(8), g);
        }
        Assert.True(w.Equals(P(l1, "weight")));
        Assert.True(b1.Equals(P(l1, "bias")));
        Assert.True(b2.Equals(P(l2, "bias")));
    }

    [Fact]
    public void PreOrder_is_pytorch_named_modules_order()
    {
        using var scope = NewDisposeScope();
        var model = nn.Sequential(
            ("enc", nn.Sequential(("c1", nn.Conv2d(1, 2, 3)), ("act", nn.ReLU()), ("inner", nn.Sequential(("l", nn.Linear(2, 2)), ("t", nn.Tanh()))))),
            ("mid", nn.ReLU()),
            ("head", nn.Sequential(("fc", nn.Linear(2, 2)))));
        var paths = ModuleTree.PreOrder(model).Select(p => p.Path).ToList();
        // What PyTorch's model.named_modules() yields for the same tree: root first, depth-first.
        Assert.Equal(["", "enc", "enc.c1", "enc.act", "enc.inner", "enc.inner.l", "enc.inner.t", "mid", "head", "head.fc"], paths);
        Assert.Same(model, ModuleTree.PreOrder(model).First().Module);
        // The same modules as TorchSharp's named_modules() (which orders them differently and omits the root).
        Assert.Equal(model.named_modules().Select(m => m.name).Order(), paths.Skip(1).Order());
        Assert.Equal("Sequential", ModuleTree.TypeName(model));

        var shared = nn.Linear(2, 2);
        var twice = nn.Sequential(("a", shared), ("b", shared));
        Assert.Equal(["", "a"], ModuleTree.PreOrder(twice).Select(p => p.Path));
    }

    // ---------------------------------------------------------------- the report

    private static (nn.Module Model, InitReport Report) ReportModel()
    {
        var model = nn.Sequential(("enc", nn.Linear(8, 16)), ("bn", nn.BatchNorm1d(16)), ("conv", nn.Conv1d(16, 4, 3)), ("head", nn.Linear(4, 2)));
        P(model, "head.bias").requires_grad = false;
        return (model, model.ApplyInit(InitScheme.GlorotUniform, new InitOptions { Seed = 3 }));
    }

    [Fact]
    public void Report_text_is_an_aligned_table()
    {
        using var scope = NewDisposeScope();
        var (_, report) = ReportModel();
        var text = report.ToString();
        var lines = text.Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2 + report.Rows.Count + report.Unhandled.Count, lines.Length);
        Assert.StartsWith("parameter", lines[0]);
        Assert.Contains("fan_in", lines[0]);
        Assert.Contains("target std", lines[0]);

        // The dashed line gives every column's span; every line of the table has each column at the same place.
        var dashes = lines[1];
        var spans = new List<(int Start, int Length)>();
        for (int i = 0; i < dashes.Length;)
        {
            if (dashes[i] != '-') { Assert.Equal(' ', dashes[i]); i++; continue; }
            int start = i;
            while (i < dashes.Length && dashes[i] == '-') i++;
            spans.Add((start, i - start));
        }
        Assert.Equal(14, spans.Count);
        for (int c = 1; c < spans.Count; c++) Assert.Equal(spans[c - 1].Start + spans[c - 1].Length + 2, spans[c].Start);

        string Cell(string line, int c) => c == spans.Count - 1
            ? line[spans[c].Start..]
            : line.Substring(spans[c].Start, spans[c].Length);

        var tableLines = lines.Take(2 + report.Rows.Count).ToList();
        foreach (var line in tableLines)
        {
            Assert.True(line.Length >= spans[^1].Start, $"short line: '{line}'");
            for (int c = 1; c < spans.Count; c++)
                Assert.Equal("  ", line.Substring(spans[c].Start - 2, 2));
        }
        string[] header = ["parameter", "layer", "shape", "fan_in", "fan_out", "fans", "scheme", "distribution", "gain", "target std", "bound", "mean", "std", "action"];
        for (int c = 0; c < header.Length; c++) Assert.Equal(header[c], Cell(lines[0], c).Trim());
        // Numbers are right-aligned: a non-empty numeric cell ends at its column's right edge.
        int[] numeric = [3, 4, 8, 9, 10, 11, 12];
        for (int r = 0; r < report.Rows.Count; r++)
        {
            var row = report.Rows[r];
            var line = lines[2 + r];
            Assert.Equal(row.QualifiedName, Cell(line, 0).Trim());
            Assert.StartsWith(row.QualifiedName, Cell(line, 0));
            Assert.Equal(row.LayerType, Cell(line, 1).Trim());
            Assert.Equal(row.ShapeText, Cell(line, 2).Trim());
            Assert.Equal(row.FanIn?.ToString() ?? "", Cell(line, 3).Trim());
            Assert.Equal(row.FanOut?.ToString() ?? "", Cell(line, 4).Trim());
            Assert.Equal(row.Scheme, Cell(line, 6).Trim());
            foreach (var c in numeric)
            {
                var cell = Cell(line, c);
                if (cell.Trim().Length > 0) Assert.False(cell.EndsWith(' '), $"column {header[c]} of '{line}' is not right-aligned");
            }
            if (!double.IsNaN(row.Gain))
                Assert.Equal(row.Gain.ToString("0.000000", System.Globalization.CultureInfo.InvariantCulture), Cell(line, 8).Trim());
            Assert.Equal(row.Action == InitAction.Initialized ? "init" : $"{row.Action.ToString().ToLowerInvariant()}: {row.Note}", Cell(line, 13));
        }
        Assert.Contains("skipped: frozen", lines[2 + report.Rows.ToList().FindIndex(r => r.QualifiedName == "head.bias")]);
        Assert.Equal("not handled: bn (BatchNorm1d) owns weight, bias", lines[^1]);
    }

    private static readonly string[] ColumnNames =
        ["Path", "LayerType", "Parameter", "Shape", "FanIn", "FanOut", "FanConvention", "Scheme", "Distribution",
         "Gain", "TargetStd", "Bound", "RealizedMean", "RealizedStd", "Action", "Note"];

    [Fact]
    public void Report_is_a_data_view()
    {
        using var scope = NewDisposeScope();
        var (_, report) = ReportModel();
        IDataView view = report;
        Assert.Equal(report.Rows.Count, view.GetRowCount());
        Assert.Equal(ColumnNames, view.Schema.Select(c => c.Name));
        foreach (var c in view.Schema)
        {
            bool numeric = c.Name is "FanIn" or "FanOut" or "Gain" or "TargetStd" or "Bound" or "RealizedMean" or "RealizedStd";
            Assert.Equal(numeric ? typeof(double) : typeof(ReadOnlyMemory<char>), c.Type.RawType);
        }

        var schema = view.Schema;
        using var cursor = view.GetRowCursor(schema);
        ValueGetter<ReadOnlyMemory<char>> Text(string name) => cursor.GetGetter<ReadOnlyMemory<char>>(schema[name]);
        ValueGetter<double> Number(string name) => cursor.GetGetter<double>(schema[name]);
        var path = Text("Path");
        var parameter = Text("Parameter");
        var layerType = Text("LayerType");
        var shape = Text("Shape");
        var convention = Text("FanConvention");
        var distribution = Text("Distribution");
        var action = Text("Action");
        var note = Text("Note");
        var fanIn = Number("FanIn");
        var fanOut = Number("FanOut");
        var targetStd = Number("TargetStd");
        var bound = Number("Bound");
        var realizedStd = Number("RealizedStd");

        int i = 0;
        ReadOnlyMemory<char> text = default;
        double number = 0;
        while (cursor.MoveNext())
        {
            var row = report.Rows[i];
            Assert.Equal(i, cursor.Position);
            path(ref text); Assert.Equal(row.Path, text.ToString());
            parameter(ref text); Assert.Equal(row.Parameter, text.ToString());
            layerType(ref text); Assert.Equal(row.LayerType, text.ToString());
            shape(ref text); Assert.Equal(row.ShapeText, text.ToString());
            convention(ref text); Assert.Equal(row.FanConvention is null ? "" : row.FanConvention.ToString()!.ToLowerInvariant(), text.ToString());
            distribution(ref text); Assert.Equal(row.Distribution, text.ToString());
            action(ref text); Assert.Equal(row.Action.ToString(), text.ToString());
            note(ref text); Assert.Equal(row.Note, text.ToString());
            fanIn(ref number); Assert.Equal(row.FanIn is null ? double.NaN : row.FanIn.Value, number);
            fanOut(ref number); Assert.Equal(row.FanOut is null ? double.NaN : row.FanOut.Value, number);
            targetStd(ref number); Assert.Equal(row.TargetStd, number);
            bound(ref number); Assert.Equal(row.Bound, number);
            realizedStd(ref number); Assert.Equal(row.RealizedStd, number);
            i++;
        }
        Assert.Equal(report.Rows.Count, i);
        Assert.Equal(6, i); // enc.weight, enc.bias, conv.weight, conv.bias, head.weight, head.bias (skipped, still a row)
    }

    [Fact]
    public void Data_view_cursor_rejects_wrong_types_and_inactive_columns()
    {
        using var scope = NewDisposeScope();
        var (_, report) = ReportModel();
        var schema = report.Schema;
        using var cursor = report.GetRowCursor([schema["Path"]]);
        Assert.True(cursor.IsColumnActive(schema["Path"]));
        Assert.False(cursor.IsColumnActive(schema["Gain"]));
        Assert.Throws<InvalidOperationException>(() => cursor.GetGetter<double>(schema["Gain"]));
        Assert.Throws<InvalidOperationException>(() => cursor.GetGetter<double>(schema["Path"]));
        var getter = cursor.GetGetter<ReadOnlyMemory<char>>(schema["Path"]);
        ReadOnlyMemory<char> value = default;
        Assert.Throws<InvalidOperationException>(() => getter(ref value)); // before MoveNext
        Assert.True(cursor.MoveNext());
        getter(ref value);
        Assert.Equal("enc", value.ToString());
    }

    // ---------------------------------------------------------------- native runtime

    private static bool? MachineHasGlibcxx332()
    {
        string[] candidates =
        [
            "/lib/x86_64-linux-gnu/libstdc++.so.6", "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
            "/lib/aarch64-linux-gnu/libstdc++.so.6", "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
            "/usr/lib64/libstdc++.so.6", "/usr/lib/libstdc++.so.6",
        ];
        var lib = OperatingSystem.IsLinux() ? candidates.FirstOrDefault(File.Exists) : null;
        if (lib is null) return null;
        var bytes = File.ReadAllBytes(lib);
        return bytes.AsSpan().IndexOf("GLIBCXX_3.4.32"u8) >= 0;
    }

    [Fact]
    public void Native_load_failures_are_explained()
    {
        var failure = new TypeInitializationException("TorchSharp.torch",
            new NotSupportedException("Failed to load native component libLibTorchSharp.so: GLIBCXX_3.4.32 not found"));
        Assert.True(TorchRuntime.IsNativeLoadFailure(failure));
        Assert.True(TorchRuntime.IsNativeLoadFailure(new DllNotFoundException("LibTorchSharp")));
        Assert.False(TorchRuntime.IsNativeLoadFailure(new InvalidOperationException("something else", new ArgumentException("x"))));

        var explained = TorchRuntime.Explain(failure);
        Assert.IsType<TorchNativeLoadException>(explained);
        Assert.Same(failure, explained.InnerException);
        Assert.Contains(TorchRuntime.RequiredGlibcxx, explained.Message);
        Assert.Equal("GLIBCXX_3.4.32", TorchRuntime.RequiredGlibcxx);
        Assert.Contains("Failed to load native component", explained.Message);
        switch (MachineHasGlibcxx332())
        {
            case true:
                Assert.Contains("TorchSharp-cpu", explained.Message);
                Assert.DoesNotContain("scripts/prereqs.sh", explained.Message);
                break;
            case false:
                Assert.Contains("scripts/prereqs.sh", explained.Message);
                break;
            case null:
                Assert.Contains("No libstdc++.so.6 was found", explained.Message);
                break;
        }
    }

    [Fact]
    public void This_machine_has_the_required_runtime_and_TorchSharp_loads()
    {
        Assert.True(MachineHasGlibcxx332(), "the brief says this machine's libstdc++ provides GLIBCXX_3.4.32");
        TorchRuntime.EnsureLoaded();
        using var t = torch.ones(2);
        Assert.Equal(2, t.numel());
    }

    // ---------------------------------------------------------------- names

    [Fact]
    public void Parse_accepts_names_and_aliases()
    {
        Assert.Equal(InitScheme.HeTruncatedNormal, InitScheme.Parse("he-normal"));   // Keras's he_normal is truncated
        Assert.Equal(InitScheme.HeNormal, InitScheme.Parse("kaiming-normal"));       // PyTorch's kaiming_normal_ is not
        Assert.Equal(InitScheme.HeNormal, InitScheme.Parse("HeNormal"));
        Assert.Equal(InitScheme.GlorotUniform, InitScheme.Parse("xavier_uniform"));
        Assert.Equal(InitScheme.HeUniform, InitScheme.Parse("KAIMING_UNIFORM"));
        Assert.Equal(InitScheme.TorchDefault, InitScheme.Parse("torch-default"));
        Assert.Equal(InitScheme.LeCunTruncatedNormal, InitScheme.Parse("lecun_truncated_normal"));
        Assert.Equal(InitScheme.Zeros, InitScheme.Parse("zeros"));
        foreach (var s in InitScheme.Named) Assert.Same(s, InitScheme.Parse(s.Name));
        var ex = Assert.Throws<ArgumentException>(() => InitScheme.Parse("nope"));
        Assert.Contains("nope", ex.Message);
        foreach (var s in InitScheme.Named) Assert.Contains(s.Name, ex.Message);
        Assert.Throws<ArgumentNullException>(() => InitScheme.Parse(null!));
    }

    [Fact]
    public void Sample_input_overloads_reject_null_before_touching_the_model()
    {
        using var model = nn.Sequential(("fc", nn.Linear(4, 3)), ("relu", nn.ReLU()));
        using var before = Snapshot(P(model, "fc.weight"));
        using var x = randn(2, 4);
        var policy = InitPolicy.Auto;
        Assert.Equal("sampleInput", Assert.Throws<ArgumentNullException>(() => model.ApplyInit(InitPolicy.Auto, null, (Tensor)null!)).ParamName);
        Assert.Equal("sampleInput", Assert.Throws<ArgumentNullException>(() => model.PlanInit(InitPolicy.Auto, null, (Tensor)null!)).ParamName);
        Assert.Equal("sampleInput", Assert.Throws<ArgumentNullException>(() => model.ApplyInit(policy, null, (Tensor)null!)).ParamName);
        Assert.Equal("sampleInput", Assert.Throws<ArgumentNullException>(() => model.PlanInit(policy, null, (Tensor)null!)).ParamName);
        Assert.Equal("module", Assert.Throws<ArgumentNullException>(() => ((Sequential)null!).ApplyInit(InitPolicy.Auto, null, x)).ParamName);
        Assert.Equal(Stats.Values(before), Stats.Values(P(model, "fc.weight")));
    }
}
