using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>
/// Small statistics toolkit for the distribution tests: one-sample Kolmogorov–Smirnov test and the CDFs
/// of the distributions TorchInit draws from (normal, uniform, truncated normal).
/// </summary>
internal static class Stats
{
    /// <summary>Standard deviation of N(0, 1) truncated to [−2, 2], written out independently of the library.</summary>
    public const double TruncatedUnitStd = 0.87962566103423978;

    /// <summary>Φ((x − mean) / std), with the C library's erf (through TorchInit's <c>ExactSampling.Erf</c>).</summary>
    public static double NormalCdf(double x, double mean = 0.0, double std = 1.0) =>
        0.5 * (1.0 + ExactSampling.Erf((x - mean) / (std * Math.Sqrt(2.0))));

    /// <summary>Standard normal density.</summary>
    public static double NormalPdf(double x) => Math.Exp(-0.5 * x * x) / Math.Sqrt(2 * Math.PI);

    /// <summary>CDF of U(low, high).</summary>
    public static double UniformCdf(double x, double low, double high) =>
        x <= low ? 0.0 : x >= high ? 1.0 : (x - low) / (high - low);

    /// <summary>CDF of N(mean, std²) truncated to [a, b].</summary>
    public static double TruncatedNormalCdf(double x, double mean, double std, double a, double b)
    {
        if (x <= a) return 0.0;
        if (x >= b) return 1.0;
        double lo = NormalCdf(a, mean, std), hi = NormalCdf(b, mean, std);
        return Math.Clamp((NormalCdf(x, mean, std) - lo) / (hi - lo), 0.0, 1.0);
    }

    /// <summary>Standard deviation of N(0, σ²) truncated to [−kσ, kσ], from the closed form.</summary>
    public static double SymmetricTruncatedNormalStd(double sigma, double k)
    {
        double z = 2 * NormalCdf(k) - 1;
        return sigma * Math.Sqrt(1 - 2 * k * NormalPdf(k) / z);
    }

    /// <summary>
    /// One-sample Kolmogorov–Smirnov test of <paramref name="sample"/> against <paramref name="cdf"/>:
    /// D = sup |F_n − F| and its p-value Q_KS((√n + 0.12 + 0.11/√n)·D).
    /// </summary>
    public static (double D, double P) KolmogorovSmirnov(IReadOnlyList<double> sample, Func<double, double> cdf)
    {
        if (sample.Count == 0) throw new ArgumentException("empty sample", nameof(sample));
        var xs = sample.ToArray();
        Array.Sort(xs);
        int n = xs.Length;
        double d = 0;
        for (int i = 0; i < n; i++)
        {
            double f = cdf(xs[i]);
            double above = (i + 1.0) / n - f, below = f - (double)i / n;
            d = Math.Max(d, Math.Max(above, below));
        }
        double sn = Math.Sqrt(n);
        return (d, KolmogorovQ((sn + 0.12 + 0.11 / sn) * d));
    }

    /// <summary>
    /// Survival function of the Kolmogorov distribution, Q_KS(λ) = 2 Σ_{k≥1} (−1)^{k−1} e^{−2k²λ²}; for small λ the
    /// equivalent (fast-converging) Jacobi form 1 − √(2π)/λ Σ e^{−(2k−1)²π²/(8λ²)} is used.
    /// </summary>
    public static double KolmogorovQ(double lambda)
    {
        if (lambda <= 0) return 1.0;
        if (lambda < 1.18)
        {
            double sum = 0;
            for (int k = 1; k <= 50; k++)
            {
                double m = 2 * k - 1;
                sum += Math.Exp(-m * m * Math.PI * Math.PI / (8 * lambda * lambda));
            }
            return Math.Clamp(1 - Math.Sqrt(2 * Math.PI) / lambda * sum, 0.0, 1.0);
        }
        double q = 0;
        for (int k = 1; k <= 100; k++)
        {
            double term = Math.Exp(-2.0 * k * k * lambda * lambda);
            q += (k % 2 == 1 ? 2 : -2) * term;
            if (term < 1e-300) break;
        }
        return Math.Clamp(q, 0.0, 1.0);
    }

    /// <summary>A figure of /proc/self/status in bytes ("VmRSS:" the resident size, "VmHWM:" its peak).</summary>
    public static long ProcStatus(string key)
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
            if (line.StartsWith(key, StringComparison.Ordinal))
                return long.Parse(line[key.Length..].Trim().Split(' ')[0]) * 1024;
        throw new InvalidOperationException($"{key} not in /proc/self/status");
    }

    /// <summary>Copies a tensor's values to doubles.</summary>
    public static double[] Values(Tensor t)
    {
        using var scope = NewDisposeScope();
        using var _ = no_grad();
        var d = t.detach().cpu().to_type(ScalarType.Float64).contiguous().flatten();
        return d.data<double>().ToArray();
    }

    public static double Mean(IReadOnlyList<double> xs) => xs.Sum() / xs.Count;

    /// <summary>Unbiased sample standard deviation.</summary>
    public static double Std(IReadOnlyList<double> xs)
    {
        double m = Mean(xs), s = 0;
        foreach (var x in xs) s += (x - m) * (x - m);
        return Math.Sqrt(s / (xs.Count - 1));
    }

    /// <summary>Whether two doubles agree to <paramref name="rel"/> relative (exact for zeros and infinities).</summary>
    public static bool Close(double expected, double actual, double rel = 1e-12) =>
        expected == actual || Math.Abs(expected - actual) <= rel * Math.Max(Math.Abs(expected), Math.Abs(actual));
}

public class StatsSelfTests
{
    [Theory]
    [InlineData(0.1, 0.1124629160182849)]
    [InlineData(0.5, 0.5204998778130465)]
    [InlineData(1.0, 0.8427007929497149)]
    [InlineData(-1.0, -0.8427007929497149)]
    [InlineData(2.0, 0.9953222650189527)]
    [InlineData(3.0, 0.9999779095030014)]
    [InlineData(1e-8, 1.1283791670955126e-08)]
    public void Erf_matches_known_values(double x, double expected)
    {
        // ExactSampling.Erf is the C library's erf here (what CPython's math.erf calls): within a few ulps of the true value.
        Assert.True(Stats.Close(expected, ExactSampling.Erf(x), 8e-16), $"Erf({x}) = {ExactSampling.Erf(x):R}, expected {expected:R}");
    }

    /// <summary>The managed fallback (used where libm cannot be called) must agree with libm's erf (documented: about 1e-15 relative).</summary>
    [Fact]
    public void Erf_and_ManagedErf_agree_over_a_grid()
    {
        double worst = 0, worstX = 0;
        for (double x = -6; x <= 6; x += 1.0 / 64 + 1e-7)
        {
            double a = ExactSampling.Erf(x), b = ExactSampling.ManagedErf(x);
            double rel = a == b ? 0 : Math.Abs(a - b) / Math.Abs(a);
            if (rel > worst) { worst = rel; worstX = x; }
        }
        Assert.True(worst <= 1e-14, $"worst relative difference {worst:E3} at x = {worstX:R}");
        Assert.Equal(0.0, ExactSampling.Erf(0.0));
        Assert.Equal(0.0, ExactSampling.ManagedErf(0.0));
        Assert.Equal(1.0, ExactSampling.ManagedErf(40.0));
        Assert.Equal(-1.0, ExactSampling.ManagedErf(-40.0));
    }

    [Fact]
    public void Normal_cdf_has_textbook_values()
    {
        Assert.Equal(0.5, Stats.NormalCdf(0), 15);
        Assert.Equal(0.9772498680518208, Stats.NormalCdf(2), 14);
        Assert.Equal(0.15865525393145707, Stats.NormalCdf(-1), 14);
        Assert.Equal(0.9772498680518208, Stats.NormalCdf(7, mean: 3, std: 2), 14);
    }

    [Fact]
    public void Truncation_constant_is_the_std_of_the_unit_normal_cut_at_two()
    {
        Assert.Equal(Stats.TruncatedUnitStd, Stats.SymmetricTruncatedNormalStd(1.0, 2.0), 14);
        Assert.Equal(Stats.TruncatedUnitStd, ExactSampling.TruncatedNormalStdOfUnit);
        // σ' = σ / 0.8796… cut at ±2σ' has standard deviation σ again.
        double sigma = 0.037;
        Assert.Equal(sigma, Stats.SymmetricTruncatedNormalStd(sigma / Stats.TruncatedUnitStd, 2.0), 15);
    }

    [Fact]
    public void Truncated_normal_cdf_is_a_cdf_on_its_interval()
    {
        Assert.Equal(0.0, Stats.TruncatedNormalCdf(-1.0, 0.5, 2, -1, 3));
        Assert.Equal(1.0, Stats.TruncatedNormalCdf(3.0, 0.5, 2, -1, 3));
        Assert.Equal(0.5, Stats.TruncatedNormalCdf(0.0, 0.0, 1, -2, 2), 14);
        double prev = 0;
        for (double x = -1; x <= 3; x += 0.01)
        {
            double f = Stats.TruncatedNormalCdf(x, 0.5, 2, -1, 3);
            Assert.True(f >= prev);
            prev = f;
        }
    }

    [Fact]
    public void Kolmogorov_distribution_has_known_quantiles_and_is_continuous()
    {
        Assert.Equal(0.05, Stats.KolmogorovQ(1.3580986), 4);
        Assert.Equal(0.01, Stats.KolmogorovQ(1.6276236), 4);
        Assert.Equal(0.10, Stats.KolmogorovQ(1.2238478), 4);
        Assert.Equal(1.0, Stats.KolmogorovQ(0.0));
        Assert.Equal(1.0, Stats.KolmogorovQ(0.2), 9);
        // Both series agree where they meet.
        Assert.Equal(Stats.KolmogorovQ(1.1799999), Stats.KolmogorovQ(1.1800001), 6);
        double prev = 1;
        for (double l = 0.05; l < 4; l += 0.01)
        {
            double q = Stats.KolmogorovQ(l);
            Assert.True(q <= prev + 1e-12, $"Q not monotone at {l}");
            prev = q;
        }
    }

    [Fact]
    public void Ks_accepts_samples_from_the_right_distribution()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(12345);
        var normal = Stats.Values(torch.randn(new long[] { 20000 }, generator: g));
        Assert.True(Stats.KolmogorovSmirnov(normal, x => Stats.NormalCdf(x)).P > 1e-4);

        var rng = new Random(42);
        var uniform = Enumerable.Range(0, 20000).Select(_ => -3 + 5 * rng.NextDouble()).ToArray();
        var (d, p) = Stats.KolmogorovSmirnov(uniform, x => Stats.UniformCdf(x, -3, 2));
        Assert.True(p > 1e-4, $"D = {d}, p = {p}");
        Assert.True(d < 0.02);
    }

    [Fact]
    public void Ks_rejects_samples_from_the_wrong_distribution()
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(777);
        // U(−√3, √3) has mean 0 and std 1, like N(0, 1), but a different shape.
        var uniform = Stats.Values(torch.empty(20000).uniform_(-Math.Sqrt(3), Math.Sqrt(3), g));
        Assert.True(Stats.KolmogorovSmirnov(uniform, x => Stats.NormalCdf(x)).P < 1e-10);
        // A 5% wrong standard deviation is detected too.
        var normal = Stats.Values(torch.randn(new long[] { 40000 }, generator: g));
        Assert.True(Stats.KolmogorovSmirnov(normal, x => Stats.NormalCdf(x, std: 1.05)).P < 1e-4);
        Assert.True(Stats.KolmogorovSmirnov(normal, x => Stats.NormalCdf(x, std: 1.0)).P > 1e-4);
    }
}
