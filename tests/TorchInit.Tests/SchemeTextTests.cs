namespace TorchInit.Tests;

/// <summary>One parser for scheme names: every scheme's text reads back to an equal scheme; PyTorch's and Keras's names mean theirs.</summary>
public class SchemeTextTests
{
    private static InitScheme RandomScheme(Random r)
    {
        double Num() => Math.Round(r.NextDouble() * 4 - 2, r.Next(0, 16));
        Nonlinearity nl = (Nonlinearity)r.Next(0, 6);
        double? slope = nl == Nonlinearity.LeakyRelu && r.Next(2) == 0 ? Num() : null;
        switch (r.Next(0, 10))
        {
            case 7: return r.Next(2) == 0 ? InitScheme.Eye : InitScheme.Dirac(r.Next(1, 5));
            case 8: return InitScheme.Sparse(Math.Round(r.NextDouble(), r.Next(0, 16)), Math.Abs(Num()));
            case 9: return InitScheme.DeltaOrthogonal.WithNonlinearity(nl, slope);
            case 0: return InitScheme.VarianceScaling(Math.Abs(Num()) + 1e-3, (FanMode)r.Next(0, 3), (Distribution)r.Next(0, 3), nl, slope);
            case 1: return InitScheme.Named[r.Next(InitScheme.Named.Count)] is var n && !double.IsNaN(n.Gain) ? n.WithNonlinearity(nl, slope) : n;
            case 2: return InitScheme.Normal(Num(), Math.Abs(Num()) + 1e-3);
            case 3: { double a = Num(), b = Num(); return InitScheme.Uniform(Math.Min(a, b), Math.Max(a, b)); }
            case 4: return InitScheme.Constant(Num());
            case 5: return InitScheme.Orthogonal.WithNonlinearity(nl, slope);
            default: return InitScheme.Named[r.Next(InitScheme.Named.Count)];
        }
    }

    [Fact]
    public void Every_scheme_reads_back_from_its_text_to_an_equal_scheme()
    {
        var r = new Random(20261130);
        for (int i = 0; i < 2000; i++)
        {
            var scheme = RandomScheme(r);
            var text = scheme.ToString();
            var back = InitScheme.Parse(text);
            Assert.True(scheme == back, $"{text} read back as {back}");
            Assert.Equal(text, back.ToString());
            Assert.Equal(scheme.Gain, back.Gain);
        }
    }

    [Fact]
    public void Texts_name_parameters_nonlinearity_and_slope()
    {
        Assert.Equal("HeNormal", InitScheme.HeNormal.ToString());
        Assert.Equal("GlorotUniform(nonlinearity=tanh)", InitScheme.GlorotUniform.WithNonlinearity(Nonlinearity.Tanh).ToString());
        Assert.Equal("HeNormal(nonlinearity=leaky_relu, slope=0.2)", InitScheme.HeNormal.WithNonlinearity(Nonlinearity.LeakyRelu, 0.2).ToString());
        Assert.Equal("Normal(0, 0.01)", InitScheme.Normal(0.01).ToString());
        Assert.Equal("VarianceScaling(scale=2, mode=fan_out, distribution=truncated_normal)",
            InitScheme.VarianceScaling(2, FanMode.FanOut, Distribution.TruncatedNormal).ToString());
        // The report keeps the short name: the gain has its own column.
        Assert.Equal("GlorotUniform", InitScheme.GlorotUniform.WithNonlinearity(Nonlinearity.Tanh).Name);
    }

    [Theory]
    [InlineData("kaiming_normal", "HeNormal")]
    [InlineData("kaiming-uniform", "HeUniform")]
    [InlineData("xavier_normal", "GlorotNormal")]
    [InlineData("he_normal", "HeTruncatedNormal")]
    [InlineData("glorot_normal", "GlorotTruncatedNormal")]
    [InlineData("lecun_normal", "LeCunTruncatedNormal")]
    [InlineData("glorot_uniform", "GlorotUniform")]
    [InlineData("lecun_uniform", "LeCunUniform")]
    [InlineData("ones", "Ones")]
    [InlineData("truncated-normal-nope", null)]
    [InlineData("normal(0.01)", "Normal(0, 0.01)")]
    [InlineData("normal(mean=1, std=0.5)", "Normal(1, 0.5)")]
    [InlineData("random_normal(stddev=0.05)", "Normal(0, 0.05)")]
    [InlineData("random_uniform", "Uniform(-0.05, 0.05)")]
    [InlineData("uniform(-0.1, 0.1)", "Uniform(-0.1, 0.1)")]
    [InlineData("constant(0.5)", "Constant(0.5)")]
    [InlineData("variance_scaling(scale=2)", "VarianceScaling(scale=2, mode=fan_in, distribution=truncated_normal)")]
    [InlineData("orthogonal(nonlinearity=relu)", "Orthogonal(nonlinearity=relu)")]
    [InlineData("identity", "Eye")]
    [InlineData("dirac(groups=2)", "Dirac(groups=2)")]
    [InlineData("sparse(0.9)", "Sparse(0.9, 0.01)")]
    [InlineData("DeltaOrthogonal(nonlinearity=relu)", "DeltaOrthogonal(nonlinearity=relu)")]
    public void PyTorch_names_mean_PyTorch_and_Keras_names_mean_Keras(string text, string? expected)
    {
        if (expected is null)
        {
            Assert.Throws<ArgumentException>(() => InitScheme.Parse(text));
            return;
        }
        Assert.Equal(expected, InitScheme.Parse(text).ToString());
    }

    [Theory]
    [InlineData("lecun_normal")]
    [InlineData("lecun-normal")]
    [InlineData("LECUN_NORMAL")]
    public void Keras_lecun_normal_means_Keras_truncated_normal_with_std_one_over_root_fan_in(string text)
    {
        // Keras: LecunNormal = VarianceScaling(scale=1.0, mode="fan_in", distribution="truncated_normal"): a normal of
        // stddev √(1/fan_in) / 0.87962566103423978 cut at two of those stddevs, so the result has std √(1/fan_in).
        // Not only the name: the scheme's value, the fill it plans, and what it draws.
        using var scope = TorchSharp.torch.NewDisposeScope();
        var scheme = InitScheme.Parse(text);
        Assert.Equal(InitScheme.LeCunTruncatedNormal, scheme);
        Assert.Equal(InitScheme.VarianceScaling(1, FanMode.FanIn, Distribution.TruncatedNormal), scheme);   // equality ignores the name
        Assert.NotEqual(InitScheme.LeCunNormal, scheme);
        Assert.Equal(1.0, scheme.Gain);

        const long fanIn = 400;
        var t = TorchSharp.torch.empty(300, fanIn, TorchSharp.torch.ScalarType.Float64);
        var row = t.ApplyInit(scheme, new InitOptions { Seed = 12, MeasureRealized = true })["tensor"];
        double sigma = 1 / Math.Sqrt(fanIn), cut = 2 * sigma / Stats.TruncatedUnitStd;
        Assert.Equal("truncated normal", row.Distribution);
        Assert.Equal(fanIn, row.FanIn);
        Assert.True(Math.Abs(row.TargetStd - sigma) < 1e-15, $"target std {row.TargetStd:R}, expected {sigma:R}");
        Assert.True(Math.Abs(row.Bound - cut) < 1e-12 * cut, $"bound {row.Bound:R}, expected {cut:R}");
        var xs = Stats.Values(t);
        Assert.All(xs, x => Assert.InRange(x, -cut, cut));
        Assert.True(Math.Abs(Stats.Std(xs) - sigma) < 0.01 * sigma, $"std {Stats.Std(xs)}, Keras's {sigma}");
        var (_, p) = Stats.KolmogorovSmirnov(xs, x => Stats.TruncatedNormalCdf(x, 0, sigma / Stats.TruncatedUnitStd, -cut, cut));
        Assert.True(p > 1e-4, $"not the truncated normal: KS p = {p:E3}");
    }

    [Theory]
    [InlineData("kaiming_normal(mode=fan_out, nonlinearity=relu)", FanMode.FanOut, Nonlinearity.Relu, 0.0, true)]   // torchvision's ResNet init
    [InlineData("kaiming_uniform(a=2.23606797749979)", FanMode.FanIn, Nonlinearity.LeakyRelu, 2.23606797749979, false)]
    [InlineData("kaiming_normal(a=0.2, mode=fan_in, nonlinearity=leaky_relu)", FanMode.FanIn, Nonlinearity.LeakyRelu, 0.2, true)]
    [InlineData("kaiming-uniform(nonlinearity=tanh, mode=fan_out)", FanMode.FanOut, Nonlinearity.Tanh, 0.0, false)]
    public void PyTorch_kaiming_arguments_mean_PyTorchs(string text, FanMode mode, Nonlinearity nonlinearity, double a, bool normal)
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        var scheme = InitScheme.Parse(text);
        Assert.Equal(scheme, InitScheme.Parse(scheme.ToString()));
        var expected = TorchSharp.torch.empty(16, 6, 3, 3);
        var actual = TorchSharp.torch.empty(16, 6, 3, 3);
        using (var g = new TorchSharp.torch.Generator(5))
            if (normal) Init.KaimingNormal(expected, a, mode, nonlinearity, g); else Init.KaimingUniform(expected, a, mode, nonlinearity, g);
        actual.ApplyInit(scheme, new InitOptions { Seed = 5 });
        Assert.Equal(expected.bytes.ToArray(), actual.bytes.ToArray());
        Assert.Throws<ArgumentException>(() => InitScheme.Parse("kaiming_normal(mode=fan_avg)"));
        Assert.Throws<ArgumentException>(() => InitScheme.Parse("kaiming_normal(b=1)"));
    }

    [Fact]
    public void VarianceScaling_rejects_undefined_modes_and_distributions()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => InitScheme.VarianceScaling(1, (FanMode)9, Distribution.Normal));
        Assert.Throws<ArgumentOutOfRangeException>(() => InitScheme.VarianceScaling(1, FanMode.FanIn, (Distribution)9));
        Assert.Throws<ArgumentOutOfRangeException>(() => InitScheme.VarianceScaling(1, FanMode.FanIn, Distribution.Normal, (Nonlinearity)9));
    }

    [Theory]
    [InlineData("HeNormal(slope=nan)")]
    [InlineData("HeNormal(gain=2)")]
    [InlineData("Normal(1, 2, 3)")]
    [InlineData("Normal(std=-1)")]
    [InlineData("Uniform(1, 0)")]
    [InlineData("VarianceScaling(scale=0)")]
    [InlineData("VarianceScaling(mode=sideways)")]
    [InlineData("HeNormal(")]
    [InlineData("Normal(std=1, std=2)")]
    [InlineData("Sparse(1.5)")]
    [InlineData("Dirac(0)")]
    [InlineData("Dirac(1.5)")]
    public void Bad_arguments_are_an_ArgumentException_that_says_which(string text) =>
        Assert.Throws<ArgumentException>(() => InitScheme.Parse(text));
}

/// <summary>The schemes added as one file each (eye_, dirac_, sparse_, delta-orthogonal) work through the whole path: policy, plan, report.</summary>
[Collection(SerialTorchCollection.Name)]
public class NewSchemeTests
{
    [Fact]
    public void A_deep_plain_cnn_gets_delta_orthogonal_kernels_through_ApplyInit_and_keeps_the_norm()
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        var layers = Enumerable.Range(0, 8).Select(i => ((string, TorchSharp.torch.nn.Module<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor>))($"c{i}", TorchSharp.torch.nn.Conv2d(16, 16, 3, padding: 1))).ToArray();
        var net = TorchSharp.torch.nn.Sequential(layers);
        var report = net.ApplyInit(InitScheme.DeltaOrthogonal, new InitOptions { Seed = 4 });
        Assert.All(report.Rows.Where(r => r.Parameter == "weight"), r => Assert.Equal("delta orthogonal", r.Distribution));
        Assert.Equal(Math.Sqrt(16.0 / (16 * 16 * 9)), report["c0.weight"].TargetStd, 12);
        // A delta-orthogonal convolution with zero bias is an orthogonal map at every pixel away from the border: the norm is kept through depth.
        using var x = TorchSharp.torch.randn(1, 16, 1, 1);
        using var y = net.call(x);
        Assert.Equal(x.norm().item<float>(), y.norm().item<float>(), 3);
    }

    [Fact]
    public void Eye_dirac_and_sparse_plan_and_report_like_any_scheme_and_reject_wrong_shapes_before_writing()
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        var lin = TorchSharp.torch.nn.Linear(6, 6);
        Assert.Equal("eye", lin.ApplyInit(InitScheme.Eye)["weight"].Distribution);
        Assert.Equal(Stats.Values(TorchSharp.torch.eye(6)), Stats.Values(lin.weight!));
        var sparse = lin.ApplyInit(InitScheme.Sparse(0.5, 0.1), new InitOptions { Seed = 1 })["weight"];
        Assert.Equal("Sparse(0.5, 0.1)", sparse.Scheme);
        Assert.Equal(18, Stats.Values(lin.weight!).Count(v => v == 0));   // ⌈0.5 · 6⌉ = 3 zeros in each of 6 columns
        var conv = TorchSharp.torch.nn.Conv1d(4, 8, 3, groups: 2);
        var before = Stats.Values(conv.weight!);
        var e = Assert.Throws<ArgumentException>(() => TorchSharp.torch.nn.Sequential(("conv", conv), ("fc", TorchSharp.torch.nn.Linear(8, 8))).ApplyInit(InitScheme.Dirac(3)));
        Assert.Contains("divisible by groups", e.Message);
        Assert.Equal(before, Stats.Values(conv.weight!));
        Assert.Throws<ArgumentException>(() => TorchSharp.torch.nn.Sequential(("conv", conv)).ApplyInit(InitScheme.Eye));
        Assert.Equal(before, Stats.Values(conv.weight!));
        conv.ApplyInit(InitScheme.Dirac(2));
        Assert.Equal(4, Stats.Values(conv.weight!).Count(v => v == 1));   // 2 groups × min(8/2, in/groups = 2)
    }
}
