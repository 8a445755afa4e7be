using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace TorchInit.Fast;

/// <summary>
/// The handful of vector operations the fast kernels use, over one register of raw bits that each
/// operation reads as 32-bit or 64-bit lanes. Implemented for 256-bit (AVX2) and 512-bit (AVX-512)
/// registers; the kernels are generic over it, so one source serves both widths, and every lane runs the
/// same IEEE operations (FMA included) in either width, so both give bit-identical results.
/// </summary>
internal interface ISimd<TV> where TV : struct, ISimd<TV>
{
    /// <summary>Number of 32-bit lanes (8 or 16).</summary>
    static abstract int Lanes { get; }

    static abstract TV Zero { get; }
    static abstract TV U32(uint x);
    static abstract TV F32(float x);
    static abstract TV U64(ulong x);
    static abstract TV F64(double x);
    /// <summary>64-bit lanes start, start + 1, …</summary>
    static abstract TV Iota64(ulong start);
    /// <summary>The 32-bit value at p in every lane (a broadcast load).</summary>
    static abstract unsafe TV LoadBroadcastU32(uint* p);

    // Bitwise and integer lane operations.
    static abstract TV Xor(TV a, TV b);
    static abstract TV Xor3(TV a, TV b, TV c);
    static abstract TV Or(TV a, TV b);
    static abstract TV And(TV a, TV b);
    static abstract TV AddI32(TV a, TV b);
    static abstract TV SubI32(TV a, TV b);
    static abstract TV AddI64(TV a, TV b);
    static abstract TV SubI64(TV a, TV b);
    static abstract TV Shr32(TV a, [ConstantExpected] byte n);
    static abstract TV Sar32(TV a, [ConstantExpected] byte n);
    static abstract TV Shl32(TV a, [ConstantExpected] byte n);
    static abstract TV Shr64(TV a, [ConstantExpected] byte n);
    static abstract TV Shl64(TV a, [ConstantExpected] byte n);
    /// <summary>Unsigned 32 × 32 → 64-bit products of the low halves of the 64-bit lanes (vpmuludq).</summary>
    static abstract TV MulLo32To64(TV a, TV b);
    /// <summary>The two 32-bit halves of every 64-bit lane swapped (vpshufd; runs beside the multiplies and shifts).</summary>
    static abstract TV SwapHalves64(TV a);
    /// <summary>Even 32-bit lanes from a, odd ones from b.</summary>
    static abstract TV BlendOdd32(TV a, TV b);
    /// <summary>Bits of t where mask is set, else bits of f.</summary>
    static abstract TV Select(TV mask, TV t, TV f);

    // float32 lanes.
    static abstract TV CvtI32ToF32(TV a);
    static abstract TV AddF(TV a, TV b);
    static abstract TV SubF(TV a, TV b);
    static abstract TV MulF(TV a, TV b);
    /// <summary>a × b + c with one rounding.</summary>
    static abstract TV FmaF(TV a, TV b, TV c);
    static abstract TV SqrtF(TV a);
    static abstract TV MinF(TV a, TV b);
    static abstract TV MaxF(TV a, TV b);
    static abstract TV LessF(TV a, TV b);
    static abstract bool AnyGreaterOrEqualF(TV a, TV b);
    static abstract float SumF(TV a);
    /// <summary>The sign bits of the 32-bit lanes as an integer: bit i = top bit of lane i (vmovmskps).</summary>
    static abstract uint SignBits32(TV a);

    // float64 lanes.
    static abstract TV AddD(TV a, TV b);
    static abstract TV SubD(TV a, TV b);
    static abstract TV MulD(TV a, TV b);
    static abstract TV DivD(TV a, TV b);
    static abstract TV FmaD(TV a, TV b, TV c);
    static abstract TV SqrtD(TV a);
    static abstract TV MinD(TV a, TV b);
    static abstract TV MaxD(TV a, TV b);
    static abstract TV LessD(TV a, TV b);
    static abstract bool AnyGreaterOrEqualD(TV a, TV b);
    static abstract double SumD(TV a);

    static abstract unsafe void Store(void* p, TV a);
    /// <summary>A non-temporal (streaming) store to a 32/64-byte aligned address: no read for ownership, no cache pollution.</summary>
    static abstract unsafe void StoreStream(void* p, TV a);
    static abstract unsafe TV Load(void* p);
}

/// <summary>AVX2 implementation (8 × 32-bit lanes); without AVX2 the same operations run through portable (software) vector code.</summary>
internal readonly struct V256 : ISimd<V256>
{
    private readonly Vector256<uint> _v;
    private V256(Vector256<uint> v) => _v = v;
    private static V256 W<T>(Vector256<T> v) => new(v.AsUInt32());

    /// <summary>Hardware-accelerated here (AVX2 + FMA); elsewhere the portable fallbacks below run (correct, slow).</summary>
    public static bool IsAccelerated => Avx2.IsSupported && Fma.IsSupported;
    public static int Lanes => 8;
    public static V256 Zero => default;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 U32(uint x) => new(Vector256.Create(x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 F32(float x) => W(Vector256.Create(x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 U64(ulong x) => W(Vector256.Create(x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 F64(double x) => W(Vector256.Create(x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Iota64(ulong s) => W(Vector256.Create(s) + Vector256.Create(0UL, 1, 2, 3));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe V256 LoadBroadcastU32(uint* p) => new(Vector256.Create(*p));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Xor(V256 a, V256 b) => new(a._v ^ b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Xor3(V256 a, V256 b, V256 c) => new(a._v ^ b._v ^ c._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Or(V256 a, V256 b) => new(a._v | b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 And(V256 a, V256 b) => new(a._v & b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 AddI32(V256 a, V256 b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 SubI32(V256 a, V256 b) => new(a._v - b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 AddI64(V256 a, V256 b) => W(a._v.AsUInt64() + b._v.AsUInt64());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 SubI64(V256 a, V256 b) => W(a._v.AsUInt64() - b._v.AsUInt64());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Shr32(V256 a, [ConstantExpected] byte n) => new(Vector256.ShiftRightLogical(a._v, n));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Sar32(V256 a, [ConstantExpected] byte n) => W(Vector256.ShiftRightArithmetic(a._v.AsInt32(), n));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Shl32(V256 a, [ConstantExpected] byte n) => new(Vector256.ShiftLeft(a._v, n));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Shr64(V256 a, [ConstantExpected] byte n) => W(Vector256.ShiftRightLogical(a._v.AsUInt64(), n));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Shl64(V256 a, [ConstantExpected] byte n) => W(Vector256.ShiftLeft(a._v.AsUInt64(), n));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 MulLo32To64(V256 a, V256 b) => Avx2.IsSupported
        ? W(Avx2.Multiply(a._v, b._v))
        : W((a._v.AsUInt64() & Vector256.Create(0xFFFF_FFFFUL)) * (b._v.AsUInt64() & Vector256.Create(0xFFFF_FFFFUL)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 SwapHalves64(V256 a) => Avx2.IsSupported
        ? new(Avx2.Shuffle(a._v, 0xB1))
        : new(Vector256.Shuffle(a._v, Vector256.Create(1u, 0, 3, 2, 5, 4, 7, 6)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 BlendOdd32(V256 a, V256 b) => Avx2.IsSupported
        ? new(Avx2.Blend(a._v, b._v, 0xAA))
        : new(Vector256.ConditionalSelect(Vector256.Create(0xFFFF_FFFF_0000_0000UL).AsUInt32(), b._v, a._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 Select(V256 m, V256 t, V256 f) => new(Vector256.ConditionalSelect(m._v, t._v, f._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 CvtI32ToF32(V256 a) => W(Vector256.ConvertToSingle(a._v.AsInt32()));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 AddF(V256 a, V256 b) => W(a._v.AsSingle() + b._v.AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 SubF(V256 a, V256 b) => W(a._v.AsSingle() - b._v.AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 MulF(V256 a, V256 b) => W(a._v.AsSingle() * b._v.AsSingle());
#if NET9_0_OR_GREATER
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 FmaF(V256 a, V256 b, V256 c) => W(Vector256.FusedMultiplyAdd(a._v.AsSingle(), b._v.AsSingle(), c._v.AsSingle()));
#else
    // .NET 8 has no Vector256.FusedMultiplyAdd: the FMA instruction where there is one, else one correctly rounded
    // fused multiply-add per lane, so the results are the same bits as on .NET 9+ either way.
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 FmaF(V256 a, V256 b, V256 c) => Fma.IsSupported
        ? W(Fma.MultiplyAdd(a._v.AsSingle(), b._v.AsSingle(), c._v.AsSingle()))
        : W(Net8Fma.PerLane(a._v.AsSingle(), b._v.AsSingle(), c._v.AsSingle()));
#endif
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 SqrtF(V256 a) => W(Vector256.Sqrt(a._v.AsSingle()));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 MinF(V256 a, V256 b) => W(Avx.IsSupported ? Avx.Min(a._v.AsSingle(), b._v.AsSingle()) : Vector256.Min(a._v.AsSingle(), b._v.AsSingle()));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 MaxF(V256 a, V256 b) => W(Avx.IsSupported ? Avx.Max(a._v.AsSingle(), b._v.AsSingle()) : Vector256.Max(a._v.AsSingle(), b._v.AsSingle()));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 LessF(V256 a, V256 b) => W(Vector256.LessThan(a._v.AsSingle(), b._v.AsSingle()));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AnyGreaterOrEqualF(V256 a, V256 b) => Vector256.GreaterThanOrEqualAny(a._v.AsSingle(), b._v.AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float SumF(V256 a) => Vector256.Sum(a._v.AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static uint SignBits32(V256 a) => Vector256.ExtractMostSignificantBits(a._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 AddD(V256 a, V256 b) => W(a._v.AsDouble() + b._v.AsDouble());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 SubD(V256 a, V256 b) => W(a._v.AsDouble() - b._v.AsDouble());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 MulD(V256 a, V256 b) => W(a._v.AsDouble() * b._v.AsDouble());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 DivD(V256 a, V256 b) => W(a._v.AsDouble() / b._v.AsDouble());
#if NET9_0_OR_GREATER
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 FmaD(V256 a, V256 b, V256 c) => W(Vector256.FusedMultiplyAdd(a._v.AsDouble(), b._v.AsDouble(), c._v.AsDouble()));
#else
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 FmaD(V256 a, V256 b, V256 c) => Fma.IsSupported
        ? W(Fma.MultiplyAdd(a._v.AsDouble(), b._v.AsDouble(), c._v.AsDouble()))
        : W(Net8Fma.PerLane(a._v.AsDouble(), b._v.AsDouble(), c._v.AsDouble()));
#endif
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 SqrtD(V256 a) => W(Vector256.Sqrt(a._v.AsDouble()));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 MinD(V256 a, V256 b) => W(Avx.IsSupported ? Avx.Min(a._v.AsDouble(), b._v.AsDouble()) : Vector256.Min(a._v.AsDouble(), b._v.AsDouble()));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 MaxD(V256 a, V256 b) => W(Avx.IsSupported ? Avx.Max(a._v.AsDouble(), b._v.AsDouble()) : Vector256.Max(a._v.AsDouble(), b._v.AsDouble()));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V256 LessD(V256 a, V256 b) => W(Vector256.LessThan(a._v.AsDouble(), b._v.AsDouble()));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AnyGreaterOrEqualD(V256 a, V256 b) => Vector256.GreaterThanOrEqualAny(a._v.AsDouble(), b._v.AsDouble());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double SumD(V256 a) => Vector256.Sum(a._v.AsDouble());

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe void Store(void* p, V256 a) => a._v.Store((uint*)p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe void StoreStream(void* p, V256 a)
    {
        if (Avx.IsSupported) Avx.StoreAlignedNonTemporal((uint*)p, a._v); else a._v.Store((uint*)p);
    }
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe V256 Load(void* p) => new(Vector256.Load((uint*)p));
}

/// <summary>AVX-512 implementation (16 × 32-bit lanes).</summary>
internal readonly struct V512 : ISimd<V512>
{
    private readonly Vector512<uint> _v;
    private V512(Vector512<uint> v) => _v = v;
    private static V512 W<T>(Vector512<T> v) => new(v.AsUInt32());

    public static bool IsAccelerated => Avx512F.IsSupported && Avx512DQ.IsSupported && Vector512.IsHardwareAccelerated;
    public static int Lanes => 16;
    public static V512 Zero => default;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 U32(uint x) => new(Vector512.Create(x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 F32(float x) => W(Vector512.Create(x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 U64(ulong x) => W(Vector512.Create(x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 F64(double x) => W(Vector512.Create(x));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Iota64(ulong s) => W(Vector512.Create(s) + Vector512.Create(0UL, 1, 2, 3, 4, 5, 6, 7));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe V512 LoadBroadcastU32(uint* p) => new(Vector512.Create(*p));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Xor(V512 a, V512 b) => new(a._v ^ b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Xor3(V512 a, V512 b, V512 c) => new(Avx512F.TernaryLogic(a._v, b._v, c._v, 0x96));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Or(V512 a, V512 b) => new(a._v | b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 And(V512 a, V512 b) => new(a._v & b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 AddI32(V512 a, V512 b) => new(a._v + b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 SubI32(V512 a, V512 b) => new(a._v - b._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 AddI64(V512 a, V512 b) => W(a._v.AsUInt64() + b._v.AsUInt64());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 SubI64(V512 a, V512 b) => W(a._v.AsUInt64() - b._v.AsUInt64());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Shr32(V512 a, [ConstantExpected] byte n) => new(Vector512.ShiftRightLogical(a._v, n));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Sar32(V512 a, [ConstantExpected] byte n) => W(Vector512.ShiftRightArithmetic(a._v.AsInt32(), n));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Shl32(V512 a, [ConstantExpected] byte n) => new(Vector512.ShiftLeft(a._v, n));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Shr64(V512 a, [ConstantExpected] byte n) => W(Vector512.ShiftRightLogical(a._v.AsUInt64(), n));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Shl64(V512 a, [ConstantExpected] byte n) => W(Vector512.ShiftLeft(a._v.AsUInt64(), n));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 MulLo32To64(V512 a, V512 b) => W(Avx512F.Multiply(a._v, b._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 SwapHalves64(V512 a) => new(Avx512F.Shuffle(a._v, 0xB1));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 BlendOdd32(V512 a, V512 b) =>
        new(Vector512.ConditionalSelect(Vector512.Create(0xFFFF_FFFF_0000_0000UL).AsUInt32(), b._v, a._v));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 Select(V512 m, V512 t, V512 f) => new(Vector512.ConditionalSelect(m._v, t._v, f._v));

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 CvtI32ToF32(V512 a) => W(Vector512.ConvertToSingle(a._v.AsInt32()));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 AddF(V512 a, V512 b) => W(a._v.AsSingle() + b._v.AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 SubF(V512 a, V512 b) => W(a._v.AsSingle() - b._v.AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 MulF(V512 a, V512 b) => W(a._v.AsSingle() * b._v.AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 FmaF(V512 a, V512 b, V512 c) => W(Avx512F.FusedMultiplyAdd(a._v.AsSingle(), b._v.AsSingle(), c._v.AsSingle()));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 SqrtF(V512 a) => W(Vector512.Sqrt(a._v.AsSingle()));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 MinF(V512 a, V512 b) => W(Avx512F.Min(a._v.AsSingle(), b._v.AsSingle()));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 MaxF(V512 a, V512 b) => W(Avx512F.Max(a._v.AsSingle(), b._v.AsSingle()));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 LessF(V512 a, V512 b) => W(Vector512.LessThan(a._v.AsSingle(), b._v.AsSingle()));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AnyGreaterOrEqualF(V512 a, V512 b) => Vector512.GreaterThanOrEqualAny(a._v.AsSingle(), b._v.AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float SumF(V512 a) => Vector512.Sum(a._v.AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static uint SignBits32(V512 a) => (uint)Vector512.ExtractMostSignificantBits(a._v);

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 AddD(V512 a, V512 b) => W(a._v.AsDouble() + b._v.AsDouble());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 SubD(V512 a, V512 b) => W(a._v.AsDouble() - b._v.AsDouble());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 MulD(V512 a, V512 b) => W(a._v.AsDouble() * b._v.AsDouble());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 DivD(V512 a, V512 b) => W(a._v.AsDouble() / b._v.AsDouble());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 FmaD(V512 a, V512 b, V512 c) => W(Avx512F.FusedMultiplyAdd(a._v.AsDouble(), b._v.AsDouble(), c._v.AsDouble()));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 SqrtD(V512 a) => W(Vector512.Sqrt(a._v.AsDouble()));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 MinD(V512 a, V512 b) => W(Avx512F.Min(a._v.AsDouble(), b._v.AsDouble()));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 MaxD(V512 a, V512 b) => W(Avx512F.Max(a._v.AsDouble(), b._v.AsDouble()));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static V512 LessD(V512 a, V512 b) => W(Vector512.LessThan(a._v.AsDouble(), b._v.AsDouble()));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static bool AnyGreaterOrEqualD(V512 a, V512 b) => Vector512.GreaterThanOrEqualAny(a._v.AsDouble(), b._v.AsDouble());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static double SumD(V512 a) => Vector512.Sum(a._v.AsDouble());

    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe void Store(void* p, V512 a) => a._v.Store((uint*)p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe void StoreStream(void* p, V512 a) => Avx512F.StoreAlignedNonTemporal((uint*)p, a._v);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static unsafe V512 Load(void* p) => new(Vector512.Load((uint*)p));
}

#if !NET9_0_OR_GREATER
/// <summary>.NET 8 without the FMA instruction: a × b + c with one rounding, lane by lane (Math.FusedMultiplyAdd).</summary>
internal static class Net8Fma
{
    public static Vector256<float> PerLane(Vector256<float> a, Vector256<float> b, Vector256<float> c)
    {
        Span<float> r = stackalloc float[Vector256<float>.Count];
        for (int i = 0; i < r.Length; i++) r[i] = MathF.FusedMultiplyAdd(a.GetElement(i), b.GetElement(i), c.GetElement(i));
        return Vector256.Create<float>(r);
    }

    public static Vector256<double> PerLane(Vector256<double> a, Vector256<double> b, Vector256<double> c)
    {
        Span<double> r = stackalloc double[Vector256<double>.Count];
        for (int i = 0; i < r.Length; i++) r[i] = Math.FusedMultiplyAdd(a.GetElement(i), b.GetElement(i), c.GetElement(i));
        return Vector256.Create<double>(r);
    }
}
#endif
