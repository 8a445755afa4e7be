using TorchInit.Fast;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>
/// <see cref="DrawEngine.Fast"/> through <c>ApplyInit</c>, checked like the exact mode: Kolmogorov–Smirnov against the
/// scheme's distribution (p &gt; 1e-4), moments, bounds, the report; plus what the fast generator promises:
/// determinism for any thread count, different seeds and parameters giving independent streams, the fused statistics,
/// and every floating dtype and layout.
/// </summary>
[Collection(SerialTorchCollection.Name)]
public class FastModeTests
{
    private const double PMin = 1e-4;

    private static InitOptions Fast(long? seed = 7, int? threads = null, bool measure = false) =>
        new() { Engine = DrawEngine.Fast, Seed = seed, MaxDegreeOfParallelism = threads, MeasureRealized = measure };

    public static IEnumerable<object[]> Cases() =>
        from scheme in new[] { "HeNormal", "GlorotUniform", "LeCunTruncatedNormal", "TorchDefault", "Normal", "Uniform" }
        from dtype in new[] { ScalarType.Float32, ScalarType.Float64 }
        select new object[] { scheme, dtype };

    private static InitScheme SchemeOf(string name) => name switch
    {
        "Normal" => InitScheme.Normal(0.5, 0.02),
        "Uniform" => InitScheme.Uniform(-0.2, 0.6),
        _ => InitScheme.Parse(name),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Fast_draws_follow_the_scheme(string name, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var layer = nn.Linear(500, 400, dtype: dtype);
        var scheme = SchemeOf(name);
        var report = layer.ApplyInit(scheme, Fast(seed: 99, measure: true));
        var row = report["weight"];
        var xs = Stats.Values(layer.weight!);
        int n = xs.Length;
        Func<double, double> cdf;
        double mean = 0, std = row.TargetStd, bound = row.Bound;
        switch (row.Distribution)
        {
            case "normal":
                mean = name == "Normal" ? 0.5 : 0;
                cdf = x => Stats.NormalCdf(x, mean, std);
                break;
            case "uniform":
                double lo = name == "Uniform" ? -0.2 : -bound, hi = name == "Uniform" ? 0.6 : bound;
                mean = (lo + hi) / 2;
                cdf = x => Stats.UniformCdf(x, lo, hi);
                Assert.All(xs, x => Assert.InRange(x, lo - 1e-7 * Math.Abs(lo), hi + 1e-7 * Math.Abs(hi)));
                break;
            default:
                double s = std / Stats.TruncatedUnitStd;
                cdf = x => Stats.TruncatedNormalCdf(x, 0, s, -2 * s, 2 * s);
                Assert.All(xs, x => Assert.InRange(x, -2 * s * (1 + 1e-6), 2 * s * (1 + 1e-6)));
                break;
        }
        var (d, p) = Stats.KolmogorovSmirnov(xs, cdf);
        Assert.True(p > PMin, $"{name} {dtype}: KS D = {d:E3}, p = {p:E3}");

        // Moments: mean within 5 standard errors, std within 1%.
        double m = Stats.Mean(xs), sd = Stats.Std(xs);
        Assert.True(Math.Abs(m - mean) < 5 * std / Math.Sqrt(n), $"mean {m} vs {mean}");
        Assert.True(Math.Abs(sd / std - 1) < 0.01, $"std {sd} vs {std}");
        if (row.Distribution == "normal")
        {
            double skew = xs.Sum(x => Math.Pow((x - m) / sd, 3)) / n, kurt = xs.Sum(x => Math.Pow((x - m) / sd, 4)) / n - 3;
            Assert.True(Math.Abs(skew) < 5 * Math.Sqrt(6.0 / n), $"skewness {skew}");
            Assert.True(Math.Abs(kurt) < 5 * Math.Sqrt(24.0 / n), $"excess kurtosis {kurt}");
        }

        // The fused statistics are the statistics of the stored values.
        Assert.True(Math.Abs(row.RealizedMean - m) < 1e-6 * std, $"realized mean {row.RealizedMean} vs {m}");
        Assert.True(Stats.Close(sd, row.RealizedStd, 1e-6), $"realized std {row.RealizedStd} vs {sd}");

        // float64 draws use double precision: most values are not float32 numbers.
        if (dtype == ScalarType.Float64)
            Assert.True(xs.Count(x => (double)(float)x != x) > n * 0.99);

        // The bias: zeros, or U(±1/√fan_in) for TorchDefault.
        var bs = Stats.Values(layer.bias!);
        if (name == "TorchDefault")
        {
            double b = 1 / Math.Sqrt(500);
            Assert.All(bs, x => Assert.InRange(x, -b, b));
            Assert.True(Stats.Std(bs) > 0.3 * b);
        }
        else Assert.All(bs, x => Assert.Equal(0.0, x));
    }

    [Theory]
    [InlineData(ScalarType.Float32, "TruncatedNormal")]
    [InlineData(ScalarType.Float64, "TruncatedNormal")]
    [InlineData(ScalarType.Float32, "HeTruncatedNormal")]
    [InlineData(ScalarType.Float64, "HeTruncatedNormal")]
    public void Fast_truncated_normal_never_leaves_its_bounds_on_a_large_draw(ScalarType dtype, string name)
    {
        // 2²³ elements, about 380K of them past ±2σ before truncation (float32: rejected and redrawn; float64: the inverse
        // CDF's tails): every one within [a, b] in the tensor's precision, none piled up on a bound (a clamp hiding values
        // drawn outside would put thousands there), and the truncated normal's std, so the bound is met by the draw itself.
        using var scope = NewDisposeScope();
        const long rows = 2048, cols = 4096;
        const double mean = 0.3, std = 0.7;
        var t = empty(rows, cols, dtype);
        var scheme = name == "TruncatedNormal" ? InitScheme.TruncatedNormal(std: std, mean: mean, a: mean - 2 * std, b: mean + 2 * std) : InitScheme.HeTruncatedNormal;
        var row = t.ApplyInit(scheme, Fast(seed: 31))["tensor"];
        double center = name == "TruncatedNormal" ? mean : 0;
        double sigma = name == "TruncatedNormal" ? std : Math.Sqrt(2.0 / cols) / Stats.TruncatedUnitStd;   // before truncation
        double a = center - 2 * sigma, b = center + 2 * sigma;
        Assert.True(Math.Abs(row.Bound - 2 * sigma) < 1e-12 * sigma, $"bound {row.Bound:R}, expected {2 * sigma:R}");
        // The bounds as the tensor's dtype holds them.
        double lo = dtype == ScalarType.Float32 ? (float)a : a, hi = dtype == ScalarType.Float32 ? (float)b : b;
        using var x = t.to_type(ScalarType.Float64);
        double min = x.min().item<double>(), max = x.max().item<double>();
        Assert.True(min >= lo, $"{name} {dtype}: min {min:R} below a = {lo:R}");
        Assert.True(max <= hi, $"{name} {dtype}: max {max:R} above b = {hi:R}");
        // The draw reaches the bounds: about 50 of 2²³ values lie within 10⁻⁴σ of each (a cut drawn inside [a, b] would not).
        Assert.True(min < a + 1e-4 * sigma && max > b - 1e-4 * sigma, $"{name} {dtype}: [{min:R}, {max:R}] does not reach [{a:R}, {b:R}]");
        // And nothing piles up at the extremes (a clamp catching values drawn outside would put thousands on one value).
        long atMin = x.eq(min).sum().item<long>(), atMax = x.eq(max).sum().item<long>();
        Assert.True(atMin <= 8 && atMax <= 8, $"{name} {dtype}: {atMin} values at the minimum {min:R}, {atMax} at the maximum {max:R}");
        double sd = x.std().item<double>(), expected = Stats.SymmetricTruncatedNormalStd(sigma, 2);
        Assert.True(Math.Abs(sd / expected - 1) < 2e-3, $"{name} {dtype}: std {sd:R}, truncated normal {expected:R}");
        Assert.True(Math.Abs(x.mean().item<double>() - center) < 5 * expected / Math.Sqrt(rows * cols), $"{name} {dtype}: mean {x.mean().item<double>():R}");
    }

    private static Sequential Model(ScalarType dtype = ScalarType.Float32) => nn.Sequential(
        ("a", nn.Linear(300, 700, dtype: dtype)), ("r", nn.ReLU()),
        ("b", nn.Linear(700, 300, dtype: dtype)),
        ("c", nn.Conv2d(3, 64, 5, dtype: dtype)));

    private static byte[] Bits(Tensor t) => t.detach().cpu().contiguous().bytes.ToArray();

    [Theory]
    [InlineData("HeNormal")]
    [InlineData("GlorotUniform")]
    [InlineData("HeTruncatedNormal")]
    [InlineData("TorchDefault")]
    public void Same_seed_gives_the_same_bits_for_any_thread_count(string name)
    {
        using var scope = NewDisposeScope();
        var scheme = InitScheme.Parse(name);
        var one = Model();
        var two = Model();
        var many = Model();
        one.ApplyInit(scheme, Fast(threads: 1));
        two.ApplyInit(scheme, Fast(threads: 2));
        many.ApplyInit(scheme, Fast(threads: 7));
        foreach (var ((n, p1), (_, p2), (_, p3)) in one.named_parameters().Zip(two.named_parameters(), many.named_parameters()))
        {
            Assert.True(Bits(p1).SequenceEqual(Bits(p2)), $"{n}: 1 vs 2 threads");
            Assert.True(Bits(p1).SequenceEqual(Bits(p3)), $"{n}: 1 vs 7 threads");
        }
    }

    private static double Correlation(double[] a, double[] b)
    {
        double ma = Stats.Mean(a), mb = Stats.Mean(b), sab = 0, saa = 0, sbb = 0;
        for (int i = 0; i < a.Length; i++) { sab += (a[i] - ma) * (b[i] - mb); saa += (a[i] - ma) * (a[i] - ma); sbb += (b[i] - mb) * (b[i] - mb); }
        return sab / Math.Sqrt(saa * sbb);
    }

    [Fact]
    public void Different_seeds_and_different_parameters_get_independent_streams()
    {
        using var scope = NewDisposeScope();
        // Two same-shaped weights in one call draw from streams 0 and 1 (zero biases draw nothing).
        var m = nn.Sequential(("a", nn.Linear(400, 400)), ("b", nn.Linear(400, 400)));
        m.ApplyInit(InitScheme.HeNormal, Fast(seed: 1));
        var a = Stats.Values(((Linear)m[0]).weight!);
        var b = Stats.Values(((Linear)m[1]).weight!);
        Assert.NotEqual(a, b);
        double limit = 5 / Math.Sqrt(a.Length);
        Assert.True(Math.Abs(Correlation(a, b)) < limit, $"parameters correlated: {Correlation(a, b)}");

        var again = nn.Sequential(("a", nn.Linear(400, 400)), ("b", nn.Linear(400, 400)));
        again.ApplyInit(InitScheme.HeNormal, Fast(seed: 2));
        var c = Stats.Values(((Linear)again[0]).weight!);
        Assert.NotEqual(a, c);
        Assert.True(Math.Abs(Correlation(a, c)) < limit, $"seeds correlated: {Correlation(a, c)}");

        // Box–Muller partners (elements e and e + 16 of a group) and neighbours are uncorrelated too.
        var pairs0 = Enumerable.Range(0, a.Length / 64).SelectMany(g => Enumerable.Range(0, 16).Select(p => a[64 * g + p])).ToArray();
        var pairs1 = Enumerable.Range(0, a.Length / 64).SelectMany(g => Enumerable.Range(0, 16).Select(p => a[64 * g + 16 + p])).ToArray();
        Assert.True(Math.Abs(Correlation(pairs0, pairs1)) < 5 / Math.Sqrt(pairs0.Length));
        Assert.True(Math.Abs(Correlation(a[..^1], a[1..])) < limit);
        // And squares of partners (a dependence a correlation of values would miss).
        Assert.True(Math.Abs(Correlation(pairs0.Select(x => x * x).ToArray(), pairs1.Select(x => x * x).ToArray())) < 5 / Math.Sqrt(pairs0.Length));
    }

    [Fact]
    public void Same_seed_repeats_and_unseeded_calls_follow_the_global_seed()
    {
        using var scope = NewDisposeScope();
        var t1 = empty(300, 200);
        var t2 = empty(300, 200);
        t1.ApplyInit(InitScheme.GlorotUniform, Fast(seed: 5));
        t2.ApplyInit(InitScheme.GlorotUniform, Fast(seed: 5));
        Assert.Equal(Bits(t1), Bits(t2));

        torch.manual_seed(11);
        t1.ApplyInit(InitScheme.HeNormal, Fast(seed: null));
        var after = torch.rand(1).item<float>();
        torch.manual_seed(11);
        t2.ApplyInit(InitScheme.HeNormal, Fast(seed: null));
        Assert.Equal(Bits(t1), Bits(t2));
        Assert.Equal(after, torch.rand(1).item<float>());   // the global generator advanced the same way

        using var g1 = new Generator(3);
        using var g2 = new Generator(3);
        t1.ApplyInit(InitScheme.HeNormal, new InitOptions { Engine = DrawEngine.Fast, Generator = g1 });
        t2.ApplyInit(InitScheme.HeNormal, new InitOptions { Engine = DrawEngine.Fast, Generator = g2 });
        Assert.Equal(Bits(t1), Bits(t2));
    }

    [Theory]
    [InlineData(ScalarType.Float16)]
    [InlineData(ScalarType.BFloat16)]
    public void Half_precision_parameters_get_the_float32_values_rounded(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        var reference = empty(FastFill.StagingElements + 333);
        var half = empty(FastFill.StagingElements + 333, dtype: dtype);
        var opts = Fast(seed: 21);
        reference.ApplyInit(InitScheme.Normal(0.5), opts);
        half.ApplyInit(InitScheme.Normal(0.5), opts with { MeasureRealized = true });
        Assert.Equal(Bits(reference.to_type(dtype)), Bits(half));
    }

    [Fact]
    public void Non_contiguous_parameters_get_the_values_of_a_contiguous_one_in_logical_order()
    {
        using var scope = NewDisposeScope();
        var contiguous = empty(130, 70);
        var transposed = empty(70, 130).t();   // shape [130, 70], not contiguous
        Assert.False(transposed.is_contiguous());
        contiguous.ApplyInit(InitScheme.HeUniform, Fast(seed: 8));
        var report = transposed.ApplyInit(InitScheme.HeUniform, Fast(seed: 8, measure: true));
        Assert.Equal(Bits(contiguous), Bits(transposed));
        Assert.True(Stats.Close(Stats.Std(Stats.Values(transposed)), report["tensor"].RealizedStd, 1e-6)); // measured by libtorch in float32
    }

    [Fact]
    public void Fast_mode_bumps_the_version_counter_like_an_in_place_fill()
    {
        using var scope = NewDisposeScope();
        var w = nn.Parameter(torch.ones(64, 64));
        var y = (w * w).sum();        // saves w for backward
        var probe = nn.Linear(64, 64);
        probe.weight = w;
        probe.ApplyInit(InitScheme.HeNormal, Fast());
        Assert.ThrowsAny<Exception>(() => y.backward());
    }

    [Fact]
    public void Realized_statistics_are_off_by_default_and_free_in_fast_mode()
    {
        using var scope = NewDisposeScope();
        Assert.False(new InitOptions().MeasureRealized);
        var layer = nn.Linear(200, 100);
        var exact = layer.ApplyInit(InitScheme.HeNormal, new InitOptions { Seed = 1 });
        Assert.True(double.IsNaN(exact["weight"].RealizedStd) && double.IsNaN(exact["weight"].RealizedMean));
        var fast = layer.ApplyInit(InitScheme.HeNormal, Fast());
        Assert.True(double.IsNaN(fast["weight"].RealizedStd));
        var measured = layer.ApplyInit(InitScheme.HeNormal, Fast(measure: true));
        Assert.True(Stats.Close(Stats.Std(Stats.Values(layer.weight!)), measured["weight"].RealizedStd, 1e-6));
        var zeros = measured["bias"];
        Assert.Equal(0.0, zeros.RealizedStd);
        Assert.Equal(0.0, zeros.RealizedMean);
    }

    [Fact]
    public void Exact_mode_is_unchanged_by_the_new_options()
    {
        using var scope = NewDisposeScope();
        var a = nn.Linear(50, 40);
        var b = nn.Linear(50, 40);
        a.ApplyInit(InitScheme.HeTruncatedNormal, new InitOptions { Seed = 4 });
        b.ApplyInit(InitScheme.HeTruncatedNormal, new InitOptions { Seed = 4, Engine = DrawEngine.Exact, MaxDegreeOfParallelism = 1, MeasureRealized = true });
        Assert.Equal(Bits(a.weight!), Bits(b.weight!));
        Assert.Throws<ArgumentException>(() => a.ApplyInit(InitScheme.HeNormal, new InitOptions { MaxDegreeOfParallelism = 0 }));
    }
}
