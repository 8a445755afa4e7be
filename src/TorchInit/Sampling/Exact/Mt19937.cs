using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace TorchInit.Exact;

/// <summary>
/// libtorch's CPU generator, mt19937, seen as one linear recurrence over its raw (untempered) words:
/// y[j] = y[j − 227] ⊕ twist(y[j − 624], y[j − 623]), twist(u, v) = ((u ∧ 2³¹) ∨ (v ∧ (2³¹ − 1))) ≫ 1 ⊕ (v odd ? 0x9908b0df : 0),
/// where y[0 … 623] is the generator's state array and each of libtorch's regenerations (<c>next_state</c>)
/// computes the next 624 terms. Every term depends on terms at least 227 back, so 8 or 16 consecutive terms
/// are computed at once; and the sequence can jump ahead: the window W(p) = y[p … p + 623] satisfies
/// W(p + J) = Σ cᵢ·W(p + i) over GF(2), where Σ cᵢxⁱ = x^J mod P and P (degree 19937) is the recurrence's
/// characteristic polynomial (Haramoto et al. 2008), found here once by Berlekamp–Massey.
/// </summary>
internal static unsafe class Mt19937
{
    public const int N = 624, M = 397, Degree = 19937;
    private const int PolyWords = (Degree + 64) / 64;                 // 312 words hold degree ≤ 19967

    /// <summary>y[j] for j in [from, to) of a buffer whose earlier 624 terms are present.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Advance(uint* y, long from, long to)
    {
        long j = from;
        if (Vector256.IsHardwareAccelerated)
        {
            var upper = Vector256.Create(0x80000000u);
            var lower = Vector256.Create(0x7fffffffu);
            var one = Vector256.Create(1u);
            var a = Vector256.Create(0x9908b0dfu);
            for (; j + 8 <= to; j += 8)
            {
                var u = Vector256.Load(y + j - N);
                var v = Vector256.Load(y + j - N + 1);
                var w = Vector256.Load(y + j - (N - M));
                var mix = (u & upper) | (v & lower);
                var odd = Vector256.Equals(v & one, one) & a;
                Vector256.Store(w ^ Vector256.ShiftRightLogical(mix, 1) ^ odd, y + j);
            }
        }
        for (; j < to; j++)
        {
            uint u = y[j - N], v = y[j - N + 1];
            y[j] = y[j - (N - M)] ^ ((((u & 0x80000000u) | (v & 0x7fffffffu)) >> 1) ^ ((v & 1) != 0 ? 0x9908b0dfu : 0));
        }
    }

    /// <summary>mt19937's output function (tempering) of a raw word.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static uint Temper(uint y)
    {
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c5680u;
        y ^= (y << 15) & 0xefc60000u;
        y ^= y >> 18;
        return y;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<uint> Temper(Vector256<uint> y)
    {
        y ^= Vector256.ShiftRightLogical(y, 11);
        y ^= Vector256.ShiftLeft(y, 7) & Vector256.Create(0x9d2c5680u);
        y ^= Vector256.ShiftLeft(y, 15) & Vector256.Create(0xefc60000u);
        y ^= Vector256.ShiftRightLogical(y, 18);
        return y;
    }

    // ---------------- jump-ahead ----------------

    private static readonly Lazy<ulong[]> Characteristic = new(ComputeCharacteristic);
    private static readonly List<ulong[]> BlockPowers = new();   // x^(624·2^b) mod P
    private static readonly object PowersLock = new();

    /// <summary>Replaces <paramref name="window"/> (y[p … p + 623]) by y[p + 624·blocks …]: one polynomial jump per set bit of <paramref name="blocks"/>.</summary>
    public static void JumpBlocks(uint[] window, long blocks)
    {
        for (int b = 0; blocks != 0; b++, blocks >>= 1)
            if ((blocks & 1) != 0) Jump(window, BlockPower(b));
    }

    private static ulong[] BlockPower(int b)
    {
        lock (PowersLock)
        {
            if (BlockPowers.Count == 0)
            {
                var x624 = new ulong[PolyWords];
                x624[N / 64] = 1UL << (N % 64);
                BlockPowers.Add(x624);
            }
            while (BlockPowers.Count <= b)
                BlockPowers.Add(SquareMod(BlockPowers[^1], Characteristic.Value));
            return BlockPowers[b];
        }
    }

    /// <summary>W ← Σ cᵢ·W(i) with W(i) the window i terms later, c the coefficients of <paramref name="poly"/> (degree &lt; 19937).</summary>
    private static void Jump(uint[] window, ulong[] poly)
    {
        int len = Degree + N;
        var seq = new uint[len];
        var acc = new uint[N];
        fixed (uint* y = seq)
        fixed (uint* w = window)
        fixed (uint* s = acc)
        {
            Buffer.MemoryCopy(w, y, N * 4, N * 4);
            Advance(y, N, len);
            for (int i = 0; i < Degree; i++)
            {
                if (((poly[i >> 6] >> (i & 63)) & 1) == 0) continue;
                uint* src = y + i;
                int k = 0;
                for (; k + 8 <= N; k += 8)
                    Vector256.Store(Vector256.Load(s + k) ^ Vector256.Load(src + k), s + k);
                for (; k < N; k++) s[k] ^= src[k];
            }
            Buffer.MemoryCopy(s, w, N * 4, N * 4);
        }
    }

    /// <summary>a² mod P over GF(2) (squaring spreads the bits; then long division by the monic P).</summary>
    private static ulong[] SquareMod(ulong[] a, ulong[] p)
    {
        var sq = new ulong[2 * PolyWords + 1];
        for (int i = 0; i < PolyWords; i++)
        {
            sq[2 * i] = Spread((uint)a[i]);
            sq[2 * i + 1] = Spread((uint)(a[i] >> 32));
        }
        ReduceInPlace(sq, p);
        var r = new ulong[PolyWords];
        Array.Copy(sq, r, PolyWords);
        return r;
    }

    private static ulong Spread(uint x)
    {
        ulong v = x;
        v = (v | (v << 16)) & 0x0000FFFF0000FFFFUL;
        v = (v | (v << 8)) & 0x00FF00FF00FF00FFUL;
        v = (v | (v << 4)) & 0x0F0F0F0F0F0F0F0FUL;
        v = (v | (v << 2)) & 0x3333333333333333UL;
        v = (v | (v << 1)) & 0x5555555555555555UL;
        return v;
    }

    /// <summary>v mod P in place (P monic of degree 19937, given with its leading bit).</summary>
    private static void ReduceInPlace(ulong[] v, ulong[] p)
    {
        int top = v.Length * 64 - 1;
        for (int i = top; i >= Degree; i--)
        {
            if (((v[i >> 6] >> (i & 63)) & 1) == 0) continue;
            XorShifted(v, p, i - Degree);
        }
    }

    /// <summary>v ^= p · x^shift.</summary>
    private static void XorShifted(ulong[] v, ulong[] p, int shift)
    {
        int ws = shift >> 6, bs = shift & 63;
        if (bs == 0)
        {
            for (int k = 0; k < p.Length && k + ws < v.Length; k++) v[k + ws] ^= p[k];
            return;
        }
        ulong carry = 0;
        for (int k = 0; k < p.Length && k + ws < v.Length; k++)
        {
            v[k + ws] ^= (p[k] << bs) | carry;
            carry = p[k] >> (64 - bs);
        }
        if (p.Length + ws < v.Length) v[p.Length + ws] ^= carry;
    }

    /// <summary>
    /// The characteristic polynomial of the recurrence (with its leading term x^19937): Berlekamp–Massey on the lowest
    /// bit of 2·19937 raw words from an arbitrary seed, whose linear complexity is 19937 (checked).
    /// </summary>
    private static ulong[] ComputeCharacteristic()
    {
        int n = 2 * Degree;
        var y = new uint[n + N];
        y[0] = 5489;
        for (int j = 1; j < N; j++) y[j] = 1812433253u * (y[j - 1] ^ (y[j - 1] >> 30)) + (uint)j;
        fixed (uint* py = y) Advance(py, N, n + N);
        // s[k] = bit 0 of y[N + k]; stored reversed (bit n − 1 − k) so that Σ C_i s[k − i] is a dot product.
        int sw = (n + 63) / 64 + 2;
        var rev = new ulong[sw];
        for (int k = 0; k < n; k++)
            if ((y[N + k] & 1) != 0) { int b = n - 1 - k; rev[b >> 6] |= 1UL << (b & 63); }
        int cw = PolyWords + 2;
        var c = new ulong[cw];
        var bPoly = new ulong[cw];
        var t = new ulong[cw];
        c[0] = 1; bPoly[0] = 1;
        int l = 0, m = 1;
        for (int k = 0; k < n; k++)
        {
            // d = Σ_{i=0..l} C_i s[k − i]; s[k − i] is rev bit (n − 1 − k + i).
            int off = n - 1 - k, q = off >> 6, r = off & 63;
            ulong dot = 0;
            int words = (l >> 6) + 1;
            for (int w = 0; w < words; w++)
            {
                ulong lo = q + w < sw ? rev[q + w] : 0, hi = q + w + 1 < sw ? rev[q + w + 1] : 0;
                ulong seg = r == 0 ? lo : (lo >> r) | (hi << (64 - r));
                dot ^= c[w] & seg;
            }
            if ((BitOperations.PopCount(dot) & 1) == 0) { m++; continue; }
            if (2 * l <= k)
            {
                Array.Copy(c, t, cw);
                XorShifted(c, bPoly, m);
                l = k + 1 - l;
                Array.Copy(t, bPoly, cw);
                m = 1;
            }
            else
            {
                XorShifted(c, bPoly, m);
                m++;
            }
        }
        if (l != Degree) throw new InvalidOperationException($"mt19937's recurrence has linear complexity {l}, expected {Degree}.");
        // P(x) = x^L · C(1/x): coefficient of x^(L − i) is C_i.
        var p = new ulong[PolyWords];
        for (int i = 0; i <= l; i++)
            if (((c[i >> 6] >> (i & 63)) & 1) != 0) { int e = l - i; p[e >> 6] |= 1UL << (e & 63); }
        return p;
    }
}
