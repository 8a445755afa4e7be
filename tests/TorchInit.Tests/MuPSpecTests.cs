using TorchInit.Fast;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>
/// μP (docs/mup.md; Yang et al. 2022, "Tensor Programs V"): base shapes, each parameter's class, multipliers and μP std, the
/// schemes made μP, the learning-rate multipliers and the optimizers built from them, the refusals, and μP attention. Every
/// expected number is computed here from the formulas of docs/mup.md, not taken from a run.
/// </summary>
[Collection(SerialTorchCollection.Name)]
public class MuPSpecTests
{
    // ---------------------------------------------------------------- models and helpers

    /// <summary>in [w, inputs] (input), hid [w, w] (hidden), out [outputs, w] (output), fin [outputs, outputs] (finite).</summary>
    internal static Sequential Mlp(long w, long inputs = 8, long outputs = 6) => nn.Sequential(
        ("in", nn.Linear(inputs, w)), ("act1", nn.ReLU()), ("hid", nn.Linear(w, w)), ("act2", nn.ReLU()),
        ("out", nn.Linear(w, outputs)), ("fin", nn.Linear(outputs, outputs)));

    /// <summary>An MLP whose infinite dimensions grow by different factors: in [64, 8] (m_out 4), hid [32, 64] (m_in 4, m_out 2), out [6, 32] (m_in 2), against <see cref="Mlp"/>(16).</summary>
    private static Sequential MixedMlp(bool readout = false) => nn.Sequential(
        ("in", nn.Linear(8, 64)), ("act1", nn.ReLU()), ("hid", nn.Linear(64, 32)), ("act2", nn.ReLU()),
        ("out", readout ? new MuReadout(32, 6) : nn.Linear(32, 6)), ("fin", nn.Linear(6, 6)));

    private static Sequential ReadoutMlp(long w) => nn.Sequential(
        ("in", nn.Linear(8, w)), ("act1", nn.ReLU()), ("hid", nn.Linear(w, w)), ("act2", nn.ReLU()),
        ("out", new MuReadout(w, 6)), ("fin", nn.Linear(6, 6)));

    private static MuBaseShapes MlpShapes() => MuBaseShapes.FromModels(Mlp(16), Mlp(32));

    /// <summary>Token embedding [40, w] (input), LayerNorm (vector-like), mix [w, w] (hidden), MuReadout [40, w] with α = 2 (output).</summary>
    private sealed class TinyLm : nn.Module<Tensor, Tensor>
    {
        public readonly Embedding emb;
        public readonly LayerNorm ln;
        public readonly Linear mix;
        public readonly MuReadout head;

        public TinyLm(long w) : base(nameof(TinyLm))
        {
            emb = nn.Embedding(40, w);
            ln = nn.LayerNorm(w);
            mix = nn.Linear(w, w);
            head = new MuReadout(w, 40, outputMultiplier: 2);
            RegisterComponents();
        }

        public override Tensor forward(Tensor tokens)
        {
            using var scope = NewDisposeScope();
            return head.call(mix.call(ln.call(emb.call(tokens)))).MoveToOuterDisposeScope();
        }
    }

    /// <summary>Token embedding [40, w], mix [w, w], and a readout through the embedding's weight (tied).</summary>
    private sealed class TiedLm : nn.Module<Tensor, Tensor>
    {
        public readonly Embedding emb;
        public readonly Linear mix;
        public readonly MuSharedReadout head;

        public TiedLm(long w) : base(nameof(TiedLm))
        {
            emb = nn.Embedding(40, w);
            mix = nn.Linear(w, w);
            head = new MuSharedReadout(emb.weight!);
            RegisterComponents();
        }

        public override Tensor forward(Tensor tokens)
        {
            using var scope = NewDisposeScope();
            return head.call(mix.call(emb.call(tokens))).MoveToOuterDisposeScope();
        }
    }

    /// <summary>One MultiheadAttention of width w, 2 heads.</summary>
    private sealed class Attention : nn.Module<Tensor, Tensor>
    {
        public readonly MultiheadAttention attn;

        public Attention(long w) : base(nameof(Attention))
        {
            attn = nn.MultiheadAttention(w, 2);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => attn.call(x, x, x).Item1;
    }

    /// <summary>Your own attention: q_proj, k_proj, v_proj [w, w].</summary>
    private sealed class OwnAttention : nn.Module<Tensor, Tensor>
    {
        public readonly Linear q_proj, k_proj, v_proj;

        public OwnAttention(long w) : base(nameof(OwnAttention))
        {
            q_proj = nn.Linear(w, w);
            k_proj = nn.Linear(w, w);
            v_proj = nn.Linear(w, w);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x)
        {
            using var scope = NewDisposeScope();
            var q = q_proj.call(x).unsqueeze(1);
            return MuP.ScaledDotProductAttention(q, k_proj.call(x).unsqueeze(1), v_proj.call(x).unsqueeze(1)).squeeze(1).MoveToOuterDisposeScope();
        }
    }

    private static Sequential OwnAttentionModel(long w) => nn.Sequential(("blocks", nn.Sequential(("0", new OwnAttention(w)), ("1", new OwnAttention(w)))));

    private static Tensor P(nn.Module m, string name) => m.get_parameter(name) ?? throw new KeyNotFoundException(name);

    private static Dictionary<string, byte[]> Bytes(nn.Module m) => m.named_parameters().ToDictionary(p => p.name, p => p.parameter.bytes.ToArray());

    private static void AssertUnchanged(Dictionary<string, byte[]> before, nn.Module m, string what)
    {
        foreach (var (name, p) in m.named_parameters())
            Assert.True(before[name].SequenceEqual(p.bytes.ToArray()), $"{what}: {name} was written although the call was refused");
    }

    private static void AssertClose(double expected, double actual, double rel, string what) =>
        Assert.True(Stats.Close(expected, actual, rel), $"{what}: expected {expected:R}, got {actual:R}");

    /// <summary>
    /// The report row's μP columns and target std, and the written values' std against the μP std (within 5 standard errors of
    /// a sample std, 5/√(2n) relative).
    /// </summary>
    private static void AssertMu(InitReport report, nn.Module model, string name, MuClass cls, double m, double scale, double std)
    {
        var row = report[name];
        Assert.True(row.MuClass == cls, $"{name}: class {row.MuClass}, expected {cls}");
        AssertClose(m, row.WidthMultiplier, 1e-12, $"{name} width multiplier");
        AssertClose(scale, row.MuScale, 1e-9, $"{name} μP scale");
        AssertClose(std, row.TargetStd, 1e-9, $"{name} target std (the μP std)");
        var values = Stats.Values(P(model, name));
        double measured = Stats.Std(values);
        Assert.True(Math.Abs(measured - std) <= 5 / Math.Sqrt(2.0 * values.Length) * std,
            $"{name}: written std {measured:R}, μP std {std:R} ({values.Length} values)");
    }

    private static void AssertConstant(InitReport report, nn.Module model, string name, MuClass cls, double m, double value)
    {
        var row = report[name];
        Assert.True(row.MuClass == cls, $"{name}: class {row.MuClass}, expected {cls}");
        AssertClose(m, row.WidthMultiplier, 1e-12, $"{name} width multiplier");
        Assert.True(row.MuScale is 1.0 or 0.0 || double.IsNaN(row.MuScale), $"{name}: a constant is left as it is (s = 1), got s = {row.MuScale}");
        Assert.All(Stats.Values(P(model, name)), x => Assert.Equal(value, x));
    }

    // ---------------------------------------------------------------- base shapes

    [Fact]
    public void Base_shapes_mark_the_dimensions_that_differ_as_infinite()
    {
        using var scope = NewDisposeScope();
        var shapes = MlpShapes();
        var expected = new (string Name, long[] Shape, bool[] Infinite)[]
        {
            ("in.weight", [16, 8], [true, false]), ("in.bias", [16], [true]),
            ("hid.weight", [16, 16], [true, true]), ("hid.bias", [16], [true]),
            ("out.weight", [6, 16], [false, true]), ("out.bias", [6], [false]),
            ("fin.weight", [6, 6], [false, false]), ("fin.bias", [6], [false]),
        };
        Assert.Equal(expected.Select(e => e.Name), shapes.Parameters.Select(p => p.Name));
        foreach (var (name, shape, infinite) in expected)
        {
            Assert.Equal(shape, shapes[name].BaseShape);
            Assert.Equal(infinite, shapes[name].Infinite);
            Assert.Same(shapes.Parameters.Single(p => p.Name == name), shapes[name]);
        }
        Assert.Throws<KeyNotFoundException>(() => shapes["nope.weight"]);
    }

    [Fact]
    public void FromFactory_builds_both_models_on_the_meta_device_and_equals_FromModels()
    {
        using var scope = NewDisposeScope();
        var devices = new List<DeviceType>();
        var widths = new List<long>();
        torch.manual_seed(5);
        var expectedDraw = torch.randn(8);
        torch.manual_seed(5);
        var fromFactory = MuBaseShapes.FromFactory(w =>
        {
            widths.Add(w);
            var m = Mlp(w);
            devices.Add(m.parameters().First().device_type);
            return m;
        }, 16, 32);
        Assert.Equal(new long[] { 16, 32 }, widths);
        Assert.All(devices, d => Assert.Equal(DeviceType.META, d));
        Assert.Equal(DeviceType.CPU, get_default_device().type);   // the default device is put back
        Assert.True(torch.randn(8).equal(expectedDraw).all().item<bool>(), "FromFactory drew from (or reseeded) the global generator");

        var fromModels = MlpShapes();
        Assert.Equal(fromModels.ToJson(), fromFactory.ToJson());
        Assert.Equal(fromModels.Parameters.Count, fromFactory.Parameters.Count);
        foreach (var (a, b) in fromModels.Parameters.Zip(fromFactory.Parameters))
        {
            Assert.Equal(a.Name, b.Name);
            Assert.Equal(a.BaseShape, b.BaseShape);
            Assert.Equal(a.Infinite, b.Infinite);
        }
    }

    [Fact]
    public void FromFactory_allocates_no_parameter_memory()
    {
        // Base Linear(4096, 4096) is 64 MiB, the delta Linear(8192, 8192) 256 MiB: on the CPU the peak would grow by 320 MiB.
        Assert.True(OperatingSystem.IsLinux(), "the peak-memory probe reads /proc");
        MuBaseShapes.FromFactory(w => nn.Sequential(("a", nn.Linear(w, w))), 8, 16);   // JIT and first-call allocations
        for (int i = 0; i < 3; i++) { GC.Collect(); GC.WaitForPendingFinalizers(); }
        malloc_trim(0);
        File.WriteAllText("/proc/self/clear_refs", "5");
        long before = Stats.ProcStatus("VmRSS:");
        var shapes = MuBaseShapes.FromFactory(w => nn.Sequential(("a", nn.Linear(w, w)), ("b", nn.Linear(w, 10))), 4096, 8192);
        long growth = Stats.ProcStatus("VmHWM:") - before;
        Assert.Equal(new long[] { 4096, 4096 }, shapes["a.weight"].BaseShape);
        Assert.Equal(new[] { false, true }, shapes["b.weight"].Infinite);
        Assert.True(growth < 32L << 20, $"peak resident memory grew by {growth / 1048576.0:F1} MiB while FromFactory built its models");
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int malloc_trim(nuint pad);

    [Fact]
    public void Json_and_file_round_trips_keep_every_shape()
    {
        using var scope = NewDisposeScope();
        var shapes = MuBaseShapes.FromModels(new TinyLm(16), new TinyLm(32));
        string json = shapes.ToJson();
        var again = MuBaseShapes.FromJson(json);
        Assert.Equal(json, again.ToJson());
        string path = Path.Combine(Path.GetTempPath(), $"mup-shapes-{Guid.NewGuid():N}.json");
        try
        {
            shapes.Save(path);
            Assert.Equal(json, File.ReadAllText(path));
            var loaded = MuBaseShapes.Load(path);
            Assert.Equal(shapes.Parameters.Select(p => p.Name), loaded.Parameters.Select(p => p.Name));
            foreach (var p in shapes.Parameters)
            {
                Assert.Equal(p.BaseShape, loaded[p.Name].BaseShape);
                Assert.Equal(p.Infinite, loaded[p.Name].Infinite);
            }
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void A_hand_written_json_file_loads_and_gives_the_same_init_as_the_models()
    {
        using var scope = NewDisposeScope();
        // Keys in another order than ToJson writes them, other whitespace: it is JSON, not a fixed text.
        const string json = """
            { "parameters": [
              { "name": "in.weight",  "baseShape": [16, 8],  "infinite": [true, false] },
              { "infinite": [true], "name": "in.bias", "baseShape": [16] },
              { "name": "hid.weight", "baseShape": [16, 16], "infinite": [true, true] },
              { "name": "hid.bias",   "baseShape": [16],     "infinite": [true] },
              { "name": "out.weight", "baseShape": [6, 16],  "infinite": [false, true] },
              { "name": "out.bias",   "baseShape": [6],      "infinite": [false] },
              { "name": "fin.weight", "baseShape": [6, 6],   "infinite": [false, false] },
              { "name": "fin.bias",   "baseShape": [6],      "infinite": [false] } ] }
            """;
        string path = Path.Combine(Path.GetTempPath(), $"mup-hand-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(path, json);
            var loaded = MuBaseShapes.Load(path);
            var fromModels = MlpShapes();
            Assert.Equal(fromModels.ToJson(), loaded.ToJson());

            var a = Mlp(64);
            var b = Mlp(64);
            var options = new InitOptions { Seed = 4 };
            var ra = a.ApplyInit(InitPolicy.Of(InitScheme.Normal(0.02)).MuP(loaded), options);
            var rb = b.ApplyInit(InitPolicy.Of(InitScheme.Normal(0.02)).MuP(fromModels), options);
            Assert.Equal(rb.ToString(), ra.ToString());
            var bb = Bytes(b);
            foreach (var (name, p) in a.named_parameters()) Assert.True(bb[name].SequenceEqual(p.bytes.ToArray()), name);
        }
        finally { File.Delete(path); }
    }

    // ---------------------------------------------------------------- classes, multipliers and μP stds

    [Fact]
    public void HeNormal_keeps_hidden_weights_and_scales_the_output_by_one_over_sqrt_m()
    {
        using var scope = NewDisposeScope();
        var model = Mlp(256);
        var report = model.ApplyInit(InitPolicy.Of(InitScheme.HeNormal).MuP(MlpShapes()), new InitOptions { Seed = 1 });
        const double m = 256 / 16.0;
        double r2 = Math.Sqrt(2);
        AssertMu(report, model, "in.weight", MuClass.Input, m, 1, r2 / Math.Sqrt(8));           // fan-in 8 finite: σ₀ = σ
        AssertMu(report, model, "hid.weight", MuClass.Hidden, m, 1, r2 / Math.Sqrt(256));        // σ₀/√m = √2/√16/4 = σ
        AssertMu(report, model, "out.weight", MuClass.Output, m, 1 / Math.Sqrt(m), r2 / 4 / m);  // σ₀/m = σ/√m
        AssertMu(report, model, "fin.weight", MuClass.Finite, 1, 1, r2 / Math.Sqrt(6));
        AssertConstant(report, model, "in.bias", MuClass.VectorLike, m, 0);                      // HeNormal's biases: zeros
        AssertConstant(report, model, "hid.bias", MuClass.VectorLike, m, 0);
        AssertConstant(report, model, "out.bias", MuClass.Finite, 1, 0);
        string text = report.ToString();
        Assert.Contains("μP class", text);
        Assert.Contains("width mult", text);
        Assert.Contains("μP scale", text);
    }

    [Fact]
    public void A_constant_std_scheme_scales_hidden_by_one_over_sqrt_m_and_output_by_one_over_m()
    {
        using var scope = NewDisposeScope();
        var model = Mlp(256);
        var report = model.ApplyInit(InitPolicy.Of(InitScheme.Normal(0.02)).MuP(MlpShapes()), new InitOptions { Seed = 2, MeasureRealized = true });
        const double m = 16;
        AssertMu(report, model, "in.weight", MuClass.Input, m, 1, 0.02);
        AssertMu(report, model, "hid.weight", MuClass.Hidden, m, 1 / Math.Sqrt(m), 0.02 / Math.Sqrt(m));
        AssertMu(report, model, "out.weight", MuClass.Output, m, 1 / m, 0.02 / m);
        AssertMu(report, model, "fin.weight", MuClass.Finite, 1, 1, 0.02);
        // The report's measured std is of the written (scaled) values.
        AssertClose(0.02 / Math.Sqrt(m), report["hid.weight"].RealizedStd, 0.03, "hid.weight realized std");
    }

    [Fact]
    public void TorchDefault_under_muP_uniform_bounds_scale_with_the_std()
    {
        using var scope = NewDisposeScope();
        var model = Mlp(256);
        var report = model.ApplyInit(InitPolicy.Of(InitScheme.TorchDefault).MuP(MlpShapes()), new InitOptions { Seed = 3 });
        const double m = 16;
        double S(double fanIn) => 1 / Math.Sqrt(3 * fanIn);   // kaiming_uniform_(a = √5) and the bias U(±1/√fan_in): std 1/√(3 fan_in)
        AssertMu(report, model, "in.weight", MuClass.Input, m, 1, S(8));
        AssertMu(report, model, "in.bias", MuClass.VectorLike, m, 1, S(8));                 // its fan-in (8) does not grow
        AssertMu(report, model, "hid.weight", MuClass.Hidden, m, 1, S(256));
        AssertMu(report, model, "hid.bias", MuClass.VectorLike, m, Math.Sqrt(m), S(16));   // σ₀: the base layer's fan-in 16
        AssertMu(report, model, "out.weight", MuClass.Output, m, 1 / Math.Sqrt(m), S(16) / m);
        AssertMu(report, model, "out.bias", MuClass.Finite, 1, Math.Sqrt(m), S(16));       // finite, but its std is set by a growing fan-in: σ₀
        AssertMu(report, model, "fin.weight", MuClass.Finite, 1, 1, S(6));
        // A uniform's bounds scale with it: |x| ≤ √3 × μP std.
        foreach (var (name, std) in new[] { ("out.weight", S(16) / m), ("hid.bias", S(16)) })
        {
            double bound = Math.Sqrt(3) * std;
            AssertClose(bound, report[name].Bound, 1e-9, $"{name} bound");
            var xs = Stats.Values(P(model, name));
            Assert.True(xs.Max(Math.Abs) <= bound * (1 + 1e-6), $"{name}: |x| up to {xs.Max(Math.Abs)}, bound {bound}");
            Assert.True(xs.Max(Math.Abs) > bound * 0.9, $"{name}: |x| only up to {xs.Max(Math.Abs)}, bound {bound}");
        }
    }

    [Fact]
    public void GlorotUniform_input_weight_gets_the_base_shapes_std()
    {
        using var scope = NewDisposeScope();
        var model = Mlp(256);
        var report = model.ApplyInit(InitPolicy.Of(InitScheme.GlorotUniform).MuP(MlpShapes()), new InitOptions { Seed = 4 });
        const double m = 16;
        double G(double fanIn, double fanOut) => Math.Sqrt(2 / (fanIn + fanOut));
        // in [256, 8]: σ = √(2/264) at its own shape, σ₀ = √(2/24) at the base shape [16, 8]; μP keeps σ₀.
        AssertMu(report, model, "in.weight", MuClass.Input, m, G(8, 16) / G(8, 256), G(8, 16));
        AssertClose(Math.Sqrt(3) * G(8, 16), report["in.weight"].Bound, 1e-9, "in.weight bound");
        AssertMu(report, model, "hid.weight", MuClass.Hidden, m, G(16, 16) / Math.Sqrt(m) / G(256, 256), G(16, 16) / Math.Sqrt(m));
        AssertMu(report, model, "out.weight", MuClass.Output, m, G(16, 6) / m / G(256, 6), G(16, 6) / m);
        AssertMu(report, model, "fin.weight", MuClass.Finite, 1, 1, G(6, 6));
    }

    [Fact]
    public void Widths_that_grow_by_different_factors_use_m_in_for_hidden_and_output_and_m_out_for_input()
    {
        using var scope = NewDisposeScope();
        var model = MixedMlp();
        var report = model.ApplyInit(InitPolicy.Of(InitScheme.Normal(0.02)).MuP(MlpShapes()), new InitOptions { Seed = 5 });
        AssertMu(report, model, "in.weight", MuClass.Input, 4, 1, 0.02);                 // m_out = 64/16
        AssertMu(report, model, "hid.weight", MuClass.Hidden, 4, 0.5, 0.01);             // [32, 64]: m_in = 64/16 = 4 (m_out = 2)
        AssertMu(report, model, "out.weight", MuClass.Output, 2, 0.5, 0.01);             // [6, 32]: m_in = 2
        Assert.Equal(2.0, report["hid.bias"].WidthMultiplier, 12);                        // [32]: m_out = 2
        Assert.Equal(4.0, report["in.bias"].WidthMultiplier, 12);
    }

    [Fact]
    public void Conv2d_channels_are_the_width()
    {
        using var scope = NewDisposeScope();
        static Sequential Net(long w) => nn.Sequential(
            ("c0", nn.Conv2d(3, w, 3, padding: 1)), ("r0", nn.ReLU()), ("c1", nn.Conv2d(w, w, 3, padding: 1)), ("r1", nn.ReLU()),
            ("pool", nn.AdaptiveAvgPool2d(1)), ("flat", nn.Flatten()), ("fc", nn.Linear(w, 10)));
        var shapes = MuBaseShapes.FromFactory(Net, 8, 16);
        Assert.Equal(new[] { true, true, false, false }, shapes["c1.weight"].Infinite);
        Assert.Equal(new[] { true, false, false, false }, shapes["c0.weight"].Infinite);
        const double m = 64 / 8.0;

        var model = Net(64);
        var report = model.ApplyInit(InitPolicy.Of(InitScheme.Normal(0.02)).MuP(shapes), new InitOptions { Seed = 6 });
        AssertMu(report, model, "c0.weight", MuClass.Input, m, 1, 0.02);
        AssertMu(report, model, "c1.weight", MuClass.Hidden, m, 1 / Math.Sqrt(m), 0.02 / Math.Sqrt(m));
        AssertMu(report, model, "fc.weight", MuClass.Output, m, 1 / m, 0.02 / m);
        Assert.Equal(MuClass.VectorLike, report["c1.bias"].MuClass);
        Assert.Equal(MuClass.Finite, report["fc.bias"].MuClass);

        var he = Net(64);
        var heReport = he.ApplyInit(InitPolicy.Of(InitScheme.HeNormal).MuP(shapes), new InitOptions { Seed = 6 });
        AssertMu(heReport, he, "c0.weight", MuClass.Input, m, 1, Math.Sqrt(2.0 / 27));              // fan-in 3·3·3
        AssertMu(heReport, he, "c1.weight", MuClass.Hidden, m, 1, Math.Sqrt(2.0 / (64 * 9)));      // σ₀/√m = σ
        AssertMu(heReport, he, "fc.weight", MuClass.Output, m, 1 / Math.Sqrt(m), Math.Sqrt(2.0 / 8) / m);
    }

    [Fact]
    public void Embedding_is_input_LayerNorm_vector_like_and_MuReadout_output_with_base_std()
    {
        using var scope = NewDisposeScope();
        var shapes = MuBaseShapes.FromFactory(w => new TinyLm(w), 16, 32);
        Assert.Equal(new[] { false, true }, shapes["emb.weight"].Infinite);
        Assert.Equal(new[] { false, true }, shapes["head.weight"].Infinite);
        const double m = 128 / 16.0;

        // HeNormal everywhere (the embedding by an override): PyTorch's fan rule gives [40, w] fan_in = w, so σ = √(2/w); μP
        // keeps the base std √(2/16) for the input weight and for the readout (whose forward divides by m instead).
        var model = new TinyLm(128);
        Assert.True(double.IsNaN(model.head.WidthMultiplier));
        var report = model.ApplyInit(InitPolicy.Of(InitScheme.HeNormal).For<Embedding>(InitScheme.HeNormal).MuP(shapes), new InitOptions { Seed = 7 });
        AssertMu(report, model, "emb.weight", MuClass.Input, m, Math.Sqrt(m), Math.Sqrt(2.0 / 16));
        AssertMu(report, model, "mix.weight", MuClass.Hidden, m, 1, Math.Sqrt(2.0 / 128));
        AssertMu(report, model, "head.weight", MuClass.Output, m, Math.Sqrt(m), Math.Sqrt(2.0 / 16));
        Assert.Equal(MuClass.Finite, report["head.bias"].MuClass);
        Assert.Equal(m, model.head.WidthMultiplier, 12);

        // Auto: the embedding's N(0, 1) (σ₀ = σ = 1), LayerNorm's ones and zeros (constants: s = 1).
        var auto = new TinyLm(128);
        var autoReport = auto.ApplyInit(InitPolicy.Auto.MuP(shapes), new InitOptions { Seed = 7 });
        AssertMu(autoReport, auto, "emb.weight", MuClass.Input, m, 1, 1);
        AssertConstant(autoReport, auto, "ln.weight", MuClass.VectorLike, m, 1);
        AssertConstant(autoReport, auto, "ln.bias", MuClass.VectorLike, m, 0);
        Assert.Equal(MuClass.Output, autoReport["head.weight"].MuClass);
        Assert.Equal(m, auto.head.WidthMultiplier, 12);

        var info = MuP.Parameters(auto, shapes).ToDictionary(p => p.Name);
        Assert.True(info["head.weight"].IsReadout);
        Assert.False(info["mix.weight"].IsReadout);
        Assert.Equal(MuClass.VectorLike, info["ln.weight"].Class);
    }

    [Fact]
    public void MuReadout_forward_is_linear_of_x_times_alpha_over_m()
    {
        using var scope = NewDisposeScope();
        var readout = new MuReadout(64, 5, outputMultiplier: 3, baseInFeatures: 16);
        Assert.Equal(4.0, readout.WidthMultiplier);
        Assert.Equal(3.0, readout.OutputMultiplier);
        // Constructed as nn.Linear: U(±1/√64) for weight and bias.
        Assert.All(Stats.Values(readout.weight), v => Assert.True(Math.Abs(v) <= 1 / 8.0));
        Assert.All(Stats.Values(readout.bias!), v => Assert.True(Math.Abs(v) <= 1 / 8.0));
        var x = randn(7, 64, dtype: ScalarType.Float64);
        var w = readout.weight.detach().to_type(ScalarType.Float64);
        var b = readout.bias!.detach().to_type(ScalarType.Float64);
        var expected = (x * (3.0 / 4.0)).matmul(w.t()) + b;
        var actual = readout.call(x.to_type(ScalarType.Float32)).to_type(ScalarType.Float64);
        Assert.True(actual.allclose(expected, rtol: 1e-5, atol: 1e-6), "MuReadout's forward is not linear(x·α/m, W, b)");

        // Without baseInFeatures the multiplier is unknown until ApplyInit under μP sets it: the forward refuses to guess.
        var unset = new MuReadout(64, 5);
        Assert.True(double.IsNaN(unset.WidthMultiplier));
        Assert.Throws<InvalidOperationException>(() => unset.call(randn(2, 64)));
    }

    [Fact]
    public void A_tied_readout_is_listed_once_with_its_first_holders_class_and_trained_once()
    {
        using var scope = NewDisposeScope();
        var shapes = MuBaseShapes.FromFactory(w => new TiedLm(w), 16, 32);
        var model = new TiedLm(64);
        var report = model.ApplyInit(InitPolicy.Of(InitScheme.Normal(0.02)).For<Embedding>(InitScheme.Normal(0.02)).MuP(shapes), new InitOptions { Seed = 8 });
        Assert.Equal(FastFill.AnyDataPointer(model.emb.weight!), FastFill.AnyDataPointer(model.head.weight));

        var info = MuP.Parameters(model, shapes);
        Assert.Single(info, p => p.Name is "emb.weight" or "head.weight");
        var emb = info.Single(p => p.Name == "emb.weight");
        Assert.Equal(MuClass.Input, emb.Class);                   // the Embedding holds it first
        Assert.Equal(4.0, emb.FanOutMultiplier, 12);
        Assert.Equal(1.0, emb.AdamLearningRate, 12);
        Assert.Equal(4.0, emb.SgdLearningRate, 12);
        Assert.Equal(new[] { "emb.weight", "mix.weight", "mix.bias", "head.bias" }, info.Select(p => p.Name));

        AssertMu(report, model, "emb.weight", MuClass.Input, 4, 1, 0.02);   // written once, at the input class's std
        Assert.NotEqual(InitAction.Initialized, report["head.weight"].Action);
        Assert.Equal(4.0, model.head.WidthMultiplier, 12);

        // Trained once: one entry for the one storage (TorchSharp hands out a new wrapper per access, so compare storage).
        using var adam = MuP.Adam(model, shapes, lr: 0.01);
        var all = adam.ParamGroups.Cast<ParamGroup>().SelectMany(g => g.Parameters).ToList();
        var tied = FastFill.AnyDataPointer(model.emb.weight!);
        Assert.Single(all, p => FastFill.AnyDataPointer(p) == tied);
        Assert.Equal(info.Count, all.Count);
        Assert.Equal(all.Count, all.Select(p => FastFill.AnyDataPointer(p)).Distinct().Count());
        var group = adam.ParamGroups.Cast<ParamGroup>().Single(g => g.Parameters.Any(p => FastFill.AnyDataPointer(p) == tied));
        Assert.Equal(0.01, group.LearningRate, 15);
    }

    [Fact]
    public void MultiheadAttention_projections_are_hidden_weights()
    {
        using var scope = NewDisposeScope();
        var shapes = MuBaseShapes.FromFactory(w => new Attention(w), 16, 32);
        Assert.Equal(new[] { true, true }, shapes["attn.in_proj_weight"].Infinite);
        const double m = 128 / 16.0;
        var model = new Attention(128);
        var report = model.ApplyInit(InitPolicy.Of(InitScheme.Normal(0.02)).MuP(shapes), new InitOptions { Seed = 9 });
        AssertMu(report, model, "attn.in_proj_weight", MuClass.Hidden, m, 1 / Math.Sqrt(m), 0.02 / Math.Sqrt(m));
        AssertMu(report, model, "attn.out_proj.weight", MuClass.Hidden, m, 1 / Math.Sqrt(m), 0.02 / Math.Sqrt(m));
        Assert.Equal(MuClass.VectorLike, report["attn.in_proj_bias"].MuClass);
        Assert.Equal(MuClass.VectorLike, report["attn.out_proj.bias"].MuClass);
        var info = MuP.Parameters(model, shapes).ToDictionary(p => p.Name);
        Assert.Equal(m, info["attn.in_proj_weight"].FanInMultiplier, 12);
        Assert.Equal(m, info["attn.in_proj_weight"].FanOutMultiplier, 12);   // [3w, w]: 3·128 / 3·16
        Assert.Equal(1 / m, info["attn.in_proj_weight"].AdamLearningRate, 12);
    }

    [Fact]
    public void ZeroQueries_zeroes_only_the_query_block_of_in_proj_weight()
    {
        using var scope = NewDisposeScope();
        var shapes = MuBaseShapes.FromFactory(w => new Attention(w), 16, 32);
        const long w = 128;
        const double m = w / 16.0;
        var model = new Attention(w);
        model.ApplyInit(InitPolicy.Of(InitScheme.Normal(0.02)).MuP(shapes, new MuOptions { ZeroQueries = true }), new InitOptions { Seed = 10 });
        var inProj = P(model, "attn.in_proj_weight");
        Assert.All(Stats.Values(inProj.narrow(0, 0, w)), x => Assert.Equal(0.0, x));
        foreach (var block in new[] { 1, 2 })   // keys, values: drawn at the hidden std
        {
            var xs = Stats.Values(inProj.narrow(0, block * w, w));
            Assert.True(xs.Count(x => x == 0) < 5, $"block {block} has zeros");
            AssertClose(0.02 / Math.Sqrt(m), Stats.Std(xs), 5 / Math.Sqrt(2.0 * xs.Length), $"block {block} std");
        }
        Assert.True(Stats.Values(P(model, "attn.out_proj.weight")).Count(x => x == 0) < 5, "out_proj is not a query");
    }

    [Fact]
    public void QueryLayers_glob_zeroes_your_own_query_projections_under_ZeroQueries()
    {
        using var scope = NewDisposeScope();
        var shapes = MuBaseShapes.FromFactory(OwnAttentionModel, 16, 32);
        var model = OwnAttentionModel(64);
        var report = model.ApplyInit(InitPolicy.Of(InitScheme.Normal(0.02)).MuP(shapes, new MuOptions { ZeroQueries = true, QueryLayers = "*.q_proj" }),
            new InitOptions { Seed = 11 });
        foreach (var block in new[] { "blocks.0", "blocks.1" })
        {
            Assert.All(Stats.Values(P(model, $"{block}.q_proj.weight")), x => Assert.Equal(0.0, x));
            Assert.Equal("zeros", report[$"{block}.q_proj.weight"].Scheme);
            AssertMu(report, model, $"{block}.k_proj.weight", MuClass.Hidden, 4, 0.5, 0.01);
            AssertMu(report, model, $"{block}.v_proj.weight", MuClass.Hidden, 4, 0.5, 0.01);
        }
        // The glob alone zeroes nothing: ZeroQueries says whether queries start at 0.
        var off = OwnAttentionModel(64);
        off.ApplyInit(InitPolicy.Of(InitScheme.Normal(0.02)).MuP(shapes, new MuOptions { QueryLayers = "*.q_proj" }), new InitOptions { Seed = 11 });
        Assert.True(Stats.Values(P(off, "blocks.0.q_proj.weight")).Count(x => x == 0) < 5);
    }

    /// <summary>A TransformerEncoderLayer of width w (2 heads, feed-forward 2w).</summary>
    private sealed class Encoder : nn.Module<Tensor, Tensor>
    {
        public readonly TransformerEncoderLayer layer;

        public Encoder(long w) : base(nameof(Encoder))
        {
            layer = nn.TransformerEncoderLayer(w, 2, 2 * w, 0.0);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => layer.call(x);
    }

    [Fact]
    public void A_native_transformer_layers_parts_are_hidden_and_vector_like()
    {
        using var scope = NewDisposeScope();
        var shapes = MuBaseShapes.FromFactory(w => new Encoder(w), 16, 32);
        const long w = 64;
        const double m = w / 16.0;
        var model = new Encoder(w);
        var report = model.ApplyInit(InitPolicy.Of(InitScheme.Normal(0.02)).MuP(shapes, new MuOptions { ZeroQueries = true }), new InitOptions { Seed = 23 });
        foreach (var name in new[] { "layer.linear1.weight", "layer.linear2.weight", "layer.self_attn.out_proj.weight" })
            AssertMu(report, model, name, MuClass.Hidden, m, 1 / Math.Sqrt(m), 0.02 / Math.Sqrt(m));
        Assert.Equal(MuClass.Hidden, report["layer.self_attn.in_proj_weight"].MuClass);
        Assert.Equal(MuClass.VectorLike, MuP.Parameters(model, shapes).Single(p => p.Name == "layer.norm1.weight").Class);   // a fixed scheme leaves norms
        Assert.Equal(MuClass.VectorLike, report["layer.linear1.bias"].MuClass);
        var inProj = P(model, "layer.self_attn.in_proj_weight");
        Assert.All(Stats.Values(inProj.narrow(0, 0, w)), x => Assert.Equal(0.0, x));
        var kv = Stats.Values(inProj.narrow(0, w, 2 * w));
        AssertClose(0.02 / Math.Sqrt(m), Stats.Std(kv), 5 / Math.Sqrt(2.0 * kv.Length), "keys and values std");
    }

    [Fact]
    public void The_fast_engine_writes_the_same_muP_stds()
    {
        using var scope = NewDisposeScope();
        var model = Mlp(256);
        var report = model.ApplyInit(InitPolicy.Of(InitScheme.Normal(0.02)).MuP(MlpShapes()),
            new InitOptions { Seed = 24, Engine = DrawEngine.Fast, MeasureRealized = true });
        AssertMu(report, model, "hid.weight", MuClass.Hidden, 16, 0.25, 0.005);
        AssertMu(report, model, "out.weight", MuClass.Output, 16, 1 / 16.0, 0.02 / 16);
        AssertClose(0.005, report["hid.weight"].RealizedStd, 0.03, "fast realized std");
    }

    [Fact]
    public void ZeroReadout_writes_zero_and_draws_no_numbers()
    {
        using var scope = NewDisposeScope();
        var shapes = MlpShapes();
        var options = new InitOptions { Seed = 12 };
        var zeroed = Mlp(64);
        var report = zeroed.ApplyInit(InitPolicy.Of(InitScheme.HeNormal).MuP(shapes, new MuOptions { ZeroReadout = true }), options);
        Assert.All(Stats.Values(P(zeroed, "out.weight")), x => Assert.Equal(0.0, x));
        Assert.Equal(MuClass.Output, report["out.weight"].MuClass);
        Assert.Equal(0.0, report["out.weight"].MuScale);
        Assert.Equal("zeros", report["out.weight"].Scheme);
        Assert.True(Stats.Values(P(zeroed, "hid.weight")).Count(x => x == 0) < 5, "only the readout is zeroed");

        // The same model whose readout is frozen (skipped: nothing drawn for it): every other parameter gets the same numbers,
        // so the zero readout consumed no draws of the generator.
        var skipped = Mlp(64);
        P(skipped, "out.weight").requires_grad = false;
        skipped.ApplyInit(InitPolicy.Of(InitScheme.HeNormal).MuP(shapes), options);
        var expected = Bytes(skipped);
        foreach (var (name, p) in zeroed.named_parameters().Where(p => p.name != "out.weight"))
            Assert.True(expected[name].SequenceEqual(p.bytes.ToArray()), $"{name} differs: the zero readout drew numbers");
        // And without ZeroReadout the readout does draw: fin.weight (after it) then differs.
        var drawn = Mlp(64);
        drawn.ApplyInit(InitPolicy.Of(InitScheme.HeNormal).MuP(shapes), options);
        Assert.False(expected["fin.weight"].SequenceEqual(P(drawn, "fin.weight").bytes.ToArray()));
    }

    [Fact]
    public void Constants_stay_constants()
    {
        using var scope = NewDisposeScope();
        var shapes = MlpShapes();
        var zeros = Mlp(64);
        var zr = zeros.ApplyInit(InitPolicy.Of(InitScheme.Zeros).MuP(shapes), new InitOptions { Seed = 13 });
        foreach (var name in new[] { "in.weight", "hid.weight", "out.weight", "fin.weight" })
        {
            Assert.All(Stats.Values(P(zeros, name)), x => Assert.Equal(0.0, x));
            Assert.Equal(1.0, zr[name].MuScale);
        }
        // Ones are not scaled by 1/√m_in or 1/m_in: constants are left as they are.
        var ones = Mlp(64);
        var or = ones.ApplyInit(InitPolicy.Of(InitScheme.Ones).MuP(shapes), new InitOptions { Seed = 13 });
        foreach (var name in new[] { "hid.weight", "out.weight" })
        {
            Assert.All(Stats.Values(P(ones, name)), x => Assert.Equal(1.0, x));
            Assert.Equal(1.0, or[name].MuScale);
        }
    }

    public static TheoryData<string> BaseWidthSchemes => new()
    {
        "HeNormal", "TorchDefault", "GlorotUniform", "HeTruncatedNormal", "LeCunUniform", "Normal(0.02)", "Uniform(-0.1, 0.1)",
    };

    [Theory]
    [MemberData(nameof(BaseWidthSchemes))]
    public void At_base_width_muP_writes_the_plain_schemes_weights_bit_for_bit(string schemeText)
    {
        using var scope = NewDisposeScope();
        var scheme = InitScheme.Parse(schemeText);
        var shapes = MuBaseShapes.FromFactory(ReadoutMlp, 16, 32);
        var options = new InitOptions { Seed = 14, Bias = BiasInit.TorchDefault };
        var plain = ReadoutMlp(16);
        plain.ApplyInit(scheme, options);
        var mu = ReadoutMlp(16);
        var report = mu.ApplyInit(InitPolicy.Of(scheme).MuP(shapes), options);
        var expected = Bytes(plain);
        foreach (var (name, p) in mu.named_parameters())
            Assert.True(expected[name].SequenceEqual(p.bytes.ToArray()), $"{schemeText}: {name} differs from the plain scheme at base width");
        Assert.All(report.Rows, r => Assert.Equal(1.0, r.MuScale));
        Assert.All(report.Rows, r => Assert.Equal(1.0, r.WidthMultiplier));

        // Auto on the language model, at base width: the same.
        var lmShapes = MuBaseShapes.FromFactory(w => new TinyLm(w), 16, 32);
        var a = new TinyLm(16);
        a.ApplyInit(InitPolicy.Auto, options);
        var b = new TinyLm(16);
        b.ApplyInit(InitPolicy.Auto.MuP(lmShapes), options);
        var ea = Bytes(a);
        foreach (var (name, p) in b.named_parameters())
            Assert.True(ea[name].SequenceEqual(p.bytes.ToArray()), $"Auto: {name} differs from the plain policy at base width");
    }

    /// <summary>Layer families whose layout is not Linear's, and a module no family knows.</summary>
    private sealed class Layouts : nn.Module<Tensor, Tensor>
    {
        public readonly LSTM lstm;
        public readonly ConvTranspose2d up, dec;
        public readonly Bilinear bil;
        public readonly Custom custom;

        public Layouts(long w) : base(nameof(Layouts))
        {
            lstm = nn.LSTM(8, w);
            up = nn.ConvTranspose2d(w, w, 2);
            dec = nn.ConvTranspose2d(w, 3, 2);
            bil = nn.Bilinear(w, w, 5);
            custom = new Custom(w);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => throw new NotSupportedException();
    }

    /// <summary>Parameters of its own: scale [w], proj [8, w].</summary>
    private sealed class Custom : nn.Module<Tensor, Tensor>
    {
        public readonly Parameter scale, proj;

        public Custom(long w) : base(nameof(Custom))
        {
            scale = new Parameter(ones(w));
            proj = new Parameter(randn(8, w));
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => throw new NotSupportedException();
    }

    [Fact]
    public void Each_family_says_which_dimensions_are_fan_in_and_fan_out()
    {
        using var scope = NewDisposeScope();
        var shapes = MuBaseShapes.FromFactory(w => new Layouts(w), 16, 32);
        var info = MuP.Parameters(new Layouts(64), shapes).ToDictionary(p => p.Name);
        void Is(string name, MuClass cls, double mIn, double mOut)
        {
            Assert.True(info.ContainsKey(name), $"no {name} in [{string.Join(", ", info.Keys)}]");
            var p = info[name];
            Assert.True(p.Class == cls, $"{name}: class {p.Class}, expected {cls}");
            AssertClose(mIn, p.FanInMultiplier, 1e-12, $"{name} m_in");
            AssertClose(mOut, p.FanOutMultiplier, 1e-12, $"{name} m_out");
        }
        Is("lstm.weight_ih_l0", MuClass.Input, 1, 4);        // [4w, 8]: out 0, in 1
        Is("lstm.weight_hh_l0", MuClass.Hidden, 4, 4);       // [4w, w]
        Is("lstm.bias_ih_l0", MuClass.VectorLike, 1, 4);
        Is("up.weight", MuClass.Hidden, 4, 4);               // ConvTranspose [in, out/g, k, k]: in 0, out 1
        Is("dec.weight", MuClass.Output, 4, 1);              // [w, 3, 2, 2]: fan-in w grows, fan-out 3 does not
        Is("dec.bias", MuClass.Finite, 1, 1);
        Is("bil.weight", MuClass.Output, 16, 1);             // [5, w, w]: in 1 and 2, m_in = 4 · 4
        Is("bil.bias", MuClass.Finite, 1, 1);
        Is("custom.scale", MuClass.VectorLike, 1, 4);        // a vector: fan-out
        Is("custom.proj", MuClass.Output, 4, 1);             // unknown module, PyTorch's rule: dim 0 fan-out, dim 1 fan-in
        AssertClose(1 / 16.0, info["bil.weight"].AdamLearningRate, 1e-12, "bil Adam");
        AssertClose(1 / 4.0, info["dec.weight"].SgdLearningRate, 1e-12, "dec SGD");
    }

    [Fact]
    public void Truncated_normal_cut_points_scale_with_the_std()
    {
        using var scope = NewDisposeScope();
        var model = Mlp(256);
        var report = model.ApplyInit(InitPolicy.Of(InitScheme.HeTruncatedNormal).MuP(MlpShapes()), new InitOptions { Seed = 19 });
        const double m = 16;
        // The μP std as for HeNormal; the truncated normal's σ' = std / 0.8796 and its cut points ±2σ' scale with it.
        foreach (var (name, std) in new[] { ("out.weight", Math.Sqrt(2.0 / 16) / m), ("hid.weight", Math.Sqrt(2.0 / 256)) })
        {
            AssertClose(std, report[name].TargetStd, 1e-9, $"{name} target std");
            double cut = 2 * std / Stats.TruncatedUnitStd;
            AssertClose(cut, report[name].Bound, 1e-9, $"{name} bound");
            var xs = Stats.Values(P(model, name));
            Assert.True(xs.Max(Math.Abs) <= cut * (1 + 1e-6), $"{name}: |x| up to {xs.Max(Math.Abs)}, cut {cut}");
            Assert.True(xs.Max(Math.Abs) > cut * 0.9, $"{name}: |x| only up to {xs.Max(Math.Abs)}, cut {cut}");
            AssertClose(std, Stats.Std(xs), 5 / Math.Sqrt(2.0 * xs.Length), $"{name} written std");
        }
    }

    [Fact]
    public void The_report_and_its_data_view_gain_the_three_muP_columns()
    {
        using var scope = NewDisposeScope();
        var plain = Mlp(64).ApplyInit(InitScheme.HeNormal, new InitOptions { Seed = 20 });
        Assert.DoesNotContain(((Microsoft.ML.IDataView)plain).Schema, c => c.Name is "MuClass" or "WidthMultiplier" or "MuScale");
        Assert.All(plain.Rows, r => Assert.Null(r.MuClass));
        Assert.All(plain.Rows, r => Assert.True(double.IsNaN(r.WidthMultiplier) && double.IsNaN(r.MuScale)));

        var model = Mlp(64);
        var report = model.ApplyInit(InitPolicy.Of(InitScheme.HeNormal).MuP(MlpShapes()), new InitOptions { Seed = 20 });
        Microsoft.ML.IDataView view = report;
        var names = view.Schema.Select(c => c.Name).ToList();
        int target = names.IndexOf("TargetStd");
        Assert.Equal(["MuClass", "WidthMultiplier", "MuScale"], names.Skip(target + 1).Take(3));
        Assert.Equal(typeof(ReadOnlyMemory<char>), view.Schema["MuClass"].Type.RawType);
        Assert.Equal(typeof(double), view.Schema["WidthMultiplier"].Type.RawType);
        Assert.Equal(typeof(double), view.Schema["MuScale"].Type.RawType);
        using var cursor = view.GetRowCursor(view.Schema);
        var cls = cursor.GetGetter<ReadOnlyMemory<char>>(view.Schema["MuClass"]);
        var mult = cursor.GetGetter<double>(view.Schema["WidthMultiplier"]);
        var scale = cursor.GetGetter<double>(view.Schema["MuScale"]);
        ReadOnlyMemory<char> text = default;
        double d = 0;
        var classNames = new Dictionary<MuClass, string>
        {
            [MuClass.Input] = "input", [MuClass.Hidden] = "hidden", [MuClass.Output] = "output", [MuClass.VectorLike] = "vector-like", [MuClass.Finite] = "finite",
        };
        int i = 0;
        while (cursor.MoveNext())
        {
            var row = report.Rows[i++];
            cls(ref text); Assert.Equal(classNames[row.MuClass!.Value], text.ToString());
            mult(ref d); Assert.Equal(row.WidthMultiplier, d);
            scale(ref d); Assert.Equal(row.MuScale, d);
        }
        Assert.Equal(report.Rows.Count, i);
        // Each row's reason says why.
        Assert.Contains("m_in = 4", report["hid.weight"].Reason);
        Assert.Contains("σ₀/√m_in", report["hid.weight"].Reason);
        Assert.Contains("σ₀/m_in", report["out.weight"].Reason);
    }

    [Fact]
    public void A_dry_run_under_muP_writes_nothing_and_leaves_the_readout_multiplier_unset()
    {
        using var scope = NewDisposeScope();
        var shapes = MuBaseShapes.FromFactory(ReadoutMlp, 16, 32);
        var model = ReadoutMlp(64);
        var before = Bytes(model);
        var plan = model.PlanInit(InitPolicy.Of(InitScheme.Normal(0.02)).MuP(shapes));
        AssertUnchanged(before, model, "PlanInit");
        var head = (MuReadout)model.named_children().Single(c => c.name == "out").module;
        Assert.True(double.IsNaN(head.WidthMultiplier));
        Assert.All(plan.Rows, r => Assert.Equal(InitAction.Planned, r.Action));
        Assert.Equal(MuClass.Hidden, plan["hid.weight"].MuClass);
        AssertClose(0.01, plan["hid.weight"].TargetStd, 1e-12, "planned hidden std");
        AssertClose(0.02, plan["out.weight"].TargetStd, 1e-12, "planned readout std (σ₀)");

        model.ApplyInit(InitPolicy.Of(InitScheme.Normal(0.02)).MuP(shapes), new InitOptions { Seed = 21 });
        Assert.Equal(4.0, head.WidthMultiplier, 12);
    }

    [Fact]
    public void A_readout_built_with_another_base_width_is_refused_and_nothing_is_written()
    {
        using var scope = NewDisposeScope();
        var shapes = MuBaseShapes.FromFactory(ReadoutMlp, 16, 32);
        var model = nn.Sequential(
            ("in", nn.Linear(8, 64)), ("act1", nn.ReLU()), ("hid", nn.Linear(64, 64)), ("act2", nn.ReLU()),
            ("out", new MuReadout(64, 6, baseInFeatures: 32)), ("fin", nn.Linear(6, 6)));   // m = 2, the shapes say 4
        var before = Bytes(model);
        var e = Assert.Throws<ArgumentException>(() => model.ApplyInit(InitPolicy.Of(InitScheme.HeNormal).MuP(shapes), new InitOptions { Seed = 22 }));
        Assert.Contains("out", e.Message);
        AssertUnchanged(before, model, "readout multiplier");
        Assert.Equal(2.0, ((MuReadout)model.named_children().Single(c => c.name == "out").module).WidthMultiplier);
    }

    // ---------------------------------------------------------------- learning rates

    [Fact]
    public void Parameters_give_the_learning_rate_multipliers_of_the_table()
    {
        using var scope = NewDisposeScope();
        // in [64, 8]: m_out 4; hid [32, 64]: m_in 4, m_out 2; out [6, 32]: m_in 2; the rest finite.
        var expected = new (string Name, MuClass Class, double MIn, double MOut, double M, double Adam, double Sgd, double Wd)[]
        {
            ("in.weight", MuClass.Input, 1, 4, 4, 1, 4, 1),
            ("in.bias", MuClass.VectorLike, 1, 4, 4, 1, 4, 1),
            ("hid.weight", MuClass.Hidden, 4, 2, 4, 1 / 4.0, 2 / 4.0, 4),
            ("hid.bias", MuClass.VectorLike, 1, 2, 2, 1, 2, 1),
            ("out.weight", MuClass.Output, 2, 1, 2, 1 / 2.0, 1 / 2.0, 2),
            ("out.bias", MuClass.Finite, 1, 1, 1, 1, 1, 1),
            ("fin.weight", MuClass.Finite, 1, 1, 1, 1, 1, 1),
            ("fin.bias", MuClass.Finite, 1, 1, 1, 1, 1, 1),
        };
        var info = MuP.Parameters(MixedMlp(), MlpShapes());
        Assert.Equal(expected.Select(e => e.Name), info.Select(p => p.Name));
        foreach (var (e, p) in expected.Zip(info))
        {
            Assert.True(e.Class == p.Class, $"{e.Name}: class {p.Class}, expected {e.Class}");
            Assert.False(p.IsReadout);
            AssertClose(e.MIn, p.FanInMultiplier, 1e-12, $"{e.Name} m_in");
            AssertClose(e.MOut, p.FanOutMultiplier, 1e-12, $"{e.Name} m_out");
            AssertClose(e.M, p.WidthMultiplier, 1e-12, $"{e.Name} width multiplier");
            AssertClose(e.Adam, p.AdamLearningRate, 1e-12, $"{e.Name} Adam lr multiplier");
            AssertClose(e.Sgd, p.SgdLearningRate, 1e-12, $"{e.Name} SGD lr multiplier");
            AssertClose(e.Wd, p.AdamWWeightDecay, 1e-12, $"{e.Name} AdamW weight-decay multiplier");
        }
        Assert.Equal(new long[] { 32, 64 }, info[2].Shape);
        Assert.Equal(new long[] { 16, 16 }, info[2].BaseShape);

        // A MuReadout's weight (Table 8): Adam lr η, SGD lr η·m_in, weight decay λ.
        var readoutShapes = MuBaseShapes.FromFactory(ReadoutMlp, 16, 32);
        var head = MuP.Parameters(MixedMlp(readout: true), readoutShapes).Single(p => p.Name == "out.weight");
        Assert.Equal(MuClass.Output, head.Class);
        Assert.True(head.IsReadout);
        AssertClose(2, head.WidthMultiplier, 1e-12, "readout m");
        AssertClose(1, head.AdamLearningRate, 1e-12, "readout Adam");
        AssertClose(2, head.SgdLearningRate, 1e-12, "readout SGD");
        AssertClose(1, head.AdamWWeightDecay, 1e-12, "readout AdamW weight decay");
    }

    private static ParamGroup GroupOf(IEnumerable<torch.optim.ILearningRateController> groups, Tensor p) =>
        groups.Cast<ParamGroup>().Single(g => g.Parameters.Any(q => Ptr(q) == Ptr(p)));

    /// <summary>A parameter's storage: TorchSharp may hand out another wrapper (and handle) for the same tensor.</summary>
    private static IntPtr Ptr(Tensor t) => FastFill.AnyDataPointer(t);

    [Fact]
    public void Optimizer_groups_have_the_base_rate_times_each_multiplier_and_every_trainable_parameter_once()
    {
        using var scope = NewDisposeScope();
        var shapes = MlpShapes();
        var model = MixedMlp();
        P(model, "fin.bias").requires_grad = false;
        var trainable = model.named_parameters().Where(p => p.parameter.requires_grad).ToList();
        var adamMult = new Dictionary<string, double>
        {
            ["in.weight"] = 1, ["in.bias"] = 1, ["hid.weight"] = 0.25, ["hid.bias"] = 1, ["out.weight"] = 0.5, ["out.bias"] = 1, ["fin.weight"] = 1,
        };
        var sgdMult = new Dictionary<string, double>
        {
            ["in.weight"] = 4, ["in.bias"] = 4, ["hid.weight"] = 0.5, ["hid.bias"] = 2, ["out.weight"] = 0.5, ["out.bias"] = 1, ["fin.weight"] = 1,
        };

        void EveryTrainableOnce(torch.optim.Optimizer opt, string what)
        {
            var listed = opt.ParamGroups.Cast<ParamGroup>().SelectMany(g => g.Parameters).Select(Ptr).ToList();
            Assert.Equal(trainable.Count, listed.Count);
            foreach (var (name, p) in trainable) Assert.True(listed.Count(h => h == Ptr(p)) == 1, $"{what}: {name} is not listed exactly once");
            Assert.DoesNotContain(Ptr(P(model, "fin.bias")), listed);   // frozen: not trained
            // One group per distinct multiplier.
            var rates = opt.ParamGroups.Cast<ParamGroup>().Select(g => g.LearningRate).ToList();
            Assert.Equal(rates.Count, rates.Distinct().Count());
        }

        using var adam = MuP.Adam(model, shapes, lr: 0.01, weightDecay: 0.1);
        EveryTrainableOnce(adam, "Adam");
        Assert.Equal(3, adam.ParamGroups.Count());
        foreach (var (name, p) in trainable)
        {
            var g = GroupOf(adam.ParamGroups, p);
            AssertClose(0.01 * adamMult[name], g.LearningRate, 1e-12, $"Adam lr of {name}");
            AssertClose(0.1, ((TorchSharp.Modules.Adam.Options)g.Options).weight_decay!.Value, 1e-12, $"Adam (L2) weight decay of {name}: unchanged");
        }

        using var adamw = MuP.AdamW(model, shapes, lr: 0.01, weightDecay: 0.1);
        EveryTrainableOnce(adamw, "AdamW");
        foreach (var (name, p) in trainable)
        {
            var g = GroupOf(adamw.ParamGroups, p);
            double wd = ((TorchSharp.Modules.AdamW.Options)g.Options).weight_decay!.Value;
            AssertClose(0.01 * adamMult[name], g.LearningRate, 1e-12, $"AdamW lr of {name}");
            AssertClose(0.1 / adamMult[name], wd, 1e-12, $"AdamW weight decay of {name}");
            AssertClose(0.01 * 0.1, g.LearningRate * wd, 1e-12, $"AdamW lr·λ of {name} (the base model's)");
        }

        using var sgd = MuP.SGD(model, shapes, lr: 0.1, momentum: 0.9);
        EveryTrainableOnce(sgd, "SGD");
        foreach (var (name, p) in trainable)
        {
            var g = GroupOf(sgd.ParamGroups, p);
            AssertClose(0.1 * sgdMult[name], g.LearningRate, 1e-12, $"SGD lr of {name}");
            AssertClose(0.9, ((TorchSharp.Modules.SGD.Options)g.Options).momentum!.Value, 1e-12, $"SGD momentum of {name}");
        }
    }

    [Fact]
    public void One_Adam_step_moves_each_entry_by_the_base_rate_times_its_multiplier()
    {
        using var scope = NewDisposeScope();
        var shapes = MuBaseShapes.FromFactory(ReadoutMlp, 16, 32);
        var model = MixedMlp(readout: true);
        model.ApplyInit(InitPolicy.Of(InitScheme.HeNormal).MuP(shapes), new InitOptions { Seed = 15, Bias = BiasInit.TorchDefault });
        var before = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        using var adam = MuP.Adam(model, shapes, lr: 0.01);
        var x = randn(32, 8, generator: new Generator(3));
        adam.zero_grad();
        model.call(x).square().mean().backward();
        var grads = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.clone());
        adam.step();
        // Adam's first step moves an entry by lr·g/(|g| + ε) = lr·sign(g): exactly the group's rate where |g| ≫ ε.
        var expected = new Dictionary<string, double> { ["in.weight"] = 0.01, ["hid.weight"] = 0.01 / 4, ["out.weight"] = 0.01, ["hid.bias"] = 0.01 };
        foreach (var (name, rate) in expected)
        {
            var delta = Stats.Values(P(model, name) - before[name]);
            var g = Stats.Values(grads[name]);
            int checkedEntries = 0;
            for (int i = 0; i < delta.Length; i++)
            {
                if (Math.Abs(g[i]) < 1e-4) continue;
                Assert.True(Math.Abs(Math.Abs(delta[i]) - rate) <= 2e-3 * rate, $"{name}[{i}]: moved by {delta[i]:R}, expected ±{rate:R}");
                Assert.True(Math.Sign(delta[i]) == -Math.Sign(g[i]), $"{name}[{i}] moved up the gradient");
                checkedEntries++;
            }
            Assert.True(checkedEntries > delta.Length / 4, $"{name}: only {checkedEntries} of {delta.Length} entries had a gradient");
        }
    }

    // ---------------------------------------------------------------- refusals

    /// <summary>The MLP with one more layer after "fin".</summary>
    private static Sequential Deeper(long w) => nn.Sequential(
        ("in", nn.Linear(8, w)), ("act1", nn.ReLU()), ("hid", nn.Linear(w, w)), ("act2", nn.ReLU()),
        ("out", nn.Linear(w, 6)), ("fin", nn.Linear(6, 6)), ("extra", nn.Linear(6, 6)));

    /// <summary>The MLP with its hidden Linear replaced by a 1×1 Conv1d (weight rank 3).</summary>
    private sealed class ConvHidden : nn.Module<Tensor, Tensor>
    {
        private readonly Linear @in;
        private readonly Conv1d hid;
        private readonly Linear @out, fin;

        public ConvHidden(long w) : base(nameof(ConvHidden))
        {
            @in = nn.Linear(8, w);
            hid = nn.Conv1d(w, w, 1);
            @out = nn.Linear(w, 6);
            fin = nn.Linear(6, 6);
            RegisterComponents();
        }

        public override Tensor forward(Tensor x) => fin.call(@out.call(hid.call(@in.call(x).unsqueeze(-1)).squeeze(-1)));
    }

    [Fact]
    public void FromModels_refuses_models_that_do_not_match()
    {
        using var scope = NewDisposeScope();
        var deeper = Assert.Throws<ArgumentException>(() => MuBaseShapes.FromModels(Mlp(16), Deeper(32)));
        Assert.Contains("extra.weight", deeper.Message);
        var other = Assert.Throws<ArgumentException>(() => MuBaseShapes.FromModels(Mlp(16), new ConvHidden(32)));
        Assert.Contains("hid.weight", other.Message);
        var flat = Assert.Throws<ArgumentException>(() => MuBaseShapes.FromModels(Mlp(16), Mlp(16)));
        Assert.Contains("grows with width", flat.Message);
        var smaller = Assert.Throws<ArgumentException>(() => MuBaseShapes.FromModels(Mlp(32), Mlp(16)));
        Assert.Contains("in.weight", smaller.Message);
        Assert.Throws<ArgumentException>(() => MuBaseShapes.FromFactory(w => Mlp(w), 32, 16));
        Assert.Throws<ArgumentException>(() => MuBaseShapes.FromFactory(w => Mlp(w), 16, 16));
        Assert.Throws<ArgumentException>(() => MuBaseShapes.FromFactory(w => Mlp(w), 0, 16));
    }

    public static TheoryData<string> Mismatches => new() { "deeper", "shallower", "other architecture", "narrower", "finite dimension" };

    private static (nn.Module Model, MuBaseShapes Shapes, string Named) Mismatch(string kind) => kind switch
    {
        "deeper" => (Deeper(64), MlpShapes(), "extra.weight"),
        "shallower" => (Mlp(64), MuBaseShapes.FromModels(Deeper(16), Deeper(32)), "extra.weight"),   // the shapes have a layer the model lacks
        "other architecture" => (new ConvHidden(64), MlpShapes(), "hid.weight"),
        "narrower" => (Mlp(8), MlpShapes(), "hid.weight"),
        "finite dimension" => (Mlp(64, inputs: 10), MlpShapes(), "in.weight"),
        _ => throw new ArgumentException(kind),
    };

    [Theory]
    [MemberData(nameof(Mismatches))]
    public void A_target_that_does_not_match_the_base_shapes_is_refused_and_nothing_is_written(string kind)
    {
        using var scope = NewDisposeScope();
        var (model, shapes, named) = Mismatch(kind);
        var before = Bytes(model);
        var e = Assert.Throws<ArgumentException>(() => model.ApplyInit(InitPolicy.Of(InitScheme.HeNormal).MuP(shapes), new InitOptions { Seed = 16 }));
        Assert.Contains(named, e.Message);
        AssertUnchanged(before, model, kind);
        Assert.Contains(named, Assert.Throws<ArgumentException>(() => model.PlanInit(InitPolicy.Of(InitScheme.HeNormal).MuP(shapes))).Message);
        Assert.Contains(named, Assert.Throws<ArgumentException>(() => MuP.Parameters(model, shapes)).Message);
        Assert.Contains(named, Assert.Throws<ArgumentException>(() => MuP.Adam(model, shapes)).Message);
        Assert.Throws<ArgumentException>(() => MuP.AdamW(model, shapes));
        Assert.Throws<ArgumentException>(() => MuP.SGD(model, shapes, 0.1));
        AssertUnchanged(before, model, kind);
    }

    [Fact]
    public void Null_arguments_are_refused_by_name()
    {
        using var scope = NewDisposeScope();
        var model = Mlp(32);
        var shapes = MlpShapes();
        void Named(string parameter, Action call) => Assert.Equal(parameter, Assert.Throws<ArgumentNullException>(call).ParamName);
        Named("baseModel", () => MuBaseShapes.FromModels(null!, model));
        Named("deltaModel", () => MuBaseShapes.FromModels(model, null!));
        Named("factory", () => MuBaseShapes.FromFactory<nn.Module>(null!, 16, 32));
        Named("json", () => MuBaseShapes.FromJson(null!));
        Named("path", () => MuBaseShapes.Load(null!));
        Named("path", () => shapes.Save(null!));
        Named("shapes", () => InitPolicy.Of(InitScheme.HeNormal).MuP(null!));
        Assert.Throws<ArgumentNullException>(() => MuP.Parameters(null!, shapes));
        Assert.Throws<ArgumentNullException>(() => MuP.Parameters(model, null!));
        Assert.Throws<ArgumentNullException>(() => MuP.Adam(null!, shapes));
        Assert.Throws<ArgumentNullException>(() => MuP.AdamW(model, null!));
        Assert.Throws<ArgumentNullException>(() => MuP.SGD(model, null!, 0.1));
        Assert.Throws<ArgumentNullException>(() => MuP.ScaledDotProductAttention(null!, randn(1, 2, 4), randn(1, 2, 4)));
        Assert.Throws<ArgumentNullException>(() => new MuSharedReadout(null!));
    }

    [Fact]
    public void Load_refuses_a_missing_file_and_text_that_is_not_base_shapes()
    {
        string missing = Path.Combine(Path.GetTempPath(), $"no-such-mup-{Guid.NewGuid():N}.json");
        var notFound = Assert.Throws<FileNotFoundException>(() => MuBaseShapes.Load(missing));
        Assert.Contains(missing, notFound.Message);

        Assert.Throws<ArgumentException>(() => MuBaseShapes.FromJson("{ \"parameters\": [ { \"name\": "));       // malformed
        Assert.Throws<ArgumentException>(() => MuBaseShapes.FromJson("[1, 2, 3]"));                              // not the document
        Assert.Throws<ArgumentException>(() => MuBaseShapes.FromJson("{ \"shapes\": [] }"));                      // no "parameters"
        Assert.Contains("a.weight", Assert.Throws<ArgumentException>(() => MuBaseShapes.FromJson(
            """{ "parameters": [ { "name": "a.weight", "baseShape": [4, 4], "infinite": [true] } ] }""")).Message);   // one flag per dimension
        Assert.Contains("a.weight", Assert.Throws<ArgumentException>(() => MuBaseShapes.FromJson(
            """{ "parameters": [ { "name": "a.weight", "baseShape": [4], "infinite": [true] }, { "name": "a.weight", "baseShape": [4], "infinite": [true] } ] }""")).Message);
        Assert.Throws<ArgumentException>(() => MuBaseShapes.FromJson(
            """{ "parameters": [ { "name": "a.weight", "baseShape": [4, 4], "infinite": [false, false] } ] }"""));   // nothing grows
        Assert.Throws<ArgumentException>(() => MuBaseShapes.FromJson(
            """{ "parameters": [ { "baseShape": [4], "infinite": [true] } ] }"""));                                  // no name

        string malformed = Path.Combine(Path.GetTempPath(), $"bad-mup-{Guid.NewGuid():N}.json");
        try
        {
            File.WriteAllText(malformed, "this is not json");
            Assert.Throws<ArgumentException>(() => MuBaseShapes.Load(malformed));
        }
        finally { File.Delete(malformed); }
    }

    // ---------------------------------------------------------------- attention

    [Fact]
    public void AttentionScale_is_alpha_over_the_head_dimension()
    {
        Assert.Equal(1 / 64.0, MuP.AttentionScale(64));
        Assert.Equal(2.5 / 8, MuP.AttentionScale(8, 2.5));
        Assert.Equal(1.0, MuP.AttentionScale(1));
        Assert.ThrowsAny<ArgumentException>(() => MuP.AttentionScale(0));
        Assert.ThrowsAny<ArgumentException>(() => MuP.AttentionScale(-4));
    }

    [Theory]
    [InlineData(false, 1.0)]
    [InlineData(true, 1.0)]
    [InlineData(false, 2.0)]
    [InlineData(true, 0.5)]
    public void ScaledDotProductAttention_is_softmax_of_alpha_q_k_over_d_times_v(bool causal, double alpha)
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(17);
        const long d = 16, L = 5;
        var q = randn(new long[] { 2, 3, L, d }, generator: g);
        var k = randn(new long[] { 2, 3, L, d }, generator: g);
        var v = randn(new long[] { 2, 3, L, 7 }, generator: g);
        var scores = q.to_type(ScalarType.Float64).matmul(k.to_type(ScalarType.Float64).transpose(-2, -1)) * (alpha / d);
        if (causal) scores = scores.masked_fill(ones(L, L, dtype: ScalarType.Bool).triu(1), double.NegativeInfinity);
        var expected = scores.softmax(-1).matmul(v.to_type(ScalarType.Float64));
        var actual = MuP.ScaledDotProductAttention(q, k, v, isCausal: causal, multiplier: alpha).to_type(ScalarType.Float64);
        Assert.Equal(expected.shape, actual.shape);
        double err = (actual - expected).abs().max().item<double>();
        Assert.True(err < 1e-5, $"largest difference {err}");
        // Not SP's 1/√d: with d = 16 the two differ by far more than float error.
        var sp = (q.to_type(ScalarType.Float64).matmul(k.to_type(ScalarType.Float64).transpose(-2, -1)) * (alpha / Math.Sqrt(d)));
        if (causal) sp = sp.masked_fill(ones(L, L, dtype: ScalarType.Bool).triu(1), double.NegativeInfinity);
        Assert.True((sp.softmax(-1).matmul(v.to_type(ScalarType.Float64)) - actual).abs().max().item<double>() > 1e-2);
    }

    [Fact]
    public void ScaledDotProductAttention_takes_a_boolean_mask()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(18);
        const long d = 8;
        var q = randn(new long[] { 1, 2, 4, d }, generator: g);
        var k = randn(new long[] { 1, 2, 6, d }, generator: g);
        var v = randn(new long[] { 1, 2, 6, d }, generator: g);
        var attend = tensor(new[] { true, true, false, true, false, true }).reshape(1, 1, 1, 6);
        var scores = q.to_type(ScalarType.Float64).matmul(k.to_type(ScalarType.Float64).transpose(-2, -1)) / d;
        var expected = scores.masked_fill(attend.logical_not(), double.NegativeInfinity).softmax(-1).matmul(v.to_type(ScalarType.Float64));
        var actual = MuP.ScaledDotProductAttention(q, k, v, mask: attend).to_type(ScalarType.Float64);
        Assert.True((actual - expected).abs().max().item<double>() < 1e-5);
    }
}
