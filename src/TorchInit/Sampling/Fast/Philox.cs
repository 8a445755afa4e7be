using System.Runtime.CompilerServices;

namespace TorchInit.Fast;

/// <summary>
/// Philox4x32-10 (Salmon, Moraes, Dror, Shaw, "Parallel random numbers: as easy as 1, 2, 3", SC 2011):
/// a counter-based generator: block = Philox(counter, key), with no state carried from one block to the
/// next, so any block can be computed independently, by any thread, in any order.
/// </summary>
/// <remarks>
/// Fast mode's layout: key = (seed low 32 bits, seed high 32 bits); counter = (block low 32 bits, block
/// high 32 bits, stream, 0), where the stream is the parameter's index in the <c>ApplyInit</c> call and the
/// block is the element's group of four 32-bit words (see <see cref="Kernels"/> for which element takes
/// which word).
/// </remarks>
internal static class Philox
{
    public const uint M0 = 0xD2511F53, M1 = 0xCD9E8D57, W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    /// <summary>The scalar reference: Philox4x32-10 of counter (c0, c1, c2, c3) and key (k0, k1).</summary>
    public static (uint, uint, uint, uint) Block(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1)
    {
        for (int r = 0; r < 10; r++)
        {
            ulong p0 = (ulong)M0 * c0, p1 = (ulong)M1 * c2;
            (c0, c1, c2, c3) = ((uint)(p1 >> 32) ^ c1 ^ k0, (uint)p1, (uint)(p0 >> 32) ^ c3 ^ k1, (uint)p0);
            k0 += W0; k1 += W1;
        }
        return (c0, c1, c2, c3);
    }

    /// <summary>The key schedule: (k0 + r·W0, k1 + r·W1) for rounds r = 0 … 9, interleaved, into <paramref name="keys"/> (20 words).</summary>
    public static unsafe void Schedule(uint k0, uint k1, uint* keys)
    {
        for (int r = 0; r < 10; r++) { keys[2 * r] = k0; keys[2 * r + 1] = k1; k0 += W0; k1 += W1; }
    }

    /// <summary>
    /// <c>TV.Lanes</c> blocks of one stream: half a is blocks bA, bA + 1, …, half b is blocks bB, bB + 1, …
    /// (<c>TV.Lanes / 2</c> each). Each word comes back per half as a vector of 64-bit lanes whose low 32 bits
    /// are the word; the high 32 bits are garbage. The state is kept in that form because vpmuludq
    /// multiplies the low halves of 64-bit lanes and leaves the full 64-bit product in place: lo in the low
    /// half, hi one shift (or one dword swap) away.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Blocks<TV>(ulong bA, ulong bB, TV stream, uint* keys,
        out TV w0a, out TV w0b, out TV w1a, out TV w1b, out TV w2a, out TV w2b, out TV w3a, out TV w3b)
        where TV : struct, ISimd<TV> =>
        BlocksAt(TV.Iota64(bA), TV.Iota64(bB), stream, TV.Zero, keys, out w0a, out w0b, out w1a, out w1b, out w2a, out w2b, out w3a, out w3b);

    /// <summary>
    /// <c>TV.Lanes</c> blocks at any counters: 64-bit lane i of <paramref name="c01a"/> (<paramref name="c01b"/>) holds
    /// counter words (c0, c1) = (low, high 32 bits) of one block of half a (b); c2 = <paramref name="stream"/>, c3 =
    /// <paramref name="c3"/> (both broadcast). Output as <see cref="Blocks{TV}"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void BlocksAt<TV>(TV c01a, TV c01b, TV stream, TV c3, uint* keys,
        out TV w0a, out TV w0b, out TV w1a, out TV w1b, out TV w2a, out TV w2b, out TV w3a, out TV w3b)
        where TV : struct, ISimd<TV>
    {
        TV c0a = c01a, c0b = c01b;
        TV c1a = TV.Shr64(c0a, 32), c1b = TV.Shr64(c0b, 32);
        TV c2a = stream, c2b = stream;
        TV c3a = c3, c3b = c3;
        TV m0 = TV.U64(M0), m1 = TV.U64(M1);
        // Ten rounds, unrolled: a loop would rotate the eight state registers with moves every round.
        Round(ref c0a, ref c1a, ref c2a, ref c3a, ref c0b, ref c1b, ref c2b, ref c3b, keys + 0, m0, m1);
        Round(ref c0a, ref c1a, ref c2a, ref c3a, ref c0b, ref c1b, ref c2b, ref c3b, keys + 2, m0, m1);
        Round(ref c0a, ref c1a, ref c2a, ref c3a, ref c0b, ref c1b, ref c2b, ref c3b, keys + 4, m0, m1);
        Round(ref c0a, ref c1a, ref c2a, ref c3a, ref c0b, ref c1b, ref c2b, ref c3b, keys + 6, m0, m1);
        Round(ref c0a, ref c1a, ref c2a, ref c3a, ref c0b, ref c1b, ref c2b, ref c3b, keys + 8, m0, m1);
        Round(ref c0a, ref c1a, ref c2a, ref c3a, ref c0b, ref c1b, ref c2b, ref c3b, keys + 10, m0, m1);
        Round(ref c0a, ref c1a, ref c2a, ref c3a, ref c0b, ref c1b, ref c2b, ref c3b, keys + 12, m0, m1);
        Round(ref c0a, ref c1a, ref c2a, ref c3a, ref c0b, ref c1b, ref c2b, ref c3b, keys + 14, m0, m1);
        Round(ref c0a, ref c1a, ref c2a, ref c3a, ref c0b, ref c1b, ref c2b, ref c3b, keys + 16, m0, m1);
        Round(ref c0a, ref c1a, ref c2a, ref c3a, ref c0b, ref c1b, ref c2b, ref c3b, keys + 18, m0, m1);
        w0a = c0a; w0b = c0b; w1a = c1a; w1b = c1b; w2a = c2a; w2b = c2b; w3a = c3a; w3b = c3b;
    }

    /// <summary>
    /// Stage one of a fast fill: the 32-bit words of groups [g0, g1) in float32 element order, i.e.
    /// words[64·(g − g0) + 16j + p] = word j of block 16g + ⌊p/2⌋ + 8·(p mod 2).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Words32<TV>(uint* words, long g0, long g1, uint streamId, uint* keys) where TV : struct, ISimd<TV>
    {
        int half = TV.Lanes / 2;
        TV stream = TV.U32(streamId);
        for (long g = g0; g < g1; g++)
        {
            for (int u = 0; u < 8; u += half)
            {
                ulong b = (ulong)(16 * g + u);
                Blocks<TV>(b, b + 8, stream, keys, out var w0a, out var w0b, out var w1a, out var w1b, out var w2a, out var w2b, out var w3a, out var w3b);
                uint* p = words + 64 * (g - g0) + 2 * u;
                TV.Store(p, Interleave(w0a, w0b));
                TV.Store(p + 16, Interleave(w1a, w1b));
                TV.Store(p + 32, Interleave(w2a, w2b));
                TV.Store(p + 48, Interleave(w3a, w3b));
            }
        }
    }

    /// <summary>
    /// Stage one for float64: the 64-bit values of groups [g0, g1) in float64 element order, i.e.
    /// values[32·(g − g0) + 16k + l] = (word 2k ≪ 32) | word 2k + 1 of block 16g + l.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Words64<TV>(ulong* values, long g0, long g1, uint streamId, uint* keys) where TV : struct, ISimd<TV>
    {
        int half = TV.Lanes / 2;
        TV stream = TV.U32(streamId);
        for (long g = g0; g < g1; g++)
        {
            for (int u = 0; u < 8; u += half)
            {
                ulong b = (ulong)(16 * g + u);
                Blocks<TV>(b, b + 8, stream, keys, out var w0a, out var w0b, out var w1a, out var w1b, out var w2a, out var w2b, out var w3a, out var w3b);
                ulong* p = values + 32 * (g - g0) + u;
                TV.Store(p, Join(w0a, w1a));
                TV.Store(p + 8, Join(w0b, w1b));
                TV.Store(p + 16, Join(w2a, w3a));
                TV.Store(p + 24, Join(w2b, w3b));
            }
        }
    }

    /// <summary>(hi word ≪ 32) | lo word, per 64-bit lane.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TV Join<TV>(TV hi, TV lo) where TV : struct, ISimd<TV> =>
        TV.Or(TV.Shl64(hi, 32), TV.And(lo, TV.U64(0xFFFF_FFFF)));

    /// <summary>One Philox round on both halves: hi words one by a dword swap (shuffle port), one by a shift (multiply port), to balance the ports.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Round<TV>(ref TV c0a, ref TV c1a, ref TV c2a, ref TV c3a, ref TV c0b, ref TV c1b, ref TV c2b, ref TV c3b,
        uint* key, TV m0, TV m1) where TV : struct, ISimd<TV>
    {
        TV key0 = TV.LoadBroadcastU32(key), key1 = TV.LoadBroadcastU32(key + 1);
        TV p0a = TV.MulLo32To64(c0a, m0), p1a = TV.MulLo32To64(c2a, m1);
        TV p0b = TV.MulLo32To64(c0b, m0), p1b = TV.MulLo32To64(c2b, m1);
        c0a = TV.Xor3(TV.SwapHalves64(p1a), c1a, key0);
        c2a = TV.Xor3(TV.Shr64(p0a, 32), c3a, key1);
        c1a = p1a; c3a = p0a;
        c0b = TV.Xor3(TV.SwapHalves64(p1b), c1b, key0);
        c2b = TV.Xor3(TV.Shr64(p0b, 32), c3b, key1);
        c1b = p1b; c3b = p0b;
    }

    /// <summary>One word of both halves as 32-bit lanes: block bA + i in lane 2i, block bB + i in lane 2i + 1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Interleave<TV>(TV a, TV b) where TV : struct, ISimd<TV> => TV.BlendOdd32(a, TV.SwapHalves64(b));
}
