using System.Runtime.CompilerServices;
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
    /// <summary>Word counts below this are generated on one thread (<see cref="WordStream.ParallelWords"/>).</summary>
    public const long ParallelWords = WordStream.ParallelWords;

    /// <summary>
    /// Whether libtorch computes x·(to − from) + from with one fused multiply-add (its AVX2/AVX512 kernels, compiled with
    /// FMA, contract it) or with two roundings (its default kernel): found once by drawing 4096 float32 and float64 values
    /// both ways and comparing them with libtorch's own; null (the parallel path off, said once: <see cref="ExactCalibration"/>) when neither matches.
    /// </summary>
    private static Lazy<bool?> FusedMode = new(Calibrate);

    /// <summary>Why the parallel <c>uniform_</c> is off, one line (<see cref="ExactCalibration"/>).</summary>
    internal const string OffReason =
        "exact uniform_ on every core is off: neither of its variants (one fused multiply-add, or two roundings) gave libtorch's own " +
        "uniform_ bits on 4,096 float32 and float64 draws (another libtorch build, or a broken port); every exact uniform draw is " +
        "libtorch's own call (the same values, on one core).";

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
                ExactCalibration.Tamper(expected);
                using var actual = empty(4096, dtype);
                all &= Run(actual, -0.0547, 0.0913, g2, 1, fused) && expected.bytes.SequenceEqual(actual.bytes);
            }
            if (all) return fused;
        }
        ExactCalibration.Off(OffReason);
        return null;
    }

    /// <summary><see cref="OffReason"/> when calibration found no variant (it runs first if it has not), else null.</summary>
    internal static string? Off => FusedMode.Value is null ? OffReason : null;

    /// <summary>Forgets the calibration (tests: <see cref="ExactCalibration.Recalibrate"/>).</summary>
    internal static void Recalibrate() => FusedMode = new(Calibrate);

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
        if (!WordStream.Draw(g, stream => stream.Generate(wide ? 2 * n : n, parallelism, new UniformSink(FastFill.DataPointer(t), wide, fused, from, to))))
            return false;
        GC.KeepAlive(t);
        FastFill.BumpVersion(t);
        return true;
    }

    /// <summary>Writes element e from stream word e (float32) or words 2e, 2e + 1 (float64, the first high).</summary>
    private sealed class UniformSink(IntPtr dst, bool wide, bool fused, double from, double to) : WordStream.Sink
    {
        public override void Begin(int parts) { }

        /// <summary>a × b + c with one rounding per lane (.NET 8 has no Vector256.FusedMultiplyAdd: the FMA instruction, else lane by lane).</summary>
        private static Vector256<float> FusedMultiplyAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) =>
#if NET9_0_OR_GREATER
            Vector256.FusedMultiplyAdd(a, b, c);
#else
            System.Runtime.Intrinsics.X86.Fma.IsSupported ? System.Runtime.Intrinsics.X86.Fma.MultiplyAdd(a, b, c) : TorchInit.Fast.Net8Fma.PerLane(a, b, c);
#endif

        /// <summary>Writes the elements whose (first) word lies in [offset, offset + count).</summary>
        public override void Emit(int part, uint* src, long offset, int count)
        {
            if (!wide)
            {
                float f = (float)from, range = (float)to - f;
                float* o = (float*)dst + offset;
                int k = 0;
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
                    float x = UniformFloat(src[k]);
                    o[k] = fused ? MathF.FusedMultiplyAdd(x, range, f) : x * range + f;
                }
            }
            else
            {
                double range = to - from;
                // Element e's high word is stream word 2e: those at an even offset in [offset, offset + count).
                int r = (int)(offset & 1);
                double* o = (double*)dst + (offset + r) / 2;
                for (; r < count; r += 2, o++)
                {
                    double x = UniformDouble(src[r], src[r + 1]);
                    *o = fused ? Math.FusedMultiplyAdd(x, range, from) : x * range + from;
                }
            }
        }
    }

    /// <summary>libtorch's uniform float in [0, 1) from one word: (w ∧ (2²⁴ − 1))·2⁻²⁴.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float UniformFloat(uint w) => (w & 0xFFFFFF) * (1f / 16777216f);

    /// <summary>libtorch's uniform double in [0, 1) from two words, the first high: ((hi ≪ 32 | lo) ∧ (2⁵³ − 1))·2⁻⁵³.</summary>
    internal static double UniformDouble(uint hi, uint lo) =>
        (((ulong)(hi & 0x1FFFFF) << 32) | lo) * (1.0 / 9007199254740992.0);
}
