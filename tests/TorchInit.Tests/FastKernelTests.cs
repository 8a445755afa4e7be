using TorchInit.Fast;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit.Tests;

/// <summary>
/// The fast generator's building blocks: Philox4x32-10 against the published known-answer vectors, the vector
/// layout against the scalar reference, the vectorized elementary functions against libm, and bit-identity of the
/// 256- and 512-bit kernels.
/// </summary>
[Collection(SerialTorchCollection.Name)]
public unsafe class FastKernelTests
{
    // Random123's kat_vectors for philox4x32_10: counter, key → output.
    [Theory]
    [InlineData(0u, 0u, 0u, 0u, 0u, 0u, 0x6627e8d5u, 0xe169c58du, 0xbc57ac4cu, 0x9b00dbd8u)]
    [InlineData(0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0xffffffffu, 0x408f276du, 0x41c83b0eu, 0xa20bc7c6u, 0x6d5451fdu)]
    [InlineData(0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u, 0xa4093822u, 0x299f31d0u, 0xd16cfe09u, 0x94fdccebu, 0x5001e420u, 0x24126ea1u)]
    public void Philox4x32_10_matches_the_known_answer_vectors(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1, uint r0, uint r1, uint r2, uint r3)
    {
        Assert.Equal((r0, r1, r2, r3), Philox.Block(c0, c1, c2, c3, k0, k1));
    }

    public static IEnumerable<object[]> Widths()
    {
        yield return [256];
        if (V512.IsAccelerated) yield return [512];
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Vector_words_follow_the_documented_layout(int width)
    {
        const uint k0 = 0xDEADBEEF, k1 = 0x01234567, stream = 7;
        uint* keys = stackalloc uint[20];
        Philox.Schedule(k0, k1, keys);
        long g0 = (1L << 32) / 16 - 1, g1 = g0 + 3;   // crosses the 2³² block boundary: the counter's high word is used
        var words = new uint[64 * 3];
        var values = new ulong[32 * 3];
        fixed (uint* w = words)
        fixed (ulong* v = values)
        {
            if (width == 512) { Philox.Words32<V512>(w, g0, g1, stream, keys); Philox.Words64<V512>(v, g0, g1, stream, keys); }
            else { Philox.Words32<V256>(w, g0, g1, stream, keys); Philox.Words64<V256>(v, g0, g1, stream, keys); }
        }
        for (long g = g0; g < g1; g++)
        {
            for (int p = 0; p < 16; p++)
            {
                ulong block = (ulong)(16 * g + p / 2 + 8 * (p % 2));
                var (r0, r1, r2, r3) = Philox.Block((uint)block, (uint)(block >> 32), stream, 0, k0, k1);
                uint[] r = [r0, r1, r2, r3];
                for (int j = 0; j < 4; j++)
                    Assert.Equal(r[j], words[64 * (g - g0) + 16 * j + p]);
            }
            for (int l = 0; l < 16; l++)
            {
                ulong block = (ulong)(16 * g + l);
                var (r0, r1, r2, r3) = Philox.Block((uint)block, (uint)(block >> 32), stream, 0, k0, k1);
                Assert.Equal(((ulong)r0 << 32) | r1, values[32 * (g - g0) + l]);
                Assert.Equal(((ulong)r2 << 32) | r3, values[32 * (g - g0) + 16 + l]);
            }
        }
    }

    private static float[] MapF<TV>(float[] xs, Func<TV, TV> f) where TV : struct, ISimd<TV>
    {
        var r = new float[xs.Length];
        fixed (float* px = xs, pr = r)
            for (int i = 0; i + TV.Lanes <= xs.Length; i += TV.Lanes) TV.Store(pr + i, f(TV.Load(px + i)));
        return r;
    }

    private static double[] MapD<TV>(double[] xs, Func<TV, TV> f) where TV : struct, ISimd<TV>
    {
        var r = new double[xs.Length];
        fixed (double* px = xs, pr = r)
            for (int i = 0; i + TV.Lanes / 2 <= xs.Length; i += TV.Lanes / 2) TV.Store(pr + i, f(TV.Load(px + i)));
        return r;
    }

    /// <summary>erfinv by bisection on the C library's erf: exact to double precision.</summary>
    private static double ReferenceErfinv(double p)
    {
        double lo = -6, hi = 6;
        for (int i = 0; i < 200 && hi - lo > 0; i++)
        {
            double mid = (lo + hi) / 2;
            if (mid == lo || mid == hi) break;
            if (ExactSampling.Erf(mid) < p) lo = mid; else hi = mid;
        }
        return (lo + hi) / 2;
    }

    private static float[] Grid(int n, double lo, double hi) =>
        Enumerable.Range(0, n).Select(i => (float)(lo + (hi - lo) * i / (n - 1))).ToArray();

    [Fact]
    public void Float_log_is_accurate_on_the_Box_Muller_range()
    {
        // u₁ takes the values k·2⁻²⁴, k = 1 … 2²⁴: check every power of two and a dense grid.
        var xs = Enumerable.Range(0, 25).Select(k => MathF.Pow(2, -k))
            .Concat(Grid(65536 - 25 - 7, 1.0 / 16777216, 1.0)).Concat(Grid(7, 0.70710677, 0.70710683)).ToArray();
        var ys = MapF<V256>(xs, VMath.LogF);
        double worst = 0;
        for (int i = 0; i < xs.Length; i++)
        {
            double exact = Math.Log(xs[i]);
            double err = Math.Abs(ys[i] - exact) / Math.Max(Math.Abs(exact), 1e-2);
            worst = Math.Max(worst, err);
        }
        Assert.True(worst < 3e-7, $"worst error {worst:E3}");
        Assert.Equal(0f, MapF<V256>(Enumerable.Repeat(1f, 16).ToArray(), VMath.LogF)[0]);
    }

    [Fact]
    public void Float_sin_and_cos_are_accurate_on_the_reduced_range()
    {
        var ts = Grid(65536, -Math.PI / 4, Math.PI / 4);
        var s = MapF<V256>(ts, t => { VMath.SinCosF(t, out var sin, out _); return sin; });
        var c = MapF<V256>(ts, t => { VMath.SinCosF(t, out _, out var cos); return cos; });
        for (int i = 0; i < ts.Length; i++)
        {
            Assert.True(Math.Abs(s[i] - Math.Sin(ts[i])) < 1.2e-7, $"sin({ts[i]})");
            Assert.True(Math.Abs(c[i] - Math.Cos(ts[i])) < 1.2e-7, $"cos({ts[i]})");
        }
    }

    [Fact]
    public void Float_erfinv_is_accurate_on_the_central_range()
    {
        var ps = Grid(8192, -0.9966, 0.9966);
        var e = MapF<V256>(ps, VMath.ErfinvCentralF);
        double worst = 0;
        for (int i = 0; i < ps.Length; i++)
        {
            if (ps[i] == 0) { Assert.Equal(0f, e[i]); continue; }
            double exact = ReferenceErfinv(ps[i]);
            worst = Math.Max(worst, Math.Abs(e[i] - exact) / Math.Abs(exact));
        }
        Assert.True(worst < 5e-7, $"worst relative error {worst:E3}");
    }

    [Fact]
    public void Double_log_sin_cos_and_erfinv_are_accurate()
    {
        var rng = new Random(3);
        var us = Enumerable.Range(0, 4096).Select(i => i < 53 ? Math.Pow(2, -i) : 1 - rng.NextDouble()).ToArray();
        var logs = MapD<V256>(us, VMath.LogD);
        for (int i = 0; i < us.Length; i++)
            Assert.True(Math.Abs(logs[i] - Math.Log(us[i])) <= 4e-16 * Math.Max(Math.Abs(Math.Log(us[i])), 0.05), $"log({us[i]:R}) = {logs[i]:R}");

        var ts = Enumerable.Range(0, 4096).Select(i => -Math.PI / 4 + Math.PI / 2 * i / 4095).ToArray();
        var s = MapD<V256>(ts, t => { VMath.SinCosD(t, out var sin, out _); return sin; });
        var c = MapD<V256>(ts, t => { VMath.SinCosD(t, out _, out var cos); return cos; });
        for (int i = 0; i < ts.Length; i++)
        {
            Assert.True(Math.Abs(s[i] - Math.Sin(ts[i])) < 2.5e-16, $"sin({ts[i]:R})");
            Assert.True(Math.Abs(c[i] - Math.Cos(ts[i])) < 2.5e-16, $"cos({ts[i]:R})");
        }

        var ps = Enumerable.Range(0, 2048).Select(i => -0.9966 + 2 * 0.9966 * i / 2047).ToArray();
        var e = MapD<V256>(ps, VMath.ErfinvCentralD);
        double worst = 0;
        for (int i = 0; i < ps.Length; i++)
            if (ps[i] != 0) worst = Math.Max(worst, Math.Abs(e[i] - ReferenceErfinv(ps[i])) / Math.Abs(ReferenceErfinv(ps[i])));
        Assert.True(worst < 2e-15, $"worst relative error {worst:E3}");
    }

    public static IEnumerable<object[]> Draws() =>
        from dist in new[] { FastDistribution.Normal, FastDistribution.Uniform, FastDistribution.TruncatedNormal }
        from wide in new[] { false, true }
        select new object[] { (int)dist, wide };

    private static FastDraw Draw(FastDistribution d, ulong seed = 12345, uint stream = 3) => d switch
    {
        FastDistribution.Normal => new FastDraw(d, 0.25, 0.5, 0, seed, stream),
        FastDistribution.Uniform => new FastDraw(d, -0.3, 0.7, 0, seed, stream),
        _ => new FastDraw(d, 0.1, 0.2, 2.0, seed, stream),
    };

    /// <summary>Fills a fresh CPU tensor of n elements with the draw, through the tensor path.</summary>
    private static Tensor Fill(long n, FastDraw d, bool wide, int dop = 2)
    {
        var t = empty([n], wide ? ScalarType.Float64 : ScalarType.Float32);
        FastFill.Fill(t, d, dop, stats: false);
        return t;
    }

    private static byte[] Bits(Tensor t) => t.bytes.ToArray();

    [Theory]
    [MemberData(nameof(Draws))]
    public void Avx2_and_avx512_kernels_give_identical_bits(int distribution, bool wide)
    {
        var dist = (FastDistribution)distribution;
        if (!V512.IsAccelerated) return; // nothing to compare on this machine
        using var scope = NewDisposeScope();
        var d = Draw(dist);
        long n = 3 * FastFill.ChunkElements + 77;
        int saved = FastFill.Width;
        try
        {
            FastFill.Width = 512;
            var a = Fill(n, d, wide);
            FastFill.Width = 256;
            var b = Fill(n, d, wide);
            Assert.Equal(Bits(a), Bits(b));
        }
        finally { FastFill.Width = saved; }
    }

    [Theory]
    [MemberData(nameof(Draws))]
    public void Element_values_depend_on_the_element_index_only(int distribution, bool wide)
    {
        var dist = (FastDistribution)distribution;
        using var scope = NewDisposeScope();
        var d = Draw(dist);
        var full = Stats.Values(Fill(FastFill.ChunkElements + 1000, d, wide, dop: 2));
        foreach (long n in new long[] { 1, 15, 16, 31, 33, 63, 64, 65, 1000, FastFill.ChunkElements - 1, FastFill.ChunkElements + 1 })
        {
            var part = Stats.Values(Fill(n, d, wide, dop: 1));
            Assert.Equal(full.Take((int)n), part);
        }
    }

    [Theory]
    [MemberData(nameof(Draws))]
    public void Thread_count_does_not_change_values_or_statistics(int distribution, bool wide)
    {
        var dist = (FastDistribution)distribution;
        using var scope = NewDisposeScope();
        var d = Draw(dist);
        long n = 5 * FastFill.ChunkElements + 12345;
        var a = empty([n], wide ? ScalarType.Float64 : ScalarType.Float32);
        var b = empty([n], wide ? ScalarType.Float64 : ScalarType.Float32);
        var ma = FastFill.Fill(a, d, 1, stats: true);
        var mb = FastFill.Fill(b, d, 2, stats: true);
        Assert.Equal(Bits(a), Bits(b));
        Assert.Equal(ma, mb);
        var xs = Stats.Values(a);
        Assert.True(Math.Abs(Stats.Mean(xs) - ma!.Value.Mean) < 1e-7, $"mean {Stats.Mean(xs):R} vs fused {ma.Value.Mean:R}");
        Assert.True(Stats.Close(Stats.Std(xs), ma.Value.Std, 1e-6), $"std {Stats.Std(xs)} vs fused {ma.Value.Std}");
        Assert.Equal(n, ma.Value.Count);
    }

    [Theory]
    [MemberData(nameof(Draws))]
    public void Large_tensors_streamed_past_the_cache_get_the_same_values(int distribution, bool wide)
    {
        var dist = (FastDistribution)distribution;
        using var scope = NewDisposeScope();
        var d = Draw(dist);
        int size = wide ? 8 : 4;
        long n = FastFill.StreamingBytes / size + 4321;            // streamed (non-temporal stores)
        var big = empty([n], wide ? ScalarType.Float64 : ScalarType.Float32);
        var m = FastFill.Fill(big, d, 2, stats: true);
        var small = Stats.Values(Fill(300_000, d, wide, dop: 1)); // cached stores
        var head = Stats.Values(big.narrow(0, 0, 300_000));
        Assert.Equal(small, head);
        var tail = Stats.Values(big.narrow(0, n - 5000, 5000));
        var again = Stats.Values(Fill(n, d, wide, dop: 1).narrow(0, n - 5000, 5000));
        Assert.Equal(again, tail);
        var xs = Stats.Values(big);
        Assert.True(Stats.Close(Stats.Std(xs), m!.Value.Std, 1e-6));
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.Float64)]
    public void The_measuring_read_matches_a_double_precision_reference(ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        using var g = new Generator(5);
        // A mean far from zero relative to the std: the naive Σx² − (Σx)²/n would cancel catastrophically.
        var t = (torch.randn(new long[] { 3 * FastFill.ChunkElements + 101 }, dtype: ScalarType.Float64, generator: g) * 1e-3 + 100).to_type(dtype);
        var xs = Stats.Values(t);
        foreach (int dop in new[] { 1, 2 })
        {
            var m = FastFill.Measure(t, dop)!.Value;
            Assert.True(Math.Abs(m.Mean - Stats.Mean(xs)) < 1e-9 * 100, $"mean {m.Mean:R} vs {Stats.Mean(xs):R}");
            Assert.True(Stats.Close(Stats.Std(xs), m.Std, 1e-5), $"std {m.Std:R} vs {Stats.Std(xs):R}");
        }
        Assert.Null(FastFill.Measure(torch.ones(3, 4).t(), 1));   // not contiguous: libtorch measures
    }

    [Fact]
    public void The_worker_gang_runs_every_item_once_propagates_errors_and_serves_concurrent_callers()
    {
        var hits = new int[1000];
        Gang.For(hits.Length, 4, i => Interlocked.Increment(ref hits[i]));
        Assert.All(hits, h => Assert.Equal(1, h));

        var e = Assert.Throws<InvalidOperationException>(() => Gang.For(100, 2, i => { if (i == 37) throw new InvalidOperationException("item 37"); }));
        Assert.Equal("item 37", e.Message);
        Gang.For(hits.Length, 2, i => Interlocked.Increment(ref hits[i]));   // still works afterwards
        Assert.All(hits, h => Assert.Equal(2, h));

        // Two ApplyInit calls at once: one gets the gang, the other Parallel.For; both get their own values.
        using var scope = NewDisposeScope();
        var draws = Enumerable.Range(0, 4).Select(k => new FastDraw(FastDistribution.Normal, 0, 1, 0, (ulong)k, 0)).ToArray();
        var expected = draws.Select(d => { var t = empty(2 * FastFill.ChunkElements + 3); FastFill.Fill(t, d, 1, false); return Bits(t); }).ToArray();
        var actual = new byte[draws.Length][];
        Parallel.For(0, draws.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, k =>
        {
            using var t = empty(2 * FastFill.ChunkElements + 3);
            FastFill.Fill(t, draws[k], 2, false);
            actual[k] = Bits(t);
        });
        for (int k = 0; k < draws.Length; k++) Assert.Equal(expected[k], actual[k]);
    }

    [Fact]
    public void Truncation_beyond_the_central_range_is_refused()
    {
        using var t = empty(100);
        Assert.Throws<ArgumentOutOfRangeException>(() => FastFill.Fill(t, new FastDraw(FastDistribution.TruncatedNormal, 0, 1, 3.5, 1, 0), 1, false));
        Assert.Throws<ArgumentException>(() => FastFill.Fill(torch.zeros(10, dtype: ScalarType.Int32), Draw(FastDistribution.Normal), 1, false));
    }
}
