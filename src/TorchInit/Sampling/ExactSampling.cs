using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit;

/// <summary>
/// The distributions, drawn in place under <c>no_grad</c> with the same libtorch calls (and so the same
/// random numbers) as PyTorch's <c>torch.nn.init</c>. A generator on another device than the tensor (a
/// seeded CPU generator for a CUDA parameter) draws into a CPU temporary that is then copied, so a seed
/// gives the same weights on every device.
/// </summary>
internal static class ExactSampling
{
    /// <summary>Standard deviation of N(0, 1) truncated to [−2, 2]; dividing σ by it keeps the target variance.</summary>
    public const double TruncatedNormalStdOfUnit = 0.87962566103423978;

    /// <summary>
    /// libtorch's <c>normal_</c>; a contiguous float32/float64 draw of at least 16 elements from a CPU generator runs on
    /// <paramref name="parallelism"/> threads with the same bits (uniforms u, then per block of 16 √(−2 ln(1 − uⱼ))·(cos, sin)(2π·uⱼ₊₈)·σ + μ)
    /// and leaves the generator where libtorch would (<see cref="Exact.ParallelNormal"/>).
    /// </summary>
    public static void Normal(Tensor t, double mean, double std, Generator? g, int parallelism = 0) =>
        Draw(t, g, x => NormalInPlace(x, mean, std, g, parallelism));

    private static void NormalInPlace(Tensor x, double mean, double std, Generator? g, int parallelism)
    {
        if (!InParallel(x, parallelism, threads => Exact.ParallelNormal.TryNormal(x, mean, std, g, threads))) x.normal_(mean, std, g);
    }

    /// <summary>
    /// libtorch's <c>uniform_</c>; a contiguous float32/float64 draw from a CPU generator runs on
    /// <paramref name="parallelism"/> threads with the same bits and leaves the generator where libtorch would (<see cref="Exact.ParallelUniform"/>).
    /// </summary>
    public static void Uniform(Tensor t, double low, double high, Generator? g, int parallelism = 0) =>
        Draw(t, g, x => UniformInPlace(x, low, high, g, parallelism));

    private static void UniformInPlace(Tensor x, double low, double high, Generator? g, int parallelism)
    {
        if (!InParallel(x, parallelism, threads => Exact.ParallelUniform.TryUniform(x, low, high, g, threads))) x.uniform_(low, high, g);
    }

    /// <summary>
    /// Whether <paramref name="draw"/> (a parallel bit-identical path, given its thread count: <paramref name="parallelism"/>, or
    /// every core when 0) drew <paramref name="x"/>; it is tried only when the paths are on and the draw is large enough to gain.
    /// </summary>
    private static bool InParallel(Tensor x, int parallelism, Func<int, bool> draw) =>
        ParallelExact && x.numel() >= MinParallelElements && draw(parallelism > 0 ? parallelism : Environment.ProcessorCount);

    /// <summary>
    /// Draws below this many elements stay libtorch's own call (the same bits either way): reading and setting the generator's
    /// state costs a fixed 40–130 µs per call (measured on the 2-core machine), more than libtorch's ~7 ns per element saves
    /// below about 16K elements (normal) or 8K (uniform).
    /// </summary>
    internal const long MinParallelElements = 1L << 15;

    /// <summary>Whether exact draws may take the parallel bit-identical paths (tests switch it off to compare with libtorch's own).</summary>
    internal static bool ParallelExact { get; set; } = true;

    /// <summary>
    /// PyTorch's <c>trunc_normal_</c> algorithm (inverse CDF): U(2Φ(α)−1, 2Φ(β)−1) → erfinv → ×σ√2 → +μ → clamp[a, b],
    /// all in place: no second full-size tensor.
    /// </summary>
    public static void TruncatedNormal(Tensor t, double mean, double std, double a, double b, Generator? g, int parallelism = 0)
    {
        static double NormCdf(double x) => (1.0 + Erf(x / Math.Sqrt(2.0))) / 2.0;
        double l = NormCdf((a - mean) / std);
        double u = NormCdf((b - mean) / std);
        Draw(t, g, x =>
        {
            UniformInPlace(x, 2 * l - 1, 2 * u - 1, g, parallelism);
            x.erfinv_();
            x.mul_(std * Math.Sqrt(2.0));
            x.add_(mean);
            x.clamp_(a, b);
        });
    }

    public static void Fill(Tensor t, double value)
    {
        using var _ = no_grad();
        t.fill_(value);
    }

    /// <summary>Runs <paramref name="fill"/> on <paramref name="t"/>, or on a temporary on the generator's device that is then copied in.</summary>
    public static void Draw(Tensor t, Generator? g, Action<Tensor> fill)
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

    /// <summary>The C library's erf, which CPython's <c>math.erf</c> also calls, so the truncation bounds are bit-identical (<see cref="LibM"/>).</summary>
    internal static double Erf(double x) => LibM.Erf(x);

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
}
