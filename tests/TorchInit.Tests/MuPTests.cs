using TorchInit;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>μP's classes, multipliers, base shapes and refusals, each expected value computed here from docs/mup.md's formulas.</summary>
public class MuPTests
{
    private sealed class Net : nn.Module<Tensor, Tensor>
    {
        public readonly TorchSharp.Modules.Embedding tok;
        public readonly TorchSharp.Modules.Conv1d conv;
        public readonly TorchSharp.Modules.MultiheadAttention attn;
        public readonly TorchSharp.Modules.LayerNorm ln;
        public readonly MuSharedReadout head;
        public Net(long d, long vocab = 40) : base("Net")
        {
            tok = nn.Embedding(vocab, d);
            conv = nn.Conv1d(d, d, 3, padding: 1);
            attn = nn.MultiheadAttention(d, 4);
            ln = nn.LayerNorm(d);
            head = new MuSharedReadout(tok.weight!);
            RegisterComponents();
        }
        public override Tensor forward(Tensor x) => head.call(ln.call(tok.call(x)));
    }

    private static nn.Module<Tensor, Tensor> Mlp(long w, long depth = 1)
    {
        var layers = new List<(string, nn.Module<Tensor, Tensor>)> { ("fc0", nn.Linear(12, w)), ("a0", nn.ReLU()) };
        for (int i = 1; i <= depth; i++) { layers.Add(($"fc{i}", nn.Linear(w, w))); layers.Add(($"a{i}", nn.ReLU())); }
        layers.Add(("out", nn.Linear(w, 5)));
        return nn.Sequential(layers.ToArray());
    }

    private static Dictionary<string, Tensor> Snapshot(nn.Module m) => m.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());

    private static void Unchanged(Dictionary<string, Tensor> before, nn.Module m)
    {
        foreach (var (name, p) in m.named_parameters()) Assert.True(before[name].eq(p).all().item<bool>(), $"{name} was written");
    }

    [Fact]
    public void Layouts_give_each_family_its_class_and_multipliers()
    {
        var shapes = MuBaseShapes.FromFactory(d => new Net(d), 16, 32);
        using var net = new Net(64);
        var ps = MuP.Parameters(net, shapes).ToDictionary(p => p.Name);
        Assert.Equal(MuClass.Input, ps["tok.weight"].Class);           // [vocab, d]: vocab fan-in (finite), d fan-out
        Assert.Equal(4.0, ps["tok.weight"].FanOutMultiplier);
        Assert.Equal(MuClass.Hidden, ps["conv.weight"].Class);
        Assert.Equal(MuClass.VectorLike, ps["conv.bias"].Class);
        Assert.Equal(MuClass.Hidden, ps["attn.in_proj_weight"].Class);
        Assert.Equal(MuClass.Hidden, ps["attn.out_proj.weight"].Class);
        Assert.Equal(MuClass.VectorLike, ps["ln.weight"].Class);
        Assert.Equal(MuClass.Finite, ps["head.bias"].Class);
        Assert.False(ps.ContainsKey("head.weight"));                    // tied: listed once, by its first holder
        Assert.Equal(0.25, ps["conv.weight"].AdamLearningRate, 15);
        Assert.Equal(1.0, ps["conv.weight"].SgdLearningRate, 15);      // m_out / m_in
        Assert.Equal(4.0, ps["ln.weight"].SgdLearningRate, 15);        // m_out
        Assert.Equal(4.0, ps["conv.weight"].AdamWWeightDecay, 15);
    }

    [Fact]
    public void Output_layer_plain_and_readout_stds_and_learning_rates()
    {
        var shapes = MuBaseShapes.FromFactory(w => Mlp(w), 16, 32);
        using var model = Mlp(128);
        var report = model.ApplyInit(InitPolicy.Of(InitScheme.GlorotUniform).MuP(shapes), new InitOptions { Seed = 2, MeasureRealized = true });
        double m = 8;
        // Glorot's std at the base shapes: input [16, 12], hidden [16, 16], output [5, 16].
        Assert.Equal(Math.Sqrt(2.0 / (12 + 16)), report["fc0.weight"].TargetStd, 12);
        Assert.Equal(Math.Sqrt(2.0 / (16 + 16)) / Math.Sqrt(m), report["fc1.weight"].TargetStd, 12);
        Assert.Equal(Math.Sqrt(2.0 / (16 + 5)) / m, report["out.weight"].TargetStd, 12);
        Assert.Equal(report["fc1.weight"].TargetStd, report["fc1.weight"].RealizedStd, 2);
        var p = MuP.Parameters(model, shapes).Single(x => x.Name == "out.weight");
        Assert.Equal((MuClass.Output, 1 / m, 1 / m), (p.Class, p.AdamLearningRate, p.SgdLearningRate));
    }

    [Fact]
    public void At_the_base_width_a_fan_in_scheme_is_unchanged_bit_for_bit()
    {
        var shapes = MuBaseShapes.FromFactory(w => Mlp(w), 16, 32);
        using var a = Mlp(16);
        using var b = Mlp(16);
        a.ApplyInit(InitPolicy.Of(InitScheme.HeNormal).MuP(shapes), new InitOptions { Seed = 5 });
        b.ApplyInit(InitScheme.HeNormal, new InitOptions { Seed = 5 });
        foreach (var ((name, x), (_, y)) in a.named_parameters().Zip(b.named_parameters())) Assert.True(x.eq(y).all().item<bool>(), name);
    }

    [Fact]
    public void Zero_readout_and_zero_queries()
    {
        var shapes = MuBaseShapes.FromFactory(w => Mlp(w), 16, 32);
        using var model = Mlp(64);
        var r = model.ApplyInit(InitPolicy.Of(InitScheme.HeNormal).MuP(shapes, new MuOptions { ZeroReadout = true }), new InitOptions { Seed = 0 });
        Assert.True(model.get_parameter("out.weight")!.eq(0).all().item<bool>());
        Assert.Equal(0.0, r["out.weight"].MuScale);
        var nshapes = MuBaseShapes.FromFactory(d => new Net(d), 16, 32);
        using var net = new Net(32);
        net.ApplyInit(InitPolicy.Auto.MuP(nshapes, new MuOptions { ZeroQueries = true }), new InitOptions { Seed = 0 });
        var ipw = net.attn.named_parameters().First(p => p.name == "in_proj_weight").parameter;
        Assert.True(ipw.narrow(0, 0, 32).eq(0).all().item<bool>());
        Assert.True(ipw.narrow(0, 32, 64).ne(0).any().item<bool>());
    }

    [Fact]
    public void Optimizers_have_one_group_per_multiplier_and_every_parameter_once()
    {
        var shapes = MuBaseShapes.FromFactory(d => new Net(d), 16, 32);
        using var net = new Net(64);
        int distinct = MuP.Parameters(net, shapes).Count;
        using var sgd = MuP.SGD(net, shapes, lr: 0.1);
        Assert.Equal(distinct, sgd.ParamGroups.Cast<TorchSharp.Modules.SGD.ParamGroup>().Sum(g => g.Parameters.Count()));
        Assert.Equal(new[] { 0.1, 0.4 }, sgd.ParamGroups.Select(g => Math.Round(g.LearningRate, 12)).Distinct().OrderBy(x => x).ToArray());
        using var adamw = MuP.AdamW(net, shapes, lr: 0.01, weightDecay: 0.1);
        foreach (var g in adamw.ParamGroups.Cast<TorchSharp.Modules.AdamW.ParamGroup>())
            Assert.Equal(0.01 * 0.1, g.LearningRate * ((TorchSharp.Modules.AdamW.Options)g.Options).weight_decay!.Value, 15);
    }

    [Fact]
    public void Base_shapes_round_trip_through_a_file_and_models_agree_with_the_factory()
    {
        var fromFactory = MuBaseShapes.FromFactory(w => Mlp(w), 16, 32);
        using var b = Mlp(16);
        using var d = Mlp(32);
        var fromModels = MuBaseShapes.FromModels(b, d);
        Assert.Equal(fromFactory.ToJson(), fromModels.ToJson());
        var path = Path.Combine(Path.GetTempPath(), $"mup-{Guid.NewGuid():N}.json");
        try
        {
            fromFactory.Save(path);
            var loaded = MuBaseShapes.Load(path);
            Assert.Equal(new[] { true, true }, loaded["fc1.weight"].Infinite);
            Assert.Equal(new[] { false, true }, loaded["out.weight"].Infinite);
            Assert.Equal(new long[] { 5, 16 }, loaded["out.weight"].BaseShape);
        }
        finally { File.Delete(path); }
        var handWritten = MuBaseShapes.FromJson("""{"parameters": [{"name": "weight", "baseShape": [3, 8], "infinite": [false, true]}, {"name": "bias", "baseShape": [3], "infinite": [false]}]}""");
        using var lin = nn.Linear(32, 3);
        Assert.Equal(MuClass.Output, MuP.Parameters(lin, handWritten)[0].Class);
        Assert.Equal(4.0, MuP.Parameters(lin, handWritten)[0].FanInMultiplier);
    }

    [Fact]
    public void Bad_input_is_a_clear_error_and_writes_nothing()
    {
        var shapes = MuBaseShapes.FromFactory(w => Mlp(w), 16, 32);
        foreach (var (model, words) in new (nn.Module<Tensor, Tensor>, string)[]
                 {
                     (Mlp(64, depth: 2), "not the same architecture"),   // another depth
                     (Mlp(8), "narrower than its base"),                  // shrinks
                     (nn.Sequential(("fc0", nn.Linear(13, 64)), ("a0", nn.ReLU()), ("fc1", nn.Linear(64, 64)), ("a1", nn.ReLU()), ("out", nn.Linear(64, 5))), "does not grow"),
                 })
        {
            var before = Snapshot(model);
            var e = Assert.Throws<ArgumentException>(() => model.ApplyInit(InitPolicy.Of(InitScheme.HeNormal).MuP(shapes)));
            Assert.Contains(words, e.Message);
            Unchanged(before, model);
            model.Dispose();
        }
        Assert.Contains("grows with width", Assert.Throws<ArgumentException>(() => MuBaseShapes.FromModels(Mlp(16), Mlp(16))).Message);
        Assert.Contains("shrinks", Assert.Throws<ArgumentException>(() => MuBaseShapes.FromModels(Mlp(32), Mlp(16))).Message);
        Assert.Contains("architecture", Assert.Throws<ArgumentException>(() => MuBaseShapes.FromModels(Mlp(16), Mlp(32, depth: 2))).Message);
        Assert.Contains("number of dimensions", Assert.Throws<ArgumentException>(() =>
            MuBaseShapes.FromModels(nn.Sequential(("c", nn.Conv1d(4, 4, 3))), nn.Sequential(("c", nn.Conv2d(8, 8, 3))))).Message);
        Assert.Throws<ArgumentException>(() => MuBaseShapes.FromJson("{ not json"));
        Assert.Throws<FileNotFoundException>(() => MuBaseShapes.Load("/nonexistent/shapes.json"));
        Assert.Throws<ArgumentNullException>(() => InitPolicy.Auto.MuP(null!));
        Assert.Throws<ArgumentException>(() => MuBaseShapes.FromFactory(w => Mlp(w), 32, 16));
    }

    [Fact]
    public void Attention_scale_is_one_over_d()
    {
        Assert.Equal(1.0 / 16, MuP.AttentionScale(16));
        manual_seed(0);
        using var q = randn(2, 3, 5, 8, dtype: ScalarType.Float64);
        using var k = randn(2, 3, 5, 8, dtype: ScalarType.Float64);
        using var v = randn(2, 3, 5, 8, dtype: ScalarType.Float64);
        using var got = MuP.ScaledDotProductAttention(q, k, v, isCausal: true, multiplier: 2);
        using var logits = q.matmul(k.transpose(-2, -1)) * (2.0 / 8);
        using var mask = ones(5, 5, dtype: ScalarType.Bool).triu(1);
        using var want = logits.masked_fill(mask, double.NegativeInfinity).softmax(-1).matmul(v);
        Assert.True(got.allclose(want, 1e-10, 1e-12));
    }

    [Fact]
    public void Coordinate_check_l1_is_mean_abs_at_step_0_and_sp_grows()
    {
        manual_seed(0);
        var batches = Enumerable.Range(0, 3).Select(_ => (randn(32, 12), randint(0, 5, [32]))).ToList();
        var sp = CoordinateCheck.Run([32, 128, 512], w => { var m = Mlp(w); m.ApplyInit(InitScheme.TorchDefault, new InitOptions { Seed = 0 }); return m; },
            m => optim.Adam(m.parameters(), 0.05), batches, (y, t) => nn.functional.cross_entropy(y, t));
        using (var m = Mlp(32))
        {
            m.ApplyInit(InitScheme.TorchDefault, new InitOptions { Seed = 0 });
            using var _ = no_grad();
            using var y = m.call(batches[0].Item1);
            Assert.Equal(y.abs().mean().to_type(ScalarType.Float64).item<double>(), sp.Rows.Single(r => r.Width == 32 && r.Step == 0 && r.Module == "(output)").L1, 6);
        }
        Assert.Equal(CoordinateVerdict.Growing, sp["fc1"].Verdict);
        Assert.Equal(5, sp.Schema.Count);
        Assert.Throws<ArgumentException>(() => CoordinateCheck.Run([32], w => Mlp(w), m => optim.Adam(m.parameters()), batches, (y, t) => nn.functional.cross_entropy(y, t)));
        foreach (var (a, b) in batches) { a.Dispose(); b.Dispose(); }
    }
}
