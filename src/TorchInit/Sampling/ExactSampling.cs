using System.Runtime.InteropServices;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit;

/// <summary>
/// The distributions, drawn in place under <c>no_grad</c> with the same libtorch calls (and so the same
/// random numbers) as PyTorch's <c>torch.nn.init</c>. A generator on another device than the tensor (a
/// seeded CPU generator for a CUDA parameter) draws into a CPU temporary that is then copied, so a seed
/// gives the same weights on every device.
/// </summary>
internal static class Sampling
{
    /// <summary>Standard deviation of N(0, 1) truncated to [−2, 2]; dividing σ by it keeps the target variance.</summary>
    public const double TruncatedNormalStdOfUnit = 0.87962566103423978;

    public static void Normal(Tensor t, double mean, double std, Generator? g) =>
        Draw(t, g, x => x.normal_(mean, std, g));

    public static void Uniform(Tensor t, double low, double high, Generator? g) =>
        Draw(t, g, x => x.uniform_(low, high, g));

    /// <summary>
    /// PyTorch's <c>trunc_normal_</c> algorithm (inverse CDF): U(2Φ(α)−1, 2Φ(β)−1) → erfinv → ×σ√2 → +μ → clamp[a, b],
    /// all in place: no second full-size tensor.
    /// </summary>
    public static void TruncatedNormal(Tensor t, double mean, double std, double a, double b, Generator? g)
    {
        static double NormCdf(double x) => (1.0 + Erf(x / Math.Sqrt(2.0))) / 2.0;
        double l = NormCdf((a - mean) / std);
        double u = NormCdf((b - mean) / std);
        Draw(t, g, x =>
        {
            x.uniform_(2 * l - 1, 2 * u - 1, g);
            x.erfinv_();
            x.mul_(std * Math.Sqrt(2.0));
            x.add_(mean);
            x.clamp_(a, b);
        });
    }

    /// <summary>
    /// PyTorch's <c>orthogonal_</c> step by step: rows = size(0), cols = numel / rows; draw N(0, 1) into a new
    /// rows × cols tensor; transpose it when rows &lt; cols; Q, R = linalg.qr; Q *= sign(diag(R)); transpose
    /// back; copy into the tensor and multiply by gain. The normal draw is bit-identical to PyTorch's; the QR
    /// runs in libtorch's LAPACK, which may differ from PyTorch's in the last bits.
    /// </summary>
    public static void Orthogonal(Tensor t, double gain, Generator? g)
    {
        if (t.dim() < 2) throw new ArgumentException($"Orthogonal initialization needs at least 2 dimensions, got shape [{string.Join(", ", t.shape)}].", nameof(t));
        if (t.numel() == 0) return;
        long rows = t.shape[0], cols = t.numel() / rows;
        Draw(t, g, x =>
        {
            using var scope = NewDisposeScope();
            var flattened = empty(rows, cols, x.dtype, x.device).normal_(0.0, 1.0, g);
            if (rows < cols) flattened = flattened.t();
            var (q, r) = linalg.qr(flattened);
            var ph = diag(r, 0).sign();
            q = q.mul(ph);
            if (rows < cols) q = q.t();
            x.view_as(q).copy_(q);
            x.mul_(gain);
        });
    }

    public static void Fill(Tensor t, double value)
    {
        using var _ = no_grad();
        t.fill_(value);
    }

    private static void Draw(Tensor t, Generator? g, Action<Tensor> fill)
    {
        using var _ = no_grad();
        if (g is null || g.device.type == t.device_type)
        {
            fill(t);
            return;
        }
        using var tmp = empty(t.shape, t.dtype, g.device);
        fill(tmp);
        t.copy_(tmp);
    }

    /// <summary>The C library's erf, which CPython's <c>math.erf</c> also calls, so the truncation bounds are bit-identical.</summary>
    internal static double Erf(double x)
    {
        if (!OperatingSystem.IsWindows())
        {
            try { return LibM.erf(x); }
            catch (DllNotFoundException) { }
            catch (EntryPointNotFoundException) { }
        }
        return ManagedErf(x);
    }

    /// <summary>
    /// Fallback where no C library erf can be called: Taylor series for |x| &lt; 2, Lentz's continued fraction
    /// for erfc above (about 1e-15 relative; the continued fraction converges slowly below 2).
    /// </summary>
    internal static double ManagedErf(double x)
    {
        double ax = Math.Abs(x);
        if (ax < 2.0)
        {
            double x2 = x * x, term = x, sum = x;
            for (int n = 1; n < 100; n++)
            {
                term *= -x2 / n;
                double add = term / (2 * n + 1);
                sum += add;
                if (Math.Abs(add) < 1e-17 * Math.Abs(sum)) break;
            }
            return 2.0 / Math.Sqrt(Math.PI) * sum;
        }
        double tiny = 1e-300, f = ax, c = ax, d = 0.0;
        for (int n = 1; n < 500; n++)
        {
            double an = n / 2.0;
            d = ax + an * d; d = Math.Abs(d) < tiny ? tiny : d; d = 1 / d;
            c = ax + an / c; c = Math.Abs(c) < tiny ? tiny : c;
            double delta = c * d; f *= delta;
            if (Math.Abs(delta - 1) < 1e-16) break;
        }
        double erfc = Math.Exp(-ax * ax) / Math.Sqrt(Math.PI) / f;
        return x >= 0 ? 1 - erfc : erfc - 1;
    }

    private static class LibM
    {
        [DllImport("libm.so.6", EntryPoint = "erf")]
        private static extern double erf_so6(double x);
        [DllImport("libm", EntryPoint = "erf")]
        private static extern double erf_plain(double x);

        private static int _which; // 0 unknown, 1 so6, 2 plain

        public static double erf(double x)
        {
            if (_which != 2)
            {
                try { var r = erf_so6(x); _which = 1; return r; }
                catch (DllNotFoundException) when (_which == 0) { _which = 2; }
            }
            return erf_plain(x);
        }
    }
}

/// <summary>
/// The variance-scaling core shared by every fan-based scheme. Its formulas are evaluated in the same
/// order as <c>torch.nn.init</c>, so the double handed to libtorch is bit-identical to PyTorch's.
/// </summary>
internal static class VarianceScaling
{
    /// <summary>
    /// σ = gain × √(scale / fan). For fan_avg this is PyTorch's xavier form gain × √(2·scale / (fan_in + fan_out));
    /// for fan_in / fan_out it is kaiming's gain / √(fan / scale).
    /// </summary>
    public static double Std(double gain, double scale, FanMode mode, Fans fans) => mode switch
    {
        FanMode.FanAvg => gain * Math.Sqrt(2.0 * scale / (double)(fans.FanIn + fans.FanOut)),
        FanMode.FanIn => gain / Math.Sqrt(fans.FanIn / scale),
        FanMode.FanOut => gain / Math.Sqrt(fans.FanOut / scale),
        _ => throw new ArgumentOutOfRangeException(nameof(mode)),
    };

    /// <summary>The largest |value| a draw can take: √3σ for the uniform, 2σ' for the truncated normal, ∞ for the normal.</summary>
    public static double Bound(Distribution distribution, double std) => distribution switch
    {
        Distribution.Normal => double.PositiveInfinity,
        Distribution.Uniform => Math.Sqrt(3.0) * std,
        Distribution.TruncatedNormal => 2 * (std / Sampling.TruncatedNormalStdOfUnit),
        _ => throw new ArgumentOutOfRangeException(nameof(distribution)),
    };

    /// <summary>Draws from <paramref name="distribution"/> with standard deviation <paramref name="std"/>; returns the bound (∞ for the normal).</summary>
    public static double Draw(Tensor t, Distribution distribution, double std, Generator? g) =>
        Draw(t, distribution, std, new Fast.Sampler(g), out _);

    /// <summary>As above, through <paramref name="sampler"/> (exact or fast); <paramref name="moments"/> are the realized moments when the fill measured them.</summary>
    public static double Draw(Tensor t, Distribution distribution, double std, Fast.Sampler sampler, out Fast.Moments? moments)
    {
        switch (distribution)
        {
            case Distribution.Normal:
                moments = sampler.Normal(t, 0.0, std);
                return double.PositiveInfinity;
            case Distribution.Uniform:
                double bound = Math.Sqrt(3.0) * std;
                moments = sampler.Uniform(t, -bound, bound);
                return bound;
            case Distribution.TruncatedNormal:
                double s = std / Sampling.TruncatedNormalStdOfUnit;
                moments = sampler.TruncatedNormal(t, 0.0, s, -2 * s, 2 * s);
                return 2 * s;
            default:
                throw new ArgumentOutOfRangeException(nameof(distribution));
        }
    }
}
