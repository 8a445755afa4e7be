using System.Reflection;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchInit.Tests.ReferenceFixtures;

namespace TorchInit.Tests;

/// <summary>
/// LSUV (Mishkin &amp; Matas 2016) against its PyTorch twin (scripts/gen_fixtures.py, kind "lsuv"): the same deep plain nets, the same
/// orthogonal start and batch; per-layer scales to 1e-5 relative, the same iteration counts; the post-condition on the batch; nothing left behind.
/// </summary>
[Collection(SerialTorchCollection.Name)]
public class LsuvTests
{
    public static TheoryData<string> Cases => F.Ids("lsuv");

    internal static nn.Module<Tensor, Tensor> Plain(string name)
    {
        var (depth, act) = name switch
        {
            "relu30" => (30, (Func<nn.Module<Tensor, Tensor>>)(() => nn.ReLU())),
            "tanh10" => (10, () => nn.Tanh()),
            "hardswish10" => (10, () => nn.Hardswish()),
            _ => throw new ArgumentException(name),
        };
        var layers = new List<nn.Module<Tensor, Tensor>>();
        for (int i = 0; i < depth; i++)
        {
            layers.Add(nn.Linear(64, 64));
            layers.Add(act());
        }
        layers.Add(nn.Linear(64, 10));
        return nn.Sequential(layers);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Lsuv_scales_equal_the_pytorch_twin_to_1e5(string id)
    {
        var c = F.Case(id);
        using var scope = NewDisposeScope();
        var model = Plain(c.GetProperty("model").GetString()!);
        using var g = new Generator((ulong)c.GetProperty("batch_seed").GetInt64());
        var batch = randn([128, 64], generator: g);
        var report = model.ApplyLsuv(batch, new LsuvOptions { Init = new InitOptions { Seed = c.GetProperty("seed").GetInt64() } });

        var expected = c.GetProperty("layers").EnumerateArray().ToList();
        Assert.Equal(expected.Select(e => e[0].GetString()), report.Layers.Select(l => l.Path));
        foreach (var (e, l) in expected.Zip(report.Layers))
        {
            Assert.Equal(e[1].GetInt32(), l.Iterations);
            double scale = e[4].GetDouble();
            Assert.True(Math.Abs(l.Scale - scale) <= 1e-5 * scale, $"{id} '{l.Path}': scale {l.Scale:R}, PyTorch {scale:R}");
            Assert.True(Math.Abs(l.VarianceBefore - e[2].GetDouble()) <= 1e-5 * e[2].GetDouble(), $"{id} '{l.Path}': Var before {l.VarianceBefore:R}, PyTorch {e[2].GetDouble():R}");
            Assert.True(l.Converged, $"{id} '{l.Path}' did not converge");
        }
    }

    [Fact]
    public void After_lsuv_every_layer_output_has_unit_variance_on_the_batch_and_nothing_is_left_behind()
    {
        using var scope = NewDisposeScope();
        var model = Plain("hardswish10");
        model.train();
        var batch = randn(128, 64);
        var report = model.ApplyLsuv(batch, new LsuvOptions { Init = new InitOptions { Seed = 7 } });

        Assert.True(model.training);
        Assert.All(model.modules(), m => Assert.True(m.training));
        Assert.All(model.parameters(), p => Assert.Null(p.grad));
        Assert.All(model.modules().Prepend(model), m => Assert.Equal(0, HookCount(m)));

        // An independent check: one forward pass, each Linear's output variance.
        model.eval();
        var linears = model.named_children().Where(c => c.module is TorchSharp.Modules.Linear).Select(c => c.name).ToList();
        Assert.Equal(linears, report.Layers.Select(l => l.Path));
        using (no_grad())
        {
            Tensor x = batch;
            foreach (var (name, m) in model.named_children())
            {
                x = ((nn.Module<Tensor, Tensor>)m).call(x);
                if (m is TorchSharp.Modules.Linear)
                {
                    double v = x.to_type(ScalarType.Float64).var().item<double>();
                    Assert.True(Math.Abs(v - 1) < 0.1, $"layer {name}: Var {v:G4}");
                }
            }
        }
        Assert.Contains("Var before", report.ToString());
        Assert.Equal("Orthogonal", report.Start["0.weight"].Scheme);
    }

    [Fact]
    public void A_batch_the_model_cannot_take_throws_before_anything_is_written()
    {
        using var scope = NewDisposeScope();
        var model = Plain("tanh10");
        model.train();
        var before = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.bytes.ToArray());
        Assert.ThrowsAny<Exception>(() => model.ApplyLsuv(randn(16, 63), new LsuvOptions { Init = new InitOptions { Seed = 7 } }));   // 63 ≠ 64 inputs
        Assert.All(model.named_parameters(), p => Assert.True(before[p.name].SequenceEqual(p.parameter.bytes.ToArray()), $"{p.name} was written"));
        Assert.All(model.modules().Prepend(model), m => Assert.Equal(0, HookCount(m)));
        Assert.All(model.modules().Prepend(model), m => Assert.True(m.training));
        var report = model.ApplyLsuv(randn(16, 64), new LsuvOptions { Init = new InitOptions { Seed = 7 } });   // and the model still works
        Assert.All(report.Layers, l => Assert.True(l.Converged, l.Path));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    public void MaxIterations_caps_the_rescalings_of_every_layer(int maxIterations)
    {
        // A tolerance no float32 forward pass meets, so every layer runs until the cap: exactly MaxIterations rescalings, no more.
        using var scope = NewDisposeScope();
        var model = Plain("relu30");
        var batch = randn(64, 64, generator: new Generator(4));
        var options = new LsuvOptions { Init = new InitOptions { Seed = 3 }, Tolerance = 1e-300, MaxIterations = maxIterations };
        var report = model.ApplyLsuv(batch, options);

        Assert.Equal(31, report.Layers.Count);
        foreach (var l in report.Layers)
        {
            Assert.False(l.Converged, $"'{l.Path}' met a tolerance of 1e-300");
            Assert.True(l.Iterations == maxIterations, $"'{l.Path}': {l.Iterations} rescalings with MaxIterations = {maxIterations}");
        }
        Assert.Contains($"at most {maxIterations} iterations per layer", report.ToString());
        if (maxIterations > 0) return;
        // No rescaling at all: the start's weights, untouched, and the variances measured once.
        var start = Plain("relu30");
        start.ApplyInit(options.Start, options.Init);
        foreach (var ((name, expected), (_, actual)) in start.named_parameters().Zip(model.named_parameters()))
            Assert.True(expected.bytes.ToArray().SequenceEqual(actual.bytes.ToArray()), $"{name} was rescaled with MaxIterations = 0");
        Assert.All(report.Layers, l => Assert.Equal(1.0, l.Scale));
        Assert.All(report.Layers, l => Assert.Equal(l.VarianceBefore, l.VarianceAfter));
    }

    [Fact]
    public void A_layer_whose_output_variance_is_zero_or_infinite_is_left_as_it_is()
    {
        using var scope = NewDisposeScope();
        // Var 0: a Zeros start makes every output 0; 1/√0 = ∞ would turn the zero weights into NaN (0·∞).
        var dead = Plain("tanh10");
        var report = dead.ApplyLsuv(randn(32, 64), new LsuvOptions { Start = InitScheme.Zeros, Init = new InitOptions { Seed = 1 } });
        Assert.Equal(11, report.Layers.Count);
        foreach (var l in report.Layers)
        {
            Assert.Equal(0, l.Iterations);
            Assert.Equal(0.0, l.VarianceBefore);
            Assert.Equal(0.0, l.VarianceAfter);
            Assert.Equal(1.0, l.Scale);
            Assert.False(l.Converged);
        }
        Assert.All(dead.named_parameters(), p => Assert.True(p.parameter.eq(0).all().item<bool>(), $"{p.name} is no longer all zero"));

        // Var ∞: a float64 net fed values near 1e200 has an output variance beyond double's range; √(1/∞) = 0 would zero the
        // weight, and the next pass's Var 0 would make it NaN.
        var huge = nn.Sequential(nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 4));
        huge.to(ScalarType.Float64);
        var x = randn(32, 16, ScalarType.Float64) * 1e200;
        var r = huge.ApplyLsuv(x, new LsuvOptions { Init = new InitOptions { Seed = 2 } });
        var first = r.Layers[0];
        Assert.Equal("0", first.Path);
        Assert.True(double.IsPositiveInfinity(first.VarianceBefore), $"Var {first.VarianceBefore}");
        Assert.Equal(0, first.Iterations);
        Assert.Equal(1.0, first.Scale);
        Assert.False(first.Converged);
        var start = nn.Sequential(nn.Linear(16, 16), nn.Tanh(), nn.Linear(16, 4));
        start.to(ScalarType.Float64);
        start.ApplyInit(InitScheme.Orthogonal, new InitOptions { Seed = 2 });
        Assert.Equal(((TorchSharp.Modules.Linear)start[0]).weight!.bytes.ToArray(), ((TorchSharp.Modules.Linear)huge[0]).weight!.bytes.ToArray());
        // The tanh saturates to ±1, so the last layer is rescaled as usual.
        Assert.True(r.Layers[1].Converged, $"last layer: Var {r.Layers[1].VarianceAfter}");
        Assert.All(huge.parameters(), p => Assert.True(p.isfinite().all().item<bool>()));
    }

    private sealed class Bypass : nn.Module<Tensor, Tensor>
    {
        private readonly TorchSharp.Modules.Linear fc = nn.Linear(8, 8);
        public Bypass() : base(nameof(Bypass)) => RegisterComponents();
        public override Tensor forward(Tensor x) => x.tanh();   // fc is registered but never runs
    }

    [Fact]
    public void A_batch_on_which_no_layer_runs_throws_before_anything_is_written()
    {
        using var scope = NewDisposeScope();
        var model = new Bypass();
        var before = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.bytes.ToArray());
        var e = Assert.Throws<ArgumentException>(() => model.ApplyLsuv(randn(4, 8), new LsuvOptions { Init = new InitOptions { Seed = 1 } }));
        Assert.Equal("model", e.ParamName);
        Assert.Contains("No Linear or Conv layer ran", e.Message);
        Assert.All(model.named_parameters(), p => Assert.True(before[p.name].SequenceEqual(p.parameter.bytes.ToArray()), $"{p.name} was written"));
        Assert.All(model.modules().Prepend(model), m => Assert.Equal(0, HookCount(m)));

        // Likewise when Include leaves no layer of a model whose layers do run.
        var plain = Plain("tanh10");
        var weights = plain.named_parameters().ToDictionary(p => p.name, p => p.parameter.bytes.ToArray());
        Assert.Throws<ArgumentException>(() => plain.ApplyLsuv(randn(4, 64), new LsuvOptions { Include = (_, _) => false }));
        Assert.All(plain.named_parameters(), p => Assert.True(weights[p.name].SequenceEqual(p.parameter.bytes.ToArray()), $"{p.name} was written"));
    }

    private static int HookCount(nn.Module m)
    {
        int n = 0;
        for (var t = m.GetType(); t is not null; t = t.BaseType)
            foreach (var f in t.GetFields(BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.DeclaredOnly)
                         .Where(f => f.Name.Contains("hooks", StringComparison.Ordinal)))
                if (f.GetValue(m) is System.Collections.ICollection col) n += col.Count;
        return n;
    }
}
