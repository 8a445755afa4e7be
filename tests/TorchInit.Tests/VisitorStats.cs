namespace TorchInit.Tests;

/// <summary>One-sample Kolmogorov–Smirnov test and the CDFs of the distributions the Auto schemes draw from.</summary>
internal static class VisitorStats
{
    /// <summary>Φ((x − mean) / std), with the C library's erf.</summary>
    public static double NormalCdf(double x, double mean, double std) => 0.5 * (1.0 + Sampling.Erf((x - mean) / (std * Math.Sqrt(2.0))));

    /// <summary>CDF of U(low, high).</summary>
    public static double UniformCdf(double x, double low, double high) => x <= low ? 0.0 : x >= high ? 1.0 : (x - low) / (high - low);

    /// <summary>D = sup |F_n − F| and its asymptotic p-value Q_KS((√n + 0.12 + 0.11/√n)·D) (Stephens' correction).</summary>
    public static (double D, double P) KolmogorovSmirnov(IEnumerable<double> sample, Func<double, double> cdf)
    {
        var xs = sample.ToArray();
        if (xs.Length == 0) throw new ArgumentException("empty sample", nameof(sample));
        Array.Sort(xs);
        int n = xs.Length;
        double d = 0;
        for (int i = 0; i < n; i++)
        {
            double f = cdf(xs[i]);
            d = Math.Max(d, Math.Max((i + 1.0) / n - f, f - (double)i / n));
        }
        double sn = Math.Sqrt(n);
        return (d, Q((sn + 0.12 + 0.11 / sn) * d));
    }

    /// <summary>Q_KS(λ) = 2 Σ_{j≥1} (−1)^{j−1} e^{−2j²λ²}.</summary>
    private static double Q(double lambda)
    {
        if (lambda < 1e-3) return 1.0;
        double sum = 0, sign = 1;
        for (int j = 1; j <= 100; j++)
        {
            double term = sign * Math.Exp(-2.0 * j * j * lambda * lambda);
            sum += term;
            if (Math.Abs(term) < 1e-12) break;
            sign = -sign;
        }
        return Math.Clamp(2 * sum, 0.0, 1.0);
    }
}
