using TorchInit.Fast;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>
/// The float32 truncated normal by rejection: every element against a per-element reference built from the scalar
/// Philox (first attempt = the fast normal's own value, later attempts from counter (e, stream, 1), then the inverse
/// CDF), determinism of the rejected lanes across thread counts, widths and shard splits, the fallback path at a tiny
/// k, and the accuracy of the float32 Box–Muller transform against a double-precision reference.
/// </summary>
[Collection(SerialTorchCollection.Name)]
public unsafe class FastRejectionTests
{
    private const ulong Seed = 2718281828;
    private const uint Stream = 9;

    private static float[] FillF32(long n, FastDraw d, int dop)
    {
        using var t = empty([n], ScalarType.Float32);
        FastFill.Fill(t, d, dop, stats: false);
        return t.data<float>().ToArray();
    }

    private static (float Z0, float Z1) BoxMuller(uint wa, uint wb)
    {
        var z0 = stackalloc float[8];
        var z1 = stackalloc float[8];
        Kernels.BoxMullerF(V256.U32(wa), V256.U32(wb), out var a, out var b);
        V256.Store(z0, a);
        V256.Store(z1, b);
        return (z0[0], z1[0]);
    }

    private enum Path { First, Second, Third, InverseCdf }

    /// <summary>The documented per-element rule, from the scalar Philox: the standard-unit value and which attempt gave it.</summary>
    private static (float Z, Path Path) Reference(long e, float first, float k, double kd)
    {
        if (MathF.Abs(first) <= k) return (first, Path.First);
        var (w0, w1, w2, _) = Philox.Block((uint)e, (uint)((ulong)e >> 32), Stream, 1, (uint)Seed, (uint)(Seed >> 32));
        var (z0, z1) = BoxMuller(w0, w1);
        if (MathF.Abs(z0) <= k) return (z0, Path.Second);
        if (MathF.Abs(z1) <= k) return (z1, Path.Third);
        float u = (float)(((int)w2 >> 7) | 1);
        float p = u * ((float)ExactSampling.Erf(kd / Math.Sqrt(2)) * (1f / 16777216f));
        var x = stackalloc float[8];
        V256.Store(x, V256.MulF(VMath.ErfinvCentralF(V256.F32(p)), V256.F32((float)Math.Sqrt(2))));
        return (x[0], Path.InverseCdf);
    }

    [Theory]
    [InlineData(2.0)]
    [InlineData(0.05)]     // acceptance 4%: most elements take the later attempts, most of those the inverse CDF
    [InlineData(2.9)]
    public void Every_element_follows_the_per_element_rule(double k)
    {
        const double mean = 0.1, std = 0.2;
        long n = 2 * FastFill.ChunkElements + 4099;
        var normal = FillF32(n, new FastDraw(FastDistribution.Normal, 0, 1, 0, Seed, Stream), 2);
        var trunc = FillF32(n, new FastDraw(FastDistribution.TruncatedNormal, mean, std, k, Seed, Stream), 2);
        float kf = (float)k, lo = (float)(mean - k * std), hi = (float)(mean + k * std);
        var paths = new long[4];
        for (long e = 0; e < n; e++)
        {
            var (z, path) = Reference(e, normal[e], kf, k);
            paths[(int)path]++;
            float expected = Math.Clamp(MathF.FusedMultiplyAdd(z, (float)std, (float)mean), lo, hi);
            if (expected != trunc[e])
                Assert.Fail($"element {e} ({path}): {trunc[e]:R}, expected {expected:R}");
            Assert.InRange(trunc[e], lo, hi);
        }
        // Every path is taken; at k = 2 the later attempts are the rare ones.
        if (k < 1) Assert.All(paths, c => Assert.True(c > 0, string.Join(",", paths)));
        else Assert.True(paths[1] > 0 && paths[0] > 0.9 * n, string.Join(",", paths));
        if (k == 2.0) Assert.InRange(paths[0] / (double)n, 0.950, 0.959);   // acceptance erf(√2) = 0.9545
    }

    [Theory]
    [InlineData(2.0)]
    [InlineData(0.05)]
    public void Rejected_lanes_are_the_same_for_any_thread_count_width_and_shard_split(double k)
    {
        using var scope = NewDisposeScope();
        var d = new FastDraw(FastDistribution.TruncatedNormal, -0.2, 0.3, k, Seed, Stream);
        long n = 3 * FastFill.ChunkElements + 333;
        var one = FillF32(n, d, 1);
        Assert.Equal(one, FillF32(n, d, 2));
        Assert.Equal(one, FillF32(n, d, 7));
        int saved = FastFill.Width;
        try
        {
            FastFill.Width = 256;
            Assert.Equal(one, FillF32(n, d, 2));
            if (V512.IsAccelerated) { FastFill.Width = 512; Assert.Equal(one, FillF32(n, d, 2)); }
        }
        finally { FastFill.Width = saved; }

        // Flat shards cut anywhere (inside groups and batches) concatenate to the whole.
        long[] cuts = [0, 1, 17, 64, 1000, 1023, 1025, 262143, 262145, 600_001, n - 3, n];
        var parts = new List<float>();
        for (int i = 0; i + 1 < cuts.Length; i++)
        {
            using var part = empty([cuts[i + 1] - cuts[i]], ScalarType.Float32);
            FastFill.FillShard(part, [n], -1, cuts[i], d, 1 + i % 2);
            parts.AddRange(part.data<float>().ToArray());
        }
        Assert.Equal(one, parts.ToArray());
        float lo = (float)(-0.2 - k * 0.3), hi = (float)(-0.2 + k * 0.3);
        Assert.All(one, x => Assert.InRange(x, lo, hi));
    }

    [Fact]
    public void At_a_tiny_k_the_draws_are_still_the_truncated_normal()
    {
        // k = 0.05: 88% of the elements come from the inverse-CDF fallback, the rest from the three normals.
        const double k = 0.05;
        var xs = FillF32(400_000, new FastDraw(FastDistribution.TruncatedNormal, 0, 1, k, Seed, Stream), 2).Select(x => (double)x).ToArray();
        var (_, p) = Stats.KolmogorovSmirnov(xs, x => Stats.TruncatedNormalCdf(x, 0, 1, -k, k));
        Assert.True(p > 1e-4, $"KS p = {p:E3}");
        Assert.True(Math.Abs(Stats.Mean(xs)) < 4 * Stats.SymmetricTruncatedNormalStd(1, k) / Math.Sqrt(xs.Length));
        Assert.True(Stats.Close(Stats.SymmetricTruncatedNormalStd(1, k), Stats.Std(xs), 0.01));
    }

    [Fact]
    public void Float_Box_Muller_is_accurate_against_a_double_precision_reference()
    {
        var rng = new Random(11);
        double worst = 0;
        var words = new List<(uint, uint)>();
        for (int i = 0; i < 200_000; i++) words.Add(((uint)rng.NextInt64(0, 1L << 32), (uint)rng.NextInt64(0, 1L << 32)));
        foreach (uint wb in new uint[] { 0, 1, 0x2000_0000, 0x4000_0000, 0x6000_0000, 0x7FFF_FFFF, 0x8000_0000, 0xA000_0000, 0xC000_0000, 0xE000_0000, 0xFFFF_FFFF })
            foreach (uint wa in new uint[] { 0, 0xFF, 0x100, 0x7FFF_FFFF, 0xFFFF_FF00, 0xFFFF_FFFF })
                words.Add((wa, wb));
        foreach (var (wa, wb) in words)
        {
            var (z0, z1) = BoxMuller(wa, wb);
            double u1 = ((wa >> 8) + 1) / 16777216.0, r = Math.Sqrt(-2 * Math.Log(u1));
            double theta = 2 * Math.PI * (float)(int)wb / 4294967296.0;   // the angle as the kernel quantizes it
            double e0 = r * Math.Cos(theta), e1 = r * Math.Sin(theta);
            worst = Math.Max(worst, Math.Max(Math.Abs(z0 - e0), Math.Abs(z1 - e1)) / Math.Max(r, 1));
        }
        Assert.True(worst < 1e-6, $"worst error {worst:E3} (relative to max(R, 1))");
    }
}
