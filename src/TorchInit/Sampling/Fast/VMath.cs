using System.Runtime.CompilerServices;

namespace TorchInit.Fast;

/// <summary>
/// Vectorized elementary functions for the fast kernels, on the ranges the kernels need them:
/// ln on (0, 1], sin/cos on [−π/4, π/4], erfinv on the central range w = −ln(1 − x²) ≤ 5. Every
/// function is a fixed sequence of IEEE operations (FMA where written), so it gives the same bits for
/// every vector width.
/// </summary>
internal static class VMath
{
    // ---- float32 ----

    // Cephes logf: ln(1 + x) ≈ x − x²/2 + x³·P(x) for 1 + x in [√½, √2).
    private const float LogP0 = 7.0376836292E-2f, LogP1 = -1.1514610310E-1f, LogP2 = 1.1676998740E-1f,
        LogP3 = -1.2420140846E-1f, LogP4 = 1.4249322787E-1f, LogP5 = -1.6668057665E-1f,
        LogP6 = 2.0000714765E-1f, LogP7 = -2.4999993993E-1f, LogP8 = 3.3333331174E-1f;
    private const float Ln2Hi = 0.693359375f, Ln2Lo = -2.12194440e-4f;

    /// <summary>ln x for positive normal x (Cephes logf; ≈1 ulp).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV LogF<TV>(TV x) where TV : struct, ISimd<TV>
    {
        // x = m · 2^e with m in [0.5, 1); then m in [√½, √2) by moving one factor 2 when m < √½.
        TV e = TV.CvtI32ToF32(TV.SubI32(TV.Shr32(x, 23), TV.U32(126)));
        TV m = TV.Or(TV.And(x, TV.U32(0x007F_FFFF)), TV.U32(0x3F00_0000));
        TV small = TV.LessF(m, TV.F32(0.707106781186547524f));
        e = TV.SubF(e, TV.And(small, TV.F32(1f)));
        m = TV.AddF(TV.SubF(m, TV.F32(1f)), TV.And(small, m)); // m − 1 (+ m when doubled): ln(1 + m)
        TV z = TV.MulF(m, m);
        TV y = TV.FmaF(TV.F32(LogP0), m, TV.F32(LogP1));
        y = TV.FmaF(y, m, TV.F32(LogP2));
        y = TV.FmaF(y, m, TV.F32(LogP3));
        y = TV.FmaF(y, m, TV.F32(LogP4));
        y = TV.FmaF(y, m, TV.F32(LogP5));
        y = TV.FmaF(y, m, TV.F32(LogP6));
        y = TV.FmaF(y, m, TV.F32(LogP7));
        y = TV.FmaF(y, m, TV.F32(LogP8));
        y = TV.MulF(TV.MulF(y, m), z);
        y = TV.FmaF(e, TV.F32(Ln2Lo), y);
        y = TV.FmaF(z, TV.F32(-0.5f), y);
        return TV.FmaF(e, TV.F32(Ln2Hi), TV.AddF(m, y));
    }

    // Cephes sinf/cosf minimax polynomials on [−π/4, π/4].
    private const float SinP0 = -1.9515295891E-4f, SinP1 = 8.3321608736E-3f, SinP2 = -1.6666654611E-1f;
    private const float CosP0 = 2.443315711809948E-5f, CosP1 = -1.388731625493765E-3f, CosP2 = 4.166664568298827E-2f;

    /// <summary>sin t and cos t for t in [−π/4, π/4] (≈1 ulp).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SinCosF<TV>(TV t, out TV sin, out TV cos) where TV : struct, ISimd<TV>
    {
        TV z = TV.MulF(t, t);
        TV s = TV.FmaF(TV.F32(SinP0), z, TV.F32(SinP1));
        s = TV.FmaF(s, z, TV.F32(SinP2));
        sin = TV.FmaF(TV.MulF(s, z), t, t);
        TV c = TV.FmaF(TV.F32(CosP0), z, TV.F32(CosP1));
        c = TV.FmaF(c, z, TV.F32(CosP2));
        cos = TV.FmaF(TV.MulF(c, z), z, TV.FmaF(z, TV.F32(-0.5f), TV.F32(1f)));
    }

    /// <summary>
    /// erfinv(x) for 1 − x² ≥ e^−5 (|x| ≤ 0.99663; enough for a normal truncated at up to ±2.9σ):
    /// Giles' single-precision polynomial in w − 2.5, w = −ln(1 − x²) (relative error ≈ 1.3e−7).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV ErfinvCentralF<TV>(TV x) where TV : struct, ISimd<TV>
    {
        TV w = TV.SubF(TV.F32(-2.5f), LogF(TV.FmaF(TV.Xor(x, TV.U32(0x8000_0000)), x, TV.F32(1f))));
        TV p = TV.FmaF(TV.F32(2.81022636e-08f), w, TV.F32(3.43273939e-07f));
        p = TV.FmaF(p, w, TV.F32(-3.5233877e-06f));
        p = TV.FmaF(p, w, TV.F32(-4.39150654e-06f));
        p = TV.FmaF(p, w, TV.F32(0.00021858087f));
        p = TV.FmaF(p, w, TV.F32(-0.00125372503f));
        p = TV.FmaF(p, w, TV.F32(-0.00417768164f));
        p = TV.FmaF(p, w, TV.F32(0.246640727f));
        p = TV.FmaF(p, w, TV.F32(1.50140941f));
        return TV.MulF(p, x);
    }

    // ---- float64 ----

    private const double Ln2HiD = 6.93145751953125E-1, Ln2LoD = 1.42860682030941723212E-6;
    private const ulong DoubleMagic52 = 0x4330_0000_0000_0000; // bits of 2^52

    /// <summary>
    /// ln x for positive normal x: x = m·2^e with m in [√½, √2), ln m = 2 atanh s = 2(s + s³/3 + … + s²¹/21),
    /// s = (m − 1)/(m + 1), |s| ≤ 0.1716 (truncation error below 1e−17).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV LogD<TV>(TV x) where TV : struct, ISimd<TV>
    {
        // The biased exponent (< 2^11) as a double, by the 2^52 trick; then m in [0.5, 1).
        TV e = TV.SubD(TV.Or(TV.Shr64(x, 52), TV.U64(DoubleMagic52)), TV.F64(4503599627370496.0 + 1022.0));
        TV m = TV.Or(TV.And(x, TV.U64(0x000F_FFFF_FFFF_FFFF)), TV.U64(0x3FE0_0000_0000_0000));
        TV small = TV.LessD(m, TV.F64(0.70710678118654752440));
        e = TV.SubD(e, TV.And(small, TV.F64(1.0)));
        m = TV.AddD(m, TV.And(small, m));
        TV s = TV.DivD(TV.SubD(m, TV.F64(1.0)), TV.AddD(m, TV.F64(1.0)));
        TV z = TV.MulD(s, s);
        TV p = TV.FmaD(TV.F64(1.0 / 21), z, TV.F64(1.0 / 19));
        p = TV.FmaD(p, z, TV.F64(1.0 / 17));
        p = TV.FmaD(p, z, TV.F64(1.0 / 15));
        p = TV.FmaD(p, z, TV.F64(1.0 / 13));
        p = TV.FmaD(p, z, TV.F64(1.0 / 11));
        p = TV.FmaD(p, z, TV.F64(1.0 / 9));
        p = TV.FmaD(p, z, TV.F64(1.0 / 7));
        p = TV.FmaD(p, z, TV.F64(1.0 / 5));
        p = TV.FmaD(p, z, TV.F64(1.0 / 3));
        TV twoS = TV.AddD(s, s);
        TV lnM = TV.FmaD(TV.MulD(twoS, z), p, twoS);
        return TV.FmaD(e, TV.F64(Ln2HiD), TV.FmaD(e, TV.F64(Ln2LoD), lnM));
    }

    /// <summary>sin t and cos t for t in [−π/4, π/4]: Taylor series to t¹⁷ and t¹⁸ (truncation error below 1e−19).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SinCosD<TV>(TV t, out TV sin, out TV cos) where TV : struct, ISimd<TV>
    {
        TV z = TV.MulD(t, t);
        TV s = TV.FmaD(TV.F64(1.0 / 355687428096000.0), z, TV.F64(-1.0 / 1307674368000.0));
        s = TV.FmaD(s, z, TV.F64(1.0 / 6227020800.0));
        s = TV.FmaD(s, z, TV.F64(-1.0 / 39916800.0));
        s = TV.FmaD(s, z, TV.F64(1.0 / 362880.0));
        s = TV.FmaD(s, z, TV.F64(-1.0 / 5040.0));
        s = TV.FmaD(s, z, TV.F64(1.0 / 120.0));
        s = TV.FmaD(s, z, TV.F64(-1.0 / 6.0));
        sin = TV.FmaD(TV.MulD(s, z), t, t);
        TV c = TV.FmaD(TV.F64(-1.0 / 6402373705728000.0), z, TV.F64(1.0 / 20922789888000.0));
        c = TV.FmaD(c, z, TV.F64(-1.0 / 87178291200.0));
        c = TV.FmaD(c, z, TV.F64(1.0 / 479001600.0));
        c = TV.FmaD(c, z, TV.F64(-1.0 / 3628800.0));
        c = TV.FmaD(c, z, TV.F64(1.0 / 40320.0));
        c = TV.FmaD(c, z, TV.F64(-1.0 / 720.0));
        c = TV.FmaD(c, z, TV.F64(1.0 / 24.0));
        c = TV.FmaD(c, z, TV.F64(-0.5));
        cos = TV.FmaD(c, z, TV.F64(1.0));
    }

    // erfinv(x)/x as a polynomial in w − 2.5 on w = −ln(1 − x²) in [0, 5]; fitted for TorchInit by Chebyshev
    // interpolation in 50-digit arithmetic (mpmath), degree 20; relative error 2.5e−16 in double. Written out
    // below (a loop over an array would reload every coefficient).

    /// <summary>erfinv(x) for 1 − x² ≥ e^−5 (|x| ≤ 0.99663), relative error ≈ 3e−16.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV ErfinvCentralD<TV>(TV x) where TV : struct, ISimd<TV>
    {
        TV w = TV.SubD(TV.F64(-2.5), LogD(TV.FmaD(TV.Xor(x, TV.U64(0x8000_0000_0000_0000)), x, TV.F64(1.0))));
        TV p = TV.FmaD(TV.F64(2.6458717948420677e-18), w, TV.F64(-2.1255566343301617e-17));
        p = TV.FmaD(p, w, TV.F64(-1.0474938411750245e-16));
        p = TV.FmaD(p, w, TV.F64(1.8184842927434184e-15));
        p = TV.FmaD(p, w, TV.F64(-3.132281484589996e-15));
        p = TV.FmaD(p, w, TV.F64(-7.551199522345375e-14));
        p = TV.FmaD(p, w, TV.F64(5.368481716774611e-13));
        p = TV.FmaD(p, w, TV.F64(9.08606053079741e-13));
        p = TV.FmaD(p, w, TV.F64(-3.110649163196451e-11));
        p = TV.FmaD(p, w, TV.F64(1.196159853985287e-10));
        p = TV.FmaD(p, w, TV.F64(9.073107389663029e-10));
        p = TV.FmaD(p, w, TV.F64(-1.086118607299662e-08));
        p = TV.FmaD(p, w, TV.F64(1.341679559820944e-08));
        p = TV.FmaD(p, w, TV.F64(4.787252381299726e-07));
        p = TV.FmaD(p, w, TV.F64(-3.416619591404169e-06));
        p = TV.FmaD(p, w, TV.F64(-4.996079611173956e-06));
        p = TV.FmaD(p, w, TV.F64(0.00021825026434256318));
        p = TV.FmaD(p, w, TV.F64(-0.0012527079078074829));
        p = TV.FmaD(p, w, TV.F64(-0.004177317724383496));
        p = TV.FmaD(p, w, TV.F64(0.2466402767441667));
        p = TV.FmaD(p, w, TV.F64(1.501409351110792));
        return TV.MulD(p, x);
    }
}
