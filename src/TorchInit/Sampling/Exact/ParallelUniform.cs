using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using TorchInit.Fast;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit.Exact;

/// <summary>
/// libtorch's CPU <c>uniform_(from, to)</c> for contiguous float32/float64 tensors, bit for bit, on every core. libtorch
/// (<c>uniform_kernel</c>: <c>uniform_real_distribution</c> in a serial loop) gives element i of a float32 tensor
/// x = (w &amp; (2²⁴ − 1))·2⁻²⁴·(to − from) + from in float arithmetic from the i-th tempered mt19937 word w, and of a float64
/// tensor x = (v &amp; (2⁵³ − 1))·2⁻⁵³·(to − from) + from with v = (w₂ᵢ ≪ 32) | w₂ᵢ₊₁ (two words, the first high). Here the
/// generator's state is read with <c>get_state()</c>, the word stream is split at multiples of 624 words among the
/// threads, each jumps to its start (<see cref="Mt19937.JumpBlocks"/>) and runs the recurrence in SIMD, and the state
/// is set back with <c>set_state()</c> exactly where libtorch's loop leaves it (the cached normal samples untouched).
/// </summary>
internal static unsafe class ParallelUniform
{
    /// <summary>Bytes of libtorch's CPUGeneratorImplState (x86-64 layout): seed u64 @0, left i32 @8, seeded i32 @12, next u64 @16, state u64[624] @24, …</summary>
    private const int StateBytes = 5056, LeftAt = 8, NextAt = 16, ArrayAt = 24;

    /// <summary>Word counts below this are generated on one thread (jumping costs about a millisecond).</summary>
    public const long ParallelWords = 1L << 21;

    /// <summary>Words generated per inner step (a multiple of 624).</summary>
    private const int Batch = 624 * 4;

    /// <summary>
    /// Whether libtorch computes x·(to − from) + from with one fused multiply-add (its AVX2/AVX512 kernels, compiled with
    /// FMA, contract it) or with two roundings (its default kernel): found once by drawing 4096 float32 and float64 values
    /// both ways and comparing them with libtorch's own; null (the parallel path off) when neither matches.
    /// </summary>
    private static readonly Lazy<bool?> FusedMode = new(Calibrate);

    private static bool? Calibrate()
    {
        foreach (var fused in new[] { true, false })
        {
            bool all = true;
            foreach (var dtype in new[] { ScalarType.Float32, ScalarType.Float64 })
            {
                using var g1 = new Generator(12345);
                using var g2 = new Generator(12345);
                using var expected = empty(4096, dtype).uniform_(-0.0547, 0.0913, g1);
                using var actual = empty(4096, dtype);
                all &= Run(actual, -0.0547, 0.0913, g2, 1, fused) && expected.bytes.SequenceEqual(actual.bytes);
            }
            if (all) return fused;
        }
        return null;
    }

    /// <summary>Fills <paramref name="t"/> as libtorch's <c>uniform_(from, to, g)</c> would and advances <paramref name="g"/> alike; false when this case is libtorch's own (then nothing happened).</summary>
    public static bool TryUniform(Tensor t, double from, double to, Generator? g, int parallelism) =>
        FusedMode.Value is bool fused && Run(t, from, to, g, parallelism, fused);

    private static bool Run(Tensor t, double from, double to, Generator? g, int parallelism, bool fused)
    {
        if (g is null || g.device.type != DeviceType.CPU || t.device_type != DeviceType.CPU || !t.is_contiguous()) return false;
        var dtype = t.dtype;
        if (dtype is not (ScalarType.Float32 or ScalarType.Float64)) return false;
        if (!double.IsFinite(from) || !double.IsFinite(to) || !(from <= to)) return false;
        bool wide = dtype == ScalarType.Float64;
        if (!wide && (!float.IsFinite((float)from) || !float.IsFinite((float)to) || !float.IsFinite((float)to - (float)from))) return false;
        if (wide && !double.IsFinite(to - from)) return false;
        long n = t.numel();
        if (n == 0) return false;

        using var state = g.get_state();
        if (state.numel() != StateBytes) return false;
        var bytes = new byte[StateBytes];
        Marshal.Copy(FastFill.AnyDataPointer(state), bytes, 0, StateBytes);
        int left = BitConverter.ToInt32(bytes, LeftAt);
        long next = (long)BitConverter.ToUInt64(bytes, NextAt);
        long start;
        if (left == 1) start = Mt19937.N;
        else if (left > 1 && left <= Mt19937.N && next + left == Mt19937.N + 1) start = next;
        else return false;
        var window = new uint[Mt19937.N];
        for (int i = 0; i < Mt19937.N; i++) window[i] = (uint)BitConverter.ToUInt64(bytes, ArrayAt + 8 * i);

        long words = wide ? 2 * n : n;
        long end = start + words;
        long lastBase = (end - 1) / Mt19937.N * Mt19937.N;
        var final = new uint[Mt19937.N];
        var job = new Job(FastFill.DataPointer(t), wide, fused, from, to, start, end, lastBase, window, final);

        long blocks = (end + Mt19937.N - 1) / Mt19937.N;   // blocks 0 … blocks − 1 of 624 words cover [0, end)
        int threads = words < ParallelWords ? 1 : (int)Math.Min(Math.Max(1, parallelism), Environment.ProcessorCount);
        var firstBlock = new long[threads + 1];
        for (int k = 0; k < threads; k++) firstBlock[k] = k == 0 ? 0 : FewBits(blocks * k / threads);
        firstBlock[threads] = blocks;
        Gang.For(threads, threads, k => job.Run(firstBlock[k], firstBlock[k + 1]));
        GC.KeepAlive(t);

        for (int i = 0; i < Mt19937.N; i++) BitConverter.TryWriteBytes(bytes.AsSpan(ArrayAt + 8 * i, 8), (ulong)final[i]);
        long nextAfter = end - lastBase;
        BitConverter.TryWriteBytes(bytes.AsSpan(LeftAt, 4), (int)(Mt19937.N + 1 - nextAfter));
        BitConverter.TryWriteBytes(bytes.AsSpan(NextAt, 8), (ulong)nextAfter);
        Marshal.Copy(bytes, 0, FastFill.AnyDataPointer(state), StateBytes);   // the state tensor is get_state()'s own copy
        g.set_state(state);
        FastFill.BumpVersion(t);
        return true;
    }

    /// <summary>x rounded down to its three highest set bits: a jump costs one polynomial per set bit.</summary>
    private static long FewBits(long x)
    {
        if (x <= 7) return x;
        int shift = 63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)x) - 2;
        return x >> shift << shift;
    }

    private sealed class Job(IntPtr dst, bool wide, bool fused, double from, double to, long start, long end, long lastBase, uint[] window, uint[] final)
    {
        /// <summary>Blocks [b0, b1): jumps from the state's window (block 0) to block b0, then generates and writes its words.</summary>
        public void Run(long b0, long b1)
        {
            if (b0 >= b1) return;
            var w = (uint[])window.Clone();
            if (b0 > 0) Mt19937.JumpBlocks(w, b0);
            long q = b0 * Mt19937.N, stop = Math.Min(end, b1 * Mt19937.N);
            var buf = new uint[Mt19937.N + Batch + 8];
            var tw = new uint[Batch + 8];
            fixed (uint* y = buf)
            fixed (uint* tp = tw)
            fixed (uint* wp = w)
            {
                Buffer.MemoryCopy(wp, y, Mt19937.N * 4, Mt19937.N * 4);
                while (q < stop)
                {
                    Mt19937.Advance(y, Mt19937.N, Mt19937.N + Batch);   // y[0 …) now holds terms q … q + 624 + Batch − 1
                    if (lastBase >= q && lastBase < q + Batch)
                        fixed (uint* f = final) Buffer.MemoryCopy(y + (lastBase - q), f, Mt19937.N * 4, Mt19937.N * 4);
                    long lo = Math.Max(q, start), hi = Math.Min(q + Batch, stop);
                    if (lo < hi) Emit(y, tp, q, lo, hi);
                    q += Batch;
                    Buffer.MemoryCopy(y + Batch, y, Mt19937.N * 4, Mt19937.N * 4);
                }
            }
        }

        /// <summary>a × b + c with one rounding per lane (.NET 8 has no Vector256.FusedMultiplyAdd: the FMA instruction, else lane by lane).</summary>
        private static Vector256<float> FusedMultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) =>
#if NET9_0_OR_GREATER
            Vector256.FusedMultiplyAdd(a, b, c);
#else
            System.Runtime.Intrinsics.X86.Fma.IsSupported ? System.Runtime.Intrinsics.X86.Fma.MultiplyAdd(a, b, c) : TorchInit.Fast.Net8Fma.PerLane(a, b, c);
#endif

        /// <summary>Writes the elements whose (first) word lies in [lo, hi), from raw terms y (term q at y[0]).</summary>
        private void Emit(uint* y, uint* tw, long q, long lo, long hi)
        {
            int a = (int)(lo - q), b = (int)(hi - q) + (wide ? 1 : 0);   // float64 may need the next word
            int i = a;
            for (; i + 8 <= b; i += 8) Vector256.Store(Mt19937.Temper(Vector256.Load(y + i)), tw + i);
            for (; i < b; i++) tw[i] = Mt19937.Temper(y[i]);
            if (!wide)
            {
                float f = (float)from, range = (float)to - f;
                float* o = (float*)dst + (lo - start);
                int count = (int)(hi - lo), k = 0;
                uint* src = tw + a;
                var mask = Vector256.Create(0xFFFFFFu);
                var div = Vector256.Create(1f / 16777216f);
                var vr = Vector256.Create(range);
                var vf = Vector256.Create(f);
                for (; k + 8 <= count; k += 8)
                {
                    var x = Vector256.ConvertToSingle((Vector256.Load(src + k) & mask).AsInt32()) * div;
                    Vector256.Store(fused ? FusedMultiplyAdd(x, vr, vf) : x * vr + vf, o + k);
                }
                for (; k < count; k++)
                {
                    float x = (src[k] & 0xFFFFFF) * (1f / 16777216f);
                    o[k] = fused ? MathF.FusedMultiplyAdd(x, range, f) : x * range + f;
                }
            }
            else
            {
                double range = to - from;
                // Element e's high word is term start + 2e: those with an even offset from start in [lo, hi).
                long h = lo + ((lo - start) & 1);
                double* o = (double*)dst + (h - start) / 2;
                for (; h < hi; h += 2, o++)
                {
                    int r = (int)(h - q);
                    ulong v = ((ulong)(tw[r] & 0x1FFFFF) << 32) | tw[r + 1];
                    double x = v * (1.0 / 9007199254740992.0);
                    *o = fused ? Math.FusedMultiplyAdd(x, range, from) : x * range + from;
                }
            }
        }
    }
}
