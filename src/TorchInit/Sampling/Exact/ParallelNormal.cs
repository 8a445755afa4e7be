using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using TorchInit.Fast;
using TorchSharp;
using static TorchSharp.torch;

namespace TorchInit.Exact;

/// <summary>
/// libtorch's CPU <c>normal_(mean, std)</c> for contiguous float32/float64 tensors of n ≥ 16 elements, bit for bit, on
/// every core. libtorch (<c>normal_kernel</c> → <c>normal_fill_AVX2</c> for float32 on AVX2 CPUs, <c>normal_fill</c>
/// otherwise) first writes uᵢ = U[0, 1) into every element in order (float32: (wᵢ ∧ (2²⁴ − 1))·2⁻²⁴ from one mt19937
/// word; float64: two words, as <see cref="ParallelUniform"/>), then applies Box–Muller to each block of 16 elements
/// i … i + 15 with i + 16 ≤ n: for j &lt; 8, with u₁ = 1 − u_{i+j} and u₂ = u_{i+j+8},
/// r = √(−2·ln u₁), θ = 2π·u₂, x_{i+j} = r·cos θ·σ + μ and x_{i+j+8} = r·sin θ·σ + μ; when 16 ∤ n it draws 16 further
/// uniforms into elements n − 16 … n − 1 and transforms that block again. So n + (16 ∤ n ? 16 : 0) words are consumed
/// (twice that for float64). Here the words come from <see cref="WordStream"/>; each thread writes its uniforms and
/// transforms the blocks lying wholly in its part at once, the blocks straddling two parts and the re-drawn last block
/// follow, and the generator is left where libtorch leaves it. The float32 transform reproduces libtorch's AVX2 code
/// (<c>log256_ps</c>, <c>sincos256_ps</c>: Cephes polynomials, in the order of operations and with the multiply-add
/// contractions of its compiled binary); the float64 one calls the C library's <c>log</c> and <c>sincos</c>, as
/// libtorch does. Which variant matches this libtorch is found once by calibration; none matching leaves every draw to
/// libtorch, and says so once (<see cref="ExactCalibration"/>, <see cref="TorchRuntime.ExactParallelFallbacks"/>).
/// </summary>
internal static unsafe class ParallelNormal
{
    /// <summary>
    /// How libtorch's float32 AVX2 transform rounds: <see cref="Contracted"/>, its GCC-built binary (each a·b + c of
    /// <c>avx_mathfun.h</c> whose product feeds only that sum fused into one FMA, as the compiler contracts them), or
    /// <see cref="Separate"/>, every intrinsic rounded on its own (a compiler that does not contract). The final
    /// r·cos θ·σ + μ is an explicit FMA in both.
    /// </summary>
    internal enum FloatMode { Contracted, Separate }

    /// <summary>Whether the float64 transform's r·cos θ·σ + μ is one FMA of (r·cos θ)·σ and μ (a build with FMA contracts it) or two roundings.</summary>
    internal enum DoubleMode { Fused, Separate }

    private static Lazy<FloatMode?> FloatVariant = new(CalibrateFloat);
    private static Lazy<DoubleMode?> DoubleVariant = new(CalibrateDouble);
    private static string? _floatOff;

    /// <summary>The float32 variant that matched libtorch's own <c>normal_</c> bit for bit; null when none did (or no AVX2/FMA).</summary>
    internal static FloatMode? CalibratedFloat => FloatVariant.Value;

    /// <summary>The float64 variant that matched libtorch's own <c>normal_</c> bit for bit; null when none did.</summary>
    internal static DoubleMode? CalibratedDouble => DoubleVariant.Value;

    /// <summary>Sizes drawn in a row from one generator by calibration: whole blocks and re-drawn last blocks.</summary>
    private static readonly long[] CalibrationSizes = [16, 17, 31, 32, 33, 100, 4099];

    private static FloatMode? CalibrateFloat()
    {
        if (!Avx2.IsSupported || !Fma.IsSupported)
        {
            ExactCalibration.Off(_floatOff = FloatNoAvx2Reason);
            return null;
        }
        foreach (var mode in new[] { FloatMode.Contracted, FloatMode.Separate })
            if (Matches(ScalarType.Float32, (t, m, s, g) => RunFloat(t, m, s, g, 1, mode))) return mode;
        ExactCalibration.Off(_floatOff = FloatMismatchReason);
        return null;
    }

    private static DoubleMode? CalibrateDouble()
    {
        foreach (var mode in new[] { DoubleMode.Fused, DoubleMode.Separate })
            if (Matches(ScalarType.Float64, (t, m, s, g) => RunDouble(t, m, s, g, 1, mode))) return mode;
        ExactCalibration.Off(DoubleMismatchReason);
        return null;
    }

    /// <summary>Why the parallel float32 <c>normal_</c> is off: this CPU lacks the instructions of libtorch's AVX2 kernel.</summary>
    internal const string FloatNoAvx2Reason =
        "exact float32 normal_ on every core is off: this CPU lacks AVX2 or FMA, which the port of libtorch's AVX2 kernel needs; every " +
        "exact float32 normal draw is libtorch's own call (the same values, on one core).";

    /// <summary>Why the parallel float32 <c>normal_</c> is off: no variant gave libtorch's bits.</summary>
    internal const string FloatMismatchReason =
        "exact float32 normal_ on every core is off: neither of its variants (contracted, separate roundings) gave libtorch's own " +
        "normal_ bits on the calibration draws (another libtorch build, or a broken port); every exact float32 normal draw is " +
        "libtorch's own call (the same values, on one core).";

    /// <summary>Why the parallel float64 <c>normal_</c> is off: no variant gave libtorch's bits.</summary>
    internal const string DoubleMismatchReason =
        "exact float64 normal_ on every core is off: neither of its variants (fused, separate roundings) gave libtorch's own normal_ " +
        "bits on the calibration draws (another libtorch build or C library, or a broken port); every exact float64 normal draw is " +
        "libtorch's own call (the same values, on one core).";

    /// <summary>Why the parallel float32 <c>normal_</c> is off (its calibration run first), or null when it is on.</summary>
    internal static string? FloatOff => FloatVariant.Value is null ? _floatOff ?? FloatMismatchReason : null;

    /// <summary>Why the parallel float64 <c>normal_</c> is off (its calibration run first), or null when it is on.</summary>
    internal static string? DoubleOff => DoubleVariant.Value is null ? DoubleMismatchReason : null;

    /// <summary>Forgets both calibrations (tests: <see cref="ExactCalibration.Recalibrate"/>).</summary>
    internal static void Recalibrate()
    {
        FloatVariant = new(CalibrateFloat);
        DoubleVariant = new(CalibrateDouble);
    }

    /// <summary>Whether <paramref name="run"/> gives libtorch's bytes for every calibration size, drawn in a row from equally seeded generators.</summary>
    private static bool Matches(ScalarType dtype, Func<Tensor, double, double, Generator, bool> run)
    {
        using var g1 = new Generator(20240611);
        using var g2 = new Generator(20240611);
        foreach (var (mean, std) in new[] { (0.0, 1.0), (0.3125, 1.7) })
            foreach (var n in CalibrationSizes)
            {
                using var expected = empty(n, dtype).normal_(mean, std, g1);
                ExactCalibration.Tamper(expected);
                using var actual = empty(n, dtype);
                if (!run(actual, mean, std, g2) || !expected.bytes.SequenceEqual(actual.bytes)) return false;
            }
        return true;
    }

    /// <summary>
    /// Fills <paramref name="t"/> as libtorch's <c>normal_(mean, std, g)</c> would and advances <paramref name="g"/> alike, on up to
    /// <paramref name="parallelism"/> threads; false when this case is libtorch's own (then nothing happened).
    /// </summary>
    public static bool TryNormal(Tensor t, double mean, double std, Generator? g, int parallelism)
    {
        if (t.dtype == ScalarType.Float32) return FloatVariant.Value is FloatMode f && RunFloat(t, mean, std, g, parallelism, f);
        if (t.dtype == ScalarType.Float64) return DoubleVariant.Value is DoubleMode d && RunDouble(t, mean, std, g, parallelism, d);
        return false;
    }

    /// <summary>The cases both paths take: a contiguous CPU tensor of at least 16 elements, a CPU generator, finite μ and finite σ ≥ 0.</summary>
    private static bool Eligible(Tensor t, double mean, double std, Generator? g) =>
        g is not null && g.device.type == DeviceType.CPU && t.device_type == DeviceType.CPU && t.is_contiguous()
        && t.numel() >= 16 && double.IsFinite(mean) && double.IsFinite(std) && std >= 0;

    /// <summary>Stream words consumed for n elements of <paramref name="wordsPerElement"/> words: n, plus 16 more elements when 16 ∤ n.</summary>
    private static long Words(long n, int wordsPerElement) => wordsPerElement * (n + (n % 16 != 0 ? 16 : 0));

    internal static bool RunFloat(Tensor t, double mean, double std, Generator? g, int parallelism, FloatMode mode)
    {
        if (t.dtype != ScalarType.Float32 || !Eligible(t, mean, std, g)) return false;
        float m = (float)mean, s = (float)std;
        if (!float.IsFinite(m) || !float.IsFinite(s)) return false;
        if (!Avx2.IsSupported || !Fma.IsSupported) return false;
        return Run(t, g, 1, parallelism, (data, n) => new FloatSink((float*)data, n, m, s, mode));
    }

    internal static bool RunDouble(Tensor t, double mean, double std, Generator? g, int parallelism, DoubleMode mode) =>
        t.dtype == ScalarType.Float64 && Eligible(t, mean, std, g)
        && Run(t, g, 2, parallelism, (data, n) => new DoubleSink((double*)data, n, mean, std, mode));

    /// <summary>Generates the words of n elements into the sink over the tensor's data, transforms the remaining blocks, and leaves <paramref name="g"/> where libtorch would.</summary>
    private static bool Run(Tensor t, Generator? g, int wordsPerElement, int parallelism, Func<IntPtr, long, BlockSink> sinkOver)
    {
        long n = t.numel();
        if (!WordStream.Draw(g, stream =>
            {
                var sink = sinkOver(FastFill.DataPointer(t), n);
                stream.Generate(Words(n, wordsPerElement), parallelism, sink);
                sink.Finish();
            }))
            return false;
        GC.KeepAlive(t);
        FastFill.BumpVersion(t);
        return true;
    }

    /// <summary>
    /// Uniforms into the elements (and the 16 re-drawn ones into a side buffer), each part transforming the blocks that lie
    /// wholly in it as soon as they are written; <see cref="Finish"/> transforms the blocks straddling two parts, then the re-drawn last block.
    /// </summary>
    private abstract class BlockSink(long n) : WordStream.Sink
    {
        protected readonly long N = n;
        /// <summary>Elements 0 … FullEnd − 1 form the blocks of libtorch's first pass (i + 16 ≤ n).</summary>
        protected readonly long FullEnd = n / 16 * 16;
        private long[] _first = [], _next = [];

        public override void Begin(int parts)
        {
            _first = new long[parts];
            _next = new long[parts];
            Array.Fill(_first, -1L);
        }

        /// <summary>Part <paramref name="part"/> has written elements up to <paramref name="written"/> (exclusive), its first being <paramref name="first"/>: transforms its complete blocks.</summary>
        protected void Written(int part, long first, long written)
        {
            if (_first[part] < 0)
            {
                _first[part] = first;
                _next[part] = (first + 15) / 16 * 16;
            }
            long limit = Math.Min(written, FullEnd);
            long i = _next[part];
            for (; i + 16 <= limit; i += 16) Transform(i);
            _next[part] = i;
        }

        /// <summary>Transforms block i … i + 15 in place.</summary>
        protected abstract void Transform(long i);

        /// <summary>Copies the 16 re-drawn uniforms into elements n − 16 … n − 1.</summary>
        protected abstract void PlaceTail();

        /// <summary>The blocks no part could transform alone (those holding a part's unaligned first element), then, when 16 ∤ n, the re-drawn last block.</summary>
        public void Finish()
        {
            foreach (var first in _first)
                if (first > 0 && first % 16 != 0 && first / 16 * 16 + 16 <= FullEnd) Transform(first / 16 * 16);
            if (N % 16 != 0)
            {
                PlaceTail();
                Transform(N - 16);
            }
        }
    }

    private sealed class FloatSink(float* data, long n, float mean, float std, FloatMode mode) : BlockSink(n)
    {
        private readonly float[] _tail = new float[16];
        private readonly Vector256<float> _mean = Vector256.Create(mean), _std = Vector256.Create(std);

        public override void Emit(int part, uint* w, long offset, int count)
        {
            long end = offset + count, dataEnd = Math.Min(end, N);
            if (offset < dataEnd) ToUniform(w, data + offset, (int)(dataEnd - offset));
            for (long k = Math.Max(offset, N); k < end; k++) _tail[k - N] = ParallelUniform.UniformFloat(w[k - offset]);
            Written(part, offset, dataEnd);
        }

        protected override void Transform(long i)
        {
            if (mode == FloatMode.Contracted) Block<ContractedOps>(data + i, _mean, _std);
            else Block<SeparateOps>(data + i, _mean, _std);
        }

        protected override void PlaceTail()
        {
            for (int k = 0; k < 16; k++) data[N - 16 + k] = _tail[k];
        }
    }

    private sealed class DoubleSink(double* data, long n, double mean, double std, DoubleMode mode) : BlockSink(n)
    {
        private readonly double[] _tail = new double[16];

        /// <summary>Element e comes from words 2e (high) and 2e + 1; the sink's words include the one after its range.</summary>
        public override void Emit(int part, uint* w, long offset, int count)
        {
            long end = offset + count;
            for (long r = offset & 1; r < count; r += 2)
            {
                long e = (offset + r) / 2;
                double u = ParallelUniform.UniformDouble(w[r], w[r + 1]);
                if (e < N) data[e] = u;
                else _tail[e - N] = u;
            }
            Written(part, (offset + 1) / 2, Math.Min((end + 1) / 2, N));
        }

        protected override void Transform(long i) => BlockDouble(data + i, mean, std, mode == DoubleMode.Fused);

        protected override void PlaceTail()
        {
            for (int k = 0; k < 16; k++) data[N - 16 + k] = _tail[k];
        }
    }

    // ---------------- float32: uniforms ----------------

    private static void ToUniform(uint* w, float* o, int count)
    {
        int k = 0;
        var mask = Vector256.Create(0xFFFFFFu);
        var scale = Vector256.Create(1f / 16777216f);
        for (; k + 8 <= count; k += 8)
            Vector256.Store(Vector256.ConvertToSingle((Vector256.Load(w + k) & mask).AsInt32()) * scale, o + k);
        for (; k < count; k++) o[k] = ParallelUniform.UniformFloat(w[k]);
    }

    // ---------------- float32: libtorch's AVX2 transform ----------------

    /// <summary>How a product feeding a sum is rounded: fused into one FMA, or rounded before the sum.</summary>
    internal interface IOps
    {
        /// <summary>a·b + c.</summary>
        static abstract Vector256<float> MulAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c);
        /// <summary>c − a·b.</summary>
        static abstract Vector256<float> NegMulAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c);
        /// <summary>a·b − c.</summary>
        static abstract Vector256<float> MulSub(Vector256<float> a, Vector256<float> b, Vector256<float> c);
        /// <summary>a·b + c for scalars.</summary>
        static abstract float MulAdd(float a, float b, float c);
        /// <summary>c − a·b for scalars.</summary>
        static abstract float NegMulAdd(float a, float b, float c);
        /// <summary>a·b − c for scalars.</summary>
        static abstract float MulSub(float a, float b, float c);
    }

    /// <summary>Each contracted a·b ± c one FMA (one rounding).</summary>
    internal readonly struct ContractedOps : IOps
    {
        public static Vector256<float> MulAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Fma.MultiplyAdd(a, b, c);
        public static Vector256<float> NegMulAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Fma.MultiplyAddNegated(a, b, c);
        public static Vector256<float> MulSub(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Fma.MultiplySubtract(a, b, c);
        public static float MulAdd(float a, float b, float c) => MathF.FusedMultiplyAdd(a, b, c);
        public static float NegMulAdd(float a, float b, float c) => MathF.FusedMultiplyAdd(-a, b, c);
        public static float MulSub(float a, float b, float c) => MathF.FusedMultiplyAdd(a, b, -c);
    }

    /// <summary>Each a·b ± c a rounded product, then a rounded sum.</summary>
    internal readonly struct SeparateOps : IOps
    {
        public static Vector256<float> MulAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Avx.Add(Avx.Multiply(a, b), c);
        public static Vector256<float> NegMulAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Avx.Subtract(c, Avx.Multiply(a, b));
        public static Vector256<float> MulSub(Vector256<float> a, Vector256<float> b, Vector256<float> c) => Avx.Subtract(Avx.Multiply(a, b), c);
        public static float MulAdd(float a, float b, float c) => a * b + c;   // .NET never contracts: two roundings
        public static float NegMulAdd(float a, float b, float c) => c - a * b;
        public static float MulSub(float a, float b, float c) => a * b - c;
    }

    // The constants of libtorch's avx_mathfun.h (Cephes): each a double literal rounded to float, as C's float initializers round them.
    private const float SqrtHalf = (float)0.707106781186547524;
    private const float LogP0 = (float)7.0376836292E-2, LogP1 = (float)-1.1514610310E-1, LogP2 = (float)1.1676998740E-1;
    private const float LogP3 = (float)-1.2420140846E-1, LogP4 = (float)1.4249322787E-1, LogP5 = (float)-1.6668057665E-1;
    private const float LogP6 = (float)2.0000714765E-1, LogP7 = (float)-2.4999993993E-1, LogP8 = (float)3.3333331174E-1;
    private const float LogQ1 = (float)-2.12194440e-4, LogQ2 = (float)0.693359375;
    private const float MinusDP1 = (float)-0.78515625, MinusDP2 = (float)-2.4187564849853515625e-4, MinusDP3 = (float)-3.77489497744594108e-8;
    private const float SinP0 = (float)-1.9515295891E-4, SinP1 = (float)8.3321608736E-3, SinP2 = (float)-1.6666654611E-1;
    private const float CosP0 = (float)2.443315711809948E-005, CosP1 = (float)-1.388731625493765E-003, CosP2 = (float)4.166664568298827E-002;
    private const float FourOverPi = (float)1.27323954473516;
    /// <summary>2π as libtorch's float kernel has it: (float)(2·π in double).</summary>
    private const float TwoPi = (float)(2.0 * Math.PI);
    private const int MinNormPos = 0x00800000, InvMantMask = ~0x7f800000, SignMask = unchecked((int)0x80000000);

    private static Vector256<float> V(float x) => Vector256.Create(x);
    private static Vector256<int> I(int x) => Vector256.Create(x);

    /// <summary>
    /// libtorch's <c>log256_ps</c>: x = m·2ᵉ with m in [½, 1) (m &lt; √½: m ← 2m − 1, e ← e − 1; else m ← m − 1), then
    /// ln x = m + (m·P(m)·m² − e·2.12194440e-4 … ) as Cephes' logf: y = ((P₀m + P₁)m + … + P₈)·m·m² + e·q₁, y ← y − m²/2,
    /// ln x = (m + y) + e·q₂; NaN (all bits set) for x ≤ 0.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Log<T>(Vector256<float> x) where T : IOps
    {
        var one = V(1f);
        var invalid = Avx.CompareLessThanOrEqual(x, Vector256<float>.Zero);
        x = Avx.Max(x, I(MinNormPos).AsSingle());
        var imm0 = Avx2.ShiftRightLogical(x.AsInt32(), 23);
        x = Avx.And(x, I(InvMantMask).AsSingle());
        x = Avx.Or(x, V(0.5f));
        imm0 = Avx2.Subtract(imm0, I(0x7f));
        var e = Avx.ConvertToVector256Single(imm0);
        e = Avx.Add(e, one);
        var mask = Avx.CompareLessThan(x, V(SqrtHalf));
        var tmp = Avx.And(x, mask);
        x = Avx.Subtract(x, one);
        e = Avx.Subtract(e, Avx.And(one, mask));
        x = Avx.Add(x, tmp);
        var z = Avx.Multiply(x, x);
        var y = T.MulAdd(V(LogP0), x, V(LogP1));
        y = T.MulAdd(y, x, V(LogP2));
        y = T.MulAdd(y, x, V(LogP3));
        y = T.MulAdd(y, x, V(LogP4));
        y = T.MulAdd(y, x, V(LogP5));
        y = T.MulAdd(y, x, V(LogP6));
        y = T.MulAdd(y, x, V(LogP7));
        y = T.MulAdd(y, x, V(LogP8));
        y = Avx.Multiply(y, x);
        y = T.MulAdd(y, z, Avx.Multiply(e, V(LogQ1)));
        y = T.NegMulAdd(z, V(0.5f), y);
        x = Avx.Add(x, y);
        x = T.MulAdd(e, V(LogQ2), x);
        return Avx.Or(x, invalid);
    }

    /// <summary>
    /// libtorch's <c>sincos256_ps</c>: j = (⌊|x|·4/π⌋ + 1) ∧ ~1, r = ((|x| − j·DP₁) − j·DP₂) − j·DP₃ (Cody–Waite, three parts
    /// of π/4), z = r²; c = 1 − z/2 + z²·(C₀z² + C₁z + C₂), s = r + r·z·(S₀z² + S₁z + S₂); sin takes s when j ∧ 2 = 0 else c,
    /// cos the other, each with the sign of its octant (and sin that of x).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void SinCos<T>(Vector256<float> x, out Vector256<float> sin, out Vector256<float> cos) where T : IOps
    {
        var signSin = Avx.And(x, I(SignMask).AsSingle());
        x = Avx.And(x, I(~SignMask).AsSingle());
        var y = Avx.Multiply(x, V(FourOverPi));
        var imm2 = Avx.ConvertToVector256Int32WithTruncation(y);
        imm2 = Avx2.Add(imm2, I(1));
        imm2 = Avx2.And(imm2, I(~1));
        y = Avx.ConvertToVector256Single(imm2);
        var imm4 = imm2;
        var swapSignSin = Avx2.ShiftLeftLogical(Avx2.And(imm2, I(4)), 29).AsSingle();
        var polyMask = Avx2.CompareEqual(Avx2.And(imm2, I(2)), Vector256<int>.Zero).AsSingle();
        x = T.MulAdd(y, V(MinusDP1), x);
        x = T.MulAdd(y, V(MinusDP2), x);
        x = T.MulAdd(y, V(MinusDP3), x);
        imm4 = Avx2.Subtract(imm4, I(2));
        var signCos = Avx2.ShiftLeftLogical(Avx2.AndNot(imm4, I(4)), 29).AsSingle();
        signSin = Avx.Xor(signSin, swapSignSin);

        var z = Avx.Multiply(x, x);
        var c = T.MulAdd(V(CosP0), z, V(CosP1));
        c = T.MulAdd(c, z, V(CosP2));
        c = Avx.Multiply(c, z);
        c = T.MulSub(c, z, Avx.Multiply(z, V(0.5f)));
        c = Avx.Add(c, V(1f));

        var s = T.MulAdd(V(SinP0), z, V(SinP1));
        s = T.MulAdd(s, z, V(SinP2));
        s = Avx.Multiply(s, z);
        s = T.MulAdd(s, x, x);

        var ysin2 = Avx.And(polyMask, s);
        var ysin1 = Avx.AndNot(polyMask, c);
        s = Avx.Subtract(s, ysin2);
        c = Avx.Subtract(c, ysin1);
        sin = Avx.Xor(Avx.Add(ysin1, ysin2), signSin);
        cos = Avx.Xor(Avx.Add(c, s), signCos);
    }

    /// <summary>
    /// libtorch's <c>normal_fill_16_AVX2</c> on d[0 … 16): u₁ = 1 − d[0 … 8), u₂ = d[8 … 16), r = √(−2·ln u₁), θ = 2π·u₂,
    /// d[0 … 8) = fma(r·cos θ, σ, μ), d[8 … 16) = fma(r·sin θ, σ, μ).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void Block<T>(float* d, Vector256<float> mean, Vector256<float> std) where T : IOps
    {
        var u1 = Avx.Subtract(V(1f), Avx.LoadVector256(d));
        var u2 = Avx.LoadVector256(d + 8);
        var radius = Avx.Sqrt(Avx.Multiply(V(-2f), Log<T>(u1)));
        var theta = Avx.Multiply(V(TwoPi), u2);
        SinCos<T>(theta, out var sin, out var cos);
        Avx.Store(d, Fma.MultiplyAdd(Avx.Multiply(radius, cos), std, mean));
        Avx.Store(d + 8, Fma.MultiplyAdd(Avx.Multiply(radius, sin), std, mean));
    }

    // ---------------- float32: the same operations one lane at a time (a check of the vector port) ----------------

    private static float F(int bits) => BitConverter.Int32BitsToSingle(bits);
    private static int B(float x) => BitConverter.SingleToInt32Bits(x);

    /// <summary><see cref="Log{T}(Vector256{float})"/> on one float, operation by operation.</summary>
    internal static float LogScalar<T>(float x) where T : IOps
    {
        bool invalid = x <= 0;
        float mn = F(MinNormPos);
        x = x > mn ? x : mn;   // maxps: the second operand unless the first is greater
        int imm0 = (int)((uint)B(x) >> 23);
        x = F(B(x) & InvMantMask);
        x = F(B(x) | B(0.5f));
        imm0 -= 0x7f;
        float e = imm0;
        e += 1f;
        bool mask = x < SqrtHalf;
        float tmp = mask ? x : 0f;
        x -= 1f;
        e -= mask ? 1f : 0f;
        x += tmp;
        float z = x * x;
        float y = T.MulAdd(LogP0, x, LogP1);
        y = T.MulAdd(y, x, LogP2);
        y = T.MulAdd(y, x, LogP3);
        y = T.MulAdd(y, x, LogP4);
        y = T.MulAdd(y, x, LogP5);
        y = T.MulAdd(y, x, LogP6);
        y = T.MulAdd(y, x, LogP7);
        y = T.MulAdd(y, x, LogP8);
        y *= x;
        y = T.MulAdd(y, z, e * LogQ1);
        y = T.NegMulAdd(z, 0.5f, y);
        x += y;
        x = T.MulAdd(e, LogQ2, x);
        return invalid ? F(B(x) | -1) : x;
    }

    /// <summary><see cref="SinCos{T}"/> on one float, operation by operation.</summary>
    internal static (float Sin, float Cos) SinCosScalar<T>(float x) where T : IOps
    {
        int signSin = B(x) & SignMask;
        x = F(B(x) & ~SignMask);
        float y = x * FourOverPi;
        int imm2 = (int)y;
        imm2 = (imm2 + 1) & ~1;
        y = imm2;
        int swapSignSin = (imm2 & 4) << 29;
        bool poly = (imm2 & 2) == 0;
        x = T.MulAdd(y, MinusDP1, x);
        x = T.MulAdd(y, MinusDP2, x);
        x = T.MulAdd(y, MinusDP3, x);
        int signCos = (~(imm2 - 2) & 4) << 29;
        signSin ^= swapSignSin;
        float z = x * x;
        float c = T.MulAdd(CosP0, z, CosP1);
        c = T.MulAdd(c, z, CosP2);
        c *= z;
        c = T.MulSub(c, z, z * 0.5f);
        c += 1f;
        float s = T.MulAdd(SinP0, z, SinP1);
        s = T.MulAdd(s, z, SinP2);
        s *= z;
        s = T.MulAdd(s, x, x);
        float ysin2 = poly ? s : 0f, ysin1 = poly ? 0f : c;
        s -= ysin2;
        c -= ysin1;
        return (F(B(ysin1 + ysin2) ^ signSin), F(B(c + s) ^ signCos));
    }

    // ---------------- float64: libtorch's scalar transform ----------------

    /// <summary>
    /// libtorch's <c>normal_fill_16&lt;double&gt;</c> on d[0 … 16): for j &lt; 8, u₁ = 1 − d[j], u₂ = d[j + 8], r = √(−2·ln u₁),
    /// θ = 2π·u₂, d[j] = r·cos θ·σ + μ, d[j + 8] = r·sin θ·σ + μ (with <paramref name="fused"/>, fma(r·cos θ, σ, μ)).
    /// </summary>
    private static void BlockDouble(double* d, double mean, double std, bool fused)
    {
        for (int j = 0; j < 8; j++)
        {
            double u1 = 1 - d[j], u2 = d[j + 8];
            double radius = Math.Sqrt(-2 * LibM.Log(u1));
            double theta = 2.0 * Math.PI * u2;
            LibM.SinCos(theta, out double sin, out double cos);
            double n1 = radius * cos, n2 = radius * sin;
            d[j] = fused ? Math.FusedMultiplyAdd(n1, std, mean) : n1 * std + mean;
            d[j + 8] = fused ? Math.FusedMultiplyAdd(n2, std, mean) : n2 * std + mean;
        }
    }
}
