using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>
/// <see cref="InitScheme.TorchDefault"/> on layers that are not Linear or Conv is each layer's own PyTorch default: the same
/// bits as the layer's constructor (libtorch's <c>reset_parameters</c>, which TorchSharp runs) after <c>manual_seed</c>.
/// </summary>
[Collection(SerialTorchCollection.Name)]
public class TorchDefaultLayerTests
{
    public static TheoryData<string> Layers => new() { "LSTM", "GRU", "RNN", "LSTM2", "Embedding", "Bilinear", "LayerNorm", "BatchNorm1d" };

    private static nn.Module Make(string name) => name switch
    {
        "LSTM" => nn.LSTM(5, 4),
        "GRU" => nn.GRU(6, 3),
        "RNN" => nn.RNN(4, 7),
        "LSTM2" => nn.LSTM(3, 5, numLayers: 2, bidirectional: true),
        "Embedding" => nn.Embedding(11, 6),
        "Bilinear" => nn.Bilinear(3, 4, 5),
        "LayerNorm" => nn.LayerNorm(6),
        _ => nn.BatchNorm1d(6),
    };

    [Theory]
    [MemberData(nameof(Layers))]
    public void TorchDefault_is_the_layers_own_constructor_default(string name)
    {
        using var scope = NewDisposeScope();
        foreach (long seed in new long[] { 1, 42 })
        {
            torch.random.manual_seed(seed);
            var constructed = Make(name);
            var expected = constructed.named_parameters().ToDictionary(p => p.name, p => p.parameter.bytes.ToArray());
            var m = Make(name);
            var report = m.ApplyInit(InitScheme.TorchDefault, new InitOptions { Seed = seed, LayerTypes = [m.GetType()] });
            Assert.Empty(report.Unhandled);
            foreach (var (n, p) in m.named_parameters())
            {
                Assert.True(expected[n].SequenceEqual(p.bytes.ToArray()), $"{name} seed {seed}: {n} differs from the constructor's");
                Assert.Equal(InitAction.Initialized, report[n].Action);
                Assert.Equal("TorchDefault", report[n].Scheme);
                Assert.Contains("PyTorch's default", report[n].Reason);
            }
        }
    }

    [Fact]
    public void An_embeddings_padding_row_stays_zero_under_TorchDefault()
    {
        using var scope = NewDisposeScope();
        var e = nn.Embedding(10, 4, padding_idx: 3);
        var report = e.ApplyInit(InitScheme.TorchDefault, new InitOptions { Seed = 5, LayerTypes = [typeof(Embedding)] });
        Assert.True(e.weight![3].eq(0).all().item<bool>());
        Assert.Equal(9, e.weight!.ne(0).all(1).sum().item<long>());
        Assert.Contains("padding_idx", report["weight"].Note);
    }

    [Theory]
    [InlineData("Auto", 0L)]
    [InlineData("Auto", 1L)]
    [InlineData("TorchDefault", 0L)]
    [InlineData("TorchDefault", 1L)]
    public void A_two_row_embeddings_padding_row_stays_zero_and_equals_the_constructor(string policy, long padding)
    {
        // Two rows, one of them the padding row: still "a single all-zero row among several". PyTorch's (libtorch's)
        // reset_parameters: normal_(weight), then weight[padding_idx] = 0; the same bits from the same seed.
        using var scope = NewDisposeScope();
        torch.random.manual_seed(9);
        var constructed = nn.Embedding(2, 5, padding_idx: padding);
        var e = nn.Embedding(2, 5, padding_idx: padding);
        var report = policy == "Auto"
            ? e.ApplyInit(InitPolicy.Auto, new InitOptions { Seed = 9 })
            : e.ApplyInit(InitScheme.TorchDefault, new InitOptions { Seed = 9, LayerTypes = [typeof(Embedding)] });
        Assert.Equal(InitAction.Initialized, report["weight"].Action);
        Assert.True(e.weight![padding].eq(0).all().item<bool>(), $"{policy}: padding row {padding} was drawn");
        Assert.True(e.weight![1 - padding].ne(0).all().item<bool>(), $"{policy}: the other row was not drawn");
        Assert.Equal(constructed.weight!.bytes.ToArray(), e.weight!.bytes.ToArray());
        Assert.Contains($"row {padding} kept at 0", report["weight"].Note);
    }

    private sealed class WithBilinear : nn.Module<Tensor, Tensor>
    {
        private readonly Linear fc = nn.Linear(6, 3);
        private readonly Bilinear bil = nn.Bilinear(3, 4, 5);
        public WithBilinear() : base(nameof(WithBilinear)) => RegisterComponents();
        public override Tensor forward(Tensor x) => bil.call(fc.call(x), x.narrow(1, 0, 4));
    }

    [Theory]
    [InlineData("For<Bilinear>")]
    [InlineData("ForPath")]
    public void TorchDefault_named_by_an_override_on_a_bilinear_in_a_model_is_its_constructor_default(string how)
    {
        // Without LayerTypes: the override names the Bilinear; TorchDefault on it is Bilinear.reset_parameters,
        // U(±1/√in1) for weight and bias, not the Linear rule (fan_in = in1·in2). Linear, then Bilinear, in pre-order as
        // the constructor draws them.
        using var scope = NewDisposeScope();
        foreach (long seed in new long[] { 3, 77 })
        {
            torch.random.manual_seed(seed);
            var constructed = new WithBilinear();
            var expected = constructed.named_parameters().ToDictionary(p => p.name, p => p.parameter.bytes.ToArray());
            var m = new WithBilinear();
            var policy = how == "ForPath"
                ? InitPolicy.Of(InitScheme.TorchDefault).ForPath("bil", InitScheme.TorchDefault)
                : InitPolicy.Of(InitScheme.TorchDefault).For<Bilinear>(InitScheme.TorchDefault);
            var report = m.ApplyInit(policy, new InitOptions { Seed = seed });
            Assert.Empty(report.Unhandled);
            Assert.Equal(new[] { "fc.weight", "fc.bias", "bil.weight", "bil.bias" }, m.named_parameters().Select(p => p.name));
            foreach (var (n, p) in m.named_parameters())
            {
                Assert.Equal(InitAction.Initialized, report[n].Action);
                Assert.True(expected[n].SequenceEqual(p.bytes.ToArray()), $"{how} seed {seed}: {n} differs from the constructor's");
            }
            Assert.Contains("PyTorch's default Bilinear", report["bil.weight"].Reason);
            using (no_grad()) Assert.True(m.get_parameter("bil.weight")!.abs().max().item<float>() <= 1 / Math.Sqrt(3));
        }
    }

    [Fact]
    public void Other_schemes_on_a_listed_recurrent_layer_are_still_written_like_a_Linear()
    {
        using var scope = NewDisposeScope();
        var lstm = nn.LSTM(5, 4);
        var report = lstm.ApplyInit(InitScheme.HeNormal, new InitOptions { Seed = 1, LayerTypes = [typeof(LSTM)] });
        Assert.Equal("HeNormal", report["weight_ih_l0"].Scheme);
    }

    private static nn.Module LayerDefaultCase(string name, bool biasKv = true) => name switch
    {
        "MultiheadAttention" => nn.MultiheadAttention(16, 2, add_bias_kv: biasKv),   // bias_k, bias_v: PyTorch's rule whatever the policy
        "TransformerEncoderLayer" => nn.TransformerEncoderLayer(16, 2, 32),
        _ => nn.Embedding(10, 8, padding_idx: 2),
    };

    private static InitReport ApplyLayerDefault(nn.Module m, InitScheme scheme, long seed) =>
        m.ApplyInit(scheme, new InitOptions { Seed = seed, LayerTypes = m is Embedding ? [typeof(Embedding)] : null });

    [Theory]
    [InlineData("MultiheadAttention")]
    [InlineData("TransformerEncoderLayer")]
    [InlineData("Embedding")]
    public void Parsed_TorchDefault_is_TorchDefault_on_every_layer(string name)
    {
        // The scheme is recognised by what it is, not by its numbers: the parsed name is the same scheme, the layer's own
        // PyTorch default (_reset_parameters, Embedding's N(0, 1)), bit for bit and with the same report.
        using var scope = NewDisposeScope();
        torch.random.manual_seed(3);
        var a = LayerDefaultCase(name);
        torch.random.manual_seed(3);
        var b = LayerDefaultCase(name);
        var ra = ApplyLayerDefault(a, InitScheme.TorchDefault, 7);
        var rb = ApplyLayerDefault(b, InitScheme.Parse("TorchDefault"), 7);
        Assert.Equal(ra.ToString(), rb.ToString());
        var pb = b.named_parameters().ToDictionary(p => p.name, p => p.parameter.bytes.ToArray());
        foreach (var (n, p) in a.named_parameters())
            Assert.True(pb[n].SequenceEqual(p.bytes.ToArray()), $"{name}: {n} differs between TorchDefault and Parse(\"TorchDefault\")");
        string expected = name == "Embedding" ? "PyTorch's default Embedding init" : "_reset_parameters";
        Assert.Contains(ra.Rows, r => r.Reason.Contains(expected, StringComparison.Ordinal));
        Assert.NotEmpty(ra.Decisions);
    }

    [Theory]
    [InlineData("MultiheadAttention")]
    [InlineData("TransformerEncoderLayer")]
    [InlineData("Embedding")]
    public void TorchDefault_with_another_nonlinearity_is_not_the_layer_default(string name)
    {
        // TorchDefault.WithNonlinearity(Relu) is a variance-scaling scheme like any other (kaiming_uniform_ for relu), not
        // "each layer's PyTorch default": no _reset_parameters rule, the stacked q, k, v drawn per block, the embedding by fans.
        using var scope = NewDisposeScope();
        var scheme = InitScheme.TorchDefault.WithNonlinearity(Nonlinearity.Relu);
        var m = LayerDefaultCase(name, biasKv: false);
        var report = ApplyLayerDefault(m, scheme, 7);
        Assert.DoesNotContain(report.Rows, r => r.Reason.Contains("_reset_parameters", StringComparison.Ordinal)
                                               || r.Reason.Contains("PyTorch's default", StringComparison.Ordinal));
        Assert.Empty(report.Decisions);
        if (name == "MultiheadAttention") Assert.Contains("3 blocks", report["in_proj_weight"].Note);
        if (name == "Embedding")
        {
            Assert.Equal("uniform", report["weight"].Distribution, ignoreCase: true);
            Assert.NotEqual(ApplyLayerDefault(LayerDefaultCase(name), InitScheme.TorchDefault, 7)["weight"].Distribution, report["weight"].Distribution);
        }
        // The same numbers as TorchDefault keep it the layer default (a copy that changed nothing).
        var same = InitScheme.TorchDefault.WithNonlinearity(Nonlinearity.LeakyRelu, Math.Sqrt(5));
        var sameReport = ApplyLayerDefault(LayerDefaultCase(name, biasKv: false), same, 7);
        Assert.NotEmpty(sameReport.Decisions);
    }

    [Fact]
    public void Only_TorchDefault_and_copies_that_keep_its_numbers_are_the_layer_default()
    {
        var torchDefault = (VarianceScalingScheme)InitScheme.TorchDefault;
        Assert.True(torchDefault.IsLayerDefault);
        Assert.True(InitScheme.Parse("TorchDefault").IsLayerDefault);
        Assert.True(InitScheme.Parse(InitScheme.TorchDefault.ToString()).IsLayerDefault);
        Assert.True((torchDefault with { DisplayName = "Mine" }).IsLayerDefault);
        Assert.True((torchDefault with { BiasDefault = BiasInit.TorchDefault }).IsLayerDefault);
        Assert.False(InitScheme.TorchDefault.WithNonlinearity(Nonlinearity.Relu).IsLayerDefault);
        Assert.False(InitScheme.Parse("TorchDefault(nonlinearity=relu)").IsLayerDefault);
        Assert.False((torchDefault with { BiasDefault = BiasInit.Zeros }).IsLayerDefault);
        Assert.False((torchDefault with { Scale = 2 }).IsLayerDefault);
        Assert.False((torchDefault with { Mode = FanMode.FanOut }).IsLayerDefault);
        Assert.False((torchDefault with { Distribution = Distribution.Normal }).IsLayerDefault);
        Assert.False((torchDefault with { NegativeSlope = 0.2 }).IsLayerDefault);
        // The same numbers built by hand are an ordinary variance-scaling scheme (equal by value, but not TorchDefault).
        var byHand = new VarianceScalingScheme(1.0, FanMode.FanIn, Distribution.Uniform, Nonlinearity.LeakyRelu, Math.Sqrt(5)) { BiasDefault = BiasInit.TorchDefault };
        Assert.Equal(InitScheme.TorchDefault, byHand);
        Assert.False(byHand.IsLayerDefault);
        foreach (var s in InitScheme.Named.Where(n => !ReferenceEquals(n, InitScheme.TorchDefault)))
            Assert.False(s.IsLayerDefault, s.Name);
    }
}
