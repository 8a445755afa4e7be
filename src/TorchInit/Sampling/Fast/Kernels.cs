using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.CompilerServices;

namespace TorchInit.Fast;

/// <summary>The distributions fast mode draws.</summary>
internal enum FastDistribution
{
    /// <summary>U(low, high): A = low, B = high.</summary>
    Uniform,
    /// <summary>N(mean, std²): A = mean, B = std.</summary>
    Normal,
    /// <summary>N(mean, std²) truncated to mean ± k·std: A = mean, B = std, K = k (0 &lt; k ≤ 2.9).</summary>
    TruncatedNormal,
}

/// <summary>One fast draw: distribution, parameters, and where its random numbers come from (key and stream).</summary>
internal readonly record struct FastDraw(FastDistribution Distribution, double A, double B, double K, ulong Seed, uint Stream)
{
    public uint Key0 => (uint)Seed;
    public uint Key1 => (uint)(Seed >> 32);

    /// <summary>The value the realized statistics are accumulated around (the distribution's mean), which keeps the sums free of cancellation.</summary>
    public double Center => Distribution == FastDistribution.Uniform ? (A + B) / 2 : A;

    /// <summary>Largest truncation multiple the central-branch erfinv supports.</summary>
    public const double MaxK = 2.9;
}

/// <summary>
/// The fast kernels. Element layout (independent of vector width, thread count and chunking): float32
/// elements come in groups of 64; group g uses Philox blocks 16g … 16g + 15, and element 64g + 16j + p
/// (j = 0…3, p = 0…15) takes word j of block 16g + ⌊p/2⌋ + 8·(p mod 2). float64 elements come in groups of
/// 32; element 32g + 16k + l takes words 2k and 2k + 1 of block 16g + l. The normal distribution pairs
/// words 0 and 1 (2 and 3) of a block in Box–Muller and writes its two outputs to their slots.
/// </summary>
/// <remarks>
/// <para>Uniform (float32): m = (int32(w) ≫ 7) | 1 is one of the 2²⁴ odd integers in (−2²⁴, 2²⁴), u = m·2⁻²⁴ in (−1, 1)
/// is exactly symmetric, x = mid + half·u (one FMA). float64: u = 2d − 1 + 2⁻⁵² with d the top 52 bits in [0, 1).</para>
/// <para>Normal (Box–Muller): u₁ in (0, 1] from 24 (52) bits, R = √(−2 ln u₁). float32: the angle θ = 2π·int32(w)/2³²
/// is 4φ with φ in [−π/4, π/4]; (cos θ, sin θ) come from (cos φ, sin φ) by two angle doublings. float64: the angle
/// 2π·v/2⁶⁴ is split into a quadrant q (top two bits, rounded) and a rest t in [−π/4, π/4); (cos, sin) of the angle
/// are (cos t, sin t) rotated by q quarter turns. x = mean + std·R·cos, mean + std·R·sin.</para>
/// <para>Truncated normal, float32 (rejection): element e's first attempt is the normal's own z for e (same words, same
/// Box–Muller), kept when |z| ≤ k; a rejected element is redrawn from Philox counter (e, stream, 1) (see
/// <c>RetryF32</c>): two more normals, then the inverse CDF √2·erfinv(u·erf(k/√2)); x = mean + std·z, clamped to
/// mean ± k·std against rounding. float64 (inverse CDF): p = u·erf(k/√2) with u as for the uniform,
/// x = mean + std·√2·erfinv(p), clamped likewise. No second buffer: each value is computed and stored once.</para>
/// </remarks>
internal static unsafe class Kernels
{
    public const int GroupF32 = 64, GroupF64 = 32;

    private const float TwoPow24Inv = 1f / 16777216f;
    private const float QuarterAngleScaleF = (float)(2 * Math.PI / 17179869184.0); // 2π / 2³⁴
    private const double AngleScaleD = 2 * Math.PI / 18014398509481984.0;       // 2π / 2⁵⁴ (51-bit rest, see below)
    private const double SqrtTwo = 1.41421356237309504880;

    /// <summary>Partial sums of d = x − center and d² over the values written.</summary>
    public struct Sums
    {
        public double S1, S2;
    }

    // ---------------- float32 ----------------

    /// <summary>
    /// Fills groups [g0, g1) (elements 64·g0 … 64·g1 − 1, at most <see cref="BatchGroupsF32"/> groups) at
    /// <paramref name="dst"/> (element 0's address): stage one writes the Philox words into a stack buffer in
    /// element order, stage two transforms them into the distribution. Two separate methods keep each
    /// within the JIT's inlining budget; the buffer stays in L1.
    /// </summary>
    public static void FillF32<TV>(float* dst, long g0, long g1, in FastDraw d, bool stream, bool stats, ref Sums sums) where TV : struct, ISimd<TV>
    {
        uint* keys = stackalloc uint[20];
        Philox.Schedule(d.Key0, d.Key1, keys);
        uint* words = stackalloc uint[BatchGroupsF32 * GroupF32];
        float* p = dst + GroupF32 * g0;
        for (long g = g0; g < g1; g += BatchGroupsF32)
        {
            long n = Math.Min(BatchGroupsF32, g1 - g);
            Philox.Words32<TV>(words, g, g + n, d.Stream, keys);
            switch (d.Distribution)
            {
                case FastDistribution.Uniform:
                    UniformF32<TV>(p, words, n * GroupF32, (float)((d.A + d.B) / 2), (float)((d.B - d.A) / 2) * TwoPow24Inv, stream, stats, ref sums);
                    break;
                case FastDistribution.Normal:
                    NormalF32<TV>(p, words, n, (float)d.A, (float)d.B, stream, stats, ref sums);
                    break;
                case FastDistribution.TruncatedNormal:
                    TruncatedNormalF32<TV>(p, words, n, GroupF32 * g, keys, d.Stream, (float)d.A, (float)d.B, (float)d.K,
                        (float)ExactSampling.Erf(d.K / SqrtTwo) * TwoPow24Inv, (float)(d.A - d.K * d.B), (float)(d.A + d.K * d.B), stream, stats, ref sums);
                    break;
                default: throw new ArgumentOutOfRangeException(nameof(d));
            }
            p += n * GroupF32;
        }
    }

    /// <summary>Groups per stage-one batch (1024 elements: 4 KiB of float32 words, 8 KiB of float64 values).</summary>
    public const int BatchGroupsF32 = 16, BatchGroupsF64 = 32;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV CenteredF<TV>(TV w) where TV : struct, ISimd<TV> =>
        TV.CvtI32ToF32(TV.Or(TV.Sar32(w, 7), TV.U32(1)));   // odd m in (−2²⁴, 2²⁴), exact in float

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void UniformF32<TV>(float* dst, uint* w, long count, float midF, float scaleF, bool stream, bool stats, ref Sums sums) where TV : struct, ISimd<TV>
    {
        TV mid = TV.F32(midF), scale = TV.F32(scaleF), s1 = TV.Zero, s2 = TV.Zero;
        for (long i = 0; i < count; i += TV.Lanes)
            Put(dst + i, TV.FmaF(CenteredF(TV.Load(w + i)), scale, mid), stream, stats, mid, ref s1, ref s2);
        if (stats) Add(s1, s2, ref sums);
    }

    /// <summary>Stores x (streaming or not) and, when asked, adds x − center and its square to the lane sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Put<TV>(float* p, TV x, bool stream, bool stats, TV center, ref TV s1, ref TV s2) where TV : struct, ISimd<TV>
    {
        if (stream) TV.StoreStream(p, x); else TV.Store(p, x);
        if (stats)
        {
            TV dev = TV.SubF(x, center);
            s1 = TV.AddF(s1, dev);
            s2 = TV.FmaF(dev, dev, s2);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Add<TV>(TV s1, TV s2, ref Sums sums) where TV : struct, ISimd<TV>
    {
        sums.S1 += TV.SumF(s1);
        sums.S2 += TV.SumF(s2);
    }

    /// <summary>
    /// Box–Muller on two words: (R cos θ, R sin θ), R = √(−2 ln u₁), u₁ = (wa ≫ 8 + 1)·2⁻²⁴, θ = 2π·int32(wb)/2³² in [−π, π).
    /// The angle is taken as θ = 4φ, φ = int32(wb)·2π/2³⁴ in [−π/4, π/4], where the short polynomials of
    /// <see cref="VMath.SinCosF{TV}"/> hold, and doubled twice: sin 2a = 2 sin a cos a, cos 2a = 1 − 2 sin² a (six
    /// operations, against ten for a quadrant split and its rotation; absolute error of cos θ, sin θ below 3e−7).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void BoxMullerF<TV>(TV wa, TV wb, out TV z0, out TV z1) where TV : struct, ISimd<TV>
    {
        TV u1 = TV.MulF(TV.CvtI32ToF32(TV.AddI32(TV.Shr32(wa, 8), TV.U32(1))), TV.F32(TwoPow24Inv));
        TV r = TV.SqrtF(TV.MulF(VMath.LogF(u1), TV.F32(-2f)));
        TV phi = TV.MulF(TV.CvtI32ToF32(wb), TV.F32(QuarterAngleScaleF));
        VMath.SinCosF(phi, out var sin, out var cos);
        // m = −2 sin φ; −sin 2φ = m cos φ; cos 2φ = 1 + m sin φ; then M = −2 (−sin 2φ) = 2 sin 2φ: sin θ = M cos 2φ, cos θ = 1 + M (−sin 2φ).
        TV m = TV.MulF(sin, TV.F32(-2f));
        TV negSin2 = TV.MulF(m, cos);
        TV cos2 = TV.FmaF(m, sin, TV.F32(1f));
        TV m2 = TV.MulF(negSin2, TV.F32(-2f));
        z0 = TV.MulF(r, TV.FmaF(m2, negSin2, TV.F32(1f)));
        z1 = TV.MulF(r, TV.MulF(m2, cos2));
    }

    /// <summary>Box–Muller pairs slot j = 0 with 1 and 2 with 3 of every group: elements e and e + 16.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void NormalF32<TV>(float* dst, uint* w, long groups, float meanF, float stdF, bool stream, bool stats, ref Sums sums) where TV : struct, ISimd<TV>
    {
        TV mean = TV.F32(meanF), std = TV.F32(stdF), s1 = TV.Zero, s2 = TV.Zero;
        for (long i = 0; i < groups * GroupF32; i += 32)
        {
            for (int p = 0; p < 16; p += TV.Lanes)
            {
                BoxMullerF(TV.Load(w + i + p), TV.Load(w + i + 16 + p), out var z0, out var z1);
                Put(dst + i + p, TV.FmaF(z0, std, mean), stream, stats, mean, ref s1, ref s2);
                Put(dst + i + 16 + p, TV.FmaF(z1, std, mean), stream, stats, mean, ref s1, ref s2);
            }
        }
        if (stats) Add(s1, s2, ref sums);
    }

    /// <summary>
    /// Truncated normal by rejection, in three passes over one batch of <paramref name="groups"/> groups (global
    /// elements <paramref name="first"/> …): (1) Box–Muller exactly as <see cref="NormalF32{TV}"/> turns the words
    /// into standard normals z in place, and a 64-bit mask per group marks the lanes with |z| &gt; k; (2) the marked
    /// elements are listed and <see cref="RetryF32{TV}"/> redraws them from their own counters; (3) x = mean + std·z,
    /// clamped to [lo, hi] against rounding, is stored. About 95% of the lanes (k = 2) cost one Box–Muller.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void TruncatedNormalF32<TV>(float* dst, uint* w, long groups, long first, uint* keys, uint streamId, float meanF, float stdF,
        float kF, float pScaleF, float loF, float hiF, bool stream, bool stats, ref Sums sums) where TV : struct, ISimd<TV>
    {
        long count = groups * GroupF32;
        float* z = (float*)w;                                  // the normals replace their words
        ulong* masks = stackalloc ulong[BatchGroupsF32];
        TV k = TV.F32(kF), abs = TV.U32(0x7FFF_FFFF);
        for (long g = 0; g < groups; g++)
        {
            ulong bits = 0;
            for (int h = 0; h < GroupF32; h += 32)
            {
                long i = GroupF32 * g + h;
                for (int p = 0; p < 16; p += TV.Lanes)
                {
                    BoxMullerF(TV.Load(w + i + p), TV.Load(w + i + 16 + p), out var z0, out var z1);
                    TV.Store(z + i + p, z0);
                    TV.Store(z + i + 16 + p, z1);
                    bits |= (ulong)TV.SignBits32(TV.LessF(k, TV.And(z0, abs))) << (h + p);
                    bits |= (ulong)TV.SignBits32(TV.LessF(k, TV.And(z1, abs))) << (h + 16 + p);
                }
            }
            masks[g] = bits;
        }
        RejectedF32<TV>(z, masks, groups, first, keys, streamId, kF, pScaleF);
        TV mean = TV.F32(meanF), std = TV.F32(stdF), lo = TV.F32(loF), hi = TV.F32(hiF), s1 = TV.Zero, s2 = TV.Zero;
        for (long i = 0; i < count; i += TV.Lanes)
            Put(dst + i, TV.MinF(TV.MaxF(TV.FmaF(TV.Load(z + i), std, mean), lo), hi), stream, stats, mean, ref s1, ref s2);
        if (stats) Add(s1, s2, ref sums);
    }

    /// <summary>Lists the batch offsets whose mask bit is set (group g's bit j: offset 64g + j) and redraws them (<see cref="RetryF32{TV}"/>).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void RejectedF32<TV>(float* z, ulong* masks, long groups, long first, uint* keys, uint streamId, float kF, float pScaleF) where TV : struct, ISimd<TV>
    {
        ushort* rejected = stackalloc ushort[BatchGroupsF32 * GroupF32];
        int nr = 0;
        for (int g = 0; g < groups; g++)
        {
            for (ulong b = masks[g]; b != 0; b &= b - 1)
                rejected[nr++] = (ushort)(GroupF32 * g + BitOperations.TrailingZeroCount(b));
        }
        if (nr > 0) RetryF32<TV>(z, rejected, nr, first, keys, streamId, kF, pScaleF);
    }

    /// <summary>
    /// The truncated normal's later attempts for global element e (a pure function of seed, stream and e, so the
    /// same for every thread count, vector width and shard split): Philox block (e low, e high, stream, 1), which
    /// no first attempt uses (their c3 is 0), gives words w0…w3; (z0, z1) = Box–Muller(w0, w1) as
    /// <see cref="BoxMullerF{TV}"/>; the value is z0 if |z0| ≤ k, else z1 if |z1| ≤ k, else the inverse CDF
    /// √2·erfinv(u·erf(k/√2)) of u = ((int32(w2) ≫ 7) | 1)·2⁻²⁴ (at k = 2 that is one element in 10⁴). No lane loops.
    /// Each candidate is a standard normal accepted on |z| ≤ k, so the result has the normal's density on [−k, k].
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    internal static void RetryF32<TV>(float* z, ushort* rejected, int nr, long first, uint* keys, uint streamId, float kF, float pScaleF) where TV : struct, ISimd<TV>
    {
        int lanes = TV.Lanes, half = lanes / 2;
        ulong* index = stackalloc ulong[16];
        float* x = stackalloc float[16];
        TV k = TV.F32(kF), abs = TV.U32(0x7FFF_FFFF), stream = TV.U32(streamId), one = TV.U64(1);
        for (int s = 0; s < nr; s += lanes)
        {
            int n = Math.Min(lanes, nr - s);
            for (int j = 0; j < lanes; j++) index[j] = (ulong)(first + rejected[s + Math.Min(j, n - 1)]);
            Philox.BlocksAt(TV.Load(index), TV.Load(index + half), stream, one, keys,
                out var w0a, out var w0b, out var w1a, out var w1b, out var w2a, out var w2b, out _, out _);
            // 32-bit lane 2i is index[i], lane 2i + 1 is index[half + i].
            BoxMullerF(Philox.Interleave(w0a, w0b), Philox.Interleave(w1a, w1b), out var z0, out var z1);
            TV reject0 = TV.LessF(k, TV.And(z0, abs));
            TV v = TV.Select(reject0, z1, z0);
            TV reject1 = TV.And(reject0, TV.LessF(k, TV.And(z1, abs)));
            if (TV.SignBits32(reject1) != 0) v = InverseCdfF32(v, reject1, Philox.Interleave(w2a, w2b), pScaleF);
            TV.Store(x, v);
            for (int j = 0; j < n; j++) z[rejected[s + j]] = x[j < half ? 2 * j : 2 * (j - half) + 1];
        }
    }

    /// <summary>The last resort of <see cref="RetryF32{TV}"/>: √2·erfinv(u·erf(k/√2)) in the lanes of <paramref name="mask"/>, u = ((int32(w) ≫ 7) | 1)·2⁻²⁴; v elsewhere.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static TV InverseCdfF32<TV>(TV v, TV mask, TV w, float pScaleF) where TV : struct, ISimd<TV>
    {
        TV p = TV.MulF(CenteredF(w), TV.F32(pScaleF));
        return TV.Select(mask, TV.MulF(VMath.ErfinvCentralF(p), TV.F32((float)SqrtTwo)), v);
    }

    // ---------------- float64 ----------------

    /// <summary>Fills groups [g0, g1) (elements 32·g0 … 32·g1 − 1) at <paramref name="dst"/> (element 0's address), in two stages as <see cref="FillF32"/>.</summary>
    public static void FillF64<TV>(double* dst, long g0, long g1, in FastDraw d, bool stream, bool stats, ref Sums sums) where TV : struct, ISimd<TV>
    {
        uint* keys = stackalloc uint[20];
        Philox.Schedule(d.Key0, d.Key1, keys);
        ulong* values = stackalloc ulong[BatchGroupsF64 * GroupF64];
        double* p = dst + GroupF64 * g0;
        for (long g = g0; g < g1; g += BatchGroupsF64)
        {
            long n = Math.Min(BatchGroupsF64, g1 - g);
            Philox.Words64<TV>(values, g, g + n, d.Stream, keys);
            switch (d.Distribution)
            {
                case FastDistribution.Uniform:
                    UniformF64<TV>(p, values, n * GroupF64, (d.A + d.B) / 2, (d.B - d.A) / 2, stream, stats, ref sums);
                    break;
                case FastDistribution.Normal:
                    NormalF64<TV>(p, values, n, d.A, d.B, stream, stats, ref sums);
                    break;
                case FastDistribution.TruncatedNormal:
                    TruncatedNormalF64<TV>(p, values, n * GroupF64, d.A, d.B * SqrtTwo, ExactSampling.Erf(d.K / SqrtTwo), d.A - d.K * d.B, d.A + d.K * d.B, stream, stats, ref sums);
                    break;
                default: throw new ArgumentOutOfRangeException(nameof(d));
            }
            p += n * GroupF64;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void UniformF64<TV>(double* dst, ulong* v, long count, double midD, double halfD, bool stream, bool stats, ref Sums sums) where TV : struct, ISimd<TV>
    {
        TV mid = TV.F64(midD), half = TV.F64(halfD), s1 = TV.Zero, s2 = TV.Zero;
        for (long i = 0; i < count; i += TV.Lanes / 2)
            PutD(dst + i, TV.FmaD(CenteredD(TV.Load(v + i)), half, mid), stream, stats, mid, ref s1, ref s2);
        if (stats) AddD(s1, s2, ref sums);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PutD<TV>(double* p, TV x, bool stream, bool stats, TV center, ref TV s1, ref TV s2) where TV : struct, ISimd<TV>
    {
        if (stream) TV.StoreStream(p, x); else TV.Store(p, x);
        if (stats)
        {
            TV dev = TV.SubD(x, center);
            s1 = TV.AddD(s1, dev);
            s2 = TV.FmaD(dev, dev, s2);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddD<TV>(TV s1, TV s2, ref Sums sums) where TV : struct, ISimd<TV>
    {
        sums.S1 += TV.SumD(s1);
        sums.S2 += TV.SumD(s2);
    }

    /// <summary>Box–Muller pairs slot k = 0 with k = 1 of every group: elements e and e + 16.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void NormalF64<TV>(double* dst, ulong* v, long groups, double meanD, double stdD, bool stream, bool stats, ref Sums sums) where TV : struct, ISimd<TV>
    {
        TV mean = TV.F64(meanD), std = TV.F64(stdD), s1 = TV.Zero, s2 = TV.Zero;
        for (long i = 0; i < groups * GroupF64; i += 32)
        {
            for (int p = 0; p < 16; p += TV.Lanes / 2)
            {
                BoxMullerD(TV.Load(v + i + p), TV.Load(v + i + 16 + p), out var z0, out var z1);
                PutD(dst + i + p, TV.FmaD(z0, std, mean), stream, stats, mean, ref s1, ref s2);
                PutD(dst + i + 16 + p, TV.FmaD(z1, std, mean), stream, stats, mean, ref s1, ref s2);
            }
        }
        if (stats) AddD(s1, s2, ref sums);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void TruncatedNormalF64<TV>(double* dst, ulong* v, long count, double meanD, double scaleD, double pScaleD, double loD, double hiD,
        bool stream, bool stats, ref Sums sums) where TV : struct, ISimd<TV>
    {
        TV mean = TV.F64(meanD), scale = TV.F64(scaleD), pScale = TV.F64(pScaleD), lo = TV.F64(loD), hi = TV.F64(hiD), s1 = TV.Zero, s2 = TV.Zero;
        for (long i = 0; i < count; i += TV.Lanes / 2)
        {
            TV p = TV.MulD(CenteredD(TV.Load(v + i)), pScale);
            TV x = TV.FmaD(VMath.ErfinvCentralD(p), scale, mean);
            PutD(dst + i, TV.MinD(TV.MaxD(x, lo), hi), stream, stats, mean, ref s1, ref s2);
        }
        if (stats) AddD(s1, s2, ref sums);
    }

    // ---------------- measuring ----------------

    /// <summary>Adds Σ(x − center) and Σ(x − center)² over <paramref name="count"/> floats to <paramref name="sums"/> (float lanes, flushed to double every 1024 values).</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void SumsF32<TV>(float* p, long count, float center, ref Sums sums) where TV : struct, ISimd<TV>
    {
        int n = TV.Lanes;
        TV c = TV.F32(center);
        long i = 0;
        while (i + 2 * n <= count)
        {
            TV a1 = TV.Zero, b1 = TV.Zero, a2 = TV.Zero, b2 = TV.Zero;
            long end = Math.Min(count - 2 * n, i + 1024);
            for (; i <= end; i += 2 * n)
            {
                TV d0 = TV.SubF(TV.Load(p + i), c), d1 = TV.SubF(TV.Load(p + i + n), c);
                a1 = TV.AddF(a1, d0); a2 = TV.FmaF(d0, d0, a2);
                b1 = TV.AddF(b1, d1); b2 = TV.FmaF(d1, d1, b2);
            }
            sums.S1 += TV.SumF(TV.AddF(a1, b1));
            sums.S2 += TV.SumF(TV.AddF(a2, b2));
        }
        for (; i < count; i++) { double d = p[i] - center; sums.S1 += d; sums.S2 += d * d; }
    }

    /// <summary>Adds Σ(x − center) and Σ(x − center)² over <paramref name="count"/> doubles to <paramref name="sums"/>.</summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void SumsF64<TV>(double* p, long count, double center, ref Sums sums) where TV : struct, ISimd<TV>
    {
        int n = TV.Lanes / 2;
        TV c = TV.F64(center), a1 = TV.Zero, b1 = TV.Zero, a2 = TV.Zero, b2 = TV.Zero;
        long i = 0;
        for (; i + 2 * n <= count; i += 2 * n)
        {
            TV d0 = TV.SubD(TV.Load(p + i), c), d1 = TV.SubD(TV.Load(p + i + n), c);
            a1 = TV.AddD(a1, d0); a2 = TV.FmaD(d0, d0, a2);
            b1 = TV.AddD(b1, d1); b2 = TV.FmaD(d1, d1, b2);
        }
        sums.S1 += TV.SumD(TV.AddD(a1, b1));
        sums.S2 += TV.SumD(TV.AddD(a2, b2));
        for (; i < count; i++) { double d = p[i] - center; sums.S1 += d; sums.S2 += d * d; }
    }

    /// <summary>The top 52 bits as d in [0, 1) (exact).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Unit52<TV>(TV v) where TV : struct, ISimd<TV> =>
        TV.SubD(TV.Or(TV.Shr64(v, 12), TV.U64(0x3FF0_0000_0000_0000)), TV.F64(1.0));

    /// <summary>2d − 1 + 2⁻⁵²: symmetric in (−1, 1), exact.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV CenteredD<TV>(TV v) where TV : struct, ISimd<TV> =>
        TV.FmaD(Unit52(v), TV.F64(2.0), TV.F64(-1.0 + 1.0 / 4503599627370496.0));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void BoxMullerD<TV>(TV va, TV vb, out TV z0, out TV z1) where TV : struct, ISimd<TV>
    {
        TV u1 = TV.SubD(TV.F64(1.0), Unit52(va));                       // (0, 1]
        TV r = TV.SqrtD(TV.MulD(VMath.LogD(u1), TV.F64(-2.0)));
        // Quadrant q = round(vb / 2⁶²) mod 4; rest in [−2⁶¹, 2⁶¹) ≫ 10 → [−2⁵¹, 2⁵¹), converted exactly by the 2⁵² trick.
        TV shifted = TV.AddI64(vb, TV.U64(1UL << 61));
        TV q = TV.Shr64(shifted, 62);
        TV rest = TV.Shr64(TV.And(shifted, TV.U64((1UL << 62) - 1)), 10);                 // [0, 2⁵²)
        TV restD = TV.SubD(TV.Or(rest, TV.U64(0x4330_0000_0000_0000)), TV.F64(4503599627370496.0 + 2251799813685248.0)); // rest − 2⁵¹
        TV t = TV.MulD(restD, TV.F64(AngleScaleD));
        VMath.SinCosD(t, out var sin, out var cos);
        TV swap = TV.SubI64(TV.Zero, TV.And(q, TV.U64(1)));
        TV c = TV.Select(swap, sin, cos), s = TV.Select(swap, cos, sin);
        c = TV.Xor(c, TV.Shl64(TV.And(TV.Xor(q, TV.Shr64(q, 1)), TV.U64(1)), 63));
        s = TV.Xor(s, TV.Shl64(TV.Shr64(q, 1), 63));
        z0 = TV.MulD(r, c);
        z1 = TV.MulD(r, s);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV TruncD<TV>(TV v, TV pScale, TV scale, TV mean, TV lo, TV hi) where TV : struct, ISimd<TV>
    {
        TV p = TV.MulD(CenteredD(v), pScale);
        TV x = TV.FmaD(VMath.ErfinvCentralD(p), scale, mean);
        return TV.MinD(TV.MaxD(x, lo), hi);
    }
}
