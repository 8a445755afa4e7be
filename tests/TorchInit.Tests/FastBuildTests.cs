using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary><see cref="Build.WithoutDefaultInit{T}(Func{T}, InitScheme, InitOptions?, Device?)"/>: one init pass instead of two.</summary>
[Collection(SerialTorchCollection.Name)]
public class FastBuildTests
{
    /// <summary>A plain container (Sequential only takes tensor-to-tensor modules).</summary>
    private sealed class Bag : nn.Module
    {
        public Bag(params (string Name, nn.Module Module)[] items) : base(nameof(Bag))
        {
            foreach (var (name, m) in items) register_module(name, m);
        }
        public nn.Module this[string name] => named_children().First(c => c.name == name).module;
    }

    private static Bag Net() => new(
        ("fc", nn.Linear(40, 30)), ("act", nn.ReLU()),
        ("conv", nn.Conv2d(3, 8, 3)), ("bn", nn.BatchNorm2d(8)),
        ("ln", nn.LayerNorm(30)), ("gn", nn.GroupNorm(2, 8)),
        ("up", nn.ConvTranspose2d(8, 4, 2)), ("emb", nn.Embedding(50, 6)), ("bil", nn.Bilinear(3, 4, 5)));

    private static Tensor P(nn.Module m, string name) => m.get_parameter(name)!;

    private static byte[] Bits(Tensor t) => t.detach().cpu().contiguous().bytes.ToArray();

    [Fact]
    public void Scheme_weights_equal_construct_then_ApplyInit_and_everything_is_materialized()
    {
        using var scope = NewDisposeScope();
        var options = new InitOptions { Seed = 3 };
        var built = Build.WithoutDefaultInit(Net, InitScheme.HeNormal, out var report, options);
        var reference = Net();
        reference.ApplyInit(InitScheme.HeNormal, options);

        foreach (var (name, p) in built.named_parameters())
            Assert.False(p.is_meta, name);
        foreach (var (name, b) in built.named_buffers())
            Assert.False(b.is_meta, name);
        foreach (var n in new[] { "fc.weight", "fc.bias", "conv.weight", "conv.bias", "up.weight", "up.bias" })
        {
            Assert.Equal(InitAction.Initialized, report[n].Action);
            Assert.True(Bits(P(built, n)).SequenceEqual(Bits(P(reference, n))), n);
        }
        // The rest has its constructor default.
        var bn = (BatchNorm2d)built["bn"];
        Assert.All(Stats.Values(bn.weight!), x => Assert.Equal(1.0, x));
        Assert.All(Stats.Values(bn.bias!), x => Assert.Equal(0.0, x));
        Assert.All(Stats.Values(bn.running_mean!), x => Assert.Equal(0.0, x));
        Assert.All(Stats.Values(bn.running_var!), x => Assert.Equal(1.0, x));
        Assert.Equal(0L, bn.num_batches_tracked!.item<long>());
        foreach (var n in new[] { "ln.weight", "gn.weight" }) Assert.All(Stats.Values(P(built, n)), x => Assert.Equal(1.0, x));
        foreach (var n in new[] { "ln.bias", "gn.bias" }) Assert.All(Stats.Values(P(built, n)), x => Assert.Equal(0.0, x));
        var emb = Stats.Values(P(built, "emb.weight"));
        Assert.InRange(Stats.Std(emb), 0.8, 1.2);
        double bb = 1 / Math.Sqrt(3);   // PyTorch's Bilinear: 1/√in1_features
        Assert.All(Stats.Values(P(built, "bil.weight")), x => Assert.InRange(x, -bb, bb));

        // And it computes.
        using var y = ((Linear)built["fc"]).forward(ones(2, 40));
        Assert.Equal(new long[] { 2, 30 }, y.shape);
    }

    [Fact]
    public void The_default_init_does_not_run()
    {
        using var scope = NewDisposeScope();
        // TorchSharp's constructors draw their default init from the global generator; ApplyInit with a seed
        // uses its own. So if nothing else draws, the global generator is where it was.
        static Sequential Mlp() => nn.Sequential(nn.Linear(300, 200), nn.ReLU(), nn.Linear(200, 100), nn.LayerNorm(100));
        torch.manual_seed(5);
        var untouched = torch.rand(4);
        torch.manual_seed(5);
        Build.WithoutDefaultInit(Mlp, InitScheme.GlorotUniform, new InitOptions { Seed = 1 });
        Assert.Equal(Bits(untouched), Bits(torch.rand(4)));
        torch.manual_seed(5);
        Mlp().ApplyInit(InitScheme.GlorotUniform, new InitOptions { Seed = 1 });
        Assert.NotEqual(Bits(untouched), Bits(torch.rand(4)));   // constructing normally draws
    }

    [Fact]
    public void Tensors_the_scheme_leaves_alone_get_their_layer_default()
    {
        using var scope = NewDisposeScope();
        var model = Build.WithoutDefaultInit(() =>
        {
            var m = nn.Sequential(("a", nn.Linear(64, 32)), ("b", nn.Linear(32, 16)));
            ((Linear)m[1]).weight!.requires_grad = false;   // frozen: ApplyInit skips it
            return m;
        }, InitScheme.HeNormal, new InitOptions { Seed = 2, Bias = BiasInit.Keep });
        var a = (Linear)model[0];
        var b = (Linear)model[1];
        Assert.False(b.weight!.requires_grad);
        double boundA = 1 / Math.Sqrt(64), boundB = 1 / Math.Sqrt(32);
        var ab = Stats.Values(a.bias!);
        Assert.All(ab, x => Assert.InRange(x, -boundA, boundA));
        Assert.True(Stats.Std(ab) > 0.3 * boundA);
        var bw = Stats.Values(b.weight!);
        Assert.All(bw, x => Assert.InRange(x, -boundB, boundB));
        Assert.InRange(Stats.Std(bw), 0.5 * boundB, 0.7 * boundB);   // U(±b) has std b/√3
    }

    [Fact]
    public void Parameters_are_tied_after_building()
    {
        using var scope = NewDisposeScope();
        static Sequential Tied()
        {
            var enc = nn.Linear(20, 20);
            var dec = nn.Linear(20, 20);
            dec.weight = enc.weight;
            return nn.Sequential(("enc", enc), ("dec", dec));
        }
        // Tied inside the factory: the tie survives (one tensor, written once, reported as tied).
        var tied = Build.WithoutDefaultInit(Tied, InitScheme.GlorotUniform, out var report);
        Assert.Same(((Linear)tied[0]).weight, ((Linear)tied[1]).weight);
        Assert.Contains("tied", report["dec.weight"].Note);

        var model = Build.WithoutDefaultInit(() => nn.Sequential(("enc", nn.Linear(20, 20)), ("dec", nn.Linear(20, 20))), InitScheme.GlorotUniform);
        ((Linear)model[1]).weight = ((Linear)model[0]).weight;
        Assert.Same(((Linear)model[0]).weight, ((Linear)model[1]).weight);
    }

    [Fact]
    public void Fast_mode_and_other_devices_of_choice_work_too()
    {
        using var scope = NewDisposeScope();
        var a = Build.WithoutDefaultInit(Net, InitScheme.HeTruncatedNormal, new InitOptions { Seed = 4, Engine = DrawEngine.Fast });
        var b = Net();
        b.ApplyInit(InitScheme.HeTruncatedNormal, new InitOptions { Seed = 4, Engine = DrawEngine.Fast });
        Assert.True(Bits(P(a, "conv.weight")).SequenceEqual(Bits(P(b, "conv.weight"))));
        var d = Build.WithoutDefaultInit(() => nn.Linear(5, 5, dtype: ScalarType.Float64), InitScheme.HeNormal, new InitOptions { Seed = 1 }, device: CPU);
        Assert.Equal(ScalarType.Float64, d.weight!.dtype);
    }

    private sealed class Custom : nn.Module<Tensor, Tensor>
    {
        private readonly Parameter scale;
        private readonly Linear fc;
        public Custom() : base(nameof(Custom))
        {
            fc = nn.Linear(4, 4);
            scale = new Parameter(torch.ones(4));
            RegisterComponents();
        }
        public override Tensor forward(Tensor x) => fc.forward(x) * scale;
    }

    [Fact]
    public void Unsupported_modules_are_named_before_anything_is_allocated()
    {
        using var scope = NewDisposeScope();
        var e = Assert.Throws<NotSupportedException>(() => Build.WithoutDefaultInit(() => new Bag(("rnn", nn.LSTM(4, 3)), ("fc", nn.Linear(3, 3))), InitScheme.HeNormal));
        Assert.Contains("'rnn' (LSTM)", e.Message);
        e = Assert.Throws<NotSupportedException>(() => Build.WithoutDefaultInit(() => new Custom(), InitScheme.HeNormal));
        Assert.Contains("(Custom)", e.Message);
        Assert.Equal(DeviceType.CPU, torch.get_default_device().type);   // restored

        // Constructed with an explicit device, they keep their constructor's init and the rest skips it.
        var m = Build.WithoutDefaultInit(() => new Bag(("rnn", nn.LSTM(4, 3, device: CPU)), ("fc", nn.Linear(3, 3))), InitScheme.HeNormal, out var report);
        Assert.All(m.parameters(), p => Assert.False(p.is_meta));
        Assert.Contains(report.Unhandled, u => u.Path == "rnn");
    }
}
